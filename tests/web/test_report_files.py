"""Report spreadsheets that need no cleanup, and a period picker that cannot be got wrong.

Read back as an officer's spreadsheet program would: openpyxl for XLSX, the csv
module with the separator Excel set up for Vietnam uses.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC
from datetime import date
from datetime import datetime

import pytest
from openpyxl import load_workbook

from tests.conftest import add_responses
from tests.conftest import sign_in

IN_MARCH = datetime(2025, 3, 5, 3, 0, tzinfo=UTC)  # Lai Cách's "2025-03" (15/02 – 14/03)


@pytest.fixture
def lai_cach(officers, client):
    add_responses(officers, "LC-01", IN_MARCH, {"5": 30, "4": 10, "3": 5, "1": 2})
    add_responses(officers, "LC-02", IN_MARCH, {"4": 3}, field="dat_dai", comment="=1+1 chậm")
    sign_in(client, "laicach")
    return officers


def _book(client, url):
    reply = client.get(url)
    assert reply.status_code == 200, url
    return load_workbook(io.BytesIO(reply.data))


def test_xlsx_summary_rates_are_percent_cells_counts_integers_dates_dates(client, lai_cach):
    book = _book(client, "/reports/HD-CG-LC/2025-03/report.xlsx")
    assert book.sheetnames == ["Tổng hợp", "Yếu tố", "Lĩnh vực", "Các kênh", "Phiếu"]
    summary = book["Tổng hợp"]
    assert summary.freeze_panes == "A3"
    cells = {row[0].value: row[1] for row in summary.iter_rows(min_row=3) if row[0].value}
    rate = cells["Tỷ lệ hài lòng"]
    assert rate.value == pytest.approx(43 / 50)  # 30 + 10 + 3 of 50 valid
    assert rate.data_type == "n" and rate.number_format == "0.0%"
    for label in ("Cận dưới KTC 95%", "Cận trên KTC 95%", "Mục tiêu"):
        assert cells[label].number_format == "0.0%", label
    forms = cells["Số phiếu nhận được"]
    assert forms.value == 50 and isinstance(forms.value, int)
    assert forms.number_format == "General"
    assert cells["Từ ngày"].is_date and cells["Từ ngày"].value.date() == date(2025, 2, 15)
    assert cells["Đến ngày"].value.date() == date(2025, 3, 14)
    assert cells["Từ ngày"].number_format == "DD/MM/YYYY"


def test_xlsx_responses_numbered_from_one_with_real_times(client, lai_cach):
    sheet = _book(client, "/reports/HD-CG-LC/2025-03/report.xlsx")["Phiếu"]
    header = [c.value for c in sheet[2]]
    assert header[:3] == ["STT", "Mã phiếu", "Thời điểm"]
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert [r[0] for r in rows] == list(range(1, 51))
    assert len({r[1] for r in rows}) == 50  # the response's own number, kept beside it
    assert sheet["C3"].is_date and sheet["C3"].number_format == "DD/MM/YYYY HH:MM"
    assert rows[0][2] == datetime(2025, 3, 5, 10, 0)  # 03:00 UTC is 10:00 in Vietnam
    assert sheet.freeze_panes == "A3"


def test_district_xlsx_numbers_communes_and_formats_rates(client, officers):
    add_responses(officers, "LC-01", IN_MARCH, {"5": 20, "2": 2})
    add_responses(officers, "CH-01", IN_MARCH, {"5": 5})
    sign_in(client, "camgiang")
    book = _book(client, "/reports/HD-CG/2025-03/report.xlsx")
    assert book.sheetnames == ["Tổng hợp", "Các xã"]
    communes = book["Các xã"]
    rows = list(communes.iter_rows(min_row=3, values_only=True))
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    assert communes["G3"].number_format == "0.0%"
    summary = {r[0].value: r[1] for r in book["Tổng hợp"].iter_rows(min_row=3) if r[0].value}
    assert summary["Mục tiêu"].value == pytest.approx(0.9)
    assert summary["Mục tiêu"].number_format == "0.0%"


def test_csv_for_excel_in_vietnam_and_for_programs(client, lai_cach):
    vi = client.get("/reports/HD-CG-LC/2025-03/report.csv")
    assert vi.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(vi.data.decode("utf-8-sig")), delimiter=";"))
    values = {r[0]: r[1] for r in rows if len(r) == 2}
    assert values["Tỷ lệ hài lòng"] == "86%"  # 43/50, decimal comma, read as a percentage
    assert values["Số phiếu nhận được"] == "50"
    assert values["Từ ngày"] == "15/02/2025"
    elements = next(i for i, r in enumerate(rows) if r and r[0] == "Yếu tố")
    assert "," in rows[elements + 1][3] or rows[elements + 1][3].endswith("%")
    assert not any("." in c for r in rows for c in r if c.replace(".", "").isdigit())
    cells = [c for r in rows for c in r]
    assert "'=1+1 chậm" in cells and not any(c.startswith("=") for c in cells)

    machine = client.get("/reports/HD-CG-LC/2025-03/report.csv?sep=comma")
    rows = list(csv.reader(io.StringIO(machine.data.decode("utf-8-sig"))))
    values = {r[0]: r[1] for r in rows if len(r) == 2}
    assert values["Tỷ lệ hài lòng"] == "0.86"
    low = float(values["Cận dưới KTC 95%"])
    assert len(values["Cận dưới KTC 95%"].split(".")[1]) <= 6 and 0 < low < 0.86

    english = client.get("/reports/HD-CG-LC/2025-03/report.csv?lang=en")
    assert b'"Satisfaction rate","0.86"' in english.data  # every cell quoted

    bad = client.get("/reports/HD-CG-LC/2025-03/report.csv?sep=tab")
    assert bad.status_code == 400
    assert "semicolon" in bad.get_data(as_text=True)


@pytest.mark.parametrize(
    ("typed", "label"),
    [
        ("11/2024", "Tháng 11/2024"),
        ("T3/2025", "Tháng 3/2025"),
        ("Q1/2025", "Quý I/2025"),
        ("quý 1/2025", "Quý I/2025"),
        ("6T/2025", "6 tháng đầu năm 2025"),
        ("2025", "Năm 2025"),
    ],
)
def test_typed_periods_show_the_dashboard(client, lai_cach, typed, label):
    reply = client.get("/units/HD-CG-LC", query_string={"period": typed})
    assert reply.status_code == 200
    assert label in reply.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/units/HD-CG-LC", "/units/HD-CG-LC/desks"])
def test_bad_period_reshows_the_page_in_the_officer_layout(client, lai_cach, url):
    reply = client.get(url, query_string={"period": "13/2025"})
    assert reply.status_code == 400
    html = reply.get_data(as_text=True)
    assert "Kỳ báo cáo 13/2025 không hợp lệ" in html
    assert 'role="alert"' in html
    assert "Đăng xuất" in html  # the officers' layout, with its sign-out
    assert 'value="13/2025"' in html  # what was typed, kept to correct
    assert 'aria-invalid="true"' in html
    assert '<optgroup label="Quý">' in html
    assert f'action="{url}"' in html


def test_bad_period_in_a_download_link_gets_the_page_too(client, lai_cach):
    reply = client.get("/reports/HD-CG-LC/2100-01/report.pdf")
    assert reply.status_code == 400
    html = reply.get_data(as_text=True)
    assert "chưa bắt đầu" in html and "Đăng xuất" in html


def test_bad_period_in_the_api_stays_json(client, lai_cach):
    reply = client.get("/api/v1/units/HD-CG-LC/summary?period=13/2025")
    assert reply.status_code == 400
    assert "13/2025" in reply.get_json()["detail"]
