"""Satisfaction targets: data per unit, year and procedure field, inherited down the tree.

The plans set ≥ 90 % overall (Nghị quyết 76/NQ-CP) and ≥ 85 % for land,
construction and investment (Lục Ngạn 2024); a unit may set its own. The
strictest target in the chain wins, whatever the order in which they were set:
a commune may tighten, never loosen, what it inherits.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from survey.data.models import Target
from survey.data.models import Unit
from survey.extensions import db

OVERALL = ""
#: Used when no unit in the chain has set a target.
DEFAULT_TARGETS = {OVERALL: 0.90, "dat_dai": 0.85, "xay_dung": 0.85, "dau_tu": 0.85}


@dataclass(frozen=True)
class EffectiveTarget:
    field: str
    rate: float
    set_by: Unit | None  # None: the national default

    @property
    def percent(self) -> float:
        return round(self.rate * 100, 1)


def _targets_of(units: list[Unit], year: int) -> dict[int, dict[str, float]]:
    rows = db.session.scalars(
        sa.select(Target).where(Target.unit_id.in_([u.id for u in units]), Target.year == year)
    )
    found: dict[int, dict[str, float]] = {}
    for row in rows:
        found.setdefault(row.unit_id, {})[row.procedure_field] = row.rate
    return found


def effective_targets(
    unit: Unit, year: int, fields: list[str], *, known: dict[int, dict[str, float]] | None = None
) -> dict[str, EffectiveTarget]:
    """The target for the overall rate and for each procedure field of ``unit`` in ``year``.

    For each field: the strictest target set for that field by the unit or any unit
    above it (the nearest one on a tie); else, for land, construction and
    investment, the 85 % default; else the overall target.
    ``known`` (from :func:`targets_of_units`) saves the query when many units are asked.
    """
    chain = [unit, *unit.ancestors()]
    set_by_unit = known if known is not None else _targets_of(chain, year)

    def nearest(field: str) -> EffectiveTarget | None:
        found = [
            EffectiveTarget(field, rate, candidate)
            for candidate in chain
            if (rate := set_by_unit.get(candidate.id, {}).get(field)) is not None
        ]
        # max() keeps the first of equals: the nearest unit's target on a tie.
        return max(found, key=lambda target: target.rate) if found else None

    overall = nearest(OVERALL) or EffectiveTarget(OVERALL, DEFAULT_TARGETS[OVERALL], None)
    result = {OVERALL: overall}
    for field in fields:
        explicit = nearest(field)
        if explicit is not None:
            result[field] = explicit
        elif field in DEFAULT_TARGETS:
            result[field] = EffectiveTarget(field, DEFAULT_TARGETS[field], None)
        else:
            result[field] = EffectiveTarget(field, overall.rate, overall.set_by)
    return result


def targets_of_units(units: list[Unit], year: int) -> dict[int, dict[str, float]]:
    """The targets set by ``units`` and all their ancestors in ``year``, in one query."""
    chain = {u.id: u for unit in units for u in (unit, *unit.ancestors())}
    return _targets_of(list(chain.values()), year)


def inherited_target(unit: Unit, year: int, field: str, fields: list[str]) -> EffectiveTarget:
    """What ``unit`` would have for ``field`` without a target of its own."""
    if unit.parent is None:
        base = DEFAULT_TARGETS.get(field, DEFAULT_TARGETS[OVERALL])
        return EffectiveTarget(field, base, None)
    return effective_targets(unit.parent, year, fields)[field]


def set_target(unit: Unit, year: int, field: str, rate: float, officer_id: int | None) -> Target:
    """Create or update a unit's target (the caller checks permissions and commits)."""
    row = db.session.scalar(
        sa.select(Target).where(
            Target.unit_id == unit.id, Target.year == year, Target.procedure_field == field
        )
    )
    if row is None:
        row = Target(unit_id=unit.id, year=year, procedure_field=field, rate=rate)
        db.session.add(row)
    row.rate = rate
    row.updated_by_id = officer_id
    return row
