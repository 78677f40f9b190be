"""What a unit's reports show for a period: counts from the rollup
(:mod:`survey.data.rollup`), statistics from :mod:`survey.stats`.

All the numbers come from answer counts per question, so a report never reads
individual responses except for the comment list and the spreadsheet, and
costs the same however many responses are stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from survey.data import rollup
from survey.data.models import SurveyResponse
from survey.data.models import Unit
from survey.data.queries import current_questionnaire
from survey.data.queries import definition_of
from survey.data.queries import interval_method
from survey.data.queries import scale_counts
from survey.data.targets import OVERALL
from survey.data.targets import EffectiveTarget
from survey.data.targets import effective_targets
from survey.domain.channels import ORDER as CHANNEL_ORDER
from survey.domain.channels import Channel
from survey.domain.feedback import FeedbackStatus
from survey.domain.periods import Period
from survey.domain.periods import last_months
from survey.domain.periods import period_containing
from survey.domain.periods import today_in_vietnam
from survey.domain.questionnaire import Questionnaire as Definition
from survey.extensions import db
from survey.stats import QuestionRate
from survey.stats import SipasIndex
from survey.stats import TargetComparison
from survey.stats import compare_to_target
from survey.stats import question_rate
from survey.stats import sipas_index

TREND_MONTHS = 12


@dataclass(frozen=True)
class FieldRow:
    field: str
    label: dict[str, str]
    rate: QuestionRate
    target: EffectiveTarget
    comparison: TargetComparison


@dataclass(frozen=True)
class TrendRow:
    period: Period
    rate: QuestionRate


@dataclass(frozen=True)
class DistributionRow:
    value: str
    label: dict[str, str]
    count: int
    share: float | None


@dataclass(frozen=True)
class Distribution:
    question_id: str
    text: dict[str, str]
    rows: tuple[DistributionRow, ...]
    answered: int


@dataclass(frozen=True)
class Share:
    """A yes/no share among those who answered (e.g. harassment reported)."""

    yes: int
    answered: int

    @property
    def rate(self) -> float | None:
        return self.yes / self.answered if self.answered else None


@dataclass(frozen=True)
class UnitSummary:
    unit: Unit
    period: Period
    definition: Definition
    responses: int
    overall: QuestionRate
    overall_target: EffectiveTarget
    verdict: TargetComparison
    sipas: SipasIndex
    fields: tuple[FieldRow, ...]
    distributions: tuple[Distribution, ...]
    harassment: Share
    trend: tuple[TrendRow, ...]
    comments: int
    comments_new: int
    # Responses expected before the period closes, at the pace so far (0 once ended).
    expected_more: float = 0.0
    # When the period's verdict is not yet known: the verdicts of the longer periods
    # that contain it (quarter, year to date), so the page says what is known.
    longer: tuple[tuple[Period, TargetComparison], ...] = ()
    # The channels counted (None: all of them).
    channels: frozenset[Channel] | None = None

    @property
    def satisfied(self) -> int:
        return self.overall.satisfied


def counted_in(unit_ids: list[int], period: Period, *, include_flagged: bool = False):
    """The responses a report counts: flagged ones (see survey/integrity.py) are left out."""
    start, end = period.utc_bounds()
    conditions = (
        SurveyResponse.unit_id.in_(unit_ids),
        SurveyResponse.submitted_at >= start,
        SurveyResponse.submitted_at < end,
    )
    if include_flagged:
        return conditions
    return (*conditions, SurveyResponse.flagged.is_(False))


def _answer_counts(unit_id: int, period: Period, channels) -> dict[str, dict[str, int]]:
    """{question id: {value: count}} over the units and the period (reserved rows included)."""
    counts: dict[str, dict[str, int]] = {}
    for question_id, value, n in rollup.counts(
        unit_id, period.months(), ("question_id", "value"), channels=channels
    ):
        counts.setdefault(question_id, {})[value] = n
    return counts


def _field_counts(unit_id: int, period: Period, question_id: str, channels) -> dict[str, dict]:
    counts: dict[str, dict[str, int]] = {}
    for field, value, n in rollup.counts(
        unit_id,
        period.months(),
        ("procedure_field", "value"),
        question_ids=[question_id],
        channels=channels,
    ):
        counts.setdefault(field or "", {})[value] = n
    return counts


def _trend_counts(unit_id: int, months: list[Period], question_id: str, channels) -> dict:
    counts: dict[str, dict[str, int]] = {}
    for month, value, n in rollup.counts(
        unit_id, months, ("month", "value"), question_ids=[question_id], channels=channels
    ):
        counts.setdefault(month, {})[value] = n
    return counts


def _compare(rate: QuestionRate, target: float) -> TargetComparison:
    return compare_to_target(rate.satisfied, rate.valid, target, method=interval_method())


def summarise(
    unit: Unit,
    period: Period,
    *,
    trend: bool = True,
    channels: frozenset[Channel] | None = None,
) -> UnitSummary:
    """Everything the dashboard and the downloads show for ``unit`` in ``period``.

    The unit's own responses and those of every unit below it are counted; with
    ``channels``, only the responses that came by one of them.
    """
    definition = definition_of(current_questionnaire())
    counts = _answer_counts(unit.id, period, channels)
    overall_q = definition.by_role("overall")
    field_q = definition.by_role("procedure_field")
    field_codes = [o.value for o in field_q.options] if field_q else []
    targets = effective_targets(unit, period.end.year, field_codes)

    overall = question_rate(scale_counts(counts.get(overall_q.id, {})), method=interval_method())
    elements = {
        q.element: {"overall": q.id, "criteria": []}
        for q in definition.scale_questions
        if q.element
    }
    sipas = sipas_index(
        {
            qid: scale_counts(c)
            for qid, c in counts.items()
            if qid in {q.id for q in definition.scale_questions}
        },
        elements,
        method=interval_method(),
    )

    fields = []
    by_field = _field_counts(unit.id, period, overall_q.id, channels)
    for option in field_q.options if field_q else ():
        rate = question_rate(scale_counts(by_field.get(option.value, {})), method=interval_method())
        target = targets[option.value]
        fields.append(
            FieldRow(option.value, option.label, rate, target, _compare(rate, target.rate))
        )

    distributions = []
    for qid in ("wait", "visits"):
        try:
            question = definition.question(qid)
        except KeyError:
            continue
        raw = counts.get(qid, {})
        answered = sum(raw.get(o.value, 0) for o in question.options)
        rows = tuple(
            DistributionRow(
                o.value,
                o.label,
                raw.get(o.value, 0),
                raw.get(o.value, 0) / answered if answered else None,
            )
            for o in question.options
        )
        distributions.append(Distribution(qid, question.text, rows, answered))

    integrity = definition.by_role("integrity")
    raw = counts.get(integrity.id, {}) if integrity else {}
    harassment = Share(raw.get("yes", 0), raw.get("yes", 0) + raw.get("no", 0))

    responses = counts.get(rollup.RESPONSES, {}).get("", 0)
    comments = counts.get(rollup.COMMENTS, {})

    trend_rows = ()
    if trend:
        months = last_months(period, TREND_MONTHS)
        by_month = _trend_counts(unit.id, months, overall_q.id, channels)
        trend_rows = tuple(
            TrendRow(
                month,
                question_rate(scale_counts(by_month.get(month.code, {})), method=interval_method()),
            )
            for month in months
        )

    overall_target = targets[OVERALL]
    verdict = _compare(overall, overall_target.rate)
    longer = ()
    if verdict.status == "inconclusive" and period.kind in ("month", "quarter"):
        longer = _longer_verdicts(unit, period, overall_q.id, overall_target.rate, channels)
    return UnitSummary(
        unit=unit,
        period=period,
        definition=definition,
        responses=responses,
        overall=overall,
        overall_target=overall_target,
        verdict=verdict,
        sipas=sipas,
        fields=tuple(fields),
        distributions=tuple(distributions),
        harassment=harassment,
        trend=trend_rows,
        comments=sum(comments.values()),
        comments_new=comments.get(FeedbackStatus.NEW, 0),
        expected_more=_expected_more(period, responses),
        longer=longer,
        channels=channels,
    )


def _expected_more(period: Period, responses: int) -> float:
    """Responses still to come before ``period`` ends, if they keep the pace so far."""
    today = today_in_vietnam()
    if period.is_complete(today) or period.is_future(today):
        return 0.0
    elapsed = (today - period.start).days + 1
    left = (period.end - today).days
    return responses / elapsed * left


def _longer_verdicts(unit: Unit, period: Period, question_id: str, target: float, channels):
    """The verdicts of the quarter and the year that contain ``period`` (to date)."""
    found = []
    for kind in ("quarter", "year"):
        longer = period_containing(period.end, kind, period.cutoff_day)
        if longer.code == period.code:
            continue
        raw: dict[str, int] = {}
        for value, n in rollup.counts(
            unit.id, longer.months(), ("value",), question_ids=[question_id], channels=channels
        ):
            raw[value] = n
        rate = question_rate(scale_counts(raw), method=interval_method())
        found.append((longer, _compare(rate, target)))
    return tuple(found)


def responses_in(
    unit: Unit, period: Period, channels: frozenset[Channel] | None = None
) -> list[SurveyResponse]:
    """The period's responses of ``unit`` and the units below it, newest first (only
    those of ``channels`` when given).

    Ties (a batch submitted in the same second) are broken by id, so that a report
    lists them in the same order every time and its cache key does not change.
    """
    return list(
        db.session.scalars(
            sa.select(SurveyResponse)
            .where(*counted_in(unit.subtree_ids(), period))
            .where(
                sa.true()
                if channels is None
                else SurveyResponse.channel.in_([str(c) for c in channels])
            )
            .order_by(SurveyResponse.submitted_at.desc(), SurveyResponse.id.desc())
        )
    )


def default_period_code(today: date) -> str:
    return f"{today.year:04d}-{today.month:02d}"


@dataclass(frozen=True)
class ChannelFigure:
    """One channel's responses and overall satisfaction in a period."""

    channel: Channel
    responses: int
    overall: QuestionRate
    #: Its share of the period's counted responses (None when there are none).
    share: float | None


@dataclass(frozen=True)
class ChannelSplit:
    """The overall satisfaction of each channel, side by side, and the flagged responses.

    People rate differently on a tablet in front of the officer than on their own
    phone (docs/STATISTICS.md), so a figure that mixes channels is read with its mix.
    """

    figures: tuple[ChannelFigure, ...]
    responses: int
    flagged: int

    def of(self, channel: Channel) -> ChannelFigure | None:
        return next((f for f in self.figures if f.channel == channel), None)

    @property
    def dominant(self) -> ChannelFigure | None:
        """The channel that gives at least :data:`DOMINANT_SHARE` of the responses,
        when there are enough of them to say so."""
        if self.responses < DOMINANT_MIN_RESPONSES:
            return None
        return next(
            (f for f in self.figures if f.share is not None and f.share >= DOMINANT_SHARE), None
        )


#: A channel giving this share of a period's responses or more is named on the
#: dashboard: the figure then speaks mostly for the people that channel reaches.
DOMINANT_SHARE = 0.8
DOMINANT_MIN_RESPONSES = 30


def channel_split(unit: Unit, period: Period) -> ChannelSplit:
    """The overall satisfaction of each channel that brought responses, in channel order."""
    definition = definition_of(current_questionnaire())
    overall_q = definition.by_role("overall")
    counts: dict[str, dict[str, int]] = {}
    responses: dict[str, int] = {}
    flagged = 0
    for question_id, channel, value, n in rollup.counts(
        unit.id,
        period.months(),
        ("question_id", "channel", "value"),
        question_ids=[overall_q.id, rollup.RESPONSES, rollup.FLAGGED],
    ):
        if question_id == rollup.FLAGGED:
            flagged += n
        elif question_id == rollup.RESPONSES:
            responses[channel] = responses.get(channel, 0) + n
        else:
            by_value = counts.setdefault(channel, {})
            by_value[value] = by_value.get(value, 0) + n
    total = sum(responses.values())
    figures = tuple(
        ChannelFigure(
            channel=channel,
            responses=responses.get(channel, 0),
            overall=question_rate(scale_counts(counts.get(channel, {})), method=interval_method()),
            share=responses.get(channel, 0) / total if total else None,
        )
        for channel in CHANNEL_ORDER
        if responses.get(channel, 0)
    )
    return ChannelSplit(figures=figures, responses=total, flagged=flagged)
