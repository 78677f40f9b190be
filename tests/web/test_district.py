"""The district: a stratified figure weighted by dossiers, the comparison, the funnel plot,
and dossier volumes entered or imported without half-imports."""

from __future__ import annotations

import io
from datetime import UTC
from datetime import datetime

import pytest
import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl import load_workbook
from PIL import Image

from survey.data.models import AuditEntry
from survey.data.models import DossierVolume
from survey.data.models import Unit
from survey.extensions import db
from survey.stats import Stratum
from survey.stats import stratified_proportion
from tests.conftest import add_responses
from tests.conftest import csrf_of
from tests.conftest import sign_in

WHEN = datetime(2025, 3, 5, 3, tzinfo=UTC)  # in "2025-03" for calendar and 15th cut-off alike
COUNTS = {  # desk: (satisfied, not satisfied)
    "LC-01": (95, 5),  # an eager desk: many responses
    "CH-01": (12, 8),
    "CA-01": (18, 2),
}
DOSSIERS = {
    "HD-CG-LC": 300,
    "HD-CG-CH": 900,
    "HD-CG-CA": 400,
    "HD-CG-CGI": 200,
    "HD-CG-TT": 250,
    "HD-CG-LD": 150,
}


def set_volumes(app, month: str = "2025-03") -> None:
    with app.app_context():
        for code, n in DOSSIERS.items():
            unit = db.session.scalar(sa.select(Unit).where(Unit.code == code))
            db.session.add(DossierVolume(unit_id=unit.id, month=month, dossiers=n))
        db.session.commit()


@pytest.fixture
def district(officers, client):
    for desk, (yes, no) in COUNTS.items():
        add_responses(officers, desk, WHEN, {"5": yes, "2": no})
    sign_in(client, "camgiang")
    return officers


def test_district_figure_is_the_stratified_estimate(client, district):
    set_volumes(district)
    data = client.get("/api/v1/units/HD-CG/summary?period=2025-03").get_json()
    expected = stratified_proportion(
        [
            Stratum(95, 100, 300),
            Stratum(12, 20, 900),
            Stratum(18, 20, 400),
        ]
    )
    strat = data["stratified"]
    assert strat["weights"] == "dossiers"
    assert strat["rate"] == pytest.approx(expected.rate, rel=1e-12)
    assert strat["se"] == pytest.approx(expected.se, rel=1e-12)
    assert (strat["ci_low"], strat["ci_high"]) == pytest.approx((expected.low, expected.high))
    # The eager desk pulls the pooled figure up; the weighted one follows the dossiers.
    assert data["pooled"]["rate"] == pytest.approx(125 / 140)
    assert data["pooled"]["rate"] - strat["rate"] > 0.1
    codes = [c["code"] for c in data["communes"]]
    assert set(codes) == set(DOSSIERS)
    html = client.get("/units/HD-CG?period=2025-03").get_data(as_text=True)
    assert "Tỷ lệ chung của huyện (gia quyền theo số hồ sơ)" in html
    assert "Mỗi xã được gia quyền theo số hồ sơ đã giải quyết trong kỳ." in html


def test_without_any_volume_the_headline_is_the_pooled_figure_and_says_so(client, district):
    data = client.get("/api/v1/units/HD-CG/summary?period=2025-03").get_json()
    assert data["weights"] == "none" and data["headline"] == "pooled"
    # The top-level figure and verdict are the pooled ones, and say so.
    assert data["rate"] == pytest.approx(125 / 140)
    assert data["verdict"] == data["pooled"]["verdict"]
    assert data["stratified"]["rate"] is None
    html = client.get("/units/HD-CG?period=2025-03").get_data(as_text=True)
    assert "không có số hồ sơ" in html.lower() or "chưa nhập số hồ sơ" in html.lower()
    book = load_workbook(io.BytesIO(client.get("/reports/HD-CG/2025-03/report.xlsx").data))
    texts = [c for row in book.worksheets[0].iter_rows(values_only=True) for c in row]
    assert any(isinstance(t, str) and "số hồ sơ" in t and "gộp" in t for t in texts)


def test_a_missing_month_or_commune_keeps_every_volume_that_exists(app, client, district):
    """Quarter 2025-Q1: Lai Cách lacks February, Cẩm Giàng has no count at all. The
    volumes that exist still weight the figure; both gaps are estimated and said."""
    with app.app_context():
        units = {u.code: u for u in db.session.scalars(sa.select(Unit))}
        for code, n in DOSSIERS.items():
            for month in ("2025-01", "2025-02", "2025-03"):
                if code == "HD-CG-CA" or (code == "HD-CG-LC" and month == "2025-02"):
                    continue
                db.session.add(DossierVolume(unit_id=units[code].id, month=month, dossiers=n))
        db.session.commit()
    data = client.get("/api/v1/units/HD-CG/summary?period=2025-Q1").get_json()
    assert data["weights"] == "dossiers_estimated" and data["headline"] == "stratified"
    kinds = {(n["kind"], n["unit"]) for n in data["notes"]}
    assert ("month_estimated", "HD-CG-LC") in kinds
    assert ("commune_estimated", "HD-CG-CA") in kinds
    by_code = {c["code"]: c for c in data["communes"]}
    assert by_code["HD-CG-LC"]["dossiers"] == 900  # two months of 300, February at 300
    assert by_code["HD-CG-LC"]["dossiers_entered"] == 600
    assert by_code["HD-CG-CH"]["dossiers"] == 2700
    # Cẩm Giàng weighted at the district's ratio of dossiers to answers.
    ratio = (900 + 2700) / (100 + 20)
    assert by_code["HD-CG-CA"]["dossiers"] == round(ratio * 20)
    expected = stratified_proportion(
        [Stratum(95, 100, 900), Stratum(12, 20, 2700), Stratum(18, 20, round(ratio * 20))]
    )
    assert data["rate"] == pytest.approx(expected.rate, abs=1e-12)
    assert data["ci_low"] == pytest.approx(expected.low, abs=1e-12)
    # The same notes, in words, on the page and in the spreadsheet.
    html = client.get("/units/HD-CG?period=2025-Q1").get_data(as_text=True)
    book = load_workbook(io.BytesIO(client.get("/reports/HD-CG/2025-Q1/report.xlsx").data))
    cells = [c for row in book.worksheets[0].iter_rows(values_only=True) for c in row]
    for note in data["notes"]:
        assert note["text"] in html.replace("&#39;", "'")
        assert note["text"] in cells


def test_communes_are_ranked_by_evidence_not_noise(client, district):
    add_responses(district, "LD-01", WHEN, {"2": 1})  # one unhappy response: noise
    add_responses(district, "TT-01", WHEN, {"5": 40, "2": 60})  # truly below target
    data = client.get("/api/v1/units/HD-CG/summary?period=2025-03").get_json()
    order = [c["code"] for c in data["communes"]]
    assert order.index("HD-CG-LD") < order.index("HD-CG-TT")
    assert data["communes"][order.index("HD-CG-TT")]["verdict"] == "not_met"
    assert data["communes"][order.index("HD-CG-LD")]["verdict"] == "inconclusive"


def test_district_downloads(client, district, tmp_path):
    set_volumes(district)
    png = client.get("/reports/HD-CG/2025-03/chart.png")
    assert png.status_code == 200
    assert Image.open(io.BytesIO(png.data)).size == (1000, 600)
    book = load_workbook(io.BytesIO(client.get("/reports/HD-CG/2025-03/report.xlsx").data))
    rows = list(book.worksheets[1].iter_rows(values_only=True))[2:]
    by_code = {r[1]: r for r in rows}  # column 0 numbers the rows 1..n
    assert len(rows) == 6 and [r[0] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert by_code["HD-CG-LC"][3:6] == (100, 100, 95)
    assert by_code["HD-CG-CH"][12] == 900
    pdf = client.get("/reports/HD-CG/2025-03/report.pdf")
    assert pdf.data.startswith(b"%PDF")


def test_province_aggregates_its_districts(app, district):
    client = app.test_client()
    sign_in(client, "quantri")
    data = client.get("/api/v1/units/HD/summary?period=2025-03").get_json()
    assert [c["code"] for c in data["communes"]][0] == "HD-CG"
    assert data["pooled"]["valid"] == 140


def _upload(client, name: str, data: bytes):
    token = csrf_of(client, "/units/HD-CG/volumes")
    return client.post(
        "/units/HD-CG/volumes/import",
        data={"csrf_token": token, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _volume_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(DossierVolume.id)))


def test_volume_import_csv(app, client, district):
    csv_text = "unit_code,month,dossiers\nHD-CG-LC,2025-03,1.200\nHD-CG-CH,2025-03,900\n"
    reply = _upload(client, "export.csv", ("\ufeff" + csv_text).encode())
    assert reply.status_code == 303
    with app.app_context():
        volumes = dict(
            db.session.execute(sa.select(DossierVolume.unit_id, DossierVolume.dossiers)).all()
        )
        assert sorted(volumes.values()) == [900, 1200]


def test_volume_import_xlsx(app, client, district):
    book = Workbook()
    sheet = book.active
    sheet.append(["Mã đơn vị", "Tháng", "Số hồ sơ", "Lĩnh vực"])
    sheet.append(["HD-CG-CA", "2025-03", 400, ""])
    sheet.append(["HD-CG-CA", "2025-03", 80, "dat_dai"])
    buffer = io.BytesIO()
    book.save(buffer)
    assert _upload(client, "export.xlsx", buffer.getvalue()).status_code == 303
    assert _volume_count(app) == 2


@pytest.mark.parametrize(
    "csv_text, messages",
    [
        ("unit,thang\nHD-CG-LC,2025-03\n", ["Dòng 1: thiếu cột “dossiers”"]),
        (
            "unit_code,month,dossiers\nHD-CG-LC,2025-03,500\nHD-CG-CH,2025-03,-5\n"
            "HD-XX,2025-03,10\nHD-CG-CA,2025-13,10\nHD-CG-CA,2025-03,abc\nHD-CG-CA,2025-03,5\n"
            "HD-CG-LC,2025-03,99\n",
            [
                "Dòng 3:",
                "“-5” không phải số nguyên",
                "Dòng 4: mã đơn vị “HD-XX” không có",
                "Dòng 5: tháng “2025-13”",
                "Dòng 6:",
                "Dòng 7: 5 hồ sơ ít hơn 20 phiếu",
                "Dòng 8: trùng với dòng 2",
            ],
        ),
        ("unit_code,month,dossiers\nHD-BG-KS,2025-03,10\n", ["mã đơn vị “HD-BG-KS” không có"]),
    ],
)
def test_bad_volume_rows_are_rejected_with_line_numbers(app, client, district, csv_text, messages):
    reply = _upload(client, "export.csv", csv_text.encode())
    html = reply.get_data(as_text=True)
    assert reply.status_code == 422
    assert "Chưa lưu gì" in html
    for message in messages:
        assert message in html, message
    assert _volume_count(app) == 0  # nothing half-imported


def test_volume_file_of_wrong_type(app, client, district):
    reply = _upload(client, "export.pdf", b"%PDF-1.4")
    assert reply.status_code == 415
    assert _volume_count(app) == 0


def test_volume_form(app, client, district):
    token = csrf_of(client, "/units/HD-CG/volumes?month=2025-03")
    reply = client.post(
        "/units/HD-CG/volumes?month=2025-03",
        data={"csrf_token": token, "month": "2025-03", "v_HD-CG-LC": "120", "v_HD-CG-CH": "oops"},
    )
    assert reply.status_code == 422
    assert "“oops” không phải số nguyên" in reply.get_data(as_text=True)
    assert _volume_count(app) == 0
    reply = client.post(
        "/units/HD-CG/volumes?month=2025-03",
        data={"csrf_token": token, "month": "2025-03", "v_HD-CG-LC": "120"},
    )
    assert reply.status_code == 303
    assert _volume_count(app) == 1


def test_volumes_api(app, district):
    from survey.integrity.tokens import issue_api_key

    with app.app_context():
        unit = db.session.scalar(sa.select(Unit).where(Unit.code == "HD-CG"))
        key = issue_api_key(unit, "one-stop software")
    client = app.test_client()
    rows = {
        "rows": [
            {"unit_code": "HD-CG-LC", "month": "2025-03", "dossiers": 420},
            {"unit_code": "HD-CG-CH", "month": "2025-03", "dossiers": 900},
        ]
    }
    assert client.post("/api/v1/volumes", json=rows).status_code == 401
    bad_key = client.post("/api/v1/volumes", json=rows, headers={"Authorization": "Bearer nope"})
    assert bad_key.status_code == 401
    auth = {"Authorization": f"Bearer {key}"}
    wrong = client.post(
        "/api/v1/volumes",
        json={
            "rows": [
                {"unit_code": "HD-CG-LC", "month": "2025-03", "dossiers": 420},
                {"unit_code": "HD-BG-KS", "month": "2025-03", "dossiers": 10},
            ]
        },
        headers=auth,
    )
    assert wrong.status_code == 422
    assert any("HD-BG-KS" in p for p in wrong.get_json()["problems"])
    assert _volume_count(app) == 0
    assert client.post("/api/v1/volumes", data="x", headers=auth).status_code == 415
    ok = client.post("/api/v1/volumes", json=rows, headers=auth)
    assert ok.status_code == 200 and ok.get_json() == {"saved": 2}
    assert _volume_count(app) == 2


def test_two_tier_province_aggregates_communes_directly(app, district, runner):
    runner.invoke(args=["survey", "add-unit", "BN", "Tỉnh Bắc Ninh", "--level", "province"])
    for code, name in [("BN-DT", "Xã Đông Tiến"), ("BN-PL", "Phường Phù Lãng")]:
        runner.invoke(
            args=["survey", "add-unit", code, name, "--level", "commune", "--parent", "BN"]
        )
        runner.invoke(args=["survey", "add-desk", f"{code[3:]}-01", "Trung tâm", "--unit", code])
    add_responses(app, "DT-01", WHEN, {"5": 30, "3": 2})
    add_responses(app, "PL-01", WHEN, {"5": 10})
    client = app.test_client()
    sign_in(client, "quantri")
    data = client.get("/api/v1/units/BN/summary?period=2025-03").get_json()
    # Both not yet known: within the group, by rate (10/10 before 30/32), each with
    # the range of ranks chance allows (here both could be first or second).
    assert [c["code"] for c in data["communes"]] == ["BN-PL", "BN-DT"]
    assert data["pooled"]["valid"] == 42


def test_one_answer_per_commune_shows_no_weighted_interval_but_does_not_fail(officers, client):
    """Early in a month every commune may have a single answer: no degrees of freedom
    for a stratified interval. The page, report, chart and API still work and say so."""
    add_responses(officers, "LC-01", WHEN, {"5": 1})
    add_responses(officers, "CH-01", WHEN, {"2": 1})
    add_responses(officers, "CA-01", WHEN, {"4": 1})
    set_volumes(officers)
    sign_in(client, "camgiang")
    page = client.get("/units/HD-CG?period=2025-03")
    assert page.status_code == 200
    data = client.get("/api/v1/units/HD-CG/summary?period=2025-03").get_json()
    assert "too_few" in {n["kind"] for n in data["notes"]}
    assert data["headline"] == "pooled"
    too_few = next(n["text"] for n in data["notes"] if n["kind"] == "too_few")
    assert too_few in page.get_data(as_text=True)
    assert data["stratified"] is None or data["stratified"].get("rate") is None
    assert data["pooled"]["rate"] == pytest.approx(2 / 3)
    for url in ("chart.png", "report.pdf", "report.xlsx"):
        assert client.get(f"/reports/HD-CG/2025-03/{url}").status_code == 200, url


def test_a_commune_sees_its_volumes_but_cannot_set_its_own_weight(app, officers):
    """The volumes weight the district figure: only the district (or above) sets them."""
    with app.app_context():
        unit = db.session.scalar(sa.select(Unit).where(Unit.code == "HD-CG-LC"))
        db.session.add(DossierVolume(unit_id=unit.id, month="2025-03", dossiers=300))
        db.session.commit()
    commune = app.test_client()
    sign_in(commune, "laicach")
    page = commune.get("/units/HD-CG-LC/volumes?month=2025-03").get_data(as_text=True)
    assert 'id="read-only"' in page and 'value="300"' in page
    token = csrf_of(commune, "/units/HD-CG-LC/targets")
    reply = commune.post(
        "/units/HD-CG-LC/volumes?month=2025-03",
        data={"csrf_token": token, "month": "2025-03", "v_HD-CG-LC": "9000"},
    )
    assert reply.status_code == 422
    assert "số hồ sơ của HD-CG-LC do huyện nhập" in reply.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(DossierVolume.dossiers)) == 300
        # A commune's API key cannot set its own weight either.
        from survey.integrity.tokens import issue_api_key

        key = issue_api_key(db.session.scalar(sa.select(Unit).where(Unit.code == "HD-CG-LC")))
    api = app.test_client().post(
        "/api/v1/volumes",
        json={"rows": [{"unit_code": "HD-CG-LC", "month": "2025-03", "dossiers": 9000}]},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert api.status_code == 422
    assert _volume_count(app) == 1


def test_implausible_volumes_need_a_district_officers_confirmation(app, client, district):
    with app.app_context():
        unit = db.session.scalar(sa.select(Unit).where(Unit.code == "HD-CG-CH"))
        for month in ("2024-12", "2025-01", "2025-02"):
            db.session.add(DossierVolume(unit_id=unit.id, month=month, dossiers=400))
        db.session.commit()
    token = csrf_of(client, "/units/HD-CG/volumes?month=2025-03")
    form = {"csrf_token": token, "month": "2025-03", "v_HD-CG-CH": "40000", "v_HD-CG-LC": "50"}
    refused = client.post("/units/HD-CG/volumes?month=2025-03", data=form)
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "40000 hồ sơ cao hơn nhiều so với mức thường có 400" in text
    assert "50 hồ sơ ít hơn 100 phiếu đã nhận" in text
    assert _volume_count(app) == 3
    confirmed = client.post("/units/HD-CG/volumes?month=2025-03", data={**form, "confirm": "1"})
    assert confirmed.status_code == 303
    data = client.get("/api/v1/units/HD-CG/summary?period=2025-03").get_json()
    # The count below the answers is raised to them, and said.
    assert ("raised", "HD-CG-LC") in {(n["kind"], n["unit"]) for n in data["notes"]}
    with app.app_context():
        entry = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "volumes")
        ).one()
        assert "2025-03: 2 rows" in entry.detail
