"""Officers' e-mail and preferences (profile page and CLI) and alert rules (CLI),
with the clear messages bad input gets."""

from __future__ import annotations

from datetime import time
from datetime import timedelta

import sqlalchemy as sa

from survey.data.models import Alert
from survey.data.models import AlertRule
from survey.data.models import AuditEntry
from survey.data.models import Officer
from survey.data.models import OutboxMessage
from survey.data.models import Unit
from survey.data.models import utcnow
from survey.domain.alerts import quiet_until
from survey.extensions import db
from survey.notify.dispatch import dispatch_due
from tests.conftest import csrf_of
from tests.conftest import sign_in


def _officer(app, username: str) -> Officer:
    with app.app_context():
        officer = db.session.scalar(sa.select(Officer).where(Officer.username == username))
        db.session.expunge(officer)
        return officer


def test_profile_page_stores_address_preferences_and_quiet_hours(officers, client):
    sign_in(client, "laicach")
    page = client.get("/officer/profile")
    assert page.status_code == 200
    assert "Nhận thông báo" in page.get_data(as_text=True)
    reply = client.post(
        "/officer/profile",
        data={
            "csrf_token": csrf_of(client, "/officer/profile"),
            "email": " Lan@LaiCach.GOV.vn ",
            "wants_alerts": "y",
            "quiet_start": "21:30",
            "quiet_end": "6:00",
        },
    )
    assert reply.status_code == 303
    officer = _officer(officers, "laicach")
    assert officer.email == "Lan@laicach.gov.vn"
    assert (officer.wants_alerts, officer.wants_comments, officer.wants_reports) == (
        True,
        False,
        False,
    )
    assert (officer.quiet_start, officer.quiet_end) == ("21:30", "06:00")
    with officers.app_context():
        entry = db.session.scalar(
            sa.select(AuditEntry).where(AuditEntry.action == "contact_changed")
        )
        assert entry.officer_id == officer.id


def test_profile_page_refuses_a_bad_address_and_a_bad_time_in_vietnamese(officers, client):
    sign_in(client, "laicach")
    token = csrf_of(client, "/officer/profile")
    reply = client.post(
        "/officer/profile", data={"csrf_token": token, "email": "lan@", "wants_alerts": "y"}
    )
    assert reply.status_code == 422
    assert "Đây không phải địa chỉ thư điện tử" in reply.get_data(as_text=True)
    reply = client.post(
        "/officer/profile",
        data={"csrf_token": token, "email": "lan@laicach.gov.vn", "quiet_start": "25:00"},
    )
    assert reply.status_code == 422
    assert "ví dụ 21:30" in reply.get_data(as_text=True)
    assert _officer(officers, "laicach").email is None  # nothing half-stored
    reply = client.post("/officer/profile", data={"email": "lan@laicach.gov.vn"})
    assert reply.status_code == 400  # no CSRF token


def test_profile_page_needs_sign_in(officers, client):
    reply = client.get("/officer/profile")
    assert reply.status_code == 302 and "/login" in reply.headers["Location"]


def test_cli_sets_an_officers_email_and_refuses_a_bad_one(officers, runner):
    result = runner.invoke(args=["survey", "set-officer-email", "laicach", "lan@laicach.gov.vn"])
    assert result.exit_code == 0 and "lan@laicach.gov.vn" in result.output
    result = runner.invoke(args=["survey", "set-officer-email", "laicach", "lan at laicach"])
    assert result.exit_code != 0 and "not a valid e-mail address" in result.output
    assert _officer(officers, "laicach").email == "lan@laicach.gov.vn"
    result = runner.invoke(args=["survey", "set-officer-email", "nobody", "a@b.vn"])
    assert result.exit_code != 0 and "No officer nobody" in result.output


def test_cli_alert_rule_with_impossible_numbers_is_refused(officers, runner):
    result = runner.invoke(args=["survey", "set-alert-rule", "HD-CG", "--negative-percent", "150"])
    assert result.exit_code != 0 and "must be 1 to 100 %" in result.output
    result = runner.invoke(args=["survey", "set-alert-rule", "HD-CG", "--min-responses", "0"])
    assert result.exit_code != 0 and "must be 1 to 1000" in result.output
    with officers.app_context():
        assert db.session.scalar(sa.select(sa.func.count(AlertRule.id))) == 0
    result = runner.invoke(
        args=["survey", "set-alert-rule", "HD-CG", "--min-responses", "6", "--window", "30"]
    )
    assert result.exit_code == 0, result.output
    assert "run_min_responses=6" in result.output and "run_window_minutes=30" in result.output


def test_check_channels_names_an_unreachable_smtp_server(officers, runner):
    from tests.notify.servers import free_port

    officers.config.update(
        SURVEY_SMTP_HOST="127.0.0.1",
        SURVEY_SMTP_PORT=free_port(),
        SURVEY_SMTP_STARTTLS=False,
        SURVEY_MAIL_FROM="a@b.vn",
    )
    result = runner.invoke(args=["survey", "check-channels"])
    assert result.exit_code == 1
    assert "cannot reach the SMTP server 127.0.0.1" in result.output


def test_quiet_hours_hold_an_email_until_they_end(mail_app):
    with mail_app.app_context():
        officer = db.session.scalar(sa.select(Officer).where(Officer.username == "laicach"))
        # Quiet all day but one minute: whenever the test runs, now is inside.
        officer.quiet_start, officer.quiet_end = "00:00", "23:59"
        unit = db.session.scalar(sa.select(Unit).where(Unit.code == "HD-CG-LC"))
        now = utcnow()
        db.session.add(Alert(kind="harassment", unit_id=unit.id, created_at=now, due_at=now))
        db.session.commit()
        expected = quiet_until(now, time(0, 0), time(23, 59))
        assert dispatch_due(now) == 2
        held = db.session.scalar(
            sa.select(OutboxMessage).where(OutboxMessage.recipient == "laicach@camgiang.gov.vn")
        )
        other = db.session.scalar(
            sa.select(OutboxMessage).where(OutboxMessage.recipient == "noivu@camgiang.gov.vn")
        )
        if expected is not None:  # not in the one free minute
            assert held.next_attempt_at == expected
            assert held.next_attempt_at > now
        assert other.next_attempt_at <= now + timedelta(seconds=1)
