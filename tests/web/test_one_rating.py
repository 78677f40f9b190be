"""One phone, one desk, one rating at a time: a second rating of a desk from the same
phone within SURVEY_REPLACE_MINUTES replaces the first (kept, flagged "replaced"),
the thank-you page says so, and the rollup follows exactly. A resend of a stored
form with other answers says clearly that the first version was kept."""

from __future__ import annotations

import sqlalchemy as sa

from survey.data import rollup
from survey.data.models import SurveyResponse
from survey.data.models import Unit
from survey.extensions import db


def _rows(app):
    with app.app_context():
        return db.session.execute(
            sa.select(SurveyResponse.flag_reason, SurveyResponse.flagged).order_by(
                SurveyResponse.id
            )
        ).all()


def _rollup_exact(app):
    with app.app_context():
        for unit in db.session.scalars(sa.select(Unit)):
            assert rollup.differences(unit) == {}, unit.code


def test_back_then_send_replaces_the_first_rating(app, client, form_post):
    app.config.update(SURVEY_REPLACE_MINUTES=30, SURVEY_MIN_FILL_SECONDS=0)
    first = client.post("/s/LC-01", data=form_post(q_overall="2"))
    assert first.status_code == 303 and "updated" not in first.headers["Location"]
    second = client.post("/s/LC-01", data=form_post(q_overall="5"))
    assert second.status_code == 303
    assert second.headers["Location"].endswith("/thanks?updated=1")
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "đã được cập nhật" in page
    assert [tuple(r) for r in _rows(app)] == [("replaced", True), (None, False)]
    _rollup_exact(app)
    with app.app_context():
        # The first rating was still waiting for the counting job: the replacement
        # counted it with its new flag; the second waits, and is counted once.
        assert rollup.waiting_total() == 1
        assert rollup.count_waiting() == 1
    _rollup_exact(app)
    with app.app_context():
        counted = db.session.scalars(
            sa.select(SurveyResponse).where(SurveyResponse.flagged.is_(False))
        ).all()
        assert [r.answer_map()["overall"] for r in counted] == ["5"]


def test_another_desk_or_another_phone_adds_a_rating(app, client, form_post):
    app.config.update(SURVEY_REPLACE_MINUTES=30, SURVEY_MIN_FILL_SECONDS=0)
    assert client.post("/s/LC-01", data=form_post()).status_code == 303
    assert client.post("/s/LC-02", data=form_post("LC-02")).status_code == 303
    other = app.test_client()
    page = other.get("/s/LC-01")
    from tests.conftest import VALID_ANSWERS
    from tests.conftest import hidden_fields

    data = {**hidden_fields(page.get_data(as_text=True)), **VALID_ANSWERS}
    assert other.post("/s/LC-01", data=data).headers["Location"].endswith("/thanks")
    assert [tuple(r) for r in _rows(app)] == [(None, False)] * 3


def test_outside_the_window_a_rating_is_added(app, client, form_post):
    app.config.update(SURVEY_REPLACE_MINUTES=0, SURVEY_MIN_FILL_SECONDS=0)
    client.post("/s/LC-01", data=form_post())
    client.post("/s/LC-01", data=form_post())
    assert [tuple(r) for r in _rows(app)] == [(None, False)] * 2


def test_a_corrected_resend_says_the_first_version_was_kept(app, client, form_post):
    app.config.update(SURVEY_MIN_FILL_SECONDS=0)
    data = form_post()
    assert client.post("/s/LC-01", data=data).status_code == 303
    again = client.post("/s/LC-01", data=data)  # a plain retry: thanked as before
    assert again.headers["Location"].endswith("/thanks")
    corrected = {**data, "q_trouble": "yes", "q_comment": "Bị gây phiền hà."}
    reply = client.post("/s/LC-01", data=corrected)
    assert reply.status_code == 303
    assert reply.headers["Location"].endswith("/thanks?kept=1")
    page = client.get(reply.headers["Location"]).get_data(as_text=True)
    assert "giữ nguyên câu trả lời gửi lần đầu" in page
    assert len(_rows(app)) == 1
    _rollup_exact(app)


def test_purge_clears_old_device_hashes(app, runner, client, form_post):
    from datetime import timedelta

    from survey.data.models import utcnow

    app.config.update(SURVEY_MIN_FILL_SECONDS=0)
    client.post("/s/LC-01", data=form_post())
    with app.app_context():
        response = db.session.scalar(sa.select(SurveyResponse))
        assert response.device_hash and len(response.device_hash) == 64
        response.submitted_at = utcnow() - timedelta(days=30)
        db.session.commit()
    assert runner.invoke(args=["survey", "purge"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(sa.select(SurveyResponse.device_hash)) is None


def test_a_resend_at_the_phone_limit_is_thanked_and_changes_nothing(app, client, form_post):
    # The first send used the phone's last rating of the day: a resend of the same
    # form is that rating again, not one more, and leaves the first as it was (not
    # replaced, not flagged, its limit events not doubled).
    from survey.data.models import RateEvent

    app.config.update(
        SURVEY_MIN_FILL_SECONDS=0, SURVEY_REPLACE_MINUTES=30, SURVEY_LIMIT_DEVICE_PER_DAY=1
    )
    data = form_post()
    assert client.post("/s/LC-01", data=data).headers["Location"].endswith("/thanks")
    with app.app_context():
        events = db.session.scalar(sa.select(sa.func.count()).select_from(RateEvent))
    again = client.post("/s/LC-01", data=data)
    assert again.status_code == 303 and again.headers["Location"].endswith("/thanks")
    corrected = client.post("/s/LC-01", data={**data, "q_overall": "1"})
    assert corrected.status_code == 303
    assert corrected.headers["Location"].endswith("/thanks?kept=1")
    assert client.post("/s/LC-01", data=form_post()).status_code == 429  # a new form: over
    assert [tuple(r) for r in _rows(app)] == [(None, False)]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RateEvent)) == events
    _rollup_exact(app)
