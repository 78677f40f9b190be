"""The permission matrix: every role against every unit's pages, downloads, API and comments.

A unit outside an officer's reach answers 404 — the same as a unit that does
not exist — so that neither its data nor its existence leaks.
"""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

import pytest
import sqlalchemy as sa

from survey.data.models import SurveyResponse
from survey.extensions import db
from tests.conftest import add_responses
from tests.conftest import csrf_of
from tests.conftest import sign_in

UNITS = ["HD", "HD-CG", "HD-CG-LC", "HD-CG-CH", "HD-BG", "HD-BG-KS"]
# Which units each officer may see (own unit and the units below it).
VISIBLE = {
    "laicach": {"HD-CG-LC"},
    "camgiang": {"HD-CG", "HD-CG-LC", "HD-CG-CH"},
    "binhgiang": {"HD-BG", "HD-BG-KS"},
    "quantri": set(UNITS),
}
PERIOD = "2025-03"
SECRET = "Bí mật của đơn vị khác"


def unit_urls(code: str) -> list[str]:
    return [
        f"/units/{code}?period={PERIOD}",
        f"/units/{code}/feedback",
        f"/units/{code}/targets",
        f"/api/v1/units/{code}/summary?period={PERIOD}",
        *(f"/reports/{code}/{PERIOD}/chart.{fmt}" for fmt in ("png", "svg", "pdf")),
        *(f"/reports/{code}/{PERIOD}/report.{fmt}" for fmt in ("xlsx", "csv", "pdf")),
    ]


@pytest.fixture
def matrix(officers):
    when = datetime(2025, 3, 5, 3, tzinfo=UTC)
    add_responses(officers, "CH-01", when, {"2": 3}, comment=SECRET)
    add_responses(officers, "LC-01", when, {"5": 3}, comment="Lai Cách")
    return officers


@pytest.mark.parametrize("username", sorted(VISIBLE))
def test_every_role_sees_exactly_its_units(client, matrix, username):
    assert sign_in(client, username).status_code == 302
    for code in UNITS:
        for url in unit_urls(code):
            reply = client.get(url)
            if code in VISIBLE[username]:
                assert reply.status_code == 200, (username, url, reply.status_code)
            else:
                assert reply.status_code == 404, (username, url, reply.status_code)
                assert SECRET.encode() not in reply.data


@pytest.mark.parametrize("username", ["laicach", "binhgiang"])
def test_comments_of_other_units_cannot_be_changed(app, client, matrix, username):
    with app.app_context():
        secret = db.session.scalar(
            sa.select(SurveyResponse).where(SurveyResponse.comment == SECRET)
        )
    sign_in(client, username)
    own = sorted(VISIBLE[username])[0]
    token = csrf_of(client, f"/units/{own}/feedback")
    for code in ("HD-CG-CH", own):
        reply = client.post(
            f"/units/{code}/feedback/{secret.id}",
            data={"csrf_token": token, "status": "answered", "reply": "x"},
        )
        assert reply.status_code == 404, code
    target = client.post(
        "/units/HD-CG-CH/targets",
        data={"csrf_token": token, "year": "2025", "procedure_field": "", "percent": "50"},
    )
    assert target.status_code == 404
    with app.app_context():
        assert db.session.get(SurveyResponse, secret.id).feedback_status == "new"


def test_district_sees_its_communes_comments(client, matrix):
    sign_in(client, "camgiang")
    html = client.get("/units/HD-CG/feedback").get_data(as_text=True)
    assert SECRET in html and "Lai Cách" in html


def test_unknown_unit_is_404(client, matrix):
    sign_in(client, "quantri")
    for url in unit_urls("NOPE"):
        assert client.get(url).status_code == 404, url
