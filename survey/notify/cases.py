"""Cases: each harassment report and each low rating with a comment must be answered
within a number of working days (weekends and the holidays of
``domain/holidays_vn.json`` skipped); when the deadline passes unanswered, the
unit's officers are told, and later the officers of the units above.

A case is answered when its response's feedback is (the inbox's "answered").
The worker opens cases by reading the responses after its scan mark (a
primary-key range), off the form post's hot path.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from survey.data.audit import record
from survey.data.models import Answer
from survey.data.models import Desk
from survey.data.models import FeedbackCase
from survey.data.models import Officer
from survey.data.models import OutboxMessage
from survey.data.models import Role
from survey.data.models import ScanMark
from survey.data.models import SurveyResponse
from survey.data.models import Unit
from survey.data.queries import current_questionnaire
from survey.data.queries import definition_of
from survey.domain.alerts import NEGATIVE
from survey.domain.alerts import add_working_days
from survey.domain.alerts import parse_clock
from survey.domain.alerts import quiet_until
from survey.domain.alerts import vietnam_holidays
from survey.domain.feedback import FeedbackStatus
from survey.extensions import db
from survey.notify.dispatch import FIRST_SCAN
from survey.notify.dispatch import base_url
from survey.notify.messages import PREFIX
from survey.notify.messages import when


def open_cases(now: datetime) -> int:
    """Open a case for each new harassment report or low rating with a comment."""
    definition = definition_of(current_questionnaire())
    overall = definition.by_role("overall")
    trouble = definition.by_role("integrity")
    # The mark of a pass a minute ago, not the last one: a response committed late
    # with a lower id (PostgreSQL hands out ids before commit) is read again.
    floor = db.session.scalar(
        sa.select(sa.func.max(ScanMark.last_response_id)).where(
            ScanMark.kind == "cases", ScanMark.at <= now - timedelta(minutes=1)
        )
    )
    top = db.session.scalar(sa.select(sa.func.max(SurveyResponse.id))) or 0
    if floor is None:
        floor = max(0, top - FIRST_SCAN)
    if top <= floor:
        db.session.rollback()
        return 0
    r, a = SurveyResponse.__table__, Answer.__table__
    ids = [q.id for q in (overall, trouble) if q is not None]
    rows = db.session.execute(
        sa.select(
            r.c.id,
            r.c.unit_id,
            r.c.desk_id,
            r.c.submitted_at,
            r.c.comment,
            a.c.question_id,
            a.c.value,
        )
        .join(a, sa.and_(a.c.response_id == r.c.id, a.c.question_id.in_(ids)))
        .where(r.c.id > floor, r.c.id <= top, r.c.flagged.is_(False))
    ).all()
    found: dict[int, tuple] = {}
    for row in rows:
        harassment = trouble is not None and row.question_id == trouble.id and row.value == "yes"
        low = (
            overall is not None
            and row.question_id == overall.id
            and row.value in NEGATIVE
            and bool(row.comment)
        )
        if harassment or (low and found.get(row.id, (None,))[0] != "harassment"):
            found[row.id] = ("harassment" if harassment else "low_rating", row)
    existing = set(
        db.session.scalars(
            sa.select(FeedbackCase.response_id).where(FeedbackCase.response_id.in_(found))
        )
    )
    holidays = vietnam_holidays()
    config = current_app.config
    opened = 0
    for response_id, (reason, row) in sorted(found.items()):
        if response_id in existing:
            continue
        deadline = add_working_days(row.submitted_at, config["SURVEY_CASE_WORKING_DAYS"], holidays)
        db.session.add(
            FeedbackCase(
                response_id=response_id,
                unit_id=row.unit_id,
                desk_id=row.desk_id,
                reason=reason,
                opened_at=row.submitted_at,
                deadline_at=deadline,
                district_at=add_working_days(
                    deadline, config["SURVEY_CASE_DISTRICT_DAYS"], holidays
                ),
            )
        )
        opened += 1
    db.session.add(ScanMark(kind="cases", at=now, last_response_id=top))
    db.session.execute(
        sa.delete(ScanMark).where(ScanMark.kind == "cases", ScanMark.at < now - timedelta(days=1))
    )
    try:
        db.session.commit()
    except sa.exc.IntegrityError:  # another worker opened them a moment ago
        db.session.rollback()
        return 0
    return opened


def escalate_cases(now: datetime) -> int:
    """Tell the unit (then the units above) about overdue unanswered cases, one message
    per recipient per unit and level; return how many messages were queued."""
    c, r = FeedbackCase, SurveyResponse
    overdue = db.session.execute(
        sa.select(
            c.id,
            c.unit_id,
            c.desk_id,
            c.reason,
            c.opened_at,
            c.deadline_at,
            c.escalation_level,
            c.response_id,
        )
        .join(r, r.id == c.response_id)
        .where(
            r.feedback_status != FeedbackStatus.ANSWERED.value,
            sa.or_(
                sa.and_(c.escalation_level == 0, c.deadline_at <= now),
                sa.and_(c.escalation_level == 1, c.district_at <= now),
            ),
        )
        .order_by(c.id)
    ).all()
    db.session.rollback()
    groups: dict[tuple[int, int], list] = defaultdict(list)
    for row in overdue:
        groups[(row.unit_id, row.escalation_level + 1)].append(row)
    queued = 0
    for (unit_id, level), cases in groups.items():
        queued += _escalate(unit_id, level, cases, now)
    return queued


def _escalate(unit_id: int, level: int, cases: list, now: datetime) -> int:
    unit = db.session.get(Unit, unit_id)
    units = [unit.id] if level == 1 else [u.id for u in unit.ancestors()]
    officers = list(
        db.session.scalars(
            sa.select(Officer).where(
                Officer.unit_id.in_(units),
                Officer.active.is_(True),
                Officer.email.is_not(None),
                Officer.wants_alerts.is_(True),
                # Interviewers read no unit's data, so no alert or report either.
                Officer.role != Role.INTERVIEWER,
            )
        )
    )
    desks = {
        d.id: d.code
        for d in db.session.scalars(
            sa.select(Desk).where(Desk.id.in_({x.desk_id for x in cases if x.desk_id}))
        )
    }
    ids = [x.id for x in cases]
    reasons = {
        "harassment": "phản ánh bị gây phiền hà, sách nhiễu",
        "low_rating": "đánh giá không hài lòng có ý kiến",
    }
    subject = f"{PREFIX} {unit.name}: {len(cases)} phản ánh quá hạn xử lý" + (
        " (báo cáo cấp trên)" if level == 2 else ""
    )
    lines = [
        f"{unit.name} ({unit.code}) có {len(cases)} phản ánh chưa được trả lời đúng hạn:",
        *(
            f"- {reasons[x.reason]}, quầy {desks.get(x.desk_id, '?')}, nhận lúc "
            f"{when(x.opened_at)}, hạn {when(x.deadline_at)}"
            for x in cases
        ),
        "",
        f"Xem và xử lý (cần đăng nhập): {base_url()}/units/{unit.code}/feedback",
        "",
        "Thư này không chứa nội dung ý kiến hay thông tin liên hệ của người dân.",
    ]
    messages = [
        OutboxMessage(
            key=f"case-l{level}-{unit.code}-{ids[0]}-{ids[-1]}-o{o.id}",
            channel="email",
            recipient=o.email,
            kind="case_overdue",
            unit_id=unit.id,
            subject=subject,
            body=f"Kính gửi {o.full_name},\n\n" + "\n".join(lines) + "\n",
            payload={},
            next_attempt_at=quiet_until(now, parse_clock(o.quiet_start), parse_clock(o.quiet_end))
            or now,
        )
        for o in officers
    ]
    db.session.add_all(messages)
    marked = db.session.execute(
        sa.update(FeedbackCase)
        .where(FeedbackCase.id.in_(ids), FeedbackCase.escalation_level == level - 1)
        .values(escalation_level=level, escalated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if marked != len(ids):
        db.session.rollback()
        return 0
    record(
        "case_escalated",
        unit=unit,
        detail=f"level {level}: cases {', '.join(str(i) for i in ids)}",
    )
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        return 0
    return len(messages)


def overdue_counts() -> dict[str, int]:
    """Open cases by state, for ``flask survey cases``."""
    c, r = FeedbackCase, SurveyResponse
    rows = db.session.execute(
        sa.select(r.feedback_status, c.escalation_level, sa.func.count())
        .join(r, r.id == c.response_id)
        .group_by(r.feedback_status, c.escalation_level)
    ).all()
    counts = {"answered": 0, "open": 0, "overdue": 0, "escalated_above": 0}
    for status, level, n in rows:
        if status == FeedbackStatus.ANSWERED.value:
            counts["answered"] += n
        else:
            counts[("open", "overdue", "escalated_above")[level]] += n
    return counts


def period_counts(unit_ids: list[int], start: datetime, end: datetime, now: datetime) -> dict:
    """Cases opened in ``[start, end)`` in these units: how many, answered by their
    deadline, answered late, still open and overdue, still open within the deadline."""
    c, r = FeedbackCase, SurveyResponse
    rows = db.session.execute(
        sa.select(c.deadline_at, r.feedback_status, r.feedback_updated_at)
        .join(r, r.id == c.response_id)
        .where(c.unit_id.in_(unit_ids), c.opened_at >= start, c.opened_at < end)
    ).all()
    counts = {"opened": len(rows), "on_time": 0, "late": 0, "overdue": 0, "open": 0}
    for deadline, status, updated in rows:
        if status == FeedbackStatus.ANSWERED.value:
            counts["on_time" if updated is not None and updated <= deadline else "late"] += 1
        else:
            counts["overdue" if deadline <= now else "open"] += 1
    return counts
