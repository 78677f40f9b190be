"""Request helpers shared by the officers' pages: the unit and period a URL names."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import abort
from flask import request
from flask_babel import gettext as _
from flask_login import current_user

from survey.data.models import Unit
from survey.domain.periods import Period
from survey.domain.periods import PeriodError
from survey.domain.periods import parse_period
from survey.domain.periods import period_containing
from survey.domain.periods import today_in_vietnam
from survey.extensions import db
from survey.render import posters
from survey.web.i18n import current_lang

# Far beyond any real list (50 a page); any other page number shows the first page.
MAX_PAGE = 10_000


def visible_unit_or_404(code: str) -> Unit:
    """The unit with this code, if the signed-in officer may see it; else 404."""
    unit = db.session.scalar(sa.select(Unit).where(Unit.code == code.strip().upper()))
    if unit is None or not current_user.can_see(unit):
        abort(
            404,
            description=_("There is no unit with the code %(code)s that you can see.", code=code),
        )
    return unit


def resolve_period(unit: Unit, code: str | None) -> Period:
    """The reporting period asked for (default: the current month), or 400 with the reason."""
    today = today_in_vietnam()
    if not code:
        return period_containing(today, "month", unit.report_cutoff_day)
    try:
        period = parse_period(code, unit.report_cutoff_day)
    except PeriodError:
        abort(
            400,
            description=_(
                "The reporting period %(code)s is not valid. Use YYYY-MM (month), "
                "YYYY-Qn (quarter), YYYY-H1, YYYY-9M or YYYY (year).",
                code=code,
            ),
        )
    if period.is_future(today):
        abort(
            400,
            description=_(
                "The reporting period %(period)s has not started yet.",
                period=period.label(current_lang()),
            ),
        )
    return period


def period_choices(unit: Unit, period: Period) -> list[tuple[str, str]]:
    """Quick links: this month, last month, this quarter, half year, nine months, year."""
    today = today_in_vietnam()
    cutoff = unit.report_cutoff_day
    this_month = period_containing(today, "month", cutoff)
    previous = period_containing(this_month.start - timedelta(days=1), "month", cutoff)
    kinds = [this_month, previous] + [
        period_containing(today, kind, cutoff)
        for kind in ("quarter", "half", "nine_months", "year")
    ]
    seen, choices = set(), []
    for p in kinds:
        if p.code not in seen:
            seen.add(p.code)
            choices.append((p.code, p.label(current_lang())))
    return choices


def poster_size_or_400() -> str:
    size = request.args.get("size", "A4").upper()
    if size not in posters.SIZES:
        abort(400, description=_("The poster size must be A4 or A5."))
    return size
