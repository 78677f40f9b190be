"""Request helpers shared by the officers' pages: the unit and period a URL names."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import abort
from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import BadRequest

from survey.data.models import Unit
from survey.domain.channels import ORDER as CHANNEL_ORDER
from survey.domain.channels import Channel
from survey.domain.channels import parse as parse_channel
from survey.domain.periods import TYPED_EXAMPLES
from survey.domain.periods import Period
from survey.domain.periods import PeriodError
from survey.domain.periods import parse_typed_period
from survey.domain.periods import period_containing
from survey.domain.periods import recent_periods
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


class BadPeriod(BadRequest):
    """A period that cannot be shown: 400, and the officer's page re-shown with the reason.

    ``web/errors.py`` renders it inside the officers' layout (the unit's tabs,
    the period picker with what was typed, the reason) rather than a bare
    error page; the API answers it as JSON like any other 400.
    """

    def __init__(self, unit: Unit, typed: str, reason: str) -> None:
        super().__init__(description=reason)
        self.unit = unit
        self.typed = typed


def resolve_period(unit: Unit, code: str | None) -> Period:
    """The reporting period asked for (default: the current month), or 400 with the reason.

    Accepts URL codes ("2026-11", "2026-Q3") and what people type in the
    period box ("11/2026", "T11/2026", "quý 3/2026", "6T/2026", "2026"):
    ``domain/periods.parse_typed_period``.
    """
    today = today_in_vietnam()
    if not code:
        return period_containing(today, "month", unit.report_cutoff_day)
    try:
        period = parse_typed_period(code, unit.report_cutoff_day)
    except PeriodError:
        raise BadPeriod(
            unit,
            code,
            _(
                "The reporting period %(code)s is not valid. Type for example %(examples)s, "
                "or choose one from the list.",
                code=code,
                examples=TYPED_EXAMPLES,
            ),
        ) from None
    if period.is_future(today):
        raise BadPeriod(
            unit,
            code,
            _(
                "The reporting period %(period)s has not started yet.",
                period=period.label(current_lang()),
            ),
        )
    return period


PERIOD_GROUPS = (
    ("month", _l("Months")),
    ("quarter", _l("Quarters")),
    ("half", _l("Half years")),
    ("nine_months", _l("Nine months")),
    ("year", _l("Years")),
)


def period_groups(unit: Unit) -> list[tuple[str, list[tuple[str, str]]]]:
    """The recent periods for the picker's list, grouped by kind: (heading, [(code, label)])."""
    recent = recent_periods(today_in_vietnam(), unit.report_cutoff_day)
    lang = current_lang()
    return [
        (str(heading), [(p.code, p.label(lang)) for p in recent[kind]])
        for kind, heading in PERIOD_GROUPS
    ]


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


def channels_or_400(text: str | None) -> frozenset[Channel] | None:
    """The channels a ``channel`` query parameter names (comma-separated), None for all.

    Every page, download and API that shows a unit's figures takes it, so a figure
    can be read for the kiosk alone, or paper and interviews together.
    """
    if not text:
        return None
    found = set()
    for part in text.split(","):
        try:
            channel = parse_channel(part)
        except ValueError:
            abort(
                400,
                description=_(
                    "There is no rating channel called “%(name)s”. The channels are: %(known)s.",
                    name=part.strip(),
                    known=", ".join(CHANNEL_ORDER),
                ),
            )
        if channel is not None:
            found.add(channel)
    return frozenset(found) or None
