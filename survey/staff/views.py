"""``/units/<unit>/officers``: the officers' figures of a commune.

An officer sees their own figures; the commune's leader, the district's officers
and administrators see every officer's (403 for anyone else, and the view is
audited). Never public: every page needs a sign-in.
"""

from __future__ import annotations

from flask import Blueprint
from flask import Response as HttpResponse
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required

from survey.forms.officer import FEEDBACK_STATUSES
from survey.officers.accounts import NotACommuneOfficer
from survey.officers.accounts import set_leader as set_leader_of
from survey.reports.content import chart_bytes
from survey.staff import services
from survey.web.lookup import period_choices
from survey.web.lookup import resolve_period
from survey.web.lookup import visible_unit_or_404

bp = Blueprint(
    "staff", __name__, template_folder="templates", url_prefix="/units/<unit_code>/officers"
)


def _commune_or_404(unit_code: str):
    unit = visible_unit_or_404(unit_code)
    if unit.children:
        abort(
            404,
            description=_("Officers' figures are shown per commune: open one of its communes."),
        )
    return unit


def _subject_or_403(unit, username: str):
    """The officer whose figures are asked for, if the signed-in officer may see them."""
    own = username.strip().lower() == current_user.username
    if not own and not current_user.may_see_officers_of(unit):
        # Before looking the name up: a colleague's existence is not revealed either.
        abort(403, description=_("You may see only your own figures."))
    subject = services.officer_of(unit, username)
    if subject is None:
        abort(404, description=_("There is no such officer in this unit."))
    return subject


def _svg(drawing) -> HttpResponse:
    response = HttpResponse(chart_bytes(drawing, "svg"), mimetype="image/svg+xml")
    # Officers' figures: never kept by shared caches.
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("")
@login_required
def officers(unit_code: str):
    """Every officer's figures (leader, district, admin); an officer is sent to their own."""
    unit = _commune_or_404(unit_code)
    if not current_user.may_see_officers_of(unit):
        return redirect(
            url_for(
                "staff.officer",
                unit_code=unit.code,
                username=current_user.username,
                period=request.args.get("period"),
            )
        )
    period = resolve_period(unit, request.args.get("period"))
    page = services.all_officers(current_user, unit, period)
    return render_template(
        "staff/officers.html",
        unit=unit,
        period=period,
        page=page,
        choices=period_choices(unit, period),
        picker_endpoint="staff.officers",
        tab="staff",
    )


@bp.post("/leader")
@login_required
def set_leader(unit_code: str):
    """Name an officer of the commune its leader, or no longer (district, administrator)."""
    unit = _commune_or_404(unit_code)
    if not current_user.may_set_leader(unit):
        abort(
            403, description=_("Only the district or an administrator names the commune's leader.")
        )
    subject = services.officer_of(unit, request.form.get("username", "")[:64])
    if subject is None or subject.unit_id != unit.id:
        abort(404, description=_("There is no such officer in this unit."))
    leader = request.form.get("leader") == "1"
    try:
        set_leader_of(subject, leader, by=current_user)
    except NotACommuneOfficer:
        abort(422, description=_("Only a commune officer can be the commune's leader."))
    if leader:
        flash(_("%(name)s is now the commune's leader.", name=subject.full_name), "info")
    else:
        flash(_("%(name)s is no longer the commune's leader.", name=subject.full_name), "info")
    return redirect(
        url_for("staff.officers", unit_code=unit.code, period=request.args.get("period")), 303
    )


@bp.get("/funnel.svg")
@login_required
def funnel(unit_code: str):
    """The funnel plot of every officer with enough ratings (same permission, audited)."""
    unit = _commune_or_404(unit_code)
    if not current_user.may_see_officers_of(unit):
        abort(403, description=_("You may see only your own figures."))
    period = resolve_period(unit, request.args.get("period"))
    drawing = services.funnel_drawing(
        services.all_officers(current_user, unit, period, what="chart")
    )
    if drawing is None:
        abort(404, description=_("No officer has enough ratings in this period."))
    return _svg(drawing)


@bp.get("/<username>")
@login_required
def officer(unit_code: str, username: str):
    """One officer's figures and comments: their own, or (audited) for those allowed."""
    unit = _commune_or_404(unit_code)
    subject = _subject_or_403(unit, username)
    period = resolve_period(unit, request.args.get("period"))
    page = services.one_officer(current_user, unit, period, subject)
    return render_template(
        "staff/officer.html",
        unit=unit,
        period=period,
        page=page,
        row=page.rows[0],
        own=subject.id == current_user.id,
        choices=period_choices(unit, period),
        picker_endpoint="staff.officer",
        picker_args={"username": subject.username},
        statuses=FEEDBACK_STATUSES,
        tab="staff",
    )


@bp.get("/<username>/funnel.svg")
@login_required
def officer_funnel(unit_code: str, username: str):
    """One officer's point on the funnel around the unit's target (no one else's)."""
    unit = _commune_or_404(unit_code)
    subject = _subject_or_403(unit, username)
    period = resolve_period(unit, request.args.get("period"))
    page = services.one_officer(current_user, unit, period, subject, what="chart")
    drawing = services.funnel_drawing(page)
    if drawing is None:
        abort(404, description=_("Not enough ratings in this period."))
    return _svg(drawing)
