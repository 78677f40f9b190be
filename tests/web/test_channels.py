"""Every figure can be read by channel: the dashboard's channel mix and each channel's
rate side by side, and ``?channel=`` on the pages, downloads and API."""

from __future__ import annotations

import io
import re
from datetime import UTC
from datetime import datetime

import pytest
from openpyxl import load_workbook

from tests.conftest import add_responses
from tests.conftest import sign_in

IN_MARCH = datetime(2025, 3, 5, 3, 0, tzinfo=UTC)  # Lai Cách's "2025-03"


@pytest.fixture
def mixed(officers, client):
    """Lai Cách: 40 ratings by QR (30 satisfied), 10 on the kiosk (all satisfied), 5 on
    paper (1 satisfied); Cẩm Giàng town: 6 on the kiosk."""
    add_responses(officers, "LC-01", IN_MARCH, {"5": 30, "2": 10})
    add_responses(officers, "LC-01", IN_MARCH, {"5": 10}, channel="kiosk")
    add_responses(officers, "LC-02", IN_MARCH, {"4": 1, "1": 4}, channel="paper")
    add_responses(officers, "CGI-01", IN_MARCH, {"5": 6}, channel="kiosk")
    return officers


def test_the_dashboard_shows_each_channel_side_by_side(client, mixed):
    sign_in(client, "laicach")
    html = client.get("/units/HD-CG-LC?period=2025-03").get_data(as_text=True)
    assert 'id="channels"' in html
    assert "Số liệu trên trang này gồm: mọi kênh." in html
    qr = html.split('id="channel-qr"')[1].split("</tr>")[0]
    kiosk = html.split('id="channel-kiosk"')[1].split("</tr>")[0]
    paper = html.split('id="channel-paper"')[1].split("</tr>")[0]
    assert "Mã QR tại quầy" in qr and ">40<" in qr and "75,0%" in qr
    assert "Máy tính bảng tại quầy" in kiosk and ">10<" in kiosk and "100,0%" in kiosk
    assert "Phiếu giấy" in paper and ">5<" in paper and "20,0%" in paper
    assert 'id="channel-receipt"' not in html  # no receipt ratings: no empty row
    # Paper (1 of 5) against the rest (40 of 50): 60 points lower, beyond chance.
    assert "60,0 điểm" in paper and "khác biệt thật" in paper
    # 40 of 55 came by QR: under the share that names a dominant channel.
    assert 'id="channel-dominant"' not in html


def test_one_channel_alone_on_the_dashboard_download_and_api(client, mixed):
    sign_in(client, "laicach")
    html = client.get("/units/HD-CG-LC?period=2025-03&channel=kiosk").get_data(as_text=True)
    assert "Chỉ gồm: Máy tính bảng tại quầy" in html
    assert "10 hài lòng trên 10 câu trả lời hợp lệ" in html  # the kiosk alone
    # The downloads and the period links keep the choice.
    assert "report.xlsx?channel=kiosk" in html
    assert '<input type="hidden" name="channel" value="kiosk">' in html
    assert re.search(r'href="/units/HD-CG-LC\?period=[^"&]+&amp;channel=kiosk"', html)

    api = client.get("/api/v1/units/HD-CG-LC/summary?period=2025-03&channel=kiosk").get_json()
    assert (api["responses"], api["satisfied"], api["valid"]) == (10, 10, 10)
    assert api["channels_included"] == ["kiosk"]
    both = client.get("/api/v1/units/HD-CG-LC/summary?period=2025-03&channel=paper,kiosk")
    assert both.get_json()["responses"] == 15
    everything = client.get("/api/v1/units/HD-CG-LC/summary?period=2025-03").get_json()
    assert everything["responses"] == 55
    assert everything["channels_included"] == ["qr", "kiosk", "paper"]
    by_channel = {c["channel"]: c for c in everything["channels"]["by_channel"]}
    assert by_channel["paper"]["satisfied"] == 1 and by_channel["paper"]["valid"] == 5
    versus = by_channel["paper"]["versus_rest"]
    assert versus["difference"] == pytest.approx(1 / 5 - 40 / 50)
    assert versus["real"] and versus["low"] < versus["difference"] < versus["high"] < 0

    reply = client.get("/reports/HD-CG-LC/2025-03/report.xlsx?channel=kiosk")
    assert reply.status_code == 200
    assert "sipas-HD-CG-LC-2025-03-kiosk-report.xlsx" in reply.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(reply.data))
    responses = list(book["Phiếu"].iter_rows(min_row=3, values_only=True))
    assert len(responses) == 10
    assert {r[5] for r in responses} == {"Máy tính bảng tại quầy"}
    summary = {r[0]: r[1] for r in book["Tổng hợp"].iter_rows(min_row=3, values_only=True)}
    assert summary["Các kênh được tính"] == "Máy tính bảng tại quầy"


def test_the_full_spreadsheet_has_a_channel_sheet_that_adds_up(client, mixed):
    sign_in(client, "laicach")
    reply = client.get("/reports/HD-CG-LC/2025-03/report.xlsx")
    book = load_workbook(io.BytesIO(reply.data))
    rows = list(book["Các kênh"].iter_rows(min_row=3, values_only=True))
    assert [r[0] for r in rows] == ["Mã QR tại quầy", "Máy tính bảng tại quầy", "Phiếu giấy"]
    assert sum(r[1] for r in rows) == 55
    assert [r[4] for r in rows] == [30, 10, 1]  # satisfied per channel


def test_a_district_reads_its_communes_for_one_channel(client, mixed):
    sign_in(client, "camgiang")
    api = client.get("/api/v1/units/HD-CG/summary?period=2025-03&channel=kiosk").get_json()
    assert api["responses"] == 16
    html = client.get("/units/HD-CG?period=2025-03&channel=kiosk").get_data(as_text=True)
    assert "Chỉ gồm: Máy tính bảng tại quầy" in html
    assert client.get("/reports/HD-CG/2025-03/report.csv?channel=kiosk").status_code == 200


def test_a_dominant_channel_is_named(client, officers):
    add_responses(officers, "LC-01", IN_MARCH, {"5": 35}, channel="kiosk")
    add_responses(officers, "LC-01", IN_MARCH, {"5": 3})
    sign_in(client, "laicach")
    html = client.get("/units/HD-CG-LC?period=2025-03").get_data(as_text=True)
    note = html.split('id="channel-dominant"')[1].split("</p>")[0]
    assert "92,1%" in note and "Máy tính bảng tại quầy" in note
    api = client.get("/api/v1/units/HD-CG-LC/summary?period=2025-03").get_json()
    assert api["channels"]["dominant"] == "kiosk"


@pytest.mark.parametrize(
    "url",
    [
        "/units/HD-CG-LC?period=2025-03&channel=fax",
        "/reports/HD-CG-LC/2025-03/report.xlsx?channel=fax",
        "/reports/HD-CG-LC/2025-03/chart.svg?channel=kiosk,fax",
    ],
)
def test_an_unknown_channel_is_a_clear_400(client, mixed, url):
    sign_in(client, "laicach")
    reply = client.get(url)
    assert reply.status_code == 400
    assert "Không có kênh đánh giá “fax”" in reply.get_data(as_text=True)


def test_an_unknown_channel_in_the_api_is_a_json_400(client, mixed):
    sign_in(client, "laicach")
    reply = client.get("/api/v1/units/HD-CG-LC/summary?channel=fax")
    assert reply.status_code == 400
    assert "fax" in reply.get_data(as_text=True)
