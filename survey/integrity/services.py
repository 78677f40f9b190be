"""Integrity use cases: flagged responses and their judgement, what each desk
received, and the desks that take responses."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from survey.data.audit import record
from survey.data.models import Desk
from survey.data.models import DeskScanDay
from survey.data.models import Officer
from survey.data.models import SurveyResponse
from survey.data.models import Unit
from survey.domain.channels import Channel
from survey.domain.periods import Period
from survey.extensions import db


@dataclass(frozen=True)
class DeskRow:
    desk: Desk
    scans: int
    #: Counted responses by channel (flagged ones are apart).
    by_channel: dict[str, int]
    flagged: int

    @property
    def verified(self) -> int:
        return self.by_channel.get(Channel.RECEIPT, 0)

    @property
    def open(self) -> int:
        return self.by_channel.get(Channel.QR, 0)

    @property
    def sent(self) -> int:
        return sum(self.by_channel.values()) + self.flagged

    @property
    def sent_per_scan(self) -> float | None:
        return self.sent / self.scans if self.scans else None


def desk_rows(unit: Unit, period: Period) -> list[DeskRow]:
    """Scans and submissions per desk of the unit (and the units below it) in a period."""
    unit_ids = unit.subtree_ids()
    desks = list(
        db.session.scalars(
            sa.select(Desk)
            .join(Unit, Unit.id == Desk.unit_id)
            .where(Desk.unit_id.in_(unit_ids))
            .order_by(Unit.name, Desk.code)
        )
    )
    scans = dict(
        db.session.execute(
            sa.select(DeskScanDay.desk_id, sa.func.sum(DeskScanDay.scans))
            .where(
                DeskScanDay.desk_id.in_([d.id for d in desks]),
                DeskScanDay.day >= period.start,
                DeskScanDay.day <= period.end,
            )
            .group_by(DeskScanDay.desk_id)
        ).all()
    )
    start, end = period.utc_bounds()
    by_channel: dict[int, dict[str, int]] = {}
    flagged: dict[int, int] = {}
    for desk_id, channel, is_flagged, n in db.session.execute(
        sa.select(
            SurveyResponse.desk_id,
            SurveyResponse.channel,
            SurveyResponse.flagged,
            sa.func.count(SurveyResponse.id),
        )
        .where(
            SurveyResponse.unit_id.in_(unit_ids),
            SurveyResponse.submitted_at >= start,
            SurveyResponse.submitted_at < end,
        )
        .group_by(SurveyResponse.desk_id, SurveyResponse.channel, SurveyResponse.flagged)
    ):
        if is_flagged:
            flagged[desk_id] = flagged.get(desk_id, 0) + n
        else:
            by_channel.setdefault(desk_id, {})[channel] = n
    return [
        DeskRow(
            desk=d,
            scans=int(scans.get(d.id) or 0),
            by_channel=by_channel.get(d.id, {}),
            flagged=flagged.get(d.id, 0),
        )
        for d in desks
    ]


def active_desks(unit: Unit) -> list[Desk]:
    """The active desks of a unit and the units below it, by unit name then code."""
    return list(
        db.session.scalars(
            sa.select(Desk)
            .join(Unit, Unit.id == Desk.unit_id)
            .where(Desk.unit_id.in_(unit.subtree_ids()), Desk.active.is_(True))
            .order_by(Unit.name, Desk.code)
        )
    )


PAGE_SIZE = 50


def flagged_page(unit: Unit, page: int):
    """One page of the responses of ``unit`` (and below) that were flagged, newest first."""
    query = (
        sa.select(SurveyResponse)
        .where(
            SurveyResponse.unit_id.in_(unit.subtree_ids()),
            SurveyResponse.flag_reason.is_not(None),
        )
        .order_by(SurveyResponse.submitted_at.desc(), SurveyResponse.id.desc())
    )
    return db.paginate(query, page=page, per_page=PAGE_SIZE, error_out=False)


def flagged_response(unit: Unit, response_id: int) -> SurveyResponse | None:
    """The flagged response, if it belongs to ``unit`` or a unit below it."""
    response = db.session.get(SurveyResponse, response_id)
    if response is None or response.unit_id not in unit.subtree_ids():
        return None
    return response if response.flag_reason is not None else None


def judge(officer: Officer, response: SurveyResponse, *, reinstate: bool) -> None:
    """Reinstate a flagged response in the statistics (or exclude it again), audited.

    Repeating the current state changes nothing and records nothing.
    """
    if response.flagged != reinstate:
        return
    response.flagged = not reinstate
    record(
        "reinstate" if reinstate else "exclude",
        officer=officer,
        unit=response.unit,
        response=response,
        detail=f"flag: {response.flag_reason}",
    )
    db.session.commit()
