"""Malformed requests of every kind never cause a 5xx and never change the data.

Hypothesis drives the real app (Flask test client, the real databases) with
wrong types, huge fields, invalid UTF-8, null bytes, duplicate keys, missing
CSRF tokens, wrong methods and content types and random JSON, on every
endpoint, signed in and out. Each 4xx must carry a message people can read
(an HTML error page or the form with a notice, or JSON with ``error``), and
the stored data may only change through a request that succeeded.

Slow (~20–40 s per database): thousands of requests.
"""

from __future__ import annotations

import json
import os
import re
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from survey.extensions import db
from survey.web.lookup import today_in_vietnam
from tests.conftest import csrf_of
from tests.conftest import hidden_fields
from tests.conftest import sign_in

FIGURES = os.environ.get("SURVEY_RELIABILITY_FIGURES")

# Tables whose row count only a successful request may change. Scan counts,
# rate-limit hashes and sign-in failures are bookkeeping that any request may add.
GUARDED = (
    "unit",
    "desk",
    "questionnaire",
    "response",
    "answer",
    "officer",
    "target",
    "audit_entry",
    "dossier_volume",
    "api_key",
    "receipt_token",
    "kiosk",
    "kiosk_shift",
    "officer_pin",
)

DESKS = ["LC-01", "lc-01", "LC-02", "TT-01", "XX-99", ""]
UNITS = ["HD-CG-LC", "HD-CG", "HD", "HD-BG", "HD-BG-KS", "NOPE"]
PERIODS = ["2025-03", "2025-Q1", "2025-H2", "2025-9M", "2025", "2099-01", "2025-13", "x"]

weird_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "%ff%fe",
            "%00",
            "%c3%28",
            "%ed%a0%80",
            "..%2f..%2fetc%2fpasswd",
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            "9" * 40,
            "-1",
            "1e309",
            "NaN",
        ]
    ),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.just("A" * 5000),
)


def _segment(values):
    """A path segment: a known value, or something malformed, percent-encoded or raw."""
    return st.one_of(
        st.sampled_from(values),
        # Percent escapes stay as they are (invalid UTF-8, NUL); anything else
        # that would end the path (?, #, /) is escaped.
        weird_text.map(lambda text: quote(text, safe="%")),
    )


def _paths():
    desk, unit, period = _segment(DESKS), _segment(UNITS), _segment(PERIODS)
    return st.one_of(
        desk.map(lambda d: f"/s/{d}"),
        desk.map(lambda d: f"/s/{d}/thanks"),
        st.tuples(desk, st.sampled_from(["png", "svg", "gif"])).map(
            lambda t: f"/s/{t[0]}/qr.{t[1]}"
        ),
        desk.map(lambda d: f"/s/{d}/poster.pdf"),
        _segment(["K7M2QX9P", "0000", ""]).map(lambda c: f"/t/{c}/qr.png"),
        st.just("/api/v1/tokens"),
        st.just("/api/v1/volumes"),
        unit.map(lambda u: f"/api/v1/units/{u}/summary"),
        unit.map(lambda u: f"/api/v1/units/{u}/desks"),
        st.sampled_from(["/login", "/logout", "/officer", "/", "/healthz", "/nowhere"]),
        st.sampled_from(
            ["/kiosk", "/kiosk/pair", "/kiosk/ratings", "/kiosk/state", "/kiosk/shift"]
            + ["/kiosk/shift/end", "/kiosk/me", "/kiosk/me/pin", "/kiosk/me/shift"]
        ),
        _segment(["LC-01", "NOPE"]).map(lambda d: f"/kiosk/desks/{d}/code"),
        unit.map(lambda u: f"/units/{u}"),
        unit.map(lambda u: f"/units/{u}/feedback"),
        st.tuples(unit, _segment(["1", "999999", "0"])).map(
            lambda t: f"/units/{t[0]}/feedback/{t[1]}"
        ),
        unit.map(lambda u: f"/units/{u}/targets"),
        unit.map(lambda u: f"/units/{u}/flagged"),
        st.tuples(unit, _segment(["1", "2"])).map(lambda t: f"/units/{t[0]}/flagged/{t[1]}"),
        unit.map(lambda u: f"/units/{u}/desks"),
        unit.map(lambda u: f"/units/{u}/volumes"),
        unit.map(lambda u: f"/units/{u}/volumes/import"),
        st.tuples(unit, period, st.sampled_from(["png", "svg", "csv", "bmp"])).map(
            lambda t: f"/reports/{t[0]}/{t[1]}/chart.{t[2]}"
        ),
        st.tuples(unit, period, st.sampled_from(["csv", "xlsx", "doc"])).map(
            lambda t: f"/reports/{t[0]}/{t[1]}/report.{t[2]}"
        ),
    )


FIELD_NAMES = [
    "csrf_token",
    "submission_id",
    "questionnaire_version",
    "issued",
    "receipt",
    "q_field",
    "q_access",
    "q_procedure",
    "q_official",
    "q_result",
    "q_feedback",
    "q_overall",
    "q_wait",
    "q_visits",
    "q_trouble",
    "q_comment",
    "contact",
    "contact_consent",
    "username",
    "password",
    "status",
    "note",
    "action",
    "year",
    "field",
    "rate",
    "month",
    "next",
]

_byte_values = st.one_of(
    st.binary(max_size=60),
    st.sampled_from([b"\xff\xfe", b"\x00", b"\xc3\x28", b"\xed\xa0\x80", b"5", b"na", b""]),
    weird_text.map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.just(b"x" * 70000),
)

# A form body as raw bytes: duplicate keys, invalid UTF-8, null bytes, junk.
form_bodies = st.lists(
    st.tuples(st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=8)), _byte_values),
    max_size=14,
).map(
    lambda pairs: b"&".join(
        quote(k.encode("utf-8", "surrogatepass"), safe="").encode()
        + b"="
        + quote(v, safe="").encode()
        for k, v in pairs
    )
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["desk_code", "dossier_number", "expires_in_days", "unit_code", "month"]
            )
            | st.text(max_size=6),
            children,
            max_size=5,
        )
    ),
    max_leaves=12,
)

CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=latin-1",
    "multipart/form-data",
    "multipart/form-data; boundary=zzz",
    "application/json",
    "text/plain",
    "application/xml",
    None,
]


@st.composite
def requests_(draw, api_key: str):
    method = draw(st.sampled_from(["GET", "POST", "POST", "PUT", "DELETE", "PATCH"]))
    path = draw(_paths())
    query = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["period", "lang", "t", "scale", "size", "status", "page", "next"])
                | st.text(max_size=6),
                weird_text,
            ),
            max_size=4,
        )
    )
    query_string = "&".join(quote(k, safe="") + "=" + quote(v, safe="%") for k, v in query)
    body_kind = draw(st.sampled_from(["form", "json", "raw", "none"]))
    if body_kind == "form":
        body = draw(form_bodies)
    elif body_kind == "json":
        body = json.dumps(draw(json_values)).encode()
    elif body_kind == "raw":
        body = draw(st.binary(max_size=200))
    else:
        body = b""
    content_type = draw(st.sampled_from(CONTENT_TYPES))
    auth = draw(
        st.sampled_from([None, f"Bearer {api_key}", "Bearer nope", "Basic eDp5", f"{api_key}"])
    )
    return method, path, query_string, body, content_type, auth


def _counts() -> dict[str, int]:
    return {
        table: db.session.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
        for table in GUARDED
    }


def _assert_clear(response) -> None:
    status = response.status_code
    assert status < 500, f"{status}: {response.get_data(as_text=True)[:500]}"
    if status < 400:
        return
    if response.is_json:
        body = response.get_json()
        assert isinstance(body, dict) and body.get("error"), body
    else:
        html = response.get_data(as_text=True)
        assert response.mimetype == "text/html", response.mimetype
        # The error page's heading, or the form shown again with a notice.
        assert re.search(r'<h1>[^<]+</h1>|class="notice"', html), html[:500]


def _fuzz(app, client, api_key: str, examples: int, csrf=None) -> int:
    """Send ``examples`` generated requests through ``client``; return how many were sent."""
    sent = 0
    with app.app_context():
        baseline = _counts()
        db.session.remove()

    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(request=requests_(api_key), with_csrf=st.booleans())
    def one(request, with_csrf):
        nonlocal sent, baseline
        method, path, query_string, body, content_type, auth = request
        if csrf and with_csrf and content_type and "form-urlencoded" in content_type:
            body = b"csrf_token=" + quote(csrf()).encode() + b"&" + body
        if csrf and path == "/logout":
            body = b""  # stay signed in: a logout without a token is refused anyway
        headers = {"Authorization": auth} if auth else {}
        response = client.open(
            path,
            method=method,
            query_string=query_string,
            data=body,
            content_type=content_type,
            headers=headers,
        )
        sent += 1
        _assert_clear(response)
        with app.app_context():
            counts = _counts()
            db.session.remove()
        if method == "POST" and response.status_code < 400:
            baseline = counts  # a valid submission, token or setting
        else:
            assert counts == baseline, (method, path, response.status_code)

    one()
    return sent


def _record(name: str, figures: dict) -> None:
    if FIGURES:
        with open(FIGURES, "a") as fh:
            fh.write(json.dumps({"test": name, **figures}) + "\n")


def _examples(database_url: str, sqlite: int, postgresql: int) -> int:
    return sqlite if database_url.startswith("sqlite") else postgresql


@pytest.fixture
def api_key(officers):
    from survey.data.models import Unit
    from survey.integrity.tokens import issue_api_key

    with officers.app_context():
        unit = db.session.scalar(sa.select(Unit).where(Unit.code == "HD-CG-LC"))
        key = issue_api_key(unit, "fuzz")
        db.session.commit()
    return key


def test_fuzz_public_and_api_signed_out(app, client, api_key, database_url):
    """Slow (~15 s on SQLite): malformed requests from a stranger."""
    sent = _fuzz(app, client, api_key, _examples(database_url, 1500, 500))
    _record("fuzz-signed-out", {"db": database_url.split(":")[0], "requests": sent})


@pytest.mark.parametrize("username", ["laicach", "camgiang"])
def test_fuzz_signed_in_officers(app, client, api_key, database_url, username):
    """Slow (~10 s on SQLite): malformed requests from a signed-in officer, with and
    without a valid CSRF token."""
    assert sign_in(client, username).status_code == 302
    token = csrf_of(client, "/units/HD-CG-LC/targets")
    sent = _fuzz(app, client, api_key, _examples(database_url, 700, 250), csrf=lambda: token)
    # Still signed in, still working.
    assert client.get("/units/HD-CG-LC").status_code == 200
    _record(f"fuzz-{username}", {"db": database_url.split(":")[0], "requests": sent})


def test_fuzz_form_fields_of_a_real_form(app, client, form_post, database_url):
    """A served form with one field replaced by junk: 4xx with the answers kept, or 303."""
    # Many sends from one phone: the rate limits would answer 429 after five.
    app.config.update(SURVEY_LIMIT_DEVICE_PER_DAY=0, SURVEY_LIMIT_IP_PER_HOUR=0)
    form = form_post()
    sent = 0

    @settings(max_examples=_examples(database_url, 300, 100), deadline=None, database=None)
    @given(
        name=st.sampled_from(sorted(form) + ["extra"]),
        value=_byte_values,
        duplicate=st.booleans(),
    )
    def one(name, value, duplicate):
        nonlocal sent
        fresh = hidden_fields(client.get("/s/LC-01").get_data(as_text=True))
        data = {**form, **fresh}
        pairs = [(k.encode(), v.encode()) for k, v in data.items() if k != name]
        pairs.append((name.encode(), value))
        if duplicate:
            pairs.append((name.encode(), b"5"))
        body = b"&".join(quote(k).encode() + b"=" + quote(v).encode() for k, v in pairs)
        response = client.post(
            "/s/LC-01", data=body, content_type="application/x-www-form-urlencoded"
        )
        sent += 1
        _assert_clear(response)
        assert response.status_code in (303, 400, 409, 413, 422), response.status_code

    one()
    _record("fuzz-form-fields", {"db": database_url.split(":")[0], "requests": sent})


BIG = "9" * 30

# Each of these was a 500: "²" passes str.isdigit() but not int(), and a
# thirty-digit number overflows the database's integers.
REGRESSIONS = [
    ("GET", f"/units/HD-CG-LC/feedback?page={BIG}", None),
    ("GET", "/units/HD-CG-LC/feedback?page=²", None),
    ("GET", f"/units/HD-CG-LC/flagged?page={BIG}", None),
    ("GET", "/units/HD-CG-LC/targets?year=²", None),
    ("GET", "/s/LC-01/qr.png?scale=²", None),
    ("POST", f"/units/HD-CG-LC/feedback/{BIG}", {"status": "answered"}),
    ("POST", f"/units/HD-CG-LC/flagged/{BIG}", {"action": "reinstate"}),
    ("POST", "/units/HD-CG/volumes?month=2025-01", {"v_HD-CG-LC": "²"}),
    ("POST", "/units/HD-CG/volumes?month=2025-01", {"v_HD-CG-LC": BIG}),
    ("POST", "/s/LC-01", {"questionnaire_version": "²"}),
    ("POST", "/s/LC-01", {"questionnaire_version": BIG}),
]


@pytest.mark.parametrize(("method", "path", "data"), REGRESSIONS)
def test_fuzz_findings_are_4xx_or_harmless(client, officers, method, path, data):
    sign_in(client, "camgiang")
    token = csrf_of(client, "/units/HD-CG-LC/targets")
    if method == "GET":
        response = client.get(path)
    else:
        response = client.post(path, data={"csrf_token": token, **data})
    _assert_clear(response)
    if method == "POST":
        assert response.status_code in (404, 409, 422), response.status_code


def test_a_forged_scan_cookie_is_ignored(client, demo_units):
    """The scan cookie holds desk ids; junk in it (``²``, huge numbers) is dropped."""
    from survey.integrity.guard import SCAN_COOKIE

    with demo_units.app_context():
        today = today_in_vietnam().isoformat()
    client.set_cookie(SCAN_COOKIE, f"{today}:²,{BIG},1")
    assert client.get("/s/LC-01").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/s/%00", {}),
        ("GET", "/units/HD%00/feedback", {}),
        ("GET", "/s/LC-01?t=%00", {}),
        ("POST", "/login", {"data": {"username": "a\x00b", "password": "x"}}),
        ("POST", "/api/v1/tokens", {"json": {"desk_code": "LC\x00", "dossier_number": "1"}}),
    ],
)
def test_null_characters_are_refused_with_400(client, demo_units, method, path, kwargs):
    """PostgreSQL cannot store or compare NUL: such lookups used to be a 500 there."""
    response = client.open(path, method=method, **kwargs)
    assert response.status_code == 400
    _assert_clear(response)
