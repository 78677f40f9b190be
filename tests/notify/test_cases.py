"""Cases: opened for harassment reports and low ratings with a comment, due in working
days (weekends and public holidays skipped), escalated to the unit and then to the
units above while unanswered."""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta

import sqlalchemy as sa

from survey.data.models import AuditEntry
from survey.data.models import FeedbackCase
from survey.data.models import OutboxMessage
from survey.data.models import SurveyResponse
from survey.data.models import utcnow
from survey.domain.alerts import add_working_days
from survey.domain.alerts import vietnam_holidays
from survey.extensions import db
from survey.notify import worker
from survey.notify.cases import escalate_cases
from survey.notify.cases import open_cases
from tests.conftest import add_responses


def test_tet_and_weekends_do_not_count_as_working_days():
    # 13/2/2026 is the Friday before Tết: 16–20/2 are holidays, 21–22/2 a weekend.
    friday = datetime(2026, 2, 13, 3, 0, tzinfo=UTC)
    deadline = add_working_days(friday, 3, vietnam_holidays())
    assert deadline == datetime(2026, 2, 25, 17, 0, tzinfo=UTC)  # end of Wednesday 25/2
    assert date(2026, 9, 2) in vietnam_holidays()


def test_cases_open_once_for_harassment_and_low_ratings_with_a_comment(
    mail_app, client, form_post, runner
):
    assert client.post("/s/LC-01", data=form_post(q_trouble="yes")).status_code == 303
    now = utcnow()
    add_responses(mail_app, "LC-02", now, {"1": 1}, comment="Chờ quá lâu.")
    add_responses(mail_app, "LC-02", now, {"2": 1})  # low, but no comment: no case
    add_responses(mail_app, "LC-02", now, {"5": 1}, comment="Tốt.")  # a comment, not low
    with mail_app.app_context():
        assert open_cases(now) == 2
        assert open_cases(now + timedelta(minutes=2)) == 0  # read again: nothing new
        cases = db.session.scalars(sa.select(FeedbackCase).order_by(FeedbackCase.id)).all()
        assert [c.reason for c in cases] == ["harassment", "low_rating"]
        for case in cases:
            assert case.deadline_at == add_working_days(case.opened_at, 3, vietnam_holidays())
            assert case.district_at > case.deadline_at
    result = runner.invoke(args=["survey", "cases"])
    assert "open\t2" in result.output


def test_overdue_cases_escalate_to_the_unit_then_the_district_once(
    mail_app, client, form_post, smtp
):
    assert client.post("/s/LC-01", data=form_post(q_trouble="yes")).status_code == 303
    now = utcnow()
    add_responses(mail_app, "LC-02", now, {"1": 1}, comment="Chờ quá lâu.")
    with mail_app.app_context():
        assert open_cases(now) == 2
        first, second = db.session.scalars(sa.select(FeedbackCase).order_by(FeedbackCase.id))
        deadline, district_at = first.deadline_at, first.district_at
        assert escalate_cases(deadline - timedelta(seconds=1)) == 0
        assert escalate_cases(deadline + timedelta(seconds=1)) == 1  # laicach: one message
        assert escalate_cases(deadline + timedelta(seconds=2)) == 0  # told once
        # The second case is answered meanwhile: only the first goes up.
        db.session.get(SurveyResponse, second.response_id).feedback_status = "answered"
        db.session.commit()
        assert escalate_cases(district_at + timedelta(seconds=1)) == 1  # camgiang
        assert escalate_cases(district_at + timedelta(days=30)) == 0
        levels = dict(
            db.session.execute(sa.select(FeedbackCase.id, FeedbackCase.escalation_level)).all()
        )
        assert levels == {first.id: 2, second.id: 1}
        audit = db.session.scalars(
            sa.select(AuditEntry.detail).where(AuditEntry.action == "case_escalated")
        ).all()
        assert len(audit) == 2
        messages = {
            m.recipient: m
            for m in db.session.scalars(sa.select(OutboxMessage))
            if m.kind == "case_overdue"
        }
        assert "2 phản ánh quá hạn" in messages["laicach@camgiang.gov.vn"].subject
        assert "1 phản ánh quá hạn" in messages["noivu@camgiang.gov.vn"].subject
        assert "Chờ quá lâu" not in messages["laicach@camgiang.gov.vn"].body
        report = worker.send_due(now=district_at + timedelta(minutes=1))
    assert report.failed == 0
    assert {m["To"] for m in smtp.inbox.messages if "quá hạn" in m["Subject"]} == {
        "laicach@camgiang.gov.vn",
        "noivu@camgiang.gov.vn",
    }


def test_the_inbox_shows_overdue_cases_first(mail_app, client):
    from tests.conftest import sign_in

    now = utcnow()
    add_responses(mail_app, "LC-01", now - timedelta(days=20), {"1": 1}, comment="Cũ, quá hạn.")
    add_responses(mail_app, "LC-01", now - timedelta(days=20), {"5": 1}, comment="Cũ, khen.")
    add_responses(mail_app, "LC-01", now - timedelta(hours=1), {"4": 1}, comment="Mới.")
    with mail_app.app_context():
        assert open_cases(now) == 1
    sign_in(client, "laicach")
    html = client.get("/units/HD-CG-LC/feedback").get_data(as_text=True)
    assert html.index("Cũ, quá hạn.") < html.index("Mới.") < html.index("Cũ, khen.")
    assert "Quá hạn từ" in html


def test_an_officer_appeals_and_only_the_district_decides(mail_app, client, runner):
    from tests.conftest import csrf_of
    from tests.conftest import sign_in

    now = utcnow()
    add_responses(mail_app, "LC-01", now - timedelta(hours=2), {"1": 1}, comment="Không vừa ý.")
    with mail_app.app_context():
        assert open_cases(now) == 1
        response_id = db.session.scalar(sa.select(FeedbackCase.response_id))
    base = f"/units/HD-CG-LC/feedback/{response_id}/appeal"
    sign_in(client, "laicach")
    token = csrf_of(client, "/units/HD-CG-LC/feedback")
    reply = client.post(base, data={"csrf_token": token, "reason": "  "})
    assert reply.status_code == 303
    page = client.get(reply.headers["Location"]).get_data(as_text=True)
    assert "Xin nêu lý do đề nghị xem xét lại." in page
    reply = client.post(
        base, data={"csrf_token": token, "reason": "Người dân nhầm quầy, không phải LC-01."}
    )
    assert reply.status_code == 303
    assert (
        client.post(base + "/decision", data={"csrf_token": token, "action": "uphold"}).status_code
        == 403
    )
    client.post("/logout", data={"csrf_token": token})

    sign_in(client, "camgiang")
    token = csrf_of(client, "/units/HD-CG-LC/feedback")
    page = client.get("/units/HD-CG-LC/feedback").get_data(as_text=True)
    assert "đang chờ cấp huyện" in page and "Người dân nhầm quầy" in page
    reply = client.post(base + "/decision", data={"csrf_token": token, "action": "uphold"})
    assert reply.status_code == 303
    again = client.post(base + "/decision", data={"csrf_token": token, "action": "reject"})
    assert again.status_code == 303  # nothing pending any more: refused with a message
    with mail_app.app_context():
        case = db.session.scalar(sa.select(FeedbackCase))
        response = db.session.get(SurveyResponse, response_id)
        assert case.appeal_status == "upheld" and case.decided_by_id is not None
        assert response.flagged and response.flag_reason == "appeal"
        actions = db.session.scalars(
            sa.select(AuditEntry.action)
            .where(AuditEntry.response_id == response_id)
            .order_by(AuditEntry.id)
        ).all()
        assert actions == ["appeal", "appeal_upheld"]
    # The rollup moved the rating out of the figures with the flag.
    assert runner.invoke(args=["survey", "rollup-check"]).exit_code == 0
