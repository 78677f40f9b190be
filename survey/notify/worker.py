"""The worker: find runs, turn due alerts into messages, send due messages.

Claiming is one UPDATE … RETURNING that sets a lease (``FOR UPDATE SKIP LOCKED``
on PostgreSQL, so two workers never take the same row; SQLite runs one writer
at a time, so the statement is atomic there). Each message is confirmed in its
own commit as soon as the server accepted it: a worker killed mid-batch leaves
at most the one message in flight unconfirmed, which is sent again with the
same key once its lease runs out.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from survey.data.models import OutboxMessage
from survey.data.models import OutboxStatus
from survey.data.models import utcnow
from survey.domain.alerts import backoff
from survey.extensions import db
from survey.invitations import services as invitations
from survey.notify import channels
from survey.notify.cases import escalate_cases
from survey.notify.cases import open_cases
from survey.notify.dispatch import detect_runs
from survey.notify.dispatch import dispatch_due
from survey.notify.reports import schedule_reports

log = logging.getLogger("survey.worker")
_T = OutboxMessage.__table__


@dataclass
class Report:
    raised: int = 0
    queued: int = 0
    sent: int = 0
    failed: int = 0
    dead: int = 0
    # Invitations whose clear contact was deleted (no more sends needed).
    forgotten: int = 0
    errors: list[str] = field(default_factory=list)

    def __iadd__(self, other: Report) -> Report:
        for name in ("raised", "queued", "sent", "failed", "dead", "forgotten"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors += other.errors
        return self


_RELAXED = "survey.notify.relaxed_sync"


def relax_sqlite_sync() -> None:
    """On SQLite, the worker's own commits skip the fsync (``synchronous=NORMAL``).

    In WAL mode such a commit survives the process being killed (what the
    worker must survive); only a power cut can undo the last ones. Undone
    worker writes are claims, confirmations and dispatches, and undoing any of
    them can only make a message go out again with the same key, never lose
    one: the messages' causes (responses, alerts) are committed by the web
    with a full fsync. Without the fsync a confirmation costs a fraction of a
    millisecond, and holds SQLite's single write lock that much less against
    the form posts.
    """
    engine = db.engine
    if engine.dialect.name != "sqlite" or engine.__dict__.get(_RELAXED):
        return

    @sa.event.listens_for(engine, "checkout")
    def _normal(dbapi_connection, connection_record, connection_proxy) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    engine.__dict__[_RELAXED] = True


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def claim(limit: int, lease_seconds: float, me: str, now: datetime | None = None) -> list:
    """Take up to ``limit`` due messages for ``lease_seconds``, committed before sending."""
    now = now or utcnow()
    due = (
        sa.select(_T.c.id)
        .where(
            _T.c.status == OutboxStatus.PENDING.value,
            _T.c.next_attempt_at <= now,
            sa.or_(_T.c.lease_until.is_(None), _T.c.lease_until < now),
        )
        .order_by(_T.c.next_attempt_at, _T.c.id)
        .limit(limit)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    rows = db.session.execute(
        sa.update(_T)
        .where(_T.c.id.in_(due.scalar_subquery()))
        .values(
            lease_until=now + timedelta(seconds=lease_seconds),
            claimed_by=me,
            attempts=_T.c.attempts + 1,
        )
        .returning(
            _T.c.id,
            _T.c.key,
            _T.c.channel,
            _T.c.recipient,
            _T.c.subject,
            _T.c.body,
            _T.c.payload,
            _T.c.attempts,
            _T.c.kind,
            _T.c.invitation_id,
        )
    ).all()
    db.session.commit()
    return sorted(rows, key=lambda r: r.id)


def _confirm(row, me: str) -> None:
    now = utcnow()
    confirmed = db.session.execute(
        sa.update(_T)
        .where(_T.c.id == row.id, _T.c.status == OutboxStatus.PENDING.value)
        .values(
            status=OutboxStatus.SENT.value,
            sent_at=now,
            lease_until=None,
            last_error=None,
        )
    ).rowcount
    if confirmed and row.invitation_id is not None:
        # The citizen's contact goes in the same commit as its last send.
        invitations.note_sent(row.invitation_id, row.kind, now)
    db.session.commit()


def _fail(row, error: channels.SendError) -> bool:
    """Record a failed attempt; return True when the message is given up (dead)."""
    config = current_app.config
    dead = error.final or row.attempts >= config["SURVEY_OUTBOX_MAX_ATTEMPTS"]
    wait = backoff(
        row.attempts, config["SURVEY_OUTBOX_BACKOFF"], config["SURVEY_OUTBOX_BACKOFF_MAX"]
    )
    db.session.execute(
        sa.update(_T)
        .where(_T.c.id == row.id, _T.c.status == OutboxStatus.PENDING.value)
        .values(
            status=OutboxStatus.DEAD.value if dead else OutboxStatus.PENDING.value,
            next_attempt_at=utcnow() + wait,
            lease_until=None,
            last_error=str(error)[:2000],
        )
    )
    db.session.commit()
    return dead


def _send_to_citizen(row, config) -> None:
    """An invitation by SMS (the gateway) or Zalo (the bridge's webhook).

    The phone number is the row's recipient, added to the request only now:
    the stored payload never holds it, so blanking the recipient after the last
    send leaves no copy of the contact behind.
    """
    if row.channel == "sms":
        channels.post_sms(
            config["SURVEY_SMS_GATEWAY_URL"],
            config["SURVEY_SMS_GATEWAY_TOKEN"],
            row.key,
            row.recipient,
            row.body,
            config["SURVEY_SMS_SENDER"],
            config["SURVEY_SMS_TIMEOUT"],
        )
        return
    url = config["SURVEY_ZALO_WEBHOOK_URL"]
    if not url:
        raise channels.SendError("SURVEY_ZALO_WEBHOOK_URL is not set", server_down=True)
    channels.post_webhook(
        url,
        config["SURVEY_ZALO_WEBHOOK_SECRET"] or config["SURVEY_WEBHOOK_SECRET"],
        row.key,
        {**row.payload, "phone": row.recipient},
        config["SURVEY_WEBHOOK_TIMEOUT"],
    )


def send_claimed(rows: list, me: str, stop: threading.Event | None = None) -> Report:
    config = current_app.config
    report = Report()
    mailer = channels.Mailer(channels.SmtpSettings.from_config(config))
    down: dict[str, channels.SendError] = {}
    try:
        for row in rows:
            if stop is not None and stop.is_set():
                break  # the rest keep their lease and are sent after it runs out
            try:
                if row.channel in down:
                    # The server was down a moment ago: back off with the rest of
                    # the batch rather than wait for each message's time-out.
                    raise down[row.channel]
                if row.channel == "email":
                    mailer.send(row.key, row.recipient, row.subject, row.body)
                elif row.channel in ("sms", "zalo"):
                    _send_to_citizen(row, config)
                else:
                    channels.post_webhook(
                        row.recipient,
                        config["SURVEY_WEBHOOK_SECRET"],
                        row.key,
                        row.payload,
                        config["SURVEY_WEBHOOK_TIMEOUT"],
                    )
            except channels.SendError as exc:
                if exc.server_down:
                    down[row.channel] = exc
                report.failed += 1
                report.errors.append(f"{row.key}: {exc}")
                log.warning("not sent %s (attempt %d): %s", row.key, row.attempts, exc)
                if _fail(row, exc):
                    report.dead += 1
                continue
            _confirm(row, me)
            report.sent += 1
    finally:
        mailer.close()
    return report


def send_due(stop: threading.Event | None = None, now: datetime | None = None) -> Report:
    """Send every message due now, batch after batch, until none is left."""
    config = current_app.config
    me = worker_id()
    report = Report()
    while stop is None or not stop.is_set():
        rows = claim(config["SURVEY_WORKER_BATCH"], config["SURVEY_OUTBOX_LEASE"], me, now)
        if not rows:
            break
        report += send_claimed(rows, me, stop)
        if report.failed and report.sent == 0:
            break  # everything failing (a server down): wait for the back-off
    return report


def tick(stop: threading.Event | None = None) -> Report:
    """One pass of the worker: negative runs and new cases, due alerts to messages,
    monthly reports due, overdue cases escalated, invitations' reminders due (and
    the contacts of expired ones deleted), due messages out."""
    now = utcnow()
    report = Report()
    report.raised = detect_runs(now)
    report.raised += open_cases(now)
    report.queued = dispatch_due(now) + schedule_reports(now) + escalate_cases(now)
    # Invitations: expired links' contacts deleted (their unsent messages given
    # up) and reminders due queued, before the sends.
    passed = invitations.run_due(now)
    report.queued += passed.reminders
    report.forgotten += passed.forgotten
    report += send_due(stop)
    return report


def run(interval: float, stop: threading.Event) -> None:
    """Tick every ``interval`` seconds until ``stop`` is set (SIGTERM, SIGINT)."""
    relax_sqlite_sync()
    log.info("worker %s started, every %.1f s", worker_id(), interval)
    while not stop.is_set():
        try:
            report = tick(stop)
            if report.raised or report.queued or report.sent or report.failed:
                log.info(
                    "runs %d, queued %d, sent %d, failed %d (given up %d)",
                    report.raised,
                    report.queued,
                    report.sent,
                    report.failed,
                    report.dead,
                )
        except sa.exc.OperationalError as exc:
            # The database restarting or locked for long: try again next tick.
            db.session.rollback()
            log.warning("database unavailable: %s", exc)
        stop.wait(interval)
    log.info("worker %s stopped", worker_id())


def outbox_counts() -> dict[str, int]:
    rows = db.session.execute(sa.select(_T.c.status, sa.func.count()).group_by(_T.c.status)).all()
    return {status: count for status, count in rows}


def retry_dead() -> int:
    """Put given-up messages back in the queue (after fixing an address or a server)."""
    count = db.session.execute(
        sa.update(_T)
        # An invitation's message whose contact was deleted has nowhere to go.
        .where(_T.c.status == OutboxStatus.DEAD.value, _T.c.recipient != "")
        .values(status=OutboxStatus.PENDING.value, attempts=0, next_attempt_at=utcnow())
    ).rowcount
    db.session.commit()
    return count
