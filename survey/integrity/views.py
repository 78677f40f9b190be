"""Officers' side of the integrity controls: flagged responses, desks and posters.

- ``/units/<unit>/flagged``: responses kept but left out of the statistics,
  with the reason; district officers and administrators may reinstate them
  (or exclude them again), in the audit log. Commune officers see the list but
  do not judge their own unit's responses.
- ``/units/<unit>/desks``: per desk and period, how many phones opened the
  form (scans), how many forms were sent by each channel and flagged; each
  channel's rate side by side; the posters.
- ``/units/<unit>/posters.pdf``: every active desk's poster in one PDF.
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
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import AnyOf

from survey.citizen.links import poster_content
from survey.citizen.links import token_url
from survey.data.models import Role
from survey.data.models import Unit
from survey.data.queries import current_questionnaire
from survey.data.queries import definition_of
from survey.domain.params import bounded_int
from survey.integrity import services
from survey.integrity.tokens import find_token
from survey.render import posters
from survey.render import qr
from survey.reports.summary import channel_split
from survey.web.downloads import content_disposition
from survey.web.lookup import MAX_PAGE
from survey.web.lookup import poster_size_or_400
from survey.web.lookup import resolve_period
from survey.web.lookup import visible_unit_or_404
from survey.web.render_cache import cached

bp = Blueprint("integrity", __name__, template_folder="templates", url_prefix="/units/<unit_code>")
# The receipt slip's QR code: a public address printed on paper, under /t.
receipts = Blueprint("receipts", __name__, url_prefix="/t")


def flag_labels() -> dict[str, str]:
    return {
        "honeypot": _("Hidden anti-robot field filled in"),
        "too_fast": _("Sent faster than a person can read the form"),
        "unsigned": _("Form not served by this site (no valid time stamp)"),
        "appeal": _("Appeal upheld by the district"),
        "burst": _("More ratings than the desk or the network plausibly sends (burst)"),
        "replaced": _("Replaced by a later rating of the desk from the same phone"),
    }


class FlagActionForm(FlaskForm):
    action = HiddenField(validators=[AnyOf(["reinstate", "exclude"])])


def may_judge(unit: Unit) -> bool:
    """District officers and administrators judge flagged responses; communes do not."""
    return current_user.role in (Role.DISTRICT, Role.ADMIN) and current_user.can_see(unit)


@bp.app_context_processor
def _helpers():
    return {"flag_labels": flag_labels}


@bp.get("/flagged")
@login_required
def flagged(unit_code: str):
    """Responses flagged as likely automated or gamed, newest first, with the reason."""
    unit = visible_unit_or_404(unit_code)
    page = request.args.get("page", "1")
    page = bounded_int(page, 1, MAX_PAGE) or 1
    pagination = services.flagged_page(unit, page)
    definition = definition_of(current_questionnaire())
    return render_template(
        "officer/flagged.html",
        unit=unit,
        period=None,
        pagination=pagination,
        overall_q=definition.by_role("overall"),
        may_judge=may_judge(unit),
        form=FlagActionForm(),
        tab="flagged",
    )


@bp.post("/flagged/<int(max=9223372036854775807):response_id>")
@login_required
def judge(unit_code: str, response_id: int):
    """Reinstate a flagged response in the statistics, or exclude it again."""
    unit = visible_unit_or_404(unit_code)
    response = services.flagged_response(unit, response_id)
    if response is None:
        abort(404)
    if not may_judge(response.unit):
        abort(403, description=_("Only district officers may reinstate flagged responses."))
    form = FlagActionForm()
    if not form.validate_on_submit():
        abort(400)
    reinstate = form.action.data == "reinstate"
    services.judge(current_user, response, reinstate=reinstate)
    flash(
        _("Response reinstated in the statistics.")
        if reinstate
        else _("Response left out of the statistics."),
        "info",
    )
    return redirect(url_for("integrity.flagged", unit_code=unit.code) + f"#r{response.id}", 303)


@bp.get("/desks")
@login_required
def desks(unit_code: str):
    """Scans against submissions per desk, each channel's rate, and the posters."""
    unit = visible_unit_or_404(unit_code)
    period = resolve_period(unit, request.args.get("period"))
    return render_template(
        "officer/desks.html",
        unit=unit,
        period=period,
        rows=services.desk_rows(unit, period),
        split=channel_split(unit, period),
        tab="desks",
    )


@bp.get("/posters.pdf")
@login_required
def unit_posters(unit_code: str):
    """Every active desk's poster of the unit (and the units below it), one per page."""
    unit = visible_unit_or_404(unit_code)
    size = poster_size_or_400()
    desks_ = services.active_desks(unit)
    if not desks_:
        abort(404, description=_("This unit has no active desk."))
    contents = [poster_content(d) for d in desks_]
    data = cached("posters.pdf", (contents, size), lambda: posters.render_posters(contents, size))
    response = HttpResponse(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition(
        "attachment", f"posters-{unit.code}-{size}.pdf"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@receipts.get("/<code>/qr.png")
def token_qr(code: str):
    """The QR code of a token's URL, to print on the receipt slip."""
    token = find_token(code)
    if token is None:
        abort(404)
    scale = request.args.get("scale", "6")
    box = bounded_int(scale, 2, 40) or 6
    response = HttpResponse(qr.png(token_url(token), box_size=box), mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
