"""A district (or province) seen through its communes: the stratified figure,
the pooled figure beside it, the comparison table and the funnel plot.

Each child unit is a stratum weighted by the dossiers it handled in the period
(N_h, from :class:`~survey.data.models.DossierVolume`). Pooling the responses instead
would let one eager desk dominate the district figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import replace

import sqlalchemy as sa

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
from survey.domain.channels import Channel
from survey.domain.periods import Period
from survey.extensions import db
from survey.stats import QuestionCounts
from survey.stats import QuestionRate
from survey.stats import StratifiedProportion
from survey.stats import Stratum
from survey.stats import funnel_class
from survey.stats import funnel_limits
from survey.stats import funnel_steps
from survey.stats import question_rate
from survey.stats import rank_probabilities
from survey.stats import stratified_proportion
from survey.stats.stratified import NOTE_CENSUS
from survey.stats.stratified import NOTE_SINGLE_RESPONSE
from survey.stats.stratified import NOTE_ZERO_VARIANCE

GROUP_ORDER = {"met": 0, "inconclusive": 1, "not_met": 2, "none": 3}
#: Rank ranges are exact integrals whose cost grows with the square of the communes:
#: a district has tens; a province's table of hundreds goes without them.
MAX_RANKED = 60

#: How the communes were weighted, from best to weakest (see :class:`Note` for the details).
WEIGHTS_DOSSIERS = "dossiers"  # every answered commune has every month's count
WEIGHTS_ESTIMATED = "dossiers_estimated"  # some counts estimated, see the notes
WEIGHTS_NONE = "none"  # no count at all: the headline is the pooled figure


@dataclass(frozen=True)
class Note:
    """Something a reader of the district figure must know, in words on every output.

    ``kind`` is one of:
    ``month_estimated`` (a commune's missing months counted at its average
    month of the period), ``commune_estimated`` (a commune with no count in the
    period, weighted at the district's ratio of dossiers to answers),
    ``raised`` (a count below the answers received, raised to them),
    ``no_responses`` (a commune with no answers, left out of the figure),
    ``too_few`` (one answer per commune: no weighted interval yet),
    ``single_response`` / ``census`` / ``zero_variance`` (from the estimator),
    ``calendar`` (a commune whose months start on another day than the district's).
    """

    kind: str
    unit: Unit | None = None
    months: tuple[str, ...] = ()
    value: int | None = None
    detail: int | None = None


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
    dossiers: int | None  # the weight used (entered, estimated or None: not in the figure)
    dossiers_entered: int  # the sum of the counts actually entered for the period
    target: EffectiveTarget
    verdict: Verdict
    comments: int = 0
    # The ranks (1 = best) the commune's true rate could take among the answered
    # communes, with 90 % probability (from their posteriors); None without answers.
    rank_low: int | None = None
    rank_high: int | None = None

    @property
    def group(self) -> str:
        return "none" if self.rate.valid == 0 else self.verdict.status


@dataclass(frozen=True)
class DistrictSummary:
    unit: Unit
    period: Period
    children: tuple[ChildRow, ...]  # grouped: met, inconclusive, not met, no data
    stratified: StratifiedProportion | None
    stratified_verdict: Verdict
    pooled: QuestionRate
    pooled_verdict: Verdict
    target: EffectiveTarget
    weights: str  # WEIGHTS_DOSSIERS, WEIGHTS_ESTIMATED or WEIGHTS_NONE
    missing_volumes: tuple[Unit, ...]  # answered communes without any count in the period
    without_responses: tuple[Unit, ...]
    notes: tuple[Note, ...]
    too_few_for_interval: bool = False  # every commune has a single answer
    channels: frozenset[Channel] | None = None  # the channels counted (None: all)

    @property
    def responses(self) -> int:
        return sum(c.responses for c in self.children)

    @property
    def weights_from_volumes(self) -> bool:
        return self.weights != WEIGHTS_NONE

    @property
    def headline(self) -> str:
        """Which figure the district's page leads with: ``stratified`` or ``pooled``."""
        return (
            "stratified"
            if self.weights_from_volumes and not self.too_few_for_interval
            else "pooled"
        )

    @property
    def headline_rate(self) -> tuple[float | None, float | None, float | None]:
        """(rate, low, high) of the headline figure."""
        if self.headline == "stratified":
            s = self.stratified
            return (s.rate, s.low, s.high) if s else (None, None, None)
        return self.pooled.rate, self.pooled.low, self.pooled.high

    @property
    def headline_verdict(self) -> Verdict:
        return self.stratified_verdict if self.headline == "stratified" else self.pooled_verdict


def _children_counts(unit: Unit, months: list[Period], question_id: str, channels=None):
    """Per child of ``unit`` (its whole subtree): {value: count}, the number of responses
    and the number of comments (only the responses of ``channels`` when given)."""
    found = rollup.children_counts(
        unit, months, [question_id, rollup.RESPONSES, rollup.COMMENTS], channels=channels
    )
    raw = {child: counts.get(question_id, {}) for child, counts in found.items()}
    responses = {
        child: counts.get(rollup.RESPONSES, {}).get("", 0) for child, counts in found.items()
    }
    comments = {
        child: sum(counts.get(rollup.COMMENTS, {}).values()) for child, counts in found.items()
    }
    return raw, responses, comments


@dataclass(frozen=True)
class ChildVolume:
    entered: int  # the counts entered for the period
    estimated: int | None  # entered plus the estimated missing months; None: no count at all
    months_estimated: tuple[str, ...]


def _volumes_by_child(unit: Unit, months: list[str]) -> dict[int, ChildVolume]:
    """Dossiers each child (and the units below it) handled in the months, all fields.

    A month without a count for a unit at the bottom of the tree is estimated
    at that unit's average month among the months of the period that have one;
    a unit with no count in the whole period leaves its child without one.
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
    found: dict[int, ChildVolume] = {}
    for child, ids in leaves.items():
        entered, estimated, missing = 0, 0, set()
        for leaf in ids:
            known = volumes.get(leaf, {})
            entered += sum(known.values())
            if not known:
                estimated = None
                missing.update(months)
                continue
            gaps = [m for m in months if m not in known]
            missing.update(gaps)
            if estimated is not None:
                average = sum(known.values()) / len(known)
                estimated += sum(known.values()) + round(average * len(gaps))
        found[child] = ChildVolume(entered, estimated, tuple(m for m in months if m in missing))
    return found


def summarise_children(
    unit: Unit, period: Period, *, channels: frozenset[Channel] | None = None
) -> DistrictSummary:
    """The district's (or province's) figure from its direct children, and their comparison.

    Every answered commune is a stratum weighted by its dossiers. Months without
    a count are estimated from the commune's other months; a commune with no count
    at all is weighted at the district's ratio of dossiers to answers; with no
    count anywhere the district's figure is the pooled one. Each of these is a
    :class:`Note`, shown in words wherever the figure is. With ``channels``, only
    the responses that came by one of them are counted.
    """
    definition = definition_of(current_questionnaire())
    overall_q = definition.by_role("overall")
    year = period.end.year
    parent_target = effective_targets(unit, year, [])[OVERALL]

    months = period.months()
    children = sorted(unit.children, key=lambda u: u.name)
    raw, responses, comments = _children_counts(unit, months, overall_q.id, channels)
    volumes = _volumes_by_child(unit, [m.code for m in months])
    known = targets_of_units(children, year)
    rates = {
        child.id: question_rate(scale_counts(raw.get(child.id, {})), method=interval_method())
        for child in children
    }

    notes: list[Note] = [
        Note("calendar", c, value=c.report_cutoff_day, detail=unit.report_cutoff_day)
        for c in children
        if c.report_cutoff_day != unit.report_cutoff_day
    ]
    answered = [c for c in children if rates[c.id].valid > 0]
    without = tuple(c for c in children if rates[c.id].valid == 0)
    notes += [Note("no_responses", c) for c in without]
    with_count = [c for c in answered if volumes[c.id].estimated is not None]
    missing = tuple(c for c in answered if volumes[c.id].estimated is None)
    weights = WEIGHTS_NONE
    population: dict[int, float] = {}
    if with_count:
        weights = WEIGHTS_DOSSIERS
        for c in with_count:
            population[c.id] = volumes[c.id].estimated
            if volumes[c.id].months_estimated:
                weights = WEIGHTS_ESTIMATED
                notes.append(
                    Note("month_estimated", c, volumes[c.id].months_estimated, population[c.id])
                )
        if missing:
            weights = WEIGHTS_ESTIMATED
            ratio = sum(population.values()) / sum(rates[c.id].valid for c in with_count)
            for c in missing:
                population[c.id] = round(ratio * rates[c.id].valid)
                notes.append(Note("commune_estimated", c, value=population[c.id]))
        for c in answered:
            if population[c.id] < rates[c.id].valid:
                notes.append(
                    Note("raised", c, value=rates[c.id].valid, detail=int(population[c.id]))
                )
                population[c.id] = rates[c.id].valid

    rows = []
    for child in children:
        rate = rates[child.id]
        target = effective_targets(child, year, [], known=known)[OVERALL]
        verdict = interval_verdict(rate.low, rate.high, target.rate, rate.valid)
        weight = population.get(child.id)
        rows.append(
            ChildRow(
                child,
                rate,
                responses.get(child.id, 0),
                int(weight) if weight is not None else None,
                volumes[child.id].entered,
                target,
                verdict,
                comments.get(child.id, 0),
            )
        )

    strata = [
        Stratum(rates[c.id].satisfied, rates[c.id].valid, population[c.id], c.code)
        for c in answered
        if c.id in population
    ]
    stratified = None
    census = bool(strata) and all(s.n == s.population for s in strata)
    # With one answer per commune there is no within-commune spread to estimate
    # (no degrees of freedom): no weighted interval until more responses come.
    too_few = bool(strata) and not census and sum(s.n for s in strata) - len(strata) < 1
    if too_few:
        notes.append(Note("too_few"))
    elif strata:
        stratified = stratified_proportion(strata, fpc=True, single_response="adjust")
        if stratified.note:
            notes.append(Note(_ESTIMATOR_NOTES.get(stratified.note, "estimator")))
    total_valid = sum(rates[c.id].valid for c in answered)
    satisfied = sum(rates[c.id].satisfied for c in answered)
    pooled = question_rate(
        QuestionCounts(satisfied=satisfied, neutral=total_valid - satisfied),
        method=interval_method(),
    )
    strat_verdict = interval_verdict(
        stratified.low if stratified else None,
        stratified.high if stratified else None,
        parent_target.rate,
        total_valid,
    )
    pooled_verdict = interval_verdict(pooled.low, pooled.high, parent_target.rate, pooled.valid)
    # Within a group, by rate (what a reader expects); the rank range beside each
    # says how much of that order chance alone could change.
    ranked = [r for r in rows if r.rate.valid]
    if len(ranked) > 1 and len(ranked) <= MAX_RANKED:
        ranks = rank_probabilities([(r.rate.satisfied, r.rate.valid) for r in ranked])
        for r, rank in zip(ranked, ranks, strict=True):
            rows[rows.index(r)] = replace(r, rank_low=rank.low, rank_high=rank.high)
    ordered = sorted(
        rows, key=lambda r: (GROUP_ORDER[r.group], -(r.rate.rate or 0), r.unit.name, r.unit.code)
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
        weights=weights,
        missing_volumes=missing,
        without_responses=without,
        notes=tuple(notes),
        too_few_for_interval=too_few,
        channels=channels,
    )


_ESTIMATOR_NOTES = {
    NOTE_CENSUS: "census",
    NOTE_SINGLE_RESPONSE: "single_response",
    NOTE_ZERO_VARIANCE: "zero_variance",
}


def funnel_zone(satisfied: int, n: int, target: float) -> str:
    """Where a commune lies on the funnel, by the exact binomial tails of its own counts.

    Outside the 99.8 % funnel when a result at least this extreme has a chance
    below 0.1 % if the commune were exactly at the target; outside 95 % below 2.5 %.
    """
    from scipy.stats import binom  # loaded by the first district view, not at start

    at_least = binom.sf(satisfied - 1, n, target)  # P(X >= satisfied)
    at_most = binom.cdf(satisfied, n, target)  # P(X <= satisfied)
    for tail, zone in ((0.001, "998"), (0.025, "95")):
        if at_most < tail:
            return "below" + zone
        if at_least < tail:
            return "above" + zone
    return "inside"


def funnel_data(s: DistrictSummary):
    """Points (label, n, rate), their zones, and limit rows (n, lo95, hi95, lo998, hi998)
    of the district's communes: :func:`funnel_of`."""
    answered = [c for c in s.children if c.rate.valid]
    return funnel_of(
        [(c.unit.name, c.rate.satisfied, c.rate.valid) for c in answered], s.target.rate
    )


def funnel_of(rows, target: float):
    """Points (label, n, rate), their zones, and limit rows (n, lo95, hi95, lo998, hi998)
    for ``rows`` of (label, satisfied, valid) with ``valid >= 1``, around ``target``.

    The limits are the exact binomial steps of :func:`survey.stats.funnel_steps`
    at every whole n, and each point is classed by the same steps
    (:func:`survey.stats.funnel_class`): a dot drawn outside a line is coloured
    as outside it, always. (A target of 100 % has no funnel to speak of: the
    smooth limits and exact tails are used then.) Communes of a district and
    officers of a commune (survey/staff) are compared the same way.
    """
    points = [(label, valid, satisfied / valid) for label, satisfied, valid in rows]
    top = max([n for _, n, _ in points] + [10])
    if not 0 < target < 1:
        grid = sorted(set(range(1, int(top * 1.1) + 2)))
        inner = funnel_limits(target, grid, 0.95)
        outer = funnel_limits(target, grid, 0.998)
        zones = [funnel_zone(satisfied, valid, target) for _, satisfied, valid in rows]
        lows, highs, lows2, highs2 = inner.lower, inner.upper, outer.lower, outer.upper
    else:
        grid = list(range(1, int(top * 1.1) + 2))
        inner = funnel_steps(target, grid, 0.95)
        outer = funnel_steps(target, grid, 0.998)
        zones = [funnel_class(satisfied, valid, target) for _, satisfied, valid in rows]
        lows, highs, lows2, highs2 = inner.lower, inner.upper, outer.lower, outer.upper
    limits = [
        (n, lo, hi, lo2, hi2)
        for n, lo, hi, lo2, hi2 in zip(grid, lows, highs, lows2, highs2, strict=True)
    ]
    return points, zones, limits
