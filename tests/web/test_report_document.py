"""The report as an administrative document (Nghị định 30/2020/NĐ-CP), in DOCX and PDF
with the same content, and the per-unit settings an officer edits.

DOCX is read back with python-docx (and, where LibreOffice is installed, converted
to PDF by it); PDF is read with pdftotext."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import UTC
from datetime import datetime

import pytest
import sqlalchemy as sa
from docx import Document
from PIL import Image

from survey.data.models import AuditEntry
from survey.data.models import SurveyResponse
from survey.domain.periods import today_in_vietnam
from survey.extensions import db
from tests.conftest import add_responses
from tests.conftest import csrf_of
from tests.conftest import sign_in
from tests.conftest import skip_or_fail
from tests.web.test_officer_reports import pdf_text

IN_MARCH = datetime(2025, 3, 5, 3, 0, tzinfo=UTC)  # Lai Cách's "2025-03"


@pytest.fixture
def lai_cach(officers, client):
    add_responses(officers, "LC-01", IN_MARCH, {"5": 40, "4": 5, "2": 3})
    add_responses(officers, "LC-02", IN_MARCH, {"1": 1}, comment="Phải đi lại ba lần")
    with officers.app_context():
        response = db.session.scalar(
            sa.select(SurveyResponse).where(SurveyResponse.comment == "Phải đi lại ba lần")
        )
        response.feedback_status = "answered"
        response.feedback_reply = "Đã hướng dẫn lại thủ tục, trả hồ sơ ngày 10/3."
        db.session.commit()
    sign_in(client, "laicach")
    return officers


def _docx_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    for section in doc.sections:
        parts.extend(p.text for p in section.header.paragraphs)
        parts.extend(p.text for p in section.footer.paragraphs)
    return "\n".join(parts)


EXPECTED = [
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
    "UBND HUYỆN CẨM GIÀNG",
    "UBND THỊ TRẤN LAI CÁCH",
    "/BC-UBND",
    "Báo cáo mức độ hài lòng của người dân – Tháng 3/2025",
    "Nơi nhận:",
    "Lưu: VT.",
    "CHỦ TỊCH",
    "Phải đi lại ba lần",
    "Đã phản hồi",
    "Đã hướng dẫn lại thủ tục, trả hồ sơ ngày 10/3.",
    "Năm yếu tố",
    "Khảo sát mức độ hài lòng",
]


def test_docx_is_the_administrative_document(client, lai_cach):
    reply = client.get("/reports/HD-CG-LC/2025-03/report.docx")
    assert reply.status_code == 200
    assert reply.mimetype.endswith("wordprocessingml.document")
    assert reply.headers["Cache-Control"] == "private, no-store"
    text = _docx_text(reply.data)
    for expected in EXPECTED:
        assert expected in text, expected
    today = today_in_vietnam()
    assert f"Lai Cách, ngày {today.day:02d} tháng" in text
    assert "tạm tính" not in text.lower()  # March 2025 is over
    assert "sipas-survey" not in text
    doc = Document(io.BytesIO(reply.data))
    assert len(doc.inline_shapes) == 1  # the trend chart
    assert abs(doc.sections[0].page_width.cm - 21.0) < 0.01


def test_pdf_has_the_same_heading_and_closing(client, lai_cach, tmp_path):
    reply = client.get("/reports/HD-CG-LC/2025-03/report.pdf")
    _, text = pdf_text(reply.data, tmp_path)
    flat = " ".join(text.split())
    for expected in EXPECTED:
        assert " ".join(expected.split()) in flat, expected
    assert "TẠM TÍNH" not in text and "sipas-survey" not in text


def _watermark_pixels(data: bytes, tmp_path) -> int:
    """Pixels of the watermark's light grey on page 1 (pdftoppm, 40 dpi, grey)."""
    if shutil.which("pdftoppm") is None:
        skip_or_fail("poppler-utils is not installed (pdftoppm)")
    (tmp_path / "w.pdf").write_bytes(data)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "40",
            "-gray",
            "-f",
            "1",
            "-l",
            "1",
            "-png",
            str(tmp_path / "w.pdf"),
            str(tmp_path / "w"),
        ],
        check=True,
    )
    histogram = Image.open(next(tmp_path.glob("w*.png"))).convert("L").histogram()
    for png in tmp_path.glob("w*.png"):
        png.unlink()
    return sum(histogram[222:231])


def test_unfinished_period_is_provisional(client, officers, tmp_path):
    sign_in(client, "laicach")
    today = today_in_vietnam()
    code = f"{today.year}"  # the year under way is never finished today
    docx = _docx_text(client.get(f"/reports/HD-CG-LC/{code}/report.docx").data)
    assert "(tạm tính)" in docx and "TẠM TÍNH" in docx
    provisional = client.get(f"/reports/HD-CG-LC/{code}/report.pdf").data
    _, text = pdf_text(provisional, tmp_path)
    assert "(tạm tính)" in " ".join(text.split())
    final = client.get(f"/reports/HD-CG-LC/{today.year - 1}/report.pdf").data
    assert "tạm tính" not in " ".join(pdf_text(final, tmp_path)[1].split())
    # The watermark: a large light-grey "TẠM TÍNH" across the page, only when provisional.
    # (Table shading has greys too: the watermark adds some thousands of pixels.)
    assert _watermark_pixels(provisional, tmp_path) > _watermark_pixels(final, tmp_path) + 1000


def test_district_document(client, officers, tmp_path):
    add_responses(officers, "LC-01", IN_MARCH, {"5": 20})
    sign_in(client, "camgiang")
    text = _docx_text(client.get("/reports/HD-CG/2025-03/report.docx").data)
    assert "UBND HUYỆN CẨM GIÀNG" in text and "Thị trấn Lai Cách" in text
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text


def test_officer_sets_the_document_settings(app, client, lai_cach, tmp_path):
    page = client.get("/units/HD-CG-LC/report-settings")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "UBND Thị trấn Lai Cách" in html  # the default, ready to correct
    token = csrf_of(client, "/units/HD-CG-LC/report-settings")
    form = {
        "csrf_token": token,
        "parent_body": "UBND huyện Cẩm Giàng",
        "issuing_body": "UBND thị trấn Lai Cách",
        "number_symbol": "BC-UBND-VP",
        "place": "Lai Cách",
        "signer_title": "KT. CHỦ TỊCH\r\nPHÓ CHỦ TỊCH",
        "signer_name": "Nguyễn Văn An",
        "recipients": "- UBND huyện Cẩm Giàng;\r\n- Phòng Nội vụ huyện;\r\n- Lưu: VT.",
    }
    saved = client.post("/units/HD-CG-LC/report-settings", data=form)
    assert saved.status_code == 303
    text = _docx_text(client.get("/reports/HD-CG-LC/2025-03/report.docx").data)
    for expected in ("/BC-UBND-VP", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Nguyễn Văn An"):
        assert expected in text, expected
    assert "Phòng Nội vụ huyện;" in text
    _, pdf = pdf_text(client.get("/reports/HD-CG-LC/2025-03/report.pdf").data, tmp_path)
    assert "Nguyễn Văn An" in pdf and "Phòng Nội vụ huyện;" in pdf
    with app.app_context():
        entry = db.session.scalar(
            sa.select(AuditEntry).where(AuditEntry.action == "report_settings")
        )
        assert entry.officer.username == "laicach" and "BC-UBND-VP" in entry.detail


def test_settings_form_errors_are_in_vietnamese_and_nothing_is_saved(app, client, lai_cach):
    token = csrf_of(client, "/units/HD-CG-LC/report-settings")
    reply = client.post(
        "/units/HD-CG-LC/report-settings",
        data={"csrf_token": token, "issuing_body": "", "number_symbol": "x" * 61},
    )
    assert reply.status_code == 422
    html = reply.get_data(as_text=True)
    assert "Vui lòng nhập tên cơ quan ban hành" in html
    assert 'id="error-summary"' in html and 'href="#issuing_body"' in html
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "report_settings")
            )
            == 0
        )


def test_other_units_settings_are_not_found(client, lai_cach):
    assert client.get("/units/HD-CG-CH/report-settings").status_code == 404


@pytest.mark.slow
def test_libreoffice_opens_the_docx(client, lai_cach, tmp_path):
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        skip_or_fail("LibreOffice is not installed (libreoffice-writer-nogui)")
    path = tmp_path / "report.docx"
    path.write_bytes(client.get("/reports/HD-CG-LC/2025-03/report.docx").data)
    subprocess.run(
        [
            office,
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    pages, text = pdf_text((tmp_path / "report.pdf").read_bytes(), tmp_path)
    assert pages >= 2
    flat = " ".join(text.split())
    for expected in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Nơi nhận:", "Phải đi lại ba lần"):
        assert expected in flat, expected
