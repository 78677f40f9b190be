"""One truth per period: every page, download and API gives the same figures.

A district of communes of uneven size, with comments, flagged responses and
volumes present for some months and missing for others. For each kind of
period, the commune's dashboard, API, PDF (read back with pdftotext), XLSX
(openpyxl) and CSV, and the district's row of that commune in its API, XLSX,
CSV and PDF, must give the same responses, satisfied, valid, rate, interval,
verdict and comment counts — and the counts must be the ones seeded.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from datetime import UTC
from datetime import datetime

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from survey.data.models import DossierVolume
from survey.data.models import SurveyResponse
from survey.data.models import Unit
from survey.extensions import db
from tests.conftest import add_responses
from tests.conftest import sign_in
from tests.conftest import skip_or_fail

# (desk, local date, ratings, comment). The demo province counts its months from
# the 15th: 20/02 is in "2025-03", 10/03 too, 20/06 in "2025-07".
SEEDS = [
    ("LC-01", (2025, 1, 5), {"5": 8, "1": 1}, "Chậm trả kết quả"),
    ("LC-01", (2025, 2, 20), {"4": 12, "3": 3}, None),
    ("LC-01", (2025, 3, 10), {"5": 20, "2": 5}, None),
    ("LC-01", (2025, 6, 20), {"5": 7}, None),
    ("LC-01", (2025, 8, 1), {"1": 2}, "Thái độ chưa tốt"),
    ("CH-01", (2025, 2, 1), {"5": 3, "2": 1}, "Tốt"),
    ("CH-01", (2025, 5, 10), {"4": 2}, None),
    ("CA-01", (2025, 3, 1), {"5": 40, "4": 10, "2": 1}, None),
]
FLAGGED = 3  # of Lai Cách's ratings of 10/03, left out of every figure
VOLUMES = {
    "HD-CG-LC": {f"2025-{m:02d}": 60 for m in range(1, 8) if m != 4},
    "HD-CG-CH": {f"2025-{m:02d}": 300 for m in range(1, 4)},
}
PERIODS = ["2025-03", "2025-Q1", "2025-H1", "2025-9M", "2025"]


def _expected(period_start, period_end) -> dict:
    """Lai Cách's counts in [start, end], computed from the seeds alone."""
    from datetime import date

    responses = satisfied = valid = comments = 0
    for desk, ymd, ratings, comment in SEEDS:
        if desk != "LC-01" or not period_start <= date(*ymd) <= period_end:
            continue
        n = sum(ratings.values())
        yes = sum(k for v, k in ratings.items() if v in ("4", "5"))
        if ymd == (2025, 3, 10):  # the flagged ones were satisfied ("5")
            n, yes = n - FLAGGED, yes - FLAGGED
        responses += n
        valid += n
        satisfied += yes
        comments += n if comment else 0
    return {"responses": responses, "valid": valid, "satisfied": satisfied, "comments": comments}


@pytest.fixture
def district(officers):
    for desk, (y, m, d), ratings, comment in SEEDS:
        add_responses(officers, desk, datetime(y, m, d, 3, tzinfo=UTC), ratings, comment=comment)
    with officers.app_context():
        when = datetime(2025, 3, 10, 3, tzinfo=UTC)
        march = db.session.scalars(
            sa.select(SurveyResponse)
            .where(SurveyResponse.submitted_at == when)
            .order_by(SurveyResponse.id)
        ).all()
        for response in [r for r in march if r.answer_map()["overall"] == "5"][:FLAGGED]:
            response.flagged = True
            response.flag_reason = "too_fast"
        units = {u.code: u for u in db.session.scalars(sa.select(Unit))}
        for code, months in VOLUMES.items():
            for month, n in months.items():
                db.session.add(DossierVolume(unit_id=units[code].id, month=month, dossiers=n))
        db.session.commit()
    return officers


def _pdf_text(data: bytes) -> str:
    if shutil.which("pdftotext") is None:
        skip_or_fail("pdftotext (poppler-utils) is not installed")
    out = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    )
    return " ".join(out.stdout.decode().split())


def _pct(value: float) -> str:
    """Vietnamese percent as the pages print it (one decimal, decimal comma)."""
    return f"{value * 100:.1f}".replace(".", ",") + "%"


def _summary_rows(sheet) -> dict:
    return {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if row and row[0]}


@pytest.mark.parametrize("period", PERIODS)
def test_every_output_of_a_period_agrees(district, period):
    from survey.domain.periods import parse_period

    client = district.test_client()
    sign_in(client, "camgiang")
    api = client.get(f"/api/v1/units/HD-CG-LC/summary?period={period}").get_json()
    p = parse_period(period, 15)
    assert api["period"]["start"] == p.start.isoformat()
    expected = _expected(p.start, p.end)
    figures = {k: api[k] for k in ("responses", "valid", "satisfied", "comments")}
    assert figures == expected
    rate, low, high, verdict = api["rate"], api["ci_low"], api["ci_high"], api["verdict_text"]

    # The commune's dashboard.
    page = client.get(f"/units/HD-CG-LC?period={period}").get_data(as_text=True)
    assert (
        f"{expected['satisfied']} hài lòng trên {expected['valid']} câu trả lời hợp lệ; "
        f"{expected['responses']} phiếu"
    ) in page
    assert _pct(rate) in page and _pct(low) in page and _pct(high) in page
    assert verdict in page

    # The commune's spreadsheet and CSV.
    book = load_workbook(io.BytesIO(client.get(f"/reports/HD-CG-LC/{period}/report.xlsx").data))
    rows = _summary_rows(book.worksheets[0])
    assert rows["Số phiếu nhận được"] == expected["responses"]
    assert rows["Hài lòng"] == expected["satisfied"]
    assert rows["Góp ý"] == expected["comments"]
    assert rows["Tỷ lệ hài lòng"] == pytest.approx(rate, abs=1e-12)
    assert rows["Kết luận"] == verdict
    text = client.get(f"/reports/HD-CG-LC/{period}/report.csv").data.decode("utf-8-sig")
    cells = {r[0]: r[1] for r in csv.reader(io.StringIO(text), delimiter=_sep(text)) if len(r) > 1}
    assert int(cells["Số phiếu nhận được"]) == expected["responses"]
    assert int(cells["Hài lòng"]) == expected["satisfied"]
    # The CSV carries the rate to 6 decimals (as a percentage with ";": 78,3784%).
    csv_rate = cells["Tỷ lệ hài lòng"]
    as_fraction = float(csv_rate.replace(",", ".").rstrip("%")) / (
        100 if csv_rate.endswith("%") else 1
    )
    assert as_fraction == pytest.approx(rate, abs=1e-6)

    # The commune's printable report.
    pdf = _pdf_text(client.get(f"/reports/HD-CG-LC/{period}/report.pdf").data)
    assert f"{expected['satisfied']}/{expected['valid']}" in pdf
    assert _pct(rate) in pdf
    assert f"Góp ý, phản ánh, kiến nghị ({expected['comments']})" in pdf

    # The district's row of the commune.
    d_api = client.get(f"/api/v1/units/HD-CG/summary?period={period}").get_json()
    assert d_api["period"] == api["period"]
    row = next(c for c in d_api["communes"] if c["code"] == "HD-CG-LC")
    assert (row["responses"], row["valid"], row["satisfied"], row["comments"]) == (
        expected["responses"],
        expected["valid"],
        expected["satisfied"],
        expected["comments"],
    )
    assert (row["rate"], row["ci_low"], row["ci_high"]) == (rate, low, high)
    book = load_workbook(io.BytesIO(client.get(f"/reports/HD-CG/{period}/report.xlsx").data))
    sheet = list(book.worksheets[1].iter_rows(values_only=True))
    xrow = next(r for r in sheet if "HD-CG-LC" in r[:2])
    at = 1 if xrow[1] == "HD-CG-LC" else 0  # the rows are numbered 1..n in column A
    assert xrow[at + 2 : at + 5] == (
        expected["responses"],
        expected["valid"],
        expected["satisfied"],
    )
    assert xrow[at + 5] == pytest.approx(rate, abs=1e-12)
    assert xrow[at + 10] == expected["comments"]
    d_pdf = _pdf_text(client.get(f"/reports/HD-CG/{period}/report.pdf").data)
    # The commune's name wraps in its narrow column: "Thị trấn Lai" then the figures.
    assert f"Thị trấn Lai {expected['valid']} {expected['satisfied']} {_pct(rate)}" in d_pdf
    district_comments = sum(c["comments"] for c in d_api["communes"])
    assert f"Góp ý, phản ánh, kiến nghị ({district_comments})" in d_pdf
    # The district's headline in the API is the one its page and PDF lead with.
    d_page = client.get(f"/units/HD-CG?period={period}").get_data(as_text=True)
    if d_api["rate"] is not None:
        assert _pct(d_api["rate"]) in d_page and _pct(d_api["rate"]) in d_pdf
    assert d_api["verdict_text"] in d_page
    for chart in ("chart.svg", "chart.png"):
        assert client.get(f"/reports/HD-CG/{period}/{chart}").status_code == 200


def _sep(text: str) -> str:
    """The CSV's separator: ";" (Excel set up for Vietnam, the default) or ","."""
    return ";" if text.count('";"') > text.count('","') else ","
