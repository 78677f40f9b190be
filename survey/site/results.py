"""What the public may see of a unit's results ("công khai kết quả"): rates with their
intervals and verdicts, the trend, the five elements and how many answered.

Nothing that identifies a citizen, no comments, no desk or officer figures; a figure
on fewer than ``SURVEY_PUBLIC_MIN_RESPONSES`` valid answers is withheld ("chưa đủ
phiếu"): a rate on a handful of answers misleads more than it informs.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from survey.data.models import Unit
from survey.district.summary import summarise_children
from survey.domain.periods import Period
from survey.domain.periods import make_period
from survey.domain.periods import period_containing
from survey.domain.periods import today_in_vietnam
from survey.extensions import db
from survey.reports.summary import summarise
from survey.stats import TargetComparison


@dataclass(frozen=True)
class PublicRate:
    """A rate as published: None for each figure when too few answered."""

    valid: int
    rate: float | None
    low: float | None
    high: float | None
    verdict: TargetComparison | None

    @property
    def shown(self) -> bool:
        return self.rate is not None


@dataclass(frozen=True)
class PublicPeriod:
    period: Period
    provisional: bool
    responses: int
    overall: PublicRate
    elements: tuple[tuple[str, PublicRate], ...]  # (element key, rate)


@dataclass(frozen=True)
class PublicResults:
    unit: Unit
    minimum: int
    month: PublicPeriod
    year: PublicPeriod
    trend: tuple[tuple[Period, PublicRate], ...]
    children: tuple[tuple[Unit, PublicRate], ...]  # a district's communes
    element_labels: dict[str, dict[str, str]]


def minimum_responses() -> int:
    return max(1, int(current_app.config["SURVEY_PUBLIC_MIN_RESPONSES"]))


def _public(valid: int, rate, low, high, verdict, minimum: int) -> PublicRate:
    if valid < minimum:
        return PublicRate(valid, None, None, None, None)
    return PublicRate(valid, rate, low, high, verdict)


def public_unit(code: str) -> Unit | None:
    return db.session.scalar(sa.select(Unit).where(Unit.code == code.strip().upper()))


def _period(unit: Unit, period: Period, minimum: int, today) -> PublicPeriod:
    s = summarise(unit, period, trend=False)
    overall = _public(
        s.overall.valid, s.overall.rate, s.overall.low, s.overall.high, s.verdict, minimum
    )
    if unit.children:
        # A district's figure is its stratified estimate, not the pooled answers.
        d = summarise_children(unit, period)
        strat = d.stratified
        if strat is not None and overall.shown:
            overall = PublicRate(
                overall.valid, strat.rate, strat.low, strat.high, d.stratified_verdict
            )
    elements = tuple(
        (
            e.element,
            _public(
                e.overall.valid if e.overall else 0,
                e.rate,
                e.overall.low if e.overall else None,
                e.overall.high if e.overall else None,
                None,
                minimum,
            ),
        )
        for e in s.sipas.elements
    )
    return PublicPeriod(
        period=period,
        provisional=not period.is_complete(today),
        responses=s.responses,
        overall=overall,
        elements=elements,
    )


def public_results(unit: Unit) -> PublicResults:
    """The last complete month and the year so far, the 12-month trend, the communes."""
    minimum = minimum_responses()
    today = today_in_vietnam()
    cutoff = unit.report_cutoff_day
    month = period_containing(today, "month", cutoff).previous()
    year = make_period("year", month.year, None, cutoff)
    summary = summarise(unit, month)
    trend = tuple(
        (t.period, _public(t.rate.valid, t.rate.rate, t.rate.low, t.rate.high, None, minimum))
        for t in summary.trend
    )
    children: tuple[tuple[Unit, PublicRate], ...] = ()
    if unit.children:
        d = summarise_children(unit, month)
        children = tuple(
            (c.unit, _public(c.rate.valid, c.rate.rate, c.rate.low, c.rate.high, None, minimum))
            for c in sorted(d.children, key=lambda c: c.unit.name)
        )
    return PublicResults(
        unit=unit,
        minimum=minimum,
        month=_period(unit, month, minimum, today),
        year=_period(unit, year, minimum, today),
        trend=trend,
        children=children,
        element_labels=dict(summary.definition.elements),
    )


OPEN_DATA_HEADER = [
    "unit_code",
    "unit_name",
    "period",
    "start",
    "end",
    "provisional",
    "responses",
    "valid",
    "rate",
    "ci_low",
    "ci_high",
    "verdict",
]


def _row(unit: Unit, p: PublicPeriod) -> dict:
    o = p.overall
    return {
        "unit_code": unit.code,
        "unit_name": unit.name,
        "period": p.period.code,
        "start": p.period.start.isoformat(),
        "end": p.period.end.isoformat(),
        "provisional": p.provisional,
        "responses": p.responses,
        "valid": o.valid,
        # Withheld below the minimum, as on the page.
        "rate": o.rate,
        "ci_low": o.low,
        "ci_high": o.high,
        "verdict": o.verdict.status if o.verdict is not None else None,
    }


def open_data(unit: Unit) -> list[dict]:
    """The published figures of ``unit`` and of each unit below it (last month, the year)."""
    minimum = minimum_responses()
    today = today_in_vietnam()
    rows = []
    for u in [unit, *sorted(unit.children, key=lambda c: c.name)]:
        # Each unit's own calendar (its cut-off day), as on its own page.
        month = period_containing(today, "month", u.report_cutoff_day).previous()
        year = make_period("year", month.year, None, u.report_cutoff_day)
        for period in (month, year):
            rows.append(_row(u, _period(u, period, minimum, today)))
    return rows
