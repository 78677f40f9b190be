"""``/units/<unit_code>/reach``: who the survey hears, per unit, period and channel."""

from __future__ import annotations

from flask import Blueprint
from flask import render_template
from flask import request
from flask_login import login_required

from survey.reach.services import reach_rows
from survey.reports.summary import channel_split
from survey.web.lookup import period_choices
from survey.web.lookup import resolve_period
from survey.web.lookup import visible_unit_or_404

bp = Blueprint("reach", __name__, template_folder="templates", url_prefix="/units/<unit_code>")


@bp.get("/reach")
@login_required
def reach(unit_code: str):
    """Response rates: dossiers handled against ratings by channel, links and ballots
    handed out against answered, for the unit and each unit below it."""
    unit = visible_unit_or_404(unit_code)
    period = resolve_period(unit, request.args.get("period"))
    return render_template(
        "reach/reach.html",
        unit=unit,
        period=period,
        rows=reach_rows(unit, period),
        split=channel_split(unit, period),
        choices=period_choices(unit, period),
        picker_endpoint="reach.reach",
        tab="reach",
    )
