"""From alerts to outbox messages, and the negative runs the worker finds.

Both steps are use cases of the worker: each commits what it decided in one
transaction (alerts marked dispatched together with the messages that carry
them), so a crash between them loses nothing and sends nothing twice.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from survey.data.models import Alert
from survey.data.models import AlertRule
from survey.data.models import Answer
from survey.data.models import Desk
from survey.data.models import Officer
from survey.data.models import OutboxMessage
from survey.data.models import Role
from survey.data.models import ScanMark
from survey.data.models import SurveyResponse
from survey.data.models import Unit
from survey.data.queries import current_questionnaire
from survey.data.queries import definition_of
from survey.domain.alerts import NEGATIVE
from survey.domain.alerts import RATED
from survey.domain.alerts import AlertKind
from survey.domain.alerts import is_negative_run
from survey.domain.alerts import next_digest_time
from survey.domain.alerts import parse_clock
from survey.domain.alerts import quiet_until
from survey.domain.alerts import vietnam_holidays
from survey.extensions import db
from survey.notify import messages
from survey.notify.rules import rules_for

#: The first pass after a start reads at most this many recent responses.
FIRST_SCAN = 5000
MARK_RETENTION = timedelta(days=2)

_WANTS = {
    AlertKind.HARASSMENT: Officer.wants_alerts,
    AlertKind.NEGATIVE_RUN: Officer.wants_alerts,
    AlertKind.COMMENT: Officer.wants_comments,
}


def base_url() -> str:
    return current_app.config["SURVEY_PUBLIC_BASE_URL"] or "http://127.0.0.1:8000"


def _link(kind: str, unit_code: str) -> str:
    page = "" if kind == AlertKind.NEGATIVE_RUN else "/feedback"
    return f"{base_url()}/units/{unit_code}{page}"


def _recipients(kind: str, unit: Unit) -> list[Officer]:
    """Officers of the unit who want this kind; for harassment also those above it."""
    units = [unit.id] + ([u.id for u in unit.ancestors()] if kind == AlertKind.HARASSMENT else [])
    return list(
        db.session.scalars(
            sa.select(Officer)
            .where(
                Officer.unit_id.in_(units),
                Officer.active.is_(True),
                Officer.email.is_not(None),
                _WANTS[kind].is_(True),
                # Interviewers read no unit's data, so no alert or report either.
                Officer.role != Role.INTERVIEWER,
            )
            .order_by(Officer.id)
        )
    )


def _send_time(kind: str, unit_id: int, alerts: list, rules, now: datetime) -> datetime:
    if kind == AlertKind.COMMENT:
        return next_digest_time(
            min(a.created_at for a in alerts), rules.comment_hour, vietnam_holidays()
        )
    last = db.session.scalar(
        sa.select(sa.func.max(Alert.dispatched_at)).where(
            Alert.unit_id == unit_id, Alert.kind == kind, Alert.dispatched_at.is_not(None)
        )
    )
    if last is None:
        return now
    # A message went out lately: what came since waits for the group's time, together.
    return last + timedelta(minutes=rules.group_minutes)


def dispatch_due(now: datetime) -> int:
    """Turn due alerts into messages, one per recipient per (unit, kind); return how many
    messages were queued. Alerts a unit's rules switch off are marked and dropped."""
    pending = db.session.execute(
        sa.select(
            Alert.id, Alert.kind, Alert.unit_id, Alert.desk_id, Alert.created_at, Alert.detail
        )
        .where(Alert.dispatched_at.is_(None))
        .order_by(Alert.id)
    ).all()
    db.session.rollback()  # read-only so far: no lock held while grouping
    groups: dict[tuple[int, str], list] = defaultdict(list)
    for alert in pending:
        groups[(alert.unit_id, alert.kind)].append(alert)
    queued = 0
    for (unit_id, kind), alerts in groups.items():
        queued += _dispatch_group(unit_id, kind, alerts, now)
    return queued


def _dispatch_group(unit_id: int, kind: str, alerts: list, now: datetime) -> int:
    unit = db.session.get(Unit, unit_id)
    rules = rules_for(unit)
    enabled = {
        AlertKind.HARASSMENT: rules.harassment,
        AlertKind.COMMENT: rules.comments,
        AlertKind.NEGATIVE_RUN: True,
    }[kind]
    if enabled and _send_time(kind, unit_id, alerts, rules, now) > now:
        db.session.rollback()
        return 0
    ids = [a.id for a in alerts]
    desks = {
        d.id: d.code
        for d in db.session.scalars(
            sa.select(Desk).where(Desk.id.in_({a.desk_id for a in alerts if a.desk_id}))
        )
    }
    group = messages.AlertGroup(
        kind=kind,
        unit_code=unit.code,
        unit_name=unit.name,
        items=[messages.AlertItem(desks.get(a.desk_id), a.created_at, a.detail) for a in alerts],
        link=_link(kind, unit.code),
    )
    queued = []
    if enabled:
        # The key names the alerts it carries: a second worker grouping the same
        # alerts would write the same keys, and the unique index refuses them.
        stem = f"alert-{kind}-{unit.code}-{ids[0]}-{ids[-1]}"
        profile = f"{base_url()}/officer/profile"
        for officer in _recipients(kind, unit):
            quiet = quiet_until(
                now, parse_clock(officer.quiet_start), parse_clock(officer.quiet_end)
            )
            key = f"{stem}-o{officer.id}"
            queued.append(
                OutboxMessage(
                    key=key,
                    channel="email",
                    recipient=officer.email,
                    kind=kind,
                    unit_id=unit.id,
                    subject=messages.subject(group),
                    body=messages.body(group, officer.full_name, profile),
                    payload={},
                    next_attempt_at=quiet or now,
                )
            )
        if current_app.config["SURVEY_WEBHOOK_URL"]:
            key = f"{stem}-webhook"
            queued.append(
                OutboxMessage(
                    key=key,
                    channel="webhook",
                    recipient=current_app.config["SURVEY_WEBHOOK_URL"],
                    kind=kind,
                    unit_id=unit.id,
                    subject=messages.subject(group),
                    body="",
                    payload=messages.payload(group, key),
                    next_attempt_at=now,
                )
            )
    db.session.add_all(queued)
    marked = db.session.execute(
        sa.update(Alert)
        .where(Alert.id.in_(ids), Alert.dispatched_at.is_(None))
        .values(dispatched_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if marked != len(ids):  # another worker dispatched some of them meanwhile
        db.session.rollback()
        return 0
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        return 0
    return len(queued)


def detect_runs(now: datetime) -> int:
    """Raise a negative-run alert for each desk whose recent responses meet its unit's
    rule and that has none raised within the window; return how many were raised.

    Reads only the responses after a scan mark at least one window old (a
    primary-key range), so its cost follows the last minutes' traffic, not the
    size of the table.
    """
    overall = definition_of(current_questionnaire()).by_role("overall")
    if overall is None:
        return 0
    widest = db.session.scalar(sa.select(sa.func.max(AlertRule.run_window_minutes))) or 15
    widest = max(widest, 15)
    floor = db.session.scalar(
        sa.select(sa.func.max(ScanMark.last_response_id)).where(
            ScanMark.kind == "runs", ScanMark.at <= now - timedelta(minutes=widest)
        )
    )
    top = db.session.scalar(sa.select(sa.func.max(SurveyResponse.id))) or 0
    if floor is None:
        floor = max(0, top - FIRST_SCAN)
    r, a = SurveyResponse.__table__, Answer.__table__
    rows = db.session.execute(
        sa.select(r.c.id, r.c.desk_id, r.c.unit_id, r.c.submitted_at, a.c.value)
        .join(a, sa.and_(a.c.response_id == r.c.id, a.c.question_id == overall.id))
        .where(r.c.id > floor, r.c.id <= top, r.c.flagged.is_(False))
        .order_by(r.c.id)
    ).all()
    by_desk: dict[int, list] = defaultdict(list)
    for row in rows:
        if row.value in RATED:
            by_desk[row.desk_id].append(row)
    raised = 0
    rules_of: dict[int, object] = {}
    for desk_id, desk_rows in by_desk.items():
        unit_id = desk_rows[0].unit_id
        if unit_id not in rules_of:
            rules_of[unit_id] = rules_for(db.session.get(Unit, unit_id))
        rules = rules_of[unit_id]
        since = now - timedelta(minutes=rules.run_window_minutes)
        window = [x for x in desk_rows if since <= x.submitted_at <= now]
        negative = sum(1 for x in window if x.value in NEGATIVE)
        if not is_negative_run(len(window), negative, rules):
            continue
        already = db.session.scalar(
            sa.select(sa.func.count(Alert.id)).where(
                Alert.unit_id == unit_id,
                Alert.kind == AlertKind.NEGATIVE_RUN,
                Alert.desk_id == desk_id,
                Alert.created_at > since,
            )
        )
        if already:
            continue
        db.session.add(
            Alert(
                kind=AlertKind.NEGATIVE_RUN,
                unit_id=unit_id,
                desk_id=desk_id,
                # Two workers that see the same window write the same key: one wins.
                dedupe_key=f"run-{desk_id}-{window[0].id}",
                detail=f"{negative}/{len(window)}/{rules.run_window_minutes}",
                created_at=now,
                due_at=now,
            )
        )
        try:
            db.session.commit()
            raised += 1
        except sa.exc.IntegrityError:
            db.session.rollback()
    db.session.add(ScanMark(kind="runs", at=now, last_response_id=top))
    db.session.execute(
        sa.delete(ScanMark).where(ScanMark.kind == "runs", ScanMark.at < now - MARK_RETENTION)
    )
    db.session.commit()
    return raised
