"""``/units/<unit>/invitations``: invitations sent to citizens who filed online, and
how many of them answered, for the unit (a district: per commune) and period."""

from __future__ import annotations

from flask import Blueprint
from flask import render_template
from flask import request
from flask_login import login_required

from survey.invitations import services
from survey.web.lookup import resolve_period
from survey.web.lookup import visible_unit_or_404

bp = Blueprint(
    "invitations", __name__, template_folder="templates", url_prefix="/units/<unit_code>"
)


@bp.get("/invitations")
@login_required
def invitations(unit_code: str):
    """Sent against answered invitations, for the period."""
    unit = visible_unit_or_404(unit_code)
    period = resolve_period(unit, request.args.get("period"))
    return render_template(
        "officer/invitations.html",
        unit=unit,
        period=period,
        total=services.counts(unit, period),
        rows=services.rows_by_child(unit, period),
        tab="invitations",
    )
