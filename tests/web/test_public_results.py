"""Published results ("công khai kết quả"): no sign-in, nothing identifying, and only
"chưa đủ phiếu" below the minimum number of answers."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import time
from datetime import timedelta

import pytest

from survey.domain.periods import period_containing
from survey.domain.periods import today_in_vietnam
from tests.conftest import add_responses


def _in_last_month(cutoff_day: int) -> datetime:
    month = period_containing(today_in_vietnam(), "month", cutoff_day).previous()
    return datetime.combine(month.start + timedelta(days=2), time(3), tzinfo=UTC)


@pytest.fixture
def published(officers):
    # The province counts months from the 15th (one calendar); enough answers to publish.
    add_responses(
        officers,
        "LC-01",
        _in_last_month(15),
        {"5": 40, "4": 10, "2": 2},
        comment="Số điện thoại của tôi 0912 345 678",
    )
    add_responses(officers, "CH-01", _in_last_month(15), {"5": 3})  # too few to publish
    return officers


def test_commune_results_without_sign_in(client, published):
    reply = client.get("/results/HD-CG-LC")
    assert reply.status_code == 200
    assert reply.headers["Cache-Control"] == "public, max-age=300"
    html = reply.get_data(as_text=True)
    assert "Thị trấn Lai Cách" in html
    assert "96,2%" in html  # 50 of 52 satisfied
    assert "KTC 95%" in html
    assert "52 người đã trả lời" in html
    assert "Tiếp cận dịch vụ" in html  # the five elements
    assert "Theo từng tháng" in html
    # Nothing that identifies anyone, no comments.
    assert "0912 345 678" not in html and "Số điện thoại" not in html
    assert "LC-01" not in html  # no desk


def test_too_few_answers_show_only_not_enough(client, published):
    html = client.get("/results/HD-CG-CH").get_data(as_text=True)
    assert "Chưa đủ phiếu" in html
    assert "100,0%" not in html and "100%" not in html.replace("100%;", "")
    assert "3 người đã trả lời" in html


def test_district_results_link_to_communes(client, published):
    html = client.get("/results/HD-CG").get_data(as_text=True)
    assert "Các xã, tháng trước" in html
    assert 'href="/results/HD-CG-LC"' in html
    chu = html.split('href="/results/HD-CG-CH"')[1].split("</li>")[0]
    assert "Chưa đủ phiếu" in chu


def test_unknown_unit_is_404_in_vietnamese(client, published):
    reply = client.get("/results/NOPE")
    assert reply.status_code == 404
    assert "Không có đơn vị nào có mã NOPE" in reply.get_data(as_text=True)


def test_thank_you_page_links_to_the_results(client, form_post):
    reply = client.post("/s/LC-01", data=form_post())
    assert reply.status_code == 303
    html = client.get(reply.headers["Location"]).get_data(as_text=True)
    assert 'href="/results/HD-CG-LC"' in html and "Xem kết quả" in html


def test_minimum_is_a_setting(app, client, published):
    app.config["SURVEY_PUBLIC_MIN_RESPONSES"] = 2
    html = client.get("/results/HD-CG-CH").get_data(as_text=True)
    assert "Chưa đủ phiếu" not in html.split("Theo từng tháng")[0]


def test_open_data_json_and_csv(client, published):
    import csv
    import io

    data = client.get("/results/HD-CG/data.json")
    assert data.status_code == 200 and data.headers["Access-Control-Allow-Origin"] == "*"
    rows = {(r["unit_code"], r["period"]): r for r in data.get_json()["rows"]}
    month = period_containing(today_in_vietnam(), "month", 15).previous()
    lai_cach = rows[("HD-CG-LC", month.code)]
    assert (lai_cach["valid"], lai_cach["rate"]) == (52, pytest.approx(50 / 52))
    assert lai_cach["ci_low"] < lai_cach["rate"] < lai_cach["ci_high"]
    # Cẩm Hưng follows the same calendar: the same last month.
    chu_month = period_containing(today_in_vietnam(), "month", 15).previous()
    chu = rows[("HD-CG-CH", chu_month.code)]
    assert chu["valid"] == 3 and chu["rate"] is None and chu["ci_low"] is None  # withheld
    assert "comment" not in str(data.get_json()) and "0912" not in data.get_data(as_text=True)
    text = client.get("/results/HD-CG/data.csv").data.decode("utf-8-sig")
    table = list(csv.DictReader(io.StringIO(text)))
    assert {r["unit_code"] for r in table} >= {"HD-CG", "HD-CG-LC", "HD-CG-CH"}
    chu_csv = next(
        r for r in table if r["unit_code"] == "HD-CG-CH" and r["period"] == chu_month.code
    )
    assert chu_csv["rate"] == "" and chu_csv["valid"] == "3"
    assert client.get("/results/NOPE/data.json").status_code == 404
