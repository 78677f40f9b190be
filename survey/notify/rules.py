"""A unit's alert rules: its own row, else the nearest unit above it with one, else
the defaults (:class:`survey.domain.alerts.Rules`)."""

from __future__ import annotations

import sqlalchemy as sa

from survey.data.audit import record
from survey.data.models import AlertRule
from survey.data.models import Officer
from survey.data.models import Unit
from survey.data.models import utcnow
from survey.domain.alerts import Rules
from survey.extensions import db

FIELDS = (
    "harassment",
    "run_min_responses",
    "run_negative_percent",
    "run_window_minutes",
    "comments",
    "comment_hour",
    "group_minutes",
)


def _as_rules(row: AlertRule) -> Rules:
    return Rules(**{name: getattr(row, name) for name in FIELDS})


def rules_for(unit: Unit) -> Rules:
    chain = [unit, *unit.ancestors()]
    rows = {
        r.unit_id: r
        for r in db.session.scalars(
            sa.select(AlertRule).where(AlertRule.unit_id.in_([u.id for u in chain]))
        )
    }
    for u in chain:
        if u.id in rows:
            return _as_rules(rows[u.id])
    return Rules()


def set_rules(unit: Unit, officer: Officer | None = None, **changes) -> Rules:
    """Store ``unit``'s rules (what is not given is inherited as it is now), with an
    audit entry, in one transaction.

    :raise survey.domain.alerts.RuleError: for impossible numbers; nothing is stored.
    """
    current = rules_for(unit)
    merged = {name: getattr(current, name) for name in FIELDS}
    merged.update({k: v for k, v in changes.items() if v is not None})
    rules = Rules(**merged)  # checks the numbers before anything is written
    row = db.session.scalar(sa.select(AlertRule).where(AlertRule.unit_id == unit.id))
    if row is None:
        row = AlertRule(unit_id=unit.id)
        db.session.add(row)
    for name in FIELDS:
        setattr(row, name, getattr(rules, name))
    row.updated_at = utcnow()
    record(
        "alert_rules",
        officer=officer,
        unit=unit,
        detail=", ".join(f"{name}={getattr(rules, name)}" for name in FIELDS),
    )
    db.session.commit()
    return rules
