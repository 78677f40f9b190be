"""Use cases of field interviews: interviewers' accounts and assignments (set by a
district), recording an interview, and the quality checks the district reads.

Each use case that changes something is one transaction with its audit entry.
An interview is stored through ``citizen.services.store_response`` (channel
``interview``, the interviewer as ``served_by_id``), once per submission id,
with its start time and duration in the same commit.
"""

from __future__ import annotations

import enum
import re
from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from survey.citizen.services import existing_response_id
from survey.citizen.services import store_response
from survey.data.audit import record
from survey.data.models import Answer
from survey.data.models import Desk
from survey.data.models import Interview
from survey.data.models import InterviewAssignment
from survey.data.models import Officer
from survey.data.models import QuestionnaireVersion
from survey.data.models import Role
from survey.data.models import SurveyResponse
from survey.data.models import Unit
from survey.data.models import utcnow
from survey.data.queries import definition_of
from survey.data.queries import find_desk
from survey.domain import fieldwork
from survey.domain.channels import Channel
from survey.domain.periods import Period
from survey.extensions import db
from survey.officers.accounts import check_password_strength
from survey.officers.accounts import hash_password

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}\Z")
#: The longest assignment: a survey round, not a standing permission.
MAX_ASSIGNMENT_DAYS = 366


class AccountError(Exception):
    """An interviewer or assignment that cannot be saved; ``str(exc)`` is a code the
    page turns into a message, ``params`` fill it in."""

    def __init__(self, reason: str, **params) -> None:
        super().__init__(reason)
        self.params = params


def manages(officer: Officer, unit: Unit) -> bool:
    """Whether ``officer`` manages interviewers on ``unit``'s page: a district (or
    province) officer of it or above it, or an administrator; the unit must have
    communes below it."""
    if officer.role not in (Role.DISTRICT, Role.ADMIN):
        return False
    return officer.can_see(unit) and bool(unit.children)


def interviewers_of(unit: Unit) -> list[Officer]:
    """The interviewers managed at ``unit`` or at a unit below it, by name."""
    return list(
        db.session.scalars(
            sa.select(Officer)
            .where(Officer.role == Role.INTERVIEWER, Officer.unit_id.in_(unit.subtree_ids()))
            .order_by(Officer.full_name, Officer.username)
        )
    )


def interviewer_of(unit: Unit, officer_id: int) -> Officer | None:
    """One interviewer managed at ``unit`` (or below it); None for anyone else."""
    officer = db.session.get(Officer, officer_id)
    if officer is None or officer.role != Role.INTERVIEWER:
        return None
    if officer.unit_id not in set(unit.subtree_ids()):
        return None
    return officer


def assignments_of(officers: list[Officer]) -> dict[int, list[InterviewAssignment]]:
    """Each interviewer's assignments, latest first."""
    found: dict[int, list[InterviewAssignment]] = {o.id: [] for o in officers}
    if not officers:
        return found
    rows = db.session.scalars(
        sa.select(InterviewAssignment)
        .where(InterviewAssignment.interviewer_id.in_(list(found)))
        .order_by(InterviewAssignment.starts_on.desc(), InterviewAssignment.id.desc())
    )
    for row in rows:
        found[row.interviewer_id].append(row)
    return found


def create_interviewer(
    by: Officer | None, unit: Unit, username: str, full_name: str, password: str
) -> Officer:
    """An interviewer account managed at ``unit`` (a district or province).

    :raise AccountError: ``bad_username``, ``taken``, ``no_name``, ``weak_password``,
        ``not_a_district``.
    """
    username = (username or "").strip().lower()
    full_name = (full_name or "").strip()
    if not unit.children:
        raise AccountError("not_a_district", unit=unit.name)
    if not USERNAME.match(username):
        raise AccountError("bad_username")
    if not full_name:
        raise AccountError("no_name")
    if db.session.scalar(sa.select(Officer.id).where(Officer.username == username)):
        raise AccountError("taken", username=username)
    if check_password_strength(password or "", username):
        raise AccountError("weak_password")
    officer = Officer(
        username=username,
        full_name=full_name[:200],
        role=Role.INTERVIEWER.value,
        unit_id=unit.id,
        password_hash=hash_password(password),
    )
    db.session.add(officer)
    db.session.flush()
    record("interviewer_created", officer=by, unit=unit, detail=f"{username} ({full_name})")
    db.session.commit()
    return officer


def assign(
    by: Officer | None,
    unit: Unit,
    interviewer: Officer,
    commune_code: str,
    starts_on: date | None,
    ends_on: date | None,
) -> InterviewAssignment:
    """Assign ``interviewer`` to a commune below ``unit`` for a range of dates.

    :raise AccountError: ``unknown_commune`` (not a commune of ``unit``: nothing is
        stored), ``bad_dates``, ``too_long``.
    """
    commune = next(
        (u for u in unit.leaves() if u.code == (commune_code or "").strip().upper()), None
    )
    if commune is None or commune.id == unit.id:
        raise AccountError("unknown_commune", code=commune_code or "", unit=unit.name)
    if starts_on is None or ends_on is None or ends_on < starts_on:
        raise AccountError("bad_dates")
    if (ends_on - starts_on).days + 1 > MAX_ASSIGNMENT_DAYS:
        raise AccountError("too_long", days=MAX_ASSIGNMENT_DAYS)
    assignment = InterviewAssignment(
        interviewer_id=interviewer.id,
        unit_id=commune.id,
        starts_on=starts_on,
        ends_on=ends_on,
        created_by_id=by.id if by is not None else None,
    )
    db.session.add(assignment)
    record(
        "interviewer_assigned",
        officer=by,
        unit=commune,
        detail=f"{interviewer.username}: {starts_on.isoformat()}..{ends_on.isoformat()}",
    )
    db.session.commit()
    return assignment


def remove_assignment(by: Officer | None, unit: Unit, assignment_id: int) -> bool:
    """Delete an assignment of an interviewer managed at ``unit``; False if none such.

    Interviews already stored stay; the quality page then lists them as outside
    the assignments, which is what the district asked for by removing it.
    """
    assignment = db.session.get(InterviewAssignment, assignment_id)
    if assignment is None or interviewer_of(unit, assignment.interviewer_id) is None:
        return False
    record(
        "interviewer_unassigned",
        officer=by,
        unit=assignment.unit,
        detail=(
            f"{assignment.interviewer.username}: "
            f"{assignment.starts_on.isoformat()}..{assignment.ends_on.isoformat()}"
        ),
    )
    db.session.delete(assignment)
    db.session.commit()
    return True


# --- The interviewer's side -------------------------------------------------------


def spans_of(interviewer: Officer) -> list[fieldwork.Span]:
    return [
        fieldwork.Span(a.unit_id, a.starts_on, a.ends_on)
        for a in db.session.scalars(
            sa.select(InterviewAssignment).where(
                InterviewAssignment.interviewer_id == interviewer.id
            )
        )
    ]


@dataclass
class Screen:
    """What the interview screen offers: today's desks, and the assignments."""

    desks: list[Desk]
    current: list[InterviewAssignment]
    upcoming: list[InterviewAssignment]
    past: list[InterviewAssignment]


def screen(interviewer: Officer, today: date) -> Screen:
    rows = assignments_of([interviewer])[interviewer.id]
    current = [a for a in rows if a.starts_on <= today <= a.ends_on]
    units = {a.unit_id for a in current}
    desks = (
        list(
            db.session.scalars(
                sa.select(Desk)
                .join(Unit, Unit.id == Desk.unit_id)
                .where(Desk.unit_id.in_(units), Desk.active.is_(True))
                .order_by(Unit.name, Desk.code)
            )
        )
        if units
        else []
    )
    return Screen(
        desks=desks,
        current=current,
        upcoming=sorted((a for a in rows if a.starts_on > today), key=lambda a: a.starts_on),
        past=[a for a in rows if a.ends_on < today],
    )


class Outcome(enum.Enum):
    STORED = "stored"
    ALREADY = "already"  # sent before (a retry after a lost answer): stored once
    UNKNOWN_DESK = "unknown_desk"
    REFUSED = "refused"  # outside the assignment: see ``problem``
    FOREIGN = "foreign"  # the submission id belongs to someone else's response


@dataclass(frozen=True)
class InterviewSubmission:
    desk_code: str
    submission_id: str
    answers: dict[str, str]
    comment: str | None
    language: str
    started_at: datetime
    duration_seconds: int


@dataclass(frozen=True)
class RecordResult:
    outcome: Outcome
    problem: fieldwork.Problem | None = None
    desk: Desk | None = None
    response_id: int | None = None


def tolerances() -> tuple[timedelta, timedelta]:
    config = current_app.config
    return (
        timedelta(minutes=config["SURVEY_INTERVIEW_CLOCK_MINUTES"]),
        timedelta(days=config["SURVEY_INTERVIEW_SEND_DAYS"]),
    )


def record_interview(
    interviewer: Officer,
    questionnaire: QuestionnaireVersion,
    sent: InterviewSubmission,
    now: datetime | None = None,
) -> RecordResult:
    """Store one interview, exactly once per submission id, if it started inside
    one of the interviewer's assignments (by its start time, within the tolerances;
    see ``domain/fieldwork``). A refusal stores nothing.

    A retry of an interview already stored is answered as stored, even after the
    assignment ended: the first send was judged and accepted.
    """
    now = now or utcnow()
    existing = existing_response_id(sent.submission_id)
    if existing is not None:
        owner = db.session.scalar(
            sa.select(Interview.interviewer_id).where(Interview.submission_id == sent.submission_id)
        )
        if owner != interviewer.id:
            return RecordResult(Outcome.FOREIGN)
        return RecordResult(Outcome.ALREADY, response_id=existing)
    desk = find_desk(sent.desk_code) if sent.desk_code else None
    if desk is None or not desk.active:
        return RecordResult(Outcome.UNKNOWN_DESK)
    clock, delay = tolerances()
    problem = fieldwork.judge(
        unit_id=desk.unit_id,
        started_at=sent.started_at,
        duration_seconds=sent.duration_seconds,
        now=now,
        spans=spans_of(interviewer),
        clock_tolerance=clock,
        max_delay=delay,
    )
    if problem is not None:
        db.session.rollback()
        return RecordResult(Outcome.REFUSED, problem=problem, desk=desk)
    # Committed by store_response together with the response (or rolled back
    # with it when the same submission id won a race).
    db.session.add(
        Interview(
            submission_id=sent.submission_id,
            interviewer_id=interviewer.id,
            started_at=sent.started_at,
            duration_seconds=sent.duration_seconds,
        )
    )
    try:
        stored = store_response(
            desk=desk,
            questionnaire=questionnaire,
            submission_id=sent.submission_id,
            answers=sent.answers,
            comment=sent.comment,
            contact=None,
            contact_consent=False,
            language=sent.language,
            channel=Channel.INTERVIEW,
            served_by_id=interviewer.id,
        )
    except sa.exc.IntegrityError:
        # The interview row of a racing copy of this submission reached the
        # database first: that copy stores (or stored) the response.
        db.session.rollback()
        if existing_response_id(sent.submission_id) is None:
            raise
        return RecordResult(Outcome.ALREADY, desk=desk)
    return RecordResult(
        Outcome.STORED if stored.created else Outcome.ALREADY,
        desk=desk,
        response_id=stored.response_id,
    )


# --- Quality checks ------------------------------------------------------------------


@dataclass
class InterviewerQuality:
    officer: Officer
    interviews: int = 0
    days: int = 0
    max_per_day: int = 0
    median_seconds: float | None = None
    too_short: int = 0
    pattern: fieldwork.Pattern | None = None


@dataclass
class Irregular:
    """An interview outside the interviewer's current assignments, or sent after
    the assignment it started in had ended."""

    officer: Officer
    unit: Unit
    started_at: datetime
    received_at: datetime
    duration_seconds: int
    response_id: int
    #: Left out of the figures (by this page's button or any other flag).
    flagged: bool = False


@dataclass
class Quality:
    period: Period
    min_seconds: int
    same_share: float
    same_min: int
    rows: list[InterviewerQuality] = field(default_factory=list)
    #: (interviewer, day, interviews, median seconds), by day then name
    per_day: list[tuple[Officer, date, int, float | None]] = field(default_factory=list)
    outside: list[Irregular] = field(default_factory=list)
    sent_late: list[Irregular] = field(default_factory=list)
    too_short: list[Irregular] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(r.interviews for r in self.rows)


def quality(unit: Unit, period: Period) -> Quality:
    """The quality checks of the interviews made in ``unit``'s communes, or by its
    interviewers, that started within ``period`` (Vietnam dates).

    Each check is a pointer for the district to look at, never a verdict: a
    quiet commune gives short interviews, and satisfied citizens answer alike.
    """
    config = current_app.config
    report = Quality(
        period=period,
        min_seconds=config["SURVEY_INTERVIEW_MIN_SECONDS"],
        same_share=config["SURVEY_INTERVIEW_SAME_SHARE"],
        same_min=config["SURVEY_INTERVIEW_SAME_MIN"],
    )
    subtree = unit.subtree_ids()
    start = fieldwork.Span(0, period.start, period.end).window(timedelta(0))
    rows = db.session.execute(
        sa.select(Interview, SurveyResponse)
        .join(SurveyResponse, SurveyResponse.submission_id == Interview.submission_id)
        .join(Officer, Officer.id == Interview.interviewer_id)
        .where(
            Interview.started_at >= start[0],
            Interview.started_at < start[1],
            sa.or_(SurveyResponse.unit_id.in_(subtree), Officer.unit_id.in_(subtree)),
        )
        .order_by(Interview.started_at)
    ).all()
    if not rows:
        return report
    officers = {
        o.id: o
        for o in db.session.scalars(
            sa.select(Officer).where(Officer.id.in_({i.interviewer_id for i, _ in rows}))
        )
    }
    units = {
        u.id: u
        for u in db.session.scalars(
            sa.select(Unit).where(Unit.id.in_({r.unit_id for _, r in rows}))
        )
    }
    spans = defaultdict(list)
    ends: dict[tuple[int, int], list[InterviewAssignment]] = defaultdict(list)
    for a in db.session.scalars(
        sa.select(InterviewAssignment).where(InterviewAssignment.interviewer_id.in_(officers))
    ):
        spans[a.interviewer_id].append(fieldwork.Span(a.unit_id, a.starts_on, a.ends_on))
        ends[(a.interviewer_id, a.unit_id)].append(a)
    vectors = _answer_vectors([r.id for _, r in rows], rows[0][1].questionnaire)

    by_officer: dict[int, list[tuple[Interview, SurveyResponse]]] = defaultdict(list)
    for interview, response in rows:
        by_officer[interview.interviewer_id].append((interview, response))
        item = Irregular(
            officer=officers[interview.interviewer_id],
            unit=units[response.unit_id],
            started_at=interview.started_at,
            received_at=response.submitted_at,
            duration_seconds=interview.duration_seconds,
            response_id=response.id,
            flagged=response.flagged,
        )
        if not fieldwork.covered(response.unit_id, interview.started_at, spans[item.officer.id]):
            report.outside.append(item)
        elif fieldwork.local_day(response.submitted_at) > max(
            a.ends_on
            for a in ends[(item.officer.id, response.unit_id)]
            if a.starts_on <= fieldwork.local_day(interview.started_at) <= a.ends_on
        ):
            report.sent_late.append(item)
        if interview.duration_seconds < report.min_seconds:
            report.too_short.append(item)

    for officer_id, items in by_officer.items():
        officer = officers[officer_id]
        durations = [i.duration_seconds for i, _ in items]
        days: dict[date, list[int]] = defaultdict(list)
        for interview, _ in items:
            days[fieldwork.local_day(interview.started_at)].append(interview.duration_seconds)
        for day, seconds in days.items():
            report.per_day.append((officer, day, len(seconds), fieldwork.median(seconds)))
        report.rows.append(
            InterviewerQuality(
                officer=officer,
                interviews=len(items),
                days=len(days),
                max_per_day=max(len(v) for v in days.values()),
                median_seconds=fieldwork.median(durations),
                too_short=sum(1 for d in durations if d < report.min_seconds),
                pattern=fieldwork.repeated_pattern(
                    (vectors.get(r.id, ()) for _, r in items),
                    min_count=report.same_min,
                    max_share=report.same_share,
                ),
            )
        )
    report.rows.sort(key=lambda r: (r.officer.full_name, r.officer.username))
    report.per_day.sort(key=lambda row: (row[1], row[0].full_name))
    return report


#: The flag of an interview the district left out after its quality checks.
EXCLUDED_INTERVIEW = "interview"


def exclude_interview(by: Officer, unit: Unit, response_id: int) -> SurveyResponse | None:
    """Leave an interview out of every figure after a quality check, audited; None
    when ``response_id`` is no interview in ``unit``'s communes.

    It is flagged like a suspected automated rating, so it is listed on the
    flagged page, where the district may reinstate it. The rollup follows the
    change in the same transaction (ORM flush events).
    """
    response = db.session.scalar(
        sa.select(SurveyResponse)
        .join(Interview, Interview.submission_id == SurveyResponse.submission_id)
        .where(SurveyResponse.id == response_id, SurveyResponse.unit_id.in_(unit.subtree_ids()))
    )
    if response is None:
        return None
    if response.flagged:
        return response
    response.flagged = True
    response.flag_reason = EXCLUDED_INTERVIEW
    record(
        "exclude",
        officer=by,
        unit=response.unit,
        response=response,
        detail="flag: interview (quality check)",
    )
    db.session.commit()
    return response


def _answer_vectors(response_ids: list[int], questionnaire) -> dict[int, tuple]:
    """Each response's full vector of coded answers (the comment left out)."""
    question_ids = [q.id for q in definition_of(questionnaire).answer_questions]
    answers: dict[int, dict[str, str]] = defaultdict(dict)
    for chunk in range(0, len(response_ids), 500):
        for response_id, question, value in db.session.execute(
            sa.select(Answer.response_id, Answer.question_id, Answer.value).where(
                Answer.response_id.in_(response_ids[chunk : chunk + 500])
            )
        ):
            answers[response_id][question] = value
    return {
        rid: fieldwork.answer_vector(answers.get(rid, {}), question_ids) for rid in response_ids
    }
