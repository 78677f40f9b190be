"""The reporting calendar: the day each month's period starts (the cut-off day).

One calendar per district: it is set on a district (or a province) and applies
to every unit below it, so a period's name ("Tháng 11/2026") means the same
dates on a commune's page, the district's table, every download and the API.
Each unit keeps the day in ``report_cutoff_day`` (the rollup counts its months
with it); changing it recounts the units' rollups in the same transaction.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from survey.data.audit import record
from survey.data.models import Officer
from survey.data.models import SurveyResponse
from survey.data.models import Unit
from survey.data.models import UnitLevel
from survey.domain.periods import MAX_CUTOFF_DAY
from survey.extensions import db


class CalendarRefused(ValueError):
    """The calendar cannot be changed as asked; the message says why."""


def set_calendar(
    unit: Unit, day: int, *, officer: Officer | None = None, recount: bool = False
) -> int:
    """Set the cut-off day of ``unit`` and every unit below it; return how many changed.

    Refused for a commune (it follows its district), for a day outside 1–28, and,
    unless ``recount``, once responses are stored below ``unit``: their periods
    would change dates, and reports already sent would no longer match.

    :raise CalendarRefused: with the reason, in the user's language.
    """
    if unit.level == UnitLevel.COMMUNE:
        parent = unit.parent.name if unit.parent is not None else ""
        raise CalendarRefused(
            _("A commune follows its district's calendar: set it on %(unit)s.", unit=parent)
        )
    if not 1 <= day <= MAX_CUTOFF_DAY:
        raise CalendarRefused(
            _("The cut-off day must be between 1 and %(max)d.", max=MAX_CUTOFF_DAY)
        )
    units = unit.subtree()
    changed = [u for u in units if u.report_cutoff_day != day]
    if not changed:
        return 0
    stored = db.session.scalar(
        sa.select(sa.func.count(SurveyResponse.id)).where(
            SurveyResponse.unit_id.in_([u.id for u in changed])
        )
    )
    if stored and not recount:
        raise CalendarRefused(
            _(
                "%(n)d responses are already reported by the current calendar: changing it "
                "would change the dates of periods already reported. Use --recount to do it "
                "anyway.",
                n=stored,
            )
        )
    before = sorted({u.report_cutoff_day for u in changed})
    for u in changed:
        u.report_cutoff_day = day  # the rollup recounts these units at the flush
    record(
        "calendar",
        officer=officer,
        unit=unit,
        detail=f"cut-off day {', '.join(map(str, before))} → {day} for {len(changed)} units",
    )
    db.session.commit()
    return len(changed)


def calendar_outliers(unit: Unit) -> list[Unit]:
    """Units below ``unit`` whose calendar differs from its own (left from before
    calendars were set per district; :func:`set_calendar` on the district aligns them)."""
    return [u for u in unit.subtree() if u.report_cutoff_day != unit.report_cutoff_day]
