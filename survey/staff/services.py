"""Per-officer figures of a commune, shown fairly.

A rating counts for an officer when it was stored with them as the officer who
served the citizen (``response.served_by_id``: the officer the one-stop software
named for a receipt token, or the officer on duty at a kiosk). Flagged ratings
never count. Who may see what:

- every officer sees their own figures;
- the commune's leader (``Officer.is_leader``), the district's officers and
  administrators see every officer's figures of the commune, and each time they
  do, an audit entry per officer shown is written (``officer_figures_viewed``);
- nobody else, and never the public.

No rate, interval or verdict is computed for display below
``SURVEY_OFFICER_MIN_RATINGS`` counted ratings (default 30), nor for an element
with fewer valid answers than that: a handful of ratings judges a person
unfairly (docs/STATISTICS.md, "Officers' figures"). Only how many ratings there
are is shown then.

The numbers are small (one commune, one period), so they are counted straight
from the responses and their answers rather than from the rollup.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from survey.data.audit import record
from survey.data.models import Answer
from survey.data.models import Officer
from survey.data.models import Role
from survey.data.models import SurveyResponse
from survey.data.models import Unit
from survey.data.queries import current_questionnaire
from survey.data.queries import definition_of
from survey.data.queries import interval_method
from survey.data.queries import scale_counts
from survey.data.targets import OVERALL
from survey.data.targets import EffectiveTarget
from survey.data.targets import effective_targets
from survey.district.summary import funnel_of
from survey.domain.periods import Period
from survey.domain.questionnaire import Questionnaire as Definition
from survey.extensions import db
from survey.reports.content import funnel_figure
from survey.reports.summary import counted_in
from survey.stats import QuestionRate
from survey.stats import TargetComparison
from survey.stats import compare_to_target
from survey.stats import question_rate
from survey.web.i18n import current_lang
from survey.web.render_cache import Drawing

VIEWED = "officer_figures_viewed"


def minimum_ratings() -> int:
    """``SURVEY_OFFICER_MIN_RATINGS``: fewer counted ratings than this, no rate at all."""
    return max(1, int(current_app.config["SURVEY_OFFICER_MIN_RATINGS"]))


@dataclass(frozen=True)
class ElementFigure:
    element: str
    label: dict[str, str]
    valid: int
    # None below the minimum: never computed for display.
    rate: QuestionRate | None


@dataclass(frozen=True)
class Comment:
    submitted_at: datetime
    text: str
    feedback_status: str


@dataclass(frozen=True)
class OfficerFigures:
    officer: Officer
    # Counted ratings (responses, flagged ones left out) and valid overall answers.
    ratings: int
    valid: int
    # All three None below the minimum.
    overall: QuestionRate | None
    verdict: TargetComparison | None
    elements: tuple[ElementFigure, ...]
    comments: tuple[Comment, ...] = ()

    @property
    def shown(self) -> bool:
        return self.overall is not None


@dataclass(frozen=True)
class FiguresPage:
    unit: Unit
    period: Period
    minimum: int
    target: EffectiveTarget
    definition: Definition
    rows: tuple[OfficerFigures, ...]

    @property
    def funnel_rows(self) -> list[tuple[str, int, int]]:
        """(name, satisfied, valid) of the officers whose rate may be shown."""
        return [
            (r.officer.full_name, r.overall.satisfied, r.overall.valid)
            for r in self.rows
            if r.shown
        ]


# -- who is who -------------------------------------------------------------


def _served_in(unit: Unit, period: Period | None = None):
    """Conditions of the counted ratings of ``unit`` that name the officer who served."""
    conditions = [SurveyResponse.served_by_id.is_not(None)]
    if period is not None:
        conditions.extend(counted_in([unit.id], period))
    else:
        conditions.extend([SurveyResponse.unit_id == unit.id, SurveyResponse.flagged.is_(False)])
    return conditions


def officer_of(unit: Unit, username: str) -> Officer | None:
    """The officer with this username who belongs to ``unit`` or served at its desks."""
    officer = db.session.scalar(
        sa.select(Officer).where(Officer.username == username.strip().lower())
    )
    if officer is None or officer.role == Role.ADMIN:
        return None
    if officer.unit_id == unit.id:
        return officer
    served = db.session.scalar(
        sa.select(SurveyResponse.id)
        .where(*_served_in(unit), SurveyResponse.served_by_id == officer.id)
        .limit(1)
    )
    return officer if served is not None else None


def _officers_of(unit: Unit, period: Period) -> list[Officer]:
    """The unit's active commune officers, and anyone who served at its desks in ``period``."""
    served = sa.select(SurveyResponse.served_by_id).where(*_served_in(unit, period)).distinct()
    return list(
        db.session.scalars(
            sa.select(Officer)
            .where(
                sa.or_(
                    sa.and_(
                        Officer.unit_id == unit.id,
                        Officer.role == Role.COMMUNE,
                        Officer.active.is_(True),
                    ),
                    Officer.id.in_(served),
                )
            )
            .order_by(Officer.full_name, Officer.username)
        )
    )


# -- counting ---------------------------------------------------------------


def _figures(
    unit: Unit,
    period: Period,
    officers: list[Officer],
    definition: Definition,
    target: EffectiveTarget,
    *,
    with_comments: bool,
) -> tuple[OfficerFigures, ...]:
    minimum = minimum_ratings()
    method = interval_method()
    ids = [o.id for o in officers]
    overall_q = definition.by_role("overall")
    elements = {q.element: q for q in definition.scale_questions if q.element}
    question_ids = [overall_q.id, *(q.id for q in elements.values())]
    counts: dict[int, dict[str, dict[str, int]]] = {}
    ratings: dict[int, int] = {}
    if ids:
        conditions = (*_served_in(unit, period), SurveyResponse.served_by_id.in_(ids))
        for officer_id, question_id, value, n in db.session.execute(
            sa.select(
                SurveyResponse.served_by_id,
                Answer.question_id,
                Answer.value,
                sa.func.count(Answer.id),
            )
            .join(Answer, Answer.response_id == SurveyResponse.id)
            .where(*conditions, Answer.question_id.in_(question_ids))
            .group_by(SurveyResponse.served_by_id, Answer.question_id, Answer.value)
        ):
            counts.setdefault(officer_id, {}).setdefault(question_id, {})[value] = n
        ratings = dict(
            db.session.execute(
                sa.select(SurveyResponse.served_by_id, sa.func.count(SurveyResponse.id))
                .where(*conditions)
                .group_by(SurveyResponse.served_by_id)
            ).all()
        )
    comments: dict[int, list[Comment]] = {}
    if with_comments and ids:
        for officer_id, at, text, status in db.session.execute(
            sa.select(
                SurveyResponse.served_by_id,
                SurveyResponse.submitted_at,
                SurveyResponse.comment,
                SurveyResponse.feedback_status,
            )
            .where(
                *_served_in(unit, period),
                SurveyResponse.served_by_id.in_(ids),
                SurveyResponse.comment.is_not(None),
            )
            .order_by(SurveyResponse.submitted_at.desc(), SurveyResponse.id.desc())
        ):
            comments.setdefault(officer_id, []).append(Comment(at, text, status))

    rows = []
    for officer in officers:
        mine = counts.get(officer.id, {})
        n = ratings.get(officer.id, 0)
        overall = question_rate(scale_counts(mine.get(overall_q.id, {})), method=method)
        # The fairness rule: below the minimum nothing but the counts leaves here.
        enough = n >= minimum and overall.valid >= minimum
        element_rows = []
        for element, question in elements.items():
            rate = question_rate(scale_counts(mine.get(question.id, {})), method=method)
            element_rows.append(
                ElementFigure(
                    element,
                    definition.elements.get(element, {}),
                    rate.valid,
                    rate if enough and rate.valid >= minimum else None,
                )
            )
        rows.append(
            OfficerFigures(
                officer=officer,
                ratings=n,
                valid=overall.valid,
                overall=overall if enough else None,
                verdict=(
                    compare_to_target(overall.satisfied, overall.valid, target.rate, method=method)
                    if enough
                    else None
                ),
                elements=tuple(element_rows),
                comments=tuple(comments.get(officer.id, ())),
            )
        )
    return tuple(rows)


def _context(unit: Unit, period: Period) -> tuple[Definition, EffectiveTarget]:
    definition = definition_of(current_questionnaire())
    field_q = definition.by_role("procedure_field")
    field_codes = [o.value for o in field_q.options] if field_q else []
    return definition, effective_targets(unit, period.end.year, field_codes)[OVERALL]


def _audit(viewer: Officer, unit: Unit, period: Period, shown: list[Officer], what: str) -> None:
    """One audit entry per other officer whose figures ``viewer`` is shown, then commit."""
    others = [o for o in shown if o.id != viewer.id]
    for other in others:
        record(
            VIEWED,
            officer=viewer,
            unit=unit,
            detail=f"{other.username} {period.code} {what}",
        )
    if others:
        db.session.commit()


# -- use cases --------------------------------------------------------------


def all_officers(viewer: Officer, unit: Unit, period: Period, *, what: str = "list") -> FiguresPage:
    """Every officer's figures of ``unit`` in ``period``, for someone allowed to see
    them (the caller checks ``viewer.may_see_officers_of(unit)``); each view of
    another officer's figures is recorded in the audit log, in one transaction."""
    definition, target = _context(unit, period)
    officers = _officers_of(unit, period)
    rows = _figures(unit, period, officers, definition, target, with_comments=False)
    # The chart shows only the officers with enough ratings: only they are seen there.
    seen = [r.officer for r in rows if r.shown] if what == "chart" else officers
    _audit(viewer, unit, period, seen, what)
    return FiguresPage(unit, period, minimum_ratings(), target, definition, rows)


def one_officer(
    viewer: Officer, unit: Unit, period: Period, subject: Officer, *, what: str = "page"
) -> FiguresPage:
    """One officer's figures and comments (the caller checks that ``viewer`` is that
    officer or may see the unit's officers); a view by someone else is audited."""
    definition, target = _context(unit, period)
    rows = _figures(unit, period, [subject], definition, target, with_comments=what == "page")
    if what != "chart" or rows[0].shown:  # an empty chart (404) shows nothing
        _audit(viewer, unit, period, [subject], what)
    return FiguresPage(unit, period, minimum_ratings(), target, definition, rows)


def funnel_drawing(page: FiguresPage) -> Drawing | None:
    """The funnel plot of the officers whose rate may be shown, or None if none may."""
    rows = page.funnel_rows
    if not rows:
        return None
    points, zones, limits = funnel_of(rows, page.target.rate)
    title = _(
        "%(unit)s – officers compared with the target, %(period)s",
        unit=page.unit.name,
        period=page.period.label(current_lang()),
    )
    return funnel_figure(points, zones, limits, page.target.rate, title)
