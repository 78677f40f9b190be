"""Invitations for citizens who filed online: the token API takes a phone number or an
e-mail address, the worker sends the rating link through a real SMS gateway, Zalo
bridge or SMTP server on loopback (also when they fail), one reminder follows, and
the contact is deleted once no more sends are needed."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from survey.data.models import Invitation
from survey.data.models import OutboxMessage
from survey.data.models import ReceiptToken
from survey.data.models import SurveyResponse
from survey.data.models import utcnow
from survey.domain.channels import Channel
from survey.extensions import db
from survey.invitations import services
from survey.notify import channels
from survey.notify import worker
from tests.notify.servers import Stalling
from tests.notify.servers import free_port

DOSSIER = "000.00.12.H23-261130-0042"
PHONE = "0912 345 678"
PHONE_E164 = "+84912345678"


def request_token(client, key, **body):
    payload = {"desk_code": "LC-01", "dossier_number": DOSSIER, **body}
    return client.post("/api/v1/tokens", json=payload, headers={"Authorization": f"Bearer {key}"})


def stored(app):
    """Every token, invitation and outbox row, detached."""
    with app.app_context():
        out = {
            "tokens": list(db.session.scalars(sa.select(ReceiptToken))),
            "invitations": list(db.session.scalars(sa.select(Invitation).order_by(Invitation.id))),
            "outbox": list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id))),
        }
        db.session.expunge_all()
        return out


def tick(app, now=None):
    with app.app_context():
        if now is None:
            return worker.tick()
        # The worker's tick, at another time.
        report = worker.Report()
        passed = services.run_due(now)
        report.queued, report.forgotten = passed.reminders, passed.forgotten
        report += worker.send_due(now=now)
        return report


# -- the API ----------------------------------------------------------------


def test_a_phone_number_is_sent_the_rating_link_by_sms(invite_app, client, api_key, gateway):
    reply = request_token(client, api_key, phone=PHONE)
    assert reply.status_code == 201, reply.get_json()
    body = reply.get_json()
    assert body["invitation"]["send_via"] == "sms"
    assert body["invitation"]["status"] == "queued"
    assert body["invitation"]["reminder_at"] is not None
    rows = stored(invite_app)
    (invitation,) = rows["invitations"]
    assert invitation.contact == PHONE_E164 and len(invitation.contact_hash) == 64
    assert PHONE_E164 not in invitation.contact_hash
    (message,) = rows["outbox"]
    assert message.channel == "sms" and message.recipient == PHONE_E164
    assert PHONE_E164 not in str(message.payload)

    report = tick(invite_app)
    assert report.sent == 1 and report.failed == 0
    (sms,) = gateway.requests
    assert sms["headers"]["Authorization"] == "Bearer gw-secret-token"
    assert sms["headers"]["Idempotency-Key"] == message.key
    assert sms["json"]["to"] == PHONE_E164
    assert sms["json"]["sender"] == "UBND-CAMGIANG"
    assert sms["json"]["id"] == message.key
    text = sms["json"]["text"]
    assert body["url"] in text and "Thi tran Lai Cach" in text
    assert text.isascii()  # brand-name SMS: unaccented
    # A reminder is still to come: the number is kept until then.
    assert stored(invite_app)["invitations"][0].contact == PHONE_E164


def test_the_same_contact_twice_is_invited_once(invite_app, client, api_key, gateway):
    assert request_token(client, api_key, phone=PHONE).status_code == 201
    again = request_token(client, api_key, phone="+84 912-345-678")
    assert again.status_code == 200
    assert again.get_json()["invitation"]["status"] == "already_invited"
    assert len(stored(invite_app)["outbox"]) == 1
    tick(invite_app)
    tick(invite_app)
    assert len(gateway.requests) == 1
    # Another contact for the same dossier is a second invitation, up to a limit.
    for n in range(services.MAX_PER_DOSSIER - 1):
        assert request_token(client, api_key, phone=f"098765432{n}").status_code == 200
    refused = request_token(client, api_key, email="lan@example.vn")
    assert refused.status_code == 409
    assert refused.get_json()["error"] == "too_many_invitations"
    assert len(stored(invite_app)["invitations"]) == services.MAX_PER_DOSSIER


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"phone": "0241 234 5678"}, "phone", "số máy bàn"),
        ({"phone": "091234567"}, "phone", "Không phải số điện thoại di động"),
        ({"phone": "+1 202 555 0100"}, "phone", "Không phải số điện thoại di động"),
        ({"phone": "0912abc678"}, "phone", "Không phải số điện thoại di động"),
        ({"phone": 912345678}, "phone", "Không phải số điện thoại di động"),
        ({"email": "lan at example.vn"}, "email", "Địa chỉ thư điện tử không hợp lệ"),
        ({"email": "lan@example"}, "email", "Địa chỉ thư điện tử không hợp lệ"),
        ({"phone": PHONE, "email": "lan@example.vn"}, "email", "không nhập cả hai"),
        ({"phone": PHONE, "send_via": "fax"}, "send_via", "SMS hoặc Zalo"),
        ({"send_via": "sms"}, "send_via", "Nhập số điện thoại hoặc địa chỉ thư điện tử"),
    ],
)
def test_a_bad_contact_is_refused_and_nothing_is_stored(
    invite_app, client, api_key, body, field, words
):
    reply = request_token(client, api_key, **body)
    assert reply.status_code == 422
    answer = reply.get_json()
    assert answer["error"] == "invalid_fields"
    assert field in answer["fields"]
    assert words in answer["messages"][field]
    rows = stored(invite_app)
    assert rows == {"tokens": [], "invitations": [], "outbox": []}


def test_the_error_is_in_english_when_asked(invite_app, client, api_key):
    reply = client.post(
        "/api/v1/tokens?lang=en",
        json={"desk_code": "LC-01", "dossier_number": DOSSIER, "phone": "12345"},
        headers={"Authorization": f"Bearer {api_key}"},
    )
    assert reply.status_code == 422
    assert "Not a Vietnamese mobile number" in reply.get_json()["messages"]["phone"]


def test_a_channel_not_set_up_is_refused(invite_app, client, api_key):
    invite_app.config["SURVEY_ZALO_WEBHOOK_URL"] = ""
    reply = request_token(client, api_key, phone=PHONE, send_via="zalo")
    assert reply.status_code == 422
    assert "Zalo" in reply.get_json()["messages"]["send_via"]
    assert stored(invite_app)["tokens"] == []


def test_a_rated_dossier_is_not_invited(invite_app, client, api_key, form_post):
    code = request_token(client, api_key).get_json()["token"]
    page = client.get(f"/s/LC-01?t={code}")
    assert page.status_code == 200
    data = form_post()
    data["receipt"] = code
    assert client.post("/s/LC-01", data=data).status_code == 303
    reply = request_token(client, api_key, phone=PHONE)
    assert reply.status_code == 409 and reply.get_json()["error"] == "already_rated"
    assert stored(invite_app)["invitations"] == []
    # A token without an invitation is the receipt slip's.
    with invite_app.app_context():
        assert db.session.scalar(sa.select(SurveyResponse.channel)) == "receipt"


# -- a gateway that fails ---------------------------------------------------


def test_a_failing_gateway_is_retried_with_backoff_and_sends_once(
    invite_app, client, api_key, gateway
):
    assert request_token(client, api_key, phone=PHONE).status_code == 201
    gateway.status = 503
    first = tick(invite_app)
    assert first.sent == 0 and first.failed == 1
    (message,) = stored(invite_app)["outbox"]
    assert message.status == "pending" and message.attempts == 1
    assert "503" in message.last_error
    waited = message.next_attempt_at - utcnow()
    assert timedelta(seconds=20) < waited <= timedelta(seconds=30)
    # Not retried before its time.
    assert tick(invite_app).sent == 0 and len(gateway.requests) == 1
    gateway.status = 502
    later = utcnow() + timedelta(seconds=31)
    assert tick(invite_app, later).failed == 1
    (message,) = stored(invite_app)["outbox"]
    assert message.attempts == 2
    # The wait doubled (counted from the failed attempt's real time).
    assert timedelta(seconds=50) < message.next_attempt_at - utcnow() <= timedelta(seconds=60)
    gateway.status = 200
    assert tick(invite_app, utcnow() + timedelta(seconds=61)).sent == 1
    # Sent: never again, however often the worker passes.
    for hours in (1, 2, 24):
        tick(invite_app, later + timedelta(hours=hours))
    keys = [r["headers"]["Idempotency-Key"] for r in gateway.requests]
    assert keys == [message.key] * 3
    assert [r["json"]["to"] for r in gateway.requests] == [PHONE_E164] * 3
    (message,) = stored(invite_app)["outbox"]
    assert message.status == "sent"


def test_a_gateway_that_times_out_or_refuses_loses_nothing(invite_app, client, api_key, gateway):
    assert request_token(client, api_key, phone=PHONE).status_code == 201
    stalling = Stalling()
    try:
        invite_app.config.update(
            SURVEY_SMS_GATEWAY_URL=f"http://127.0.0.1:{stalling.port}/sms", SURVEY_SMS_TIMEOUT=0.5
        )
        report = tick(invite_app)
        assert report.failed == 1 and report.sent == 0
        assert "unreachable" in stored(invite_app)["outbox"][0].last_error
    finally:
        stalling.close()
    # Nothing listens on the port: the connection is refused.
    invite_app.config["SURVEY_SMS_GATEWAY_URL"] = f"http://127.0.0.1:{free_port()}/sms"
    report = tick(invite_app, utcnow() + timedelta(minutes=1))
    assert report.failed == 1
    (message,) = stored(invite_app)["outbox"]
    assert message.status == "pending" and message.attempts == 2
    assert stored(invite_app)["invitations"][0].contact == PHONE_E164
    # The gateway is back: the invitation goes out, once.
    invite_app.config["SURVEY_SMS_GATEWAY_URL"] = gateway.url
    assert tick(invite_app, utcnow() + timedelta(minutes=5)).sent == 1
    assert tick(invite_app, utcnow() + timedelta(minutes=10)).sent == 0
    assert len(gateway.requests) == 1


def test_a_number_the_gateway_refuses_is_given_up_and_forgotten_at_expiry(
    invite_app, client, api_key, gateway
):
    assert request_token(client, api_key, phone=PHONE, expires_in_days=5).status_code == 201
    gateway.status = 400
    report = tick(invite_app)
    assert report.failed == 1 and report.dead == 1
    (message,) = stored(invite_app)["outbox"]
    assert message.status == "dead"
    # Kept for the operator's `survey outbox --retry` while the link works …
    assert stored(invite_app)["invitations"][0].contact == PHONE_E164
    # … and deleted when it expires; a retry then has nowhere to send.
    tick(invite_app, utcnow() + timedelta(days=5, minutes=1))
    (invitation,) = stored(invite_app)["invitations"]
    assert invitation.contact is None and invitation.contact_deleted_at is not None
    assert stored(invite_app)["outbox"][0].recipient == ""
    with invite_app.app_context():
        assert worker.retry_dead() == 0


# -- Zalo and e-mail --------------------------------------------------------


def test_zalo_bridge_gets_a_signed_invitation(invite_app, client, api_key, zalo):
    body = request_token(client, api_key, phone=PHONE, send_via="zalo").get_json()
    assert body["invitation"]["send_via"] == "zalo"
    assert tick(invite_app).sent == 1
    (call,) = zalo.requests
    payload = call["json"]
    assert payload["type"] == "invitation.rating"
    assert payload["phone"] == PHONE_E164
    assert payload["link"] == body["url"] and payload["token"] == body["token"]
    assert payload["unit"] == {"code": "HD-CG-LC", "name": "Thị trấn Lai Cách"}
    stamp = call["headers"]["X-Sipas-Timestamp"]
    mac = hmac.new(b"zalo-secret", stamp.encode() + b"." + call["body"], hashlib.sha256)
    assert call["headers"]["X-Sipas-Signature"] == "sha256=" + mac.hexdigest()
    # The stored payload never held the number.
    assert PHONE_E164 not in str(stored(invite_app)["outbox"][0].payload)


def test_an_email_invitation_goes_through_the_smtp_server(invite_app, client, api_key, smtp):
    body = request_token(client, api_key, email=" Lan.Nguyen@Example.VN ").get_json()
    assert body["invitation"]["send_via"] == "email"
    assert tick(invite_app).sent == 1
    (msg,) = smtp.inbox.messages
    assert msg["To"] == "Lan.Nguyen@example.vn"
    assert "Mời Ông/Bà đánh giá" in msg["Subject"]
    text = msg.get_content()
    assert body["url"] in text and body["token"] in text
    (message,) = stored(invite_app)["outbox"]
    assert msg["Message-ID"] == channels.message_id(message.key, "khaosat@camgiang.gov.vn")
    # A failing SMTP server keeps it for later, too.
    assert request_token(client, api_key, dossier_number="X-2", email="b@example.vn")
    smtp.inbox.mode = "busy"
    assert tick(invite_app).failed == 1
    smtp.inbox.mode = "accept"
    assert tick(invite_app, utcnow() + timedelta(minutes=1)).sent == 1
    assert [m["To"] for m in smtp.inbox.messages] == ["Lan.Nguyen@example.vn", "b@example.vn"]


# -- the reminder and the contact's deletion --------------------------------


def test_one_reminder_if_unrated_then_the_number_is_deleted(invite_app, client, api_key, gateway):
    body = request_token(client, api_key, phone=PHONE).get_json()
    tick(invite_app)
    day = timedelta(days=1)
    assert tick(invite_app, utcnow() + 2 * day).queued == 0  # not yet
    report = tick(invite_app, utcnow() + 3 * day + timedelta(minutes=1))
    assert report.queued == 1 and report.sent == 1
    assert len(gateway.requests) == 2
    reminder = gateway.requests[1]["json"]
    assert reminder["text"].startswith("Thi tran Lai Cach: Nhac lai")
    assert body["url"] in reminder["text"]
    # That was the last send: the number is gone from the invitation and the outbox.
    (invitation,) = stored(invite_app)["invitations"]
    assert invitation.contact is None and invitation.reminded_at is not None
    assert all(m.recipient == "" for m in stored(invite_app)["outbox"])
    assert invitation.contact_hash  # kept: the same number is still recognised
    again = request_token(client, api_key, phone=PHONE)
    assert again.get_json()["invitation"]["status"] == "already_invited"
    # Never a second reminder.
    tick(invite_app, utcnow() + 10 * day)
    assert len(gateway.requests) == 2


def test_without_reminders_the_number_goes_right_after_the_send(
    invite_app, client, api_key, gateway
):
    invite_app.config["SURVEY_INVITATION_REMINDER_DAYS"] = 0
    body = request_token(client, api_key, phone=PHONE).get_json()
    assert body["invitation"]["reminder_at"] is None
    report = tick(invite_app)
    assert report.sent == 1
    # Deleted in the commit that recorded the send.
    (invitation,) = stored(invite_app)["invitations"]
    assert invitation.contact is None and invitation.contact_deleted_at is not None
    assert stored(invite_app)["outbox"][0].recipient == ""


def test_a_rated_dossier_gets_no_reminder(invite_app, client, api_key, gateway, form_post):
    code = request_token(client, api_key, phone=PHONE).get_json()["token"]
    tick(invite_app)
    data = form_post()
    assert client.get(f"/s/LC-01?t={code}").status_code == 200
    data["receipt"] = code
    assert client.post("/s/LC-01", data=data).status_code == 303
    with invite_app.app_context():
        response = db.session.scalar(sa.select(SurveyResponse))
        assert response.channel == Channel.INVITATION == "invitation"
        assert response.receipt_token_id is not None and response.contact is None
    # Rated: the number went in the rating's own transaction.
    (invitation,) = stored(invite_app)["invitations"]
    assert invitation.contact is None and invitation.reminder_due_at is None
    assert stored(invite_app)["outbox"][0].recipient == ""
    tick(invite_app, utcnow() + timedelta(days=4))
    assert len(gateway.requests) == 1
    assert stored(invite_app)["invitations"][0].contact is None


def test_an_unsent_invitation_of_a_rated_dossier_is_cancelled(
    invite_app, client, api_key, gateway, form_post
):
    code = request_token(client, api_key, phone=PHONE).get_json()["token"]
    gateway.status = 503
    tick(invite_app)
    data = form_post()
    data["receipt"] = code
    assert client.post("/s/LC-01", data=data).status_code == 303
    gateway.status = 200
    tick(invite_app, utcnow() + timedelta(hours=1))
    assert len(gateway.requests) == 1  # the failed attempt only
    (message,) = stored(invite_app)["outbox"]
    assert message.status == "dead" and "rated" in message.last_error
    assert message.recipient == ""


# -- sent and answered ------------------------------------------------------


def test_sent_and_answered_per_unit_and_period(invite_app, client, api_key, gateway, form_post):
    codes = [
        request_token(client, api_key, dossier_number=f"D-{n}", phone=f"091234567{n}").get_json()[
            "token"
        ]
        for n in range(4)
    ]
    gateway.status = 200
    tick(invite_app)
    # A fifth whose gateway fails: invited, not sent.
    request_token(client, api_key, dossier_number="D-9", phone="0987000000")
    gateway.status = 503
    tick(invite_app)
    for code in codes[:3]:
        data = form_post()
        data["receipt"] = code
        assert client.post("/s/LC-01", data=data).status_code == 303
    from survey.data.queries import find_unit
    from survey.domain.periods import period_containing
    from survey.domain.periods import today_in_vietnam

    with invite_app.app_context():
        commune, district = find_unit("HD-CG-LC"), find_unit("HD-CG")
        period = period_containing(today_in_vietnam(), "month", commune.report_cutoff_day)
        assert services.sent_answered(commune, period) == (4, 3)
        assert services.sent_answered(district, period) == (4, 3)
        assert services.sent_answered(find_unit("HD-CG-CA"), period) == (0, 0)
        before = period.previous()
        assert services.sent_answered(commune, before) == (0, 0)
        c = services.counts(commune, period)
        assert (c.invited, c.waiting, c.failed) == (5, 1, 0)
        period_code = period.code

    from tests.conftest import sign_in

    sign_in(client, "camgiang")
    page = client.get(f"/units/HD-CG/invitations?period={period_code}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Lời mời đánh giá" in html
    assert 'id="unit-HD-CG-LC"' in html and 'id="unit-HD-CG-CA"' in html
    assert '<strong id="sent">4</strong>' in html and '<strong id="answered">3</strong>' in html
    assert 'id="rate">75,0%' in html
    # The response-rate page counts them with the invitations, not as receipt links.
    reach = client.get(f"/units/HD-CG/reach?period={period_code}").get_data(as_text=True)
    row = re.search(r'<tr id="sent-HD-CG-LC-invitation">(.*?)</tr>', reach).group(1)
    assert re.findall(r'<td class="num">([^<]*)</td>', row)[:2] == ["4", "3"]
    assert 'id="sent-HD-CG-LC-receipt"' not in reach
    # A commune officer sees their commune only.
    other = invite_app.test_client()
    sign_in(other, "binhgiang")
    assert other.get("/units/HD-CG-LC/invitations").status_code == 404
    laicach = invite_app.test_client()
    sign_in(laicach, "laicach")
    own = laicach.get("/units/HD-CG-LC/invitations")
    assert own.status_code == 200 and '<strong id="sent">4</strong>' in own.get_data(as_text=True)


def test_the_daily_purge_deletes_an_expired_invitations_contact(invite_app, client, api_key):
    # No worker ran: the message never went out, and the link has expired.
    assert request_token(client, api_key, phone=PHONE, expires_in_days=1).status_code == 201
    with invite_app.app_context():
        past = utcnow() - timedelta(minutes=1)
        db.session.scalar(sa.select(ReceiptToken)).expires_at = past
        db.session.scalar(sa.select(Invitation)).expires_at = past
        db.session.commit()
    result = invite_app.test_cli_runner().invoke(args=["survey", "purge"])
    assert result.exit_code == 0, result.output
    assert "Deleted the contacts of 1 invitations" in result.output
    (invitation,) = stored(invite_app)["invitations"]
    assert invitation.contact is None
    (message,) = stored(invite_app)["outbox"]
    assert message.status == "dead" and message.recipient == "" and "expired" in message.last_error


def test_a_first_message_held_up_for_days_is_not_followed_at_once_by_the_reminder(
    invite_app, client, api_key
):
    assert request_token(client, api_key, phone=PHONE).status_code == 201
    (invitation,) = stored(invite_app)["invitations"]
    late = invitation.created_at + timedelta(days=4)  # the gateway was down until then
    with invite_app.app_context():
        services.note_sent(invitation.id, "invitation", late)
        db.session.commit()
        row = db.session.get(Invitation, invitation.id)
        assert row.reminder_due_at == late + timedelta(days=3)
        assert row.contact == PHONE_E164
        # Too late for a reminder before the link expires: the first send was the last.
        services.note_sent(invitation.id, "invitation", row.expires_at - timedelta(days=1))
        db.session.commit()
        row = db.session.get(Invitation, invitation.id)
        assert row.contact is None and row.reminder_due_at is None


@pytest.mark.slow
def test_a_request_sent_twice_at_once_invites_once(invite_app, api_key, gateway, live_server):
    """The one-stop software retrying over two connections: one SMS, however they race."""
    import threading

    import requests

    attempts = 6  # races are timing-dependent: try several times
    for attempt in range(attempts):
        barrier = threading.Barrier(2)
        answers = [None, None]

        def post(i, barrier=barrier, answers=answers, attempt=attempt):
            barrier.wait()
            answers[i] = requests.post(
                f"{live_server.url}/api/v1/tokens",
                json={
                    "desk_code": "LC-01",
                    "dossier_number": f"RACE-{attempt}",
                    "phone": "0912 345 678" if i else "+84912345678",
                },
                headers={"Authorization": f"Bearer {api_key}"},
                timeout=30,
            )

        threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(a.status_code for a in answers) == [200, 201]
        statuses = sorted(a.json()["invitation"]["status"] for a in answers)
        assert statuses == ["already_invited", "queued"]
        assert answers[0].json()["token"] == answers[1].json()["token"]
    rows = stored(invite_app)
    assert len(rows["invitations"]) == attempts and len(rows["outbox"]) == attempts
    assert tick(invite_app).sent == attempts
    assert len(gateway.requests) == attempts
    assert len({r["headers"]["Idempotency-Key"] for r in gateway.requests}) == attempts


def test_the_command_line_counts_and_checks_the_channels(
    invite_app, client, api_key, gateway, zalo
):
    for n in range(2):
        request_token(client, api_key, dossier_number=f"C-{n}", phone=f"091234567{n}")
    tick(invite_app)
    runner = invite_app.test_cli_runner()
    result = runner.invoke(args=["survey", "invitations", "HD-CG"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1] == "unit\tinvited\tsent\tanswered\twaiting\tnot_delivered"
    assert "HD-CG-LC\t2\t2\t0\t0\t0" in lines
    assert lines[-1] == "total\t2\t2\t0\t0\t0"
    bad = runner.invoke(args=["survey", "invitations", "HD-CG", "--period", "2026-13"])
    assert bad.exit_code != 0
    checked = runner.invoke(args=["survey", "check-channels"])
    assert checked.exit_code == 0, checked.output
    assert "SMS gateway: 127.0.0.1:" in checked.output and "Zalo bridge: OK." in checked.output
    assert zalo.requests[-1]["json"] == {"id": "ping", "type": "ping"}
    assert len(gateway.requests) == 2  # the check sent no SMS
    invite_app.config["SURVEY_SMS_GATEWAY_URL"] = "http://127.0.0.1:9/sms"
    assert runner.invoke(args=["survey", "check-channels"]).exit_code == 1
