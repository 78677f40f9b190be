"""Use cases of the officers' pages: the feedback inbox and the targets.

Each use case that changes something is one transaction, with the audit entry
that records the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field

import sqlalchemy as sa

from survey.data.audit import record
from survey.data.models import AuditEntry
from survey.data.models import FeedbackCase
from survey.data.models import Officer
from survey.data.models import SurveyResponse
from survey.data.models import Unit
from survey.data.models import utcnow
from survey.data.targets import EffectiveTarget
from survey.data.targets import inherited_target
from survey.data.targets import set_target
from survey.domain.feedback import FeedbackStatus
from survey.extensions import db

FEEDBACK_PAGE_SIZE = 50


@dataclass
class FeedbackPage:
    pagination: object
    history: dict[int, list[AuditEntry]]
    # Each listed comment that is a case (survey/notify/cases.py), by response id.
    cases: dict[int, FeedbackCase] = dataclass_field(default_factory=dict)


def feedback_page(
    unit: Unit, *, status: str, field: str, field_codes: set[str], page: int
) -> FeedbackPage:
    """One page of the comments of ``unit`` (and the units below it): overdue cases
    first (oldest deadline first), then newest first, with each comment's audit
    history and, for cases, their deadline."""
    overdue = sa.and_(
        FeedbackCase.deadline_at <= utcnow(),
        SurveyResponse.feedback_status != FeedbackStatus.ANSWERED.value,
    )
    query = (
        sa.select(SurveyResponse)
        .outerjoin(FeedbackCase, FeedbackCase.response_id == SurveyResponse.id)
        .where(
            SurveyResponse.unit_id.in_(unit.subtree_ids()),
            SurveyResponse.comment.is_not(None),
        )
        .order_by(
            sa.case((overdue, 0), else_=1),
            sa.case((overdue, FeedbackCase.deadline_at), else_=None),
            SurveyResponse.submitted_at.desc(),
            SurveyResponse.id.desc(),
        )
    )
    if status in set(FeedbackStatus):
        query = query.where(SurveyResponse.feedback_status == status)
    if field and field in field_codes:
        query = query.where(SurveyResponse.procedure_field == field)
    pagination = db.paginate(query, page=page, per_page=FEEDBACK_PAGE_SIZE, error_out=False)
    history: dict[int, list[AuditEntry]] = {}
    ids = [r.id for r in pagination.items]
    if ids:
        for entry in db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.response_id.in_(ids))
            .order_by(AuditEntry.at, AuditEntry.id)
        ):
            history.setdefault(entry.response_id, []).append(entry)
    cases = (
        {
            c.response_id: c
            for c in db.session.scalars(
                sa.select(FeedbackCase).where(FeedbackCase.response_id.in_(ids))
            )
        }
        if ids
        else {}
    )
    return FeedbackPage(pagination, history, cases)


def commented_response(unit: Unit, response_id: int) -> SurveyResponse | None:
    """The response with a comment, if it belongs to ``unit`` or a unit below it."""
    response = db.session.get(SurveyResponse, response_id)
    if response is None or response.unit_id not in unit.subtree_ids() or response.comment is None:
        return None
    return response


def update_feedback(
    officer: Officer, unit: Unit, response: SurveyResponse, status: str, reply: str | None
) -> None:
    """Change a comment's status (and record the reply) with its audit entry."""
    old = response.feedback_status
    response.feedback_status = status
    if reply:
        response.feedback_reply = reply
    response.feedback_updated_at = utcnow()
    record(
        "feedback",
        officer=officer,
        unit=unit,
        response=response,
        detail=f"{old} → {status}" + (f": {reply}" if reply else ""),
    )
    db.session.commit()


class TargetTooLoose(Exception):
    """A commune tried to set a target below the one it inherits."""

    def __init__(self, inherited: EffectiveTarget) -> None:
        super().__init__(inherited.rate)
        self.inherited = inherited


def set_unit_target(
    officer: Officer, unit: Unit, year: int, field: str, rate: float, field_codes: list[str]
) -> None:
    """Set ``unit``'s target for ``year`` and ``field`` (``""``: overall), with its audit entry.

    :raise TargetTooLoose: the officer may only tighten what the unit inherits.
    """
    floor = inherited_target(unit, year, field, field_codes)
    if rate < floor.rate and not officer.may_loosen_target(unit):
        raise TargetTooLoose(floor)
    set_target(unit, year, field, rate, officer.id)
    record("target", officer=officer, unit=unit, detail=f"{year} {field or 'overall'} = {rate:.4f}")
    db.session.commit()


class AppealRefused(Exception):
    """The appeal or decision cannot be made; ``reason``: ``not_a_case``, ``already``,
    ``not_pending``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def case_of(response: SurveyResponse) -> FeedbackCase | None:
    return db.session.scalar(sa.select(FeedbackCase).where(FeedbackCase.response_id == response.id))


def appeal_rating(officer: Officer, unit: Unit, response: SurveyResponse, reason: str) -> None:
    """An officer appeals a case's rating as unfair, with a reason; audited.

    :raise AppealRefused: the response is no case, or was appealed before.
    """
    case = case_of(response)
    if case is None:
        raise AppealRefused("not_a_case")
    if case.appeal_status is not None:
        raise AppealRefused("already")
    case.appeal_status = "pending"
    case.appeal_reason = reason
    case.appealed_by_id = officer.id
    case.appealed_at = utcnow()
    record("appeal", officer=officer, unit=unit, response=response, detail=reason)
    db.session.commit()


def decide_appeal(officer: Officer, unit: Unit, response: SurveyResponse, *, uphold: bool) -> None:
    """The district upholds an appeal (the rating is flagged ``appeal`` and left out of
    every figure) or rejects it (the rating counts as before); audited.

    :raise AppealRefused: no pending appeal.
    """
    case = case_of(response)
    if case is None or case.appeal_status != "pending":
        raise AppealRefused("not_pending")
    case.appeal_status = "upheld" if uphold else "rejected"
    case.decided_by_id = officer.id
    case.decided_at = utcnow()
    if uphold and response.flag_reason is None:
        # Through the ORM, so the rollup's flush events move its counts out.
        response.flag_reason = "appeal"
        response.flagged = True
    record(
        "appeal_upheld" if uphold else "appeal_rejected",
        officer=officer,
        unit=unit,
        response=response,
        detail=case.appeal_reason,
    )
    db.session.commit()
