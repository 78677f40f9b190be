"""The outbox's delivery, end to end: form post → alert → outbox → a real SMTP server
or HTTP receiver on loopback, including servers that refuse, stall or are down."""

from __future__ import annotations

import hashlib
import hmac
import threading
from datetime import timedelta

import sqlalchemy as sa

from survey.data.models import Alert
from survey.data.models import OutboxMessage
from survey.data.models import Unit
from survey.data.models import utcnow
from survey.domain.alerts import next_digest_time
from survey.extensions import db
from survey.notify import channels
from survey.notify import worker
from survey.notify.dispatch import detect_runs
from survey.notify.dispatch import dispatch_due
from survey.notify.rules import set_rules
from tests.conftest import add_responses
from tests.conftest import statements_during
from tests.notify.servers import Stalling

COMMENT = "Cán bộ Nguyễn Văn A đòi thêm tiền mới nhận hồ sơ."
CONTACT = "0912 345 678"


def _outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return rows


def _queue(app, n: int, *, channel: str = "email", recipient: str = "a@camgiang.gov.vn") -> None:
    with app.app_context():
        now = utcnow()
        db.session.add_all(
            OutboxMessage(
                key=f"test-{i}",
                channel=channel,
                recipient=recipient,
                kind="harassment",
                subject=f"Thư {i}",
                body="Nội dung",
                payload={"id": f"test-{i}"},
                next_attempt_at=now,
            )
            for i in range(n)
        )
        db.session.commit()


def test_harassment_report_reaches_officers_without_the_citizens_words(
    mail_app, client, form_post, smtp
):
    data = form_post(q_trouble="yes", q_comment=COMMENT, contact=CONTACT, contact_consent="y")
    assert client.post("/s/LC-01", data=data).status_code == 303
    with mail_app.app_context():
        kinds = sorted(db.session.scalars(sa.select(Alert.kind)))
        assert kinds == ["comment", "harassment"]  # committed with the response
        report = worker.tick()
    assert report.sent == 2 and report.failed == 0
    by_rcpt = {m["To"]: m for m in smtp.inbox.messages}
    # The commune's officer and the district's (harassment goes up the tree).
    assert set(by_rcpt) == {"laicach@camgiang.gov.vn", "noivu@camgiang.gov.vn"}
    msg = by_rcpt["laicach@camgiang.gov.vn"]
    assert "sách nhiễu" in msg["Subject"] and "Thị trấn Lai Cách" in msg["Subject"]
    text = msg.get_content()
    assert "Quầy LC-01" in text
    assert "https://khaosat.example.vn/units/HD-CG-LC/feedback" in text
    assert "đòi thêm tiền" not in text and "0912" not in text and "345 678" not in text
    assert "đòi thêm tiền" not in msg["Subject"]
    sent = {m.recipient: m for m in _outbox(mail_app)}
    assert msg["Message-ID"] == channels.message_id(
        sent["laicach@camgiang.gov.vn"].key, "khaosat@camgiang.gov.vn"
    )
    assert all(m.status == "sent" for m in sent.values())
    # The link asks whoever follows it to sign in.
    follow = client.get("/units/HD-CG-LC/feedback")
    assert follow.status_code == 302 and "/login" in follow.headers["Location"]


def test_an_ordinary_response_writes_no_alert(mail_app, client, form_post):
    assert client.post("/s/LC-01", data=form_post()).status_code == 303
    with mail_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Alert.id))) == 0


def test_consented_comment_waits_for_the_working_days_digest(mail_app, client, form_post, smtp):
    data = form_post(q_comment=COMMENT, contact=CONTACT, contact_consent="y")
    assert client.post("/s/LC-01", data=data).status_code == 303
    with mail_app.app_context():
        created = db.session.scalar(sa.select(Alert.created_at))
        digest = next_digest_time(created, 15)
        assert dispatch_due(digest - timedelta(seconds=1)) == 0
        assert dispatch_due(digest) == 1  # the commune's officer only
        report = worker.send_due(now=digest)
    assert report.sent == 1
    (msg,) = smtp.inbox.messages
    assert msg["To"] == "laicach@camgiang.gov.vn"
    assert "liên hệ lại" in msg["Subject"]
    assert COMMENT not in msg.get_content() and "0912" not in msg.get_content()


def test_a_bad_morning_sends_two_messages_not_forty(mail_app):
    with mail_app.app_context():
        unit = db.session.scalar(sa.select(Unit).where(Unit.code == "HD-CG-LC"))
        t0 = utcnow()

        def alert_at(minutes: int) -> None:
            at = t0 + timedelta(minutes=minutes)
            db.session.add(Alert(kind="harassment", unit_id=unit.id, created_at=at, due_at=at))
            db.session.commit()

        alert_at(0)
        assert dispatch_due(t0) == 2  # commune and district officers
        for minute in range(1, 40):
            alert_at(minute)
            assert dispatch_due(t0 + timedelta(minutes=minute)) == 0
        # The group's hour is up: the 39 that waited go in one message each.
        assert dispatch_due(t0 + timedelta(minutes=60)) == 2
        assert dispatch_due(t0 + timedelta(minutes=61)) == 0
    messages = [m for m in _outbox(mail_app) if m.recipient == "laicach@camgiang.gov.vn"]
    assert len(messages) == 2
    assert "39 phiếu" in messages[1].subject


def test_negative_run_at_one_desk_raises_one_alert(mail_app):
    now = utcnow()
    add_responses(mail_app, "LC-01", now - timedelta(minutes=5), {"1": 1, "2": 1, "4": 2})
    add_responses(mail_app, "LC-02", now - timedelta(minutes=5), {"1": 1, "5": 3})  # 25 %
    add_responses(mail_app, "CH-01", now - timedelta(minutes=5), {"1": 3})  # only 3
    add_responses(mail_app, "TT-01", now - timedelta(minutes=40), {"1": 4})  # too long ago
    with mail_app.app_context():
        assert detect_runs(now) == 1
        assert detect_runs(now + timedelta(seconds=5)) == 0  # the same run, once
        (alert,) = db.session.scalars(sa.select(Alert)).all()
        assert alert.kind == "negative_run" and alert.detail == "2/4/15"
        # A commune may ask for fewer: 3 responses are enough at Cẩm Hưng.
        set_rules(
            db.session.scalar(sa.select(Unit).where(Unit.code == "HD-CG-CH")), run_min_responses=3
        )
        assert detect_runs(now + timedelta(seconds=10)) == 1
        assert dispatch_due(now + timedelta(seconds=10)) == 1  # laicach (run alerts: commune)
        report = worker.send_due(now=now + timedelta(seconds=10))
    assert report.sent == 1


def test_busy_server_is_retried_with_back_off_and_delivers_once(mail_app, smtp):
    _queue(mail_app, 3)
    smtp.inbox.mode = "busy"
    with mail_app.app_context():
        first = worker.send_due()
    assert first.sent == 0 and first.failed == 3
    rows = _outbox(mail_app)
    assert {r.status for r in rows} == {"pending"} and {r.attempts for r in rows} == {1}
    assert all(r.next_attempt_at >= utcnow() + timedelta(seconds=20) for r in rows)
    with mail_app.app_context():
        assert worker.send_due().sent == 0  # not yet due: the back-off holds
    smtp.inbox.mode = "accept"
    with mail_app.app_context():
        later = worker.send_due(now=utcnow() + timedelta(seconds=31))
        assert worker.send_due(now=utcnow() + timedelta(hours=2)).sent == 0
    assert later.sent == 3
    ids = smtp.inbox.message_ids()
    assert len(ids) == len(set(ids)) == 3


def test_server_down_then_back_loses_nothing(mail_app, smtp):
    _queue(mail_app, 5)
    smtp.stop()
    with mail_app.app_context():
        down = worker.send_due()
    assert down.sent == 0 and down.failed == 5
    assert {r.status for r in _outbox(mail_app)} == {"pending"}
    smtp.start()
    with mail_app.app_context():
        back = worker.send_due(now=utcnow() + timedelta(minutes=1))
    assert back.sent == 5
    assert sorted(smtp.inbox.message_ids()) == sorted(
        channels.message_id(f"test-{i}", "khaosat@camgiang.gov.vn") for i in range(5)
    )


def test_a_server_that_never_answers_times_out(mail_app):
    stalling = Stalling()
    try:
        mail_app.config.update(SURVEY_SMTP_PORT=stalling.port, SURVEY_SMTP_TIMEOUT=0.5)
        _queue(mail_app, 2)
        with mail_app.app_context():
            report = worker.send_due()
    finally:
        stalling.close()
    assert report.failed == 2 and report.sent == 0
    rows = _outbox(mail_app)
    assert {r.status for r in rows} == {"pending"}
    assert all("timed out" in (r.last_error or "") for r in rows)


def test_a_refused_address_is_given_up_and_can_be_requeued(mail_app, smtp, runner):
    _queue(mail_app, 1)
    smtp.inbox.mode = "reject_rcpt"
    with mail_app.app_context():
        report = worker.send_due()
    assert report.dead == 1
    assert _outbox(mail_app)[0].status == "dead"
    result = runner.invoke(args=["survey", "outbox"])
    assert "dead\t1" in result.output
    smtp.inbox.mode = "accept"
    result = runner.invoke(args=["survey", "outbox", "--retry"])
    assert "Queued again: 1" in result.output
    with mail_app.app_context():
        assert worker.send_due().sent == 1


def test_a_message_claimed_by_a_killed_worker_is_sent_after_its_lease(mail_app, smtp):
    _queue(mail_app, 4)
    with mail_app.app_context():
        lease = mail_app.config["SURVEY_OUTBOX_LEASE"]
        # A worker claims the batch, delivers the first message and dies before
        # confirming anything.
        taken = worker.claim(10, lease, "dead-worker")
        assert len(taken) == 4
        mailer = channels.Mailer(channels.SmtpSettings.from_config(mail_app.config))
        mailer.send(taken[0].key, taken[0].recipient, taken[0].subject, taken[0].body)
        mailer.close()
        assert worker.send_due().sent == 0  # still leased: nobody overtakes it
        after = worker.send_due(now=utcnow() + timedelta(seconds=lease + 1))
    assert after.sent == 4
    ids = smtp.inbox.message_ids()
    # Five deliveries, four messages: the one resent carries the same Message-ID,
    # so the recipient's mail system recognises the duplicate.
    assert len(ids) == 5 and len(set(ids)) == 4
    assert {r.status for r in _outbox(mail_app)} == {"sent"}


def test_two_workers_never_claim_the_same_message(mail_app):
    _queue(mail_app, 60)
    claimed: list[list[int]] = []
    barrier = threading.Barrier(2)

    def take(name: str) -> None:
        with mail_app.app_context():
            barrier.wait()
            claimed.append([r.id for r in worker.claim(40, 120, name)])
            db.session.remove()

    threads = [threading.Thread(target=take, args=(n,)) for n in ("w1", "w2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    first, second = claimed
    assert not set(first) & set(second)
    assert len(first) + len(second) == 60


def test_webhook_is_signed_and_carries_its_idempotency_key(mail_app, receiver):
    mail_app.config.update(SURVEY_WEBHOOK_URL=receiver.url, SURVEY_WEBHOOK_SECRET="bí-mật")
    with mail_app.app_context():
        unit = db.session.scalar(sa.select(Unit).where(Unit.code == "HD-CG-LC"))
        db.session.add(Alert(kind="harassment", unit_id=unit.id))
        db.session.commit()
        report = worker.tick()
    assert report.sent == 3  # two e-mails and the webhook
    (request,) = receiver.requests
    headers = request["headers"]
    expected = hmac.new(
        "bí-mật".encode(),
        headers["X-Sipas-Timestamp"].encode() + b"." + request["body"],
        hashlib.sha256,
    ).hexdigest()
    assert headers["X-Sipas-Signature"] == "sha256=" + expected
    assert headers["Idempotency-Key"] == request["json"]["id"]
    assert request["json"]["type"] == "alert.harassment"
    assert request["json"]["unit"]["code"] == "HD-CG-LC"


def test_webhook_server_error_is_retried_client_error_given_up(mail_app, receiver):
    _queue(mail_app, 1, channel="webhook", recipient=receiver.url)
    mail_app.config.update(SURVEY_WEBHOOK_SECRET="s")
    receiver.status = 503
    with mail_app.app_context():
        assert worker.send_due().failed == 1
        assert _outbox(mail_app)[0].status == "pending"
        receiver.status = 200
        assert worker.send_due(now=utcnow() + timedelta(minutes=1)).sent == 1
    keys = [r["headers"]["Idempotency-Key"] for r in receiver.requests]
    assert keys == ["test-0", "test-0"]  # the same event twice: the receiver can tell
    _queue(mail_app, 0)
    with mail_app.app_context():
        db.session.add(
            OutboxMessage(
                key="bad",
                channel="webhook",
                recipient=receiver.url,
                kind="harassment",
                subject="x",
                body="",
                payload={"id": "bad"},
            )
        )
        db.session.commit()
        receiver.status = 400
        assert worker.send_due().dead == 1


def test_webhook_that_never_answers_times_out(mail_app):
    stalling = Stalling()
    try:
        url = f"http://127.0.0.1:{stalling.port}/hook"
        mail_app.config.update(SURVEY_WEBHOOK_SECRET="s", SURVEY_WEBHOOK_TIMEOUT=0.5)
        _queue(mail_app, 1, channel="webhook", recipient=url)
        with mail_app.app_context():
            report = worker.send_due()
    finally:
        stalling.close()
    assert report.failed == 1 and _outbox(mail_app)[0].status == "pending"


def _statements_of(app, client, data) -> list[str]:
    def post() -> None:
        assert client.post("/s/LC-01", data=data).status_code == 303

    return [
        s.split(None, 1)[0].upper() + " " + s.split("(")[0][-40:]
        for s in statements_during(app, post)
    ]


def test_the_form_post_pays_one_insert_only_when_an_alert_is_due(mail_app, client, form_post):
    # A first post, so that both measured ones find the desk in the worker's memory.
    _statements_of(mail_app, client, form_post(q_trouble="no"))
    plain = _statements_of(mail_app, client, form_post(q_trouble="no"))
    report = _statements_of(mail_app, client, form_post(q_trouble="yes"))
    assert not any("alert" in s.lower() for s in plain)
    extra = [s for s in report if "alert" in s.lower()]
    assert len(extra) == 1 and extra[0].startswith("INSERT")
    assert len(report) == len(plain) + 1


def test_a_flagged_response_raises_no_alert(mail_app, client, form_post):
    data = form_post(q_trouble="yes", website="http://spam")  # the honeypot: flagged
    assert client.post("/s/LC-01", data=data).status_code == 303
    with mail_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Alert.id))) == 0
