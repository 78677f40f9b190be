"""Requests a client can craft: each class gets a 4xx with a clear message, never a 500,
and nothing is stored from a body cut at the size limit. On both databases."""

from __future__ import annotations

import io

import pytest
import requests
import sqlalchemy as sa

from survey.data.models import Desk
from survey.data.models import SurveyResponse
from survey.data.models import Unit
from survey.extensions import db
from tests.conftest import csrf_of
from tests.conftest import hidden_fields
from tests.conftest import sign_in
from tests.web.test_tokens import api_key  # noqa: F401 (a fixture)


def _responses(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(SurveyResponse.id)))


# -- query strings on public URLs -------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "desk_code=X",
        "_external=1&_scheme=javascript",
        "_anchor=x",
        "_method=POST",
        "fmt=png",
        "size=A4&size=A5",
        "t=%00",
        "%ff=%fe",
    ],
)
def test_crafted_query_strings_on_public_urls(client, demo_units, query):
    for path in ("/s/lc-01", "/s/LC-01", "/s/LC-01/qr.png", "/s/lc-01/poster.pdf"):
        reply = client.get(f"{path}?{query}")
        assert reply.status_code < 500, (path, query)
        location = reply.headers.get("Location", "")
        assert not location or location.startswith("/s/LC-01"), location


def test_a_code_redirect_keeps_the_query_as_sent(client, demo_units):
    reply = client.get("/s/lc-01?t=K7M2QX9P&desk_code=X")
    assert reply.status_code == 301
    assert reply.headers["Location"] == "/s/LC-01?t=K7M2QX9P&desk_code=X"


# -- submission ids ---------------------------------------------------------


@pytest.mark.parametrize("suffix", ["\n", "\r\n", " ", "\x00", "0"])
def test_a_submission_id_with_a_trailing_character_is_refused(app, client, form_post, suffix):
    data = form_post()
    data["submission_id"] += suffix
    reply = client.post("/s/LC-01", data=data)
    assert 400 <= reply.status_code < 500
    assert _responses(app) == 0


# -- codes with Vietnamese letters ------------------------------------------


@pytest.fixture
def vietnamese_codes(officers):
    with officers.app_context():
        commune = db.session.scalar(sa.select(Unit).where(Unit.code == "HD-CG-LC"))
        commune.code = "HD-CG-LÁ"
        desk = db.session.scalar(sa.select(Desk).where(Desk.code == "LC-01"))
        desk.code = "LÁ-01"
        db.session.commit()
    return officers


def test_downloads_of_codes_with_vietnamese_letters(client, vietnamese_codes):
    poster = client.get("/s/LÁ-01/poster.pdf")
    assert poster.status_code == 200
    header = poster.headers["Content-Disposition"]
    header.encode("ascii")
    assert 'filename="poster-LA-01-A4.pdf"' in header
    assert "filename*=UTF-8''poster-L%C3%81-01-A4.pdf" in header
    sign_in(client, "camgiang")
    for path in (
        "/units/HD-CG-LÁ/posters.pdf",
        "/reports/HD-CG-LÁ/2025-03/report.csv",
        "/reports/HD-CG-LÁ/2025-03/report.xlsx",
        "/reports/HD-CG-LÁ/2025-03/chart.png",
    ):
        reply = client.get(path)
        assert reply.status_code == 200, path
        reply.headers["Content-Disposition"].encode("ascii")


def test_the_command_line_refuses_codes_a_url_cannot_carry(runner, demo_units):
    for args in (
        ["add-unit", "HD-CG-LÁ", "Lá", "--level", "commune", "--parent", "HD-CG"],
        ["add-desk", "LÁ-02", "Bàn", "--unit", "HD-CG-LC"],
        ["add-desk", "LC 02", "Bàn", "--unit", "HD-CG-LC"],
    ):
        result = runner.invoke(args=["survey", *args])
        assert result.exit_code != 0, args
        assert "ASCII letters, digits and dashes" in result.output


# -- numbers that are not numbers -------------------------------------------


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-Infinity", "sNaN", "1e999999"])
@pytest.mark.parametrize("field", ["percent", "year"])
def test_non_finite_numbers_in_the_targets_form(client, officers, field, value):
    sign_in(client, "laicach")
    data = {"csrf_token": csrf_of(client, "/units/HD-CG-LC/targets")}
    data |= {"year": "2025", "procedure_field": "", "percent": "95", field: value}
    reply = client.post("/units/HD-CG-LC/targets", data=data)
    assert reply.status_code == 422
    assert "Vui lòng nhập một số" in reply.get_data(as_text=True)


# -- JSON to the tokens API ---------------------------------------------------


def _post_raw(client, key, body: bytes):
    return client.post(
        "/api/v1/tokens",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 30_000 + b"]" * 30_000,
        b'{"a":' * 5000 + b"1" + b"}" * 5000,
        b'{"desk_code": "LC-01", "dossier_number": "\\ud800"}',
        b'{"desk_code": "\\udfff", "dossier_number": "A-1"}',
        b'{"\\ud800": 1}',
    ],
)
def test_deep_or_unencodable_json_is_refused(client, api_key, body):  # noqa: F811
    reply = _post_raw(client, api_key, body)
    assert reply.status_code == 422
    assert reply.get_json()["error"]


def test_json_of_a_normal_depth_still_works(client, api_key):  # noqa: F811
    body = b'{"desk_code": "LC-01", "dossier_number": "A-1", "x": [[[[{"y": [1]}]]]]}'
    assert _post_raw(client, api_key, body).status_code == 201


# -- uploads ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["export\x00.csv", "\x00", "e\x00xport.xlsx"])
def test_a_nul_byte_in_an_uploaded_file_name(app, client, officers, name):
    sign_in(client, "camgiang")
    token = csrf_of(client, "/units/HD-CG/volumes")
    reply = client.post(
        "/units/HD-CG/volumes/import",
        data={"csrf_token": token, "file": (io.BytesIO(b"unit_code,month,dossiers\n"), name)},
        content_type="multipart/form-data",
    )
    assert reply.status_code == 400
    assert "Yêu cầu không hợp lệ" in reply.get_data(as_text=True)


# -- bodies without a length (real HTTP) --------------------------------------


def _served_form(session, base: str) -> dict[str, str]:
    page = session.get(f"{base}/s/LC-01", timeout=30)
    assert page.status_code == 200
    from tests.conftest import VALID_ANSWERS

    return {**hidden_fields(page.text), **VALID_ANSWERS}


def _chunks(body: bytes, size: int = 4096):
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_a_chunked_body_over_the_limit_is_refused_whole(live_server):
    app = live_server.app
    with requests.Session() as s:
        form = _served_form(s, live_server.url)
        body = requests.models.RequestEncodingMixin._encode_params(form).encode()
        # The real answers first, then padding past the 64 KB limit: cut at the
        # limit, the body would still hold a whole, valid form.
        body += b"&padding=" + b"x" * (80 * 1024)
        reply = s.post(
            f"{live_server.url}/s/LC-01",
            data=_chunks(body),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            allow_redirects=False,
            timeout=60,
        )
    assert reply.status_code == 413
    assert "Dữ liệu gửi lên quá lớn" in reply.text or "quá lớn" in reply.text
    assert _responses(app) == 0


def test_a_chunked_body_within_the_limit_is_stored(live_server):
    app = live_server.app
    with requests.Session() as s:
        form = _served_form(s, live_server.url)
        body = requests.models.RequestEncodingMixin._encode_params(form).encode()
        reply = s.post(
            f"{live_server.url}/s/LC-01",
            data=_chunks(body, 100),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            allow_redirects=False,
            timeout=60,
        )
    assert reply.status_code in (302, 303), reply.text[:500]
    assert _responses(app) == 1
    with app.app_context():
        stored = db.session.scalar(sa.select(SurveyResponse))
        assert stored.comment == "Cán bộ nhiệt tình."


# -- smaller items --------------------------------------------------------------


def test_officer_pages_and_json_are_never_stored(client, officers):
    sign_in(client, "laicach")
    for path in (
        "/units/HD-CG-LC",
        "/units/HD-CG-LC/feedback",
        "/api/v1/units/HD-CG-LC/summary",
        "/reports/HD-CG-LC/2025-03/report.csv",
        "/login",
    ):
        reply = client.get(path)
        assert "no-store" in reply.headers.get("Cache-Control", ""), path
    # Public pages keep their caching.
    assert client.get("/s/LC-01/qr.png").headers["Cache-Control"] == "public, max-age=3600"


def test_the_language_cookie_is_secure_where_sessions_are(app, client, demo_units):
    app.config["SESSION_COOKIE_SECURE"] = True
    cookie = client.get("/s/LC-01?lang=en").headers.getlist("Set-Cookie")
    lang = next(c for c in cookie if c.startswith("lang="))
    assert "Secure" in lang and "HttpOnly" in lang


BIDI = "Cán bộ \u202etốt\u202c lắm\u200b \u2066x\u2069\ufeff"


def test_direction_and_zero_width_controls_are_dropped_from_comments(
    app, client, officers, form_post
):
    app.config["SURVEY_MIN_FILL_SECONDS"] = 0
    assert client.post("/s/LC-01", data=form_post(q_comment=BIDI)).status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(SurveyResponse.comment)) == "Cán bộ tốt lắm x"


def test_stored_controls_never_reach_the_inbox_or_the_csv(app, client, officers):
    from tests.conftest import add_responses

    add_responses(officers, "LC-01", _march(), {"5": 1}, comment=BIDI + ";=1+1")
    sign_in(client, "laicach")
    html = client.get("/units/HD-CG-LC/feedback?period=2025-03").get_data(as_text=True)
    assert "Cán bộ tốt lắm" in html
    assert not any(c in html for c in "\u202e\u202c\u200b\u2066\u2069\ufeff")
    csv_text = client.get("/reports/HD-CG-LC/2025-03/report.csv").data.decode("utf-8-sig")
    assert not any(c in csv_text for c in "\u202e\u202c\u200b\u2066\u2069")
    # Every cell quoted: a reader splitting on ";" keeps "…;=1+1" in one cell.
    line = next(row for row in csv_text.splitlines() if "=1+1" in row)
    assert '"Cán bộ tốt lắm x;=1+1"' in line


def _march():
    from datetime import UTC
    from datetime import datetime

    return datetime(2025, 3, 10, 3, 0, tzinfo=UTC)


def test_a_public_poster_is_drawn_once_then_served_from_the_cache(app, client, demo_units):
    from survey.web.render_cache import counters

    first = client.get("/s/LC-01/poster.pdf?size=A5")
    again = client.get("/s/LC-01/poster.pdf?size=A5")
    assert first.status_code == again.status_code == 200
    assert first.data == again.data and first.data.startswith(b"%PDF")
    assert counters(app) == {"hits": 1, "misses": 1, "errors": 0}
    # Another desk or size is another poster.
    assert client.get("/s/LC-02/poster.pdf?size=A5").data != first.data
    assert counters(app)["misses"] == 2
