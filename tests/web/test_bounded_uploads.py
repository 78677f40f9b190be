"""Bounded work for uploads: a spreadsheet of a few kilobytes that declares an
enormous range, or unzips to far more than it weighs, is refused with a clear
message, without the memory or time a full read would take."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile

import pytest
from openpyxl import Workbook

from tests.conftest import csrf_of
from tests.conftest import sign_in

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _workbook() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["Mã đơn vị", "Tháng", "Số hồ sơ"])
    sheet.append(["HD-CG-CA", "2025-03", 400])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _with_sheet(sheet_xml: str, extra: dict[str, bytes] | None = None) -> bytes:
    """A real workbook whose first sheet is replaced by ``sheet_xml``."""
    source = zipfile.ZipFile(io.BytesIO(_workbook()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = sheet_xml.encode()
            target.writestr(info.filename, data)
        for name, data in (extra or {}).items():
            target.writestr(name, data)
    return out.getvalue()


def _sheet(dimension: str | None, rows: str) -> str:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return f'<worksheet xmlns="{NS}">{dim}<sheetData>{rows}</sheetData></worksheet>'


HEADER_ROW = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>unit_code</t></is></c>'
    '<c r="B1" t="inlineStr"><is><t>month</t></is></c>'
    '<c r="C1" t="inlineStr"><is><t>dossiers</t></is></c></row>'
)

CRAFTED = {
    # The attack that took a worker to 4,7 GB: a huge declared range.
    "declared_range": _sheet(
        "A1:XFD1048576", HEADER_ROW + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    ),
    # No dimension at all, one cell far down.
    "far_row": _sheet(None, HEADER_ROW + '<row r="1048576"><c r="A1048576"><v>1</v></c></row>'),
    # A small declared range that lies: a cell in the last column.
    "far_column": _sheet("A1:C2", HEADER_ROW + '<row r="2"><c r="XFD2"><v>1</v></c></row>'),
    # Many cells in one row.
    "wide_row": _sheet(None, HEADER_ROW + "<row>" + "<c><v>1</v></c>" * 60 + "</row>"),
}


def _upload(client, name: str, data: bytes):
    token = csrf_of(client, "/units/HD-CG/volumes")
    return client.post(
        "/units/HD-CG/volumes/import",
        data={"csrf_token": token, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_crafted_spreadsheets_are_refused_clearly(client, officers, case):
    data = _with_sheet(CRAFTED[case])
    assert len(data) < 8 * 1024
    sign_in(client, "camgiang")
    reply = _upload(client, "export.xlsx", data)
    assert reply.status_code == 415
    assert "Bảng tính quá lớn" in reply.get_data(as_text=True)


def test_a_spreadsheet_that_unzips_to_megabytes_is_refused(client, officers):
    padding = b"<!-- " + b"x" * (20 * 1024 * 1024) + b" -->"
    data = _with_sheet(_sheet("A1:C1", HEADER_ROW), {"xl/padding.xml": padding})
    assert len(data) < 64 * 1024
    sign_in(client, "camgiang")
    reply = _upload(client, "export.xlsx", data)
    assert reply.status_code == 415
    assert "Bảng tính quá lớn" in reply.get_data(as_text=True)


def test_a_normal_sheet_with_gaps_still_imports(client, officers):
    rows = (
        '<row r="3"><c r="B3" t="inlineStr"><is><t>unit_code</t></is></c>'
        '<c r="C3" t="inlineStr"><is><t>month</t></is></c>'
        '<c r="D3" t="inlineStr"><is><t>dossiers</t></is></c></row>'
        '<row r="5"><c r="B5" t="inlineStr"><is><t>HD-CG-CA</t></is></c>'
        '<c r="C5" t="inlineStr"><is><t>2025-03</t></is></c><c r="D5"><v>400</v></c></row>'
    )
    sign_in(client, "camgiang")
    reply = _upload(client, "export.xlsx", _with_sheet(_sheet("B3:D5", rows)))
    assert reply.status_code == 303, reply.get_data(as_text=True)


# VmHWM (this process image's peak), not ru_maxrss: Linux carries ru_maxrss over
# from the forking parent, so a child of a large pytest worker would inherit its peak.
_MEASURE = """
import json, resource, sys, time
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
from survey import create_app
from survey.district.volumes import VolumeFileError, read_table
app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SURVEY_ENV": "testing"})
data = open(sys.argv[1], "rb").read()
with app.test_request_context():
    before = hwm()
    start = time.process_time()
    try:
        read_table("export.xlsx", data)
        outcome = "read"
    except VolumeFileError as exc:
        outcome = str(exc)
    seconds = time.process_time() - start
peak = hwm()
print(json.dumps({"outcome": outcome, "peak_kb": peak, "before_kb": before, "cpu": seconds}))
"""


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_reading_a_crafted_sheet_stays_small(tmp_path, case):
    """Measured in a fresh process held to 1 GB of address space: the peak resident
    size stays under 300 MB (the import's own growth, a few MB)."""
    path = tmp_path / "crafted.xlsx"
    path.write_bytes(_with_sheet(CRAFTED[case]))
    limit = "import resource; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
    result = subprocess.run(
        [sys.executable, "-c", limit + _MEASURE, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert "quá lớn" in figures["outcome"]
    assert figures["peak_kb"] < 300 * 1024
    assert figures["peak_kb"] - figures["before_kb"] < 50 * 1024
