"""A district (or province) seen through its communes: the stratified figure,
the pooled figure beside it, the comparison table and the funnel plot.

Each child unit is a stratum weighted by the dossiers it handled in the period
(N_h, from :class:`~survey.data.models.DossierVolume`). Pooling the responses instead
would let one eager desk dominate the district figure.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from scipy.stats import binom

from survey.data import rollup
from survey.data.models import DossierVolume
from survey.data.models import Unit
from survey.data.queries import current_questionnaire
from survey.data.queries import definition_of
from survey.data.queries import interval_method
from survey.data.queries import scale_counts
from survey.data.targets import OVERALL
from survey.data.targets import EffectiveTarget
from survey.data.targets import effective_targets
from survey.data.targets import targets_of_units
from survey.domain.periods import Period
from survey.extensions import db
from survey.stats import QuestionCounts
from survey.stats import QuestionRate
from survey.stats import StratifiedProportion
from survey.stats import Stratum
from survey.stats import funnel_limits
from survey.stats import question_rate
from survey.stats import stratified_proportion

NOTE_TOO_FEW = "every commune has a single answer: no weighted interval can be estimated yet"
GROUP_ORDER = {"met": 0, "inconclusive": 1, "not_met": 2, "none": 3}


@dataclass(frozen=True)
class Verdict:
    """A verdict from an interval (for the stratified figure, which has no binomial test)."""

    status: str
    target: float
    n: int
    responses_needed: int | None = None


def interval_verdict(low: float | None, high: float | None, target: float, n: int) -> Verdict:
    if n == 0 or low is None or high is None:
        return Verdict("inconclusive", target, n)
    if low >= target:
        return Verdict("met", target, n)
    if high < target:
        return Verdict("not_met", target, n)
    return Verdict("inconclusive", target, n)


@dataclass(frozen=True)
class ChildRow:
    unit: Unit
    rate: QuestionRate
    responses: int
    dossiers: int | None  # None: no volumes entered for every month of the period
    target: EffectiveTarget
    verdict: Verdict

    @property
    def group(self) -> str:
        return "none" if self.rate.valid == 0 else self.verdict.status


@dataclass(frozen=True)
class DistrictSummary:
    unit: Unit
    period: Period
    children: tuple[ChildRow, ...]  # sorted: met, inconclusive, not met, no data; by lower bound
    stratified: StratifiedProportion | None
    stratified_verdict: Verdict
    pooled: QuestionRate
    pooled_verdict: Verdict
    target: EffectiveTarget
    weights_from_volumes: bool
    missing_volumes: tuple[Unit, ...]
    without_responses: tuple[Unit, ...]
    notes: tuple[str, ...]
    too_few_for_interval: bool = False  # every commune has a single answer

    @property
    def responses(self) -> int:
        return sum(c.responses for c in self.children)


def _children_counts(unit: Unit, months: list[Period], question_id: str):
    """Per child of ``unit`` (its whole subtree): {value: count} and the number of responses."""
    found = rollup.children_counts(unit, months, [question_id, rollup.RESPONSES])
    raw = {child: counts.get(question_id, {}) for child, counts in found.items()}
    responses = {
        child: counts.get(rollup.RESPONSES, {}).get("", 0) for child, counts in found.items()
    }
    return raw, responses


def _dossiers_by_child(unit: Unit, months: list[str]) -> dict[int, int | None]:
    """Dossiers each child (and the units below it) handled in the months, all fields.

    None for a child when any month lacks a volume for one of the units at
    the bottom of its tree (the estimate then falls back to response counts
    and says so).
    """
    leaves = unit.leaf_ids_by_child()
    volumes: dict[int, dict[str, int]] = {}
    for unit_id, month, dossiers in db.session.execute(
        sa.select(DossierVolume.unit_id, DossierVolume.month, DossierVolume.dossiers).where(
            DossierVolume.unit_id.in_([i for ids in leaves.values() for i in ids]),
            DossierVolume.month.in_(months),
            DossierVolume.procedure_field == OVERALL,
        )
    ):
        volumes.setdefault(unit_id, {})[month] = dossiers
    found: dict[int, int | None] = {}
    for child, ids in leaves.items():
        complete = all(set(volumes.get(i, {})) == set(months) for i in ids)
        found[child] = sum(sum(volumes[i].values()) for i in ids) if complete else None
    return found


def summarise_children(unit: Unit, period: Period) -> DistrictSummary:
    """The district's (or province's) figure from its direct children, and their comparison."""
    definition = definition_of(current_questionnaire())
    overall_q = definition.by_role("overall")
    year = period.end.year
    parent_target = effective_targets(unit, year, [])[OVERALL]

    months = period.months()
    children = sorted(unit.children, key=lambda u: u.name)
    raw, responses = _children_counts(unit, months, overall_q.id)
    dossiers = _dossiers_by_child(unit, [m.code for m in months])
    known = targets_of_units(children, year)
    rows = []
    for child in children:
        rate = question_rate(scale_counts(raw.get(child.id, {})), method=interval_method())
        target = effective_targets(child, year, [], known=known)[OVERALL]
        verdict = interval_verdict(rate.low, rate.high, target.rate, rate.valid)
        rows.append(
            ChildRow(
                child, rate, responses.get(child.id, 0), dossiers.get(child.id), target, verdict
            )
        )

    notes = []
    answered = [r for r in rows if r.rate.valid > 0]
    without = tuple(r.unit for r in rows if r.rate.valid == 0)
    missing = tuple(r.unit for r in answered if r.dossiers is None)
    from_volumes = not missing and bool(answered)
    strata = []
    for r in answered:
        population = r.dossiers if from_volumes else r.rate.valid
        if population < r.rate.valid:
            notes.append(f"{r.unit.name}: {r.rate.valid} > {population}")
            population = r.rate.valid
        strata.append(Stratum(r.rate.satisfied, r.rate.valid, population, r.unit.code))

    stratified = None
    census = from_volumes and all(s.n == s.population for s in strata)
    # With one answer per commune there is no within-commune spread to estimate
    # (no degrees of freedom): no weighted interval until more responses come.
    too_few = bool(strata) and not census and sum(s.n for s in strata) - len(strata) < 1
    if too_few:
        notes.append(NOTE_TOO_FEW)
    elif strata:
        stratified = stratified_proportion(strata, fpc=from_volumes, single_response="adjust")
        if stratified.note:
            notes.append(stratified.note)
    total_valid = sum(r.rate.valid for r in answered)
    pooled = question_rate(
        QuestionCounts(
            satisfied=sum(r.rate.satisfied for r in answered),
            neutral=total_valid - sum(r.rate.satisfied for r in answered),
        ),
        method=interval_method(),
    )
    strat_verdict = interval_verdict(
        stratified.low if stratified else None,
        stratified.high if stratified else None,
        parent_target.rate,
        total_valid,
    )
    pooled_verdict = interval_verdict(pooled.low, pooled.high, parent_target.rate, pooled.valid)
    ordered = sorted(
        rows, key=lambda r: (GROUP_ORDER[r.group], -(r.rate.low or 0), r.unit.name, r.unit.code)
    )
    return DistrictSummary(
        unit=unit,
        period=period,
        children=tuple(ordered),
        stratified=stratified,
        stratified_verdict=strat_verdict,
        pooled=pooled,
        pooled_verdict=pooled_verdict,
        target=parent_target,
        weights_from_volumes=from_volumes,
        missing_volumes=missing,
        without_responses=without,
        notes=tuple(notes),
        too_few_for_interval=too_few,
    )


def funnel_zone(satisfied: int, n: int, target: float) -> str:
    """Where a commune lies on the funnel, by the exact binomial tails of its own counts.

    Outside the 99.8 % funnel when a result at least this extreme has a chance
    below 0.1 % if the commune were exactly at the target; outside 95 % below 2.5 %.
    """
    at_least = binom.sf(satisfied - 1, n, target)  # P(X >= satisfied)
    at_most = binom.cdf(satisfied, n, target)  # P(X <= satisfied)
    for tail, zone in ((0.001, "998"), (0.025, "95")):
        if at_most < tail:
            return "below" + zone
        if at_least < tail:
            return "above" + zone
    return "inside"


def funnel_data(s: DistrictSummary, grid_points: int = 60):
    """Points (label, n, rate), their zones, and limit rows (n, lo95, hi95, lo998, hi998)."""
    answered = [c for c in s.children if c.rate.valid]
    points = [(c.unit.name, c.rate.valid, c.rate.rate) for c in answered]
    zones = [funnel_zone(c.rate.satisfied, c.rate.valid, s.target.rate) for c in answered]
    top = max([n for _, n, _ in points] + [10])
    step = max(1, top // grid_points)
    # Each commune's own n is on the grid, so its limits are exact, not interpolated.
    grid = sorted(set(range(1, int(top * 1.1) + step, step)) | {n for _, n, _ in points})
    inner = funnel_limits(s.target.rate, grid, 0.95)
    outer = funnel_limits(s.target.rate, grid, 0.998)
    limits = [
        (n, lo, hi, lo2, hi2)
        for n, lo, hi, lo2, hi2 in zip(
            grid, inner.lower, inner.upper, outer.lower, outer.upper, strict=True
        )
    ]
    return points, zones, limits
