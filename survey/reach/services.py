"""Response rates where they can be known.

A satisfaction rate speaks for the citizens who answered. How many of those who
had a dossier handled did answer, and by which channel, says how far it can be
trusted: dossiers handled (the volumes the district enters) against ratings per
channel; receipt links issued against used; and, where the channels keep their
own counts, paper ballots printed against entered and invitations sent against
answered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field

import sqlalchemy as sa

from survey.data import rollup
from survey.data.models import DossierVolume
from survey.data.models import ReceiptToken
from survey.data.models import Unit
from survey.domain.channels import ORDER as CHANNEL_ORDER
from survey.domain.channels import Channel
from survey.domain.periods import Period
from survey.domain.periods import parse_period
from survey.extensions import db


@dataclass(frozen=True)
class Sent:
    """Something handed out to be answered (receipt links, ballots, invitations)."""

    handed_out: int
    answered: int

    @property
    def rate(self) -> float | None:
        return self.answered / self.handed_out if self.handed_out else None


@dataclass(frozen=True)
class ReachRow:
    unit: Unit
    period: Period
    #: Dossiers entered for the period's months (None: no count at all).
    dossiers: int | None
    #: Months of the period without a dossier count for some commune.
    months_missing: tuple[str, ...]
    #: Counted ratings by channel.
    ratings: dict[Channel, int]
    #: Per channel that keeps its own count: what was handed out and answered.
    sent: dict[Channel, Sent] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.ratings.values())

    @property
    def rate(self) -> float | None:
        """Ratings per dossier handled (only when every month has a count)."""
        if not self.dossiers or self.months_missing:
            return None
        return self.total / self.dossiers

    def channel_rate(self, channel: Channel) -> float | None:
        if not self.dossiers or self.months_missing:
            return None
        return self.ratings.get(channel, 0) / self.dossiers


#: Counts that other channels keep (paper ballots printed and entered, invitations
#: sent and answered): each a function (unit, period) → Sent, registered by the
#: feature that owns the channel.
SENT_COUNTERS: dict[Channel, Callable[[Unit, Period], Sent]] = {}


def register_sent_counter(channel: Channel, counter: Callable[[Unit, Period], Sent]) -> None:
    SENT_COUNTERS[channel] = counter


def reach_rows(unit: Unit, period: Period) -> list[ReachRow]:
    """The unit's row, then one per unit directly below it (a district's communes)."""
    units = [unit, *sorted(unit.children, key=lambda u: u.name)]
    return [
        _row(u, period if u is unit else parse_period(period.code, u.report_cutoff_day))
        for u in units
    ]


def _row(unit: Unit, period: Period) -> ReachRow:
    months = [m.code for m in period.months()]
    ratings: dict[Channel, int] = {}
    for channel, n in rollup.counts(
        unit.id, period.months(), ("channel",), question_ids=[rollup.RESPONSES]
    ):
        ratings[Channel(channel)] = ratings.get(Channel(channel), 0) + n
    dossiers, missing = _dossiers(unit, months)
    sent = {Channel.RECEIPT: _receipts(unit, period)}
    for channel, counter in SENT_COUNTERS.items():
        sent[channel] = counter(unit, period)
    return ReachRow(
        unit=unit,
        period=period,
        dossiers=dossiers,
        months_missing=missing,
        ratings={c: ratings[c] for c in CHANNEL_ORDER if ratings.get(c)},
        sent={c: sent[c] for c in CHANNEL_ORDER if c in sent and sent[c].handed_out},
    )


def _dossiers(unit: Unit, months: list[str]) -> tuple[int | None, tuple[str, ...]]:
    """Dossiers the communes of ``unit`` handled in the months, and the months lacking a
    count for one of them."""
    leaves = [u.id for u in unit.leaves()] or [unit.id]
    found: dict[int, dict[str, int]] = {}
    for unit_id, month, dossiers in db.session.execute(
        sa.select(DossierVolume.unit_id, DossierVolume.month, DossierVolume.dossiers).where(
            DossierVolume.unit_id.in_(leaves),
            DossierVolume.month.in_(months),
            DossierVolume.procedure_field == "",
        )
    ):
        found.setdefault(unit_id, {})[month] = dossiers
    if not found:
        return None, tuple(months)
    missing = tuple(m for m in months if any(m not in found.get(leaf, {}) for leaf in leaves))
    return sum(sum(v.values()) for v in found.values()), missing


def _receipts(unit: Unit, period: Period) -> Sent:
    """Receipt links issued in the period and how many of them were used."""
    start, end = period.utc_bounds()
    issued, used = db.session.execute(
        sa.select(
            sa.func.count(ReceiptToken.id),
            sa.func.count(ReceiptToken.used_at),
        ).where(
            ReceiptToken.unit_id.in_(unit.subtree_ids()),
            ReceiptToken.created_at >= start,
            ReceiptToken.created_at < end,
        )
    ).one()
    return Sent(handed_out=issued, answered=used)
