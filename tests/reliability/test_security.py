"""Security checks across the whole app: CSRF on every state-changing route,
security headers on every kind of page, escaping of hostile text on every page
and in every export, password hashing, open redirects, and bandit."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import sys
from datetime import UTC
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from survey.data.models import Desk
from survey.data.models import Officer
from survey.data.models import SurveyResponse
from survey.data.models import Unit
from survey.extensions import db
from tests.conftest import VALID_ANSWERS
from tests.conftest import add_responses
from tests.conftest import csrf_of
from tests.conftest import hidden_fields
from tests.conftest import sign_in
from tests.conftest import skip_or_fail
from tests.reliability.test_fuzz import GUARDED

ROOT = Path(__file__).resolve().parents[2]
HTTPS = "https://localhost"
IN_MARCH = datetime(2025, 3, 5, 3, tzinfo=UTC)  # Lai Cách's period 2025-03
STATE_CHANGING = {"POST", "PUT", "DELETE", "PATCH"}
# Routes authenticated by a Bearer API key instead of a session: exempt from
# CSRF by design, so they must refuse a request that only carries cookies.
BEARER_APIS = {"api.create_token", "api.api_volumes"}


def _state(app) -> dict:
    with app.app_context():
        counts = {
            t: db.session.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in GUARDED
        }
        rows = db.session.execute(
            sa.select(SurveyResponse.id, SurveyResponse.feedback_status, SurveyResponse.flag_reason)
        ).all()
        db.session.remove()
    return {"counts": counts, "responses": sorted(map(tuple, rows))}


@pytest.fixture
def commented(officers):
    add_responses(officers, "LC-01", IN_MARCH, {"2": 1, "5": 1}, comment="Chậm")
    with officers.app_context():
        first = db.session.scalar(sa.select(SurveyResponse).order_by(SurveyResponse.id))
        first.flag_reason = "too_fast"
        db.session.commit()
        return first.id


def _sample_url(rule, response_id: int) -> str:
    values = {
        "desk_code": "LC-01",
        "unit_code": "HD-CG-LC",
        "response_id": response_id,
        "code": "K7M2QX9P",
        "recheck_id": 1,  # a paper ballot's second reading
        "kiosk_id": 1,
        "officer_id": 1,
        "assignment_id": 1,
    }
    missing = set(rule.arguments) - values.keys()
    assert not missing, f"add a sample value for {missing} of {rule.rule}"
    return rule.build({k: values[k] for k in rule.arguments})[1]


PLAUSIBLE = {
    "username": "laicach",
    "password": "demo-laicach",
    "status": "answered",
    "reply": "Đã trả lời",
    "action": "reinstate",
    "year": "2025",
    "procedure_field": "overall",
    "target": "99",
    "v_HD-CG-LC": "100",
    "q_overall": "5",
}


def test_every_state_changing_route_needs_a_csrf_token(app, client, commented):
    """Signed in, a POST without the token changes nothing, on every route."""
    sign_in(client, "camgiang")
    checked = []
    for rule in app.url_map.iter_rules():
        methods = (rule.methods or set()) & STATE_CHANGING
        if not methods or rule.endpoint in BEARER_APIS:
            continue
        url = _sample_url(rule, commented)
        data = dict(PLAUSIBLE)
        if rule.endpoint == "public.respond":
            # A complete, valid form, only without its token.
            data.update(hidden_fields(client.get(url).get_data(as_text=True)), **VALID_ANSWERS)
            del data["csrf_token"]
        for method in methods:
            before = _state(app)
            reply = client.open(url, method=method, data=data)
            # The interviewer's screen refuses anyone else (403) before the token matters.
            refusals = (
                (400, 303, 302, 403) if rule.rule.startswith("/interview/") else (400, 303, 302)
            )
            assert reply.status_code in refusals, (rule.rule, reply.status_code)
            assert _state(app) == before, rule.rule
            # Still signed in: even /logout is refused without the token.
            assert client.get("/units/HD-CG-LC").status_code == 200, rule.rule
            checked.append(rule.endpoint)
    assert {"public.respond", "auth.login", "auth.logout", "officer.update_feedback"} <= set(
        checked
    )


def test_bearer_apis_refuse_a_signed_in_browser(app, client, officers):
    """A session cookie is no credential for the JSON APIs: 401 without the key."""
    sign_in(client, "camgiang")
    token = csrf_of(client, "/units/HD-CG-LC/targets")
    apis = [r for r in app.url_map.iter_rules() if r.endpoint in BEARER_APIS]
    assert len(apis) == len(BEARER_APIS)
    for rule in apis:
        reply = client.post(
            rule.rule,
            json={"desk_code": "LC-01", "dossier_number": "1", "rows": []},
            headers={"X-CSRFToken": token},
        )
        assert reply.status_code == 401, rule.rule
        assert reply.get_json()["error"]


PAGES = [
    "/",
    "/s/LC-01",
    "/s/LC-01/thanks",
    "/s/LC-01/qr.png",
    "/s/LC-01/qr.svg",
    "/s/LC-01/poster.pdf",
    "/s/NOPE",
    "/healthz",
    "/static/site.css",
    "/units/HD-CG-LC?period=2025-03",
    "/units/HD-CG-LC/feedback",
    "/units/HD-CG-LC/targets",
    "/units/HD-CG-LC/desks?period=2025-03",
    "/units/HD-CG-LC/flagged",
    "/units/HD-CG?period=2025-03",
    "/units/HD-CG/volumes?month=2025-03",
    "/units/HD-CG-LC/posters.pdf",
    "/reports/HD-CG-LC/2025-03/chart.png",
    "/reports/HD-CG-LC/2025-03/chart.svg",
    "/reports/HD-CG-LC/2025-03/report.pdf",
    "/reports/HD-CG-LC/2025-03/report.xlsx",
    "/reports/HD-CG-LC/2025-03/report.csv",
    "/api/v1/units/HD-CG-LC/summary?period=2025-03",
    "/api/v1/units/HD-CG-LC/desks?period=2025-03",
    "/units/HD-CG-LC?period=2099-01",
]


def test_security_headers_on_every_kind_of_page(client, commented):
    sign_in(client, "camgiang")
    for path in PAGES + ["/login"]:
        if path == "/login":
            client.post("/logout", data={"csrf_token": csrf_of(client, "/units/HD-CG-LC")})
        reply = client.get(path, base_url=HTTPS)
        assert reply.status_code in (200, 400, 404), (path, reply.status_code)
        headers = reply.headers
        csp = headers["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert "'unsafe-inline'" not in directives["script-src"], path
        assert "'unsafe-eval'" not in directives["script-src"], path
        assert directives["frame-ancestors"] == "'none'", path
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin"), path
        assert headers["Strict-Transport-Security"].startswith("max-age="), path
        assert int(headers["Strict-Transport-Security"].split("=")[1].split(";")[0]) >= 15552000
        reply.close()
    # Over plain HTTP, HSTS means nothing and is not sent.
    assert "Strict-Transport-Security" not in client.get("/s/LC-01").headers


XSS = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


@pytest.fixture
def hostile(officers):
    """A commune, a desk and a comment whose text tries script injection and formulas."""
    add_responses(
        officers,
        "LC-01",
        IN_MARCH,
        {"2": 1, "5": 2},
        comment=f'=HYPERLINK("http://evil") {XSS}',
    )
    with officers.app_context():
        unit = db.session.scalar(sa.select(Unit).where(Unit.code == "HD-CG-LC"))
        unit.name = f"@SUM(1) Lai Cách {XSS}"
        desk = db.session.scalar(sa.select(Desk).where(Desk.code == "LC-01"))
        desk.name = f"+Bàn 1 {XSS}"
        first = db.session.scalar(sa.select(SurveyResponse).order_by(SurveyResponse.id))
        first.flag_reason = "too_fast"
        db.session.commit()
    return officers


HTML_PAGES = [
    "/s/LC-01",
    "/s/LC-01/thanks",
    "/units/HD-CG-LC?period=2025-03",
    "/units/HD-CG-LC/feedback",
    "/units/HD-CG-LC/targets",
    "/units/HD-CG-LC/desks?period=2025-03",
    "/units/HD-CG-LC/flagged",
    "/units/HD-CG?period=2025-03",
    "/units/HD-CG/volumes?month=2025-03",
]


def test_hostile_names_and_comments_are_escaped_on_every_page(client, hostile):
    sign_in(client, "camgiang")
    escaped_somewhere = 0
    for path in HTML_PAGES:
        reply = client.get(path)
        assert reply.status_code == 200, path
        html = reply.get_data(as_text=True)
        assert "<script>alert" not in html, path
        assert not re.search(r"<img[^>]*onerror", html), path
        assert '"><img' not in html, path
        escaped_somewhere += "&lt;script&gt;alert(1)" in html
    assert escaped_somewhere >= 6  # the names and the comment are shown, as text


def _pdf_text(data: bytes, tmp_path: Path) -> str:
    pdftotext = shutil.which("pdftotext")
    if not pdftotext:
        skip_or_fail("pdftotext is not installed (apt-get install poppler-utils)")
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    return subprocess.run(
        [pdftotext, "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout


DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")


def test_hostile_text_is_inert_in_every_export(client, hostile, tmp_path):
    """PDFs print it as text; CSV and XLSX neutralise formulas and hold plain strings."""
    from openpyxl import load_workbook

    sign_in(client, "camgiang")
    for path in ("/reports/HD-CG-LC/2025-03/report.pdf", "/s/LC-01/poster.pdf"):
        reply = client.get(path)
        assert reply.status_code == 200 and reply.mimetype == "application/pdf", path
        text = _pdf_text(reply.data, tmp_path)
        assert "<script>alert(1)</script>" in text.replace("\n", ""), path

    for unit in ("HD-CG-LC", "HD-CG"):
        reply = client.get(f"/reports/{unit}/2025-03/report.csv")
        assert reply.status_code == 200
        cells = [c for row in csv.reader(io.StringIO(reply.data.decode("utf-8-sig"))) for c in row]
        hostile_cells = [c for c in cells if "alert(" in c]
        assert hostile_cells, unit
        for cell in cells:
            if cell.startswith(DANGEROUS_START):
                float(cell)  # only numbers (e.g. a negative) may start with a sign

        reply = client.get(f"/reports/{unit}/2025-03/report.xlsx")
        assert reply.status_code == 200
        book = load_workbook(io.BytesIO(reply.data))
        found = 0
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                    if isinstance(cell.value, str):
                        assert not cell.value.startswith(DANGEROUS_START), cell.value
                        found += "alert(" in cell.value
        assert found, unit

    reply = client.get("/api/v1/units/HD-CG/summary?period=2025-03")
    assert reply.mimetype == "application/json"


def test_passwords_are_stored_as_scrypt_hashes(app, officers):
    with app.app_context():
        officers_ = db.session.scalars(sa.select(Officer)).all()
        assert len(officers_) >= 4
        for officer in officers_:
            assert officer.password_hash.startswith("scrypt:"), officer.username
            assert "demo-" not in officer.password_hash


def test_next_refuses_backslash_and_control_character_tricks(client, officers):
    """Extends tests/web/test_officer_auth.py: browsers read these as other hosts."""
    for target in ("/\\evil.example", "/\t/evil.example", "/\n/evil.example", "\\\\evil.example"):
        token = csrf_of(client, "/login")
        reply = client.post(
            "/login",
            data={
                "csrf_token": token,
                "username": "laicach",
                "password": "demo-laicach",
                "next": target,
            },
        )
        assert reply.headers["Location"] == "/officer", repr(target)
        client.post("/logout", data={"csrf_token": csrf_of(client, "/units/HD-CG-LC")})


def test_bandit_finds_nothing_of_medium_or_high_severity():
    """``bandit -q -r survey -ll``; low-risk findings are justified inline with ``# nosec``."""
    bandit = Path(sys.executable).with_name("bandit")
    if not bandit.exists():
        skip_or_fail("bandit is not installed (pip install -e '.[test]')")
    result = subprocess.run(
        [str(bandit), "-q", "-r", "survey", "-ll"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
