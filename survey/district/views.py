"""The dossier volumes that weight a district's communes: entered in a form or
imported from the one-stop software's monthly export.

(The district's dashboard is the officers' dashboard of a unit with communes.)
"""

from __future__ import annotations

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required

from survey.district import services
from survey.district.volumes import VolumeFileError
from survey.forms.officer import EmptyForm
from survey.web.lookup import resolve_period
from survey.web.lookup import visible_unit_or_404

bp = Blueprint(
    "district", __name__, template_folder="templates", url_prefix="/units/<unit_code>/volumes"
)


def _page(unit, month, errors: list[str], posted, status: int):
    leaves = unit.leaves()
    return render_template(
        "district/volumes.html",
        unit=unit,
        period=None,
        month=month,
        leaves=leaves,
        current=services.month_volumes(leaves, month),
        can_edit=any(current_user.may_set_volumes(leaf) for leaf in leaves),
        errors=errors,
        posted=posted,
        tab="volumes",
    ), status


@bp.route("", methods=["GET", "POST"])
@login_required
def volumes(unit_code: str):
    """Enter the dossiers each commune handled in a month, or import a file."""
    unit = visible_unit_or_404(unit_code)
    month = resolve_period(unit, request.args.get("month") or request.form.get("month"))
    if month.kind != "month":
        month = month.months()[-1]
    if request.method == "GET":
        return _page(unit, month, [], request.form, 200)
    if not EmptyForm().validate_on_submit():
        errors = [_("Your session has expired. Please reload the page and try again.")]
        return _page(unit, month, errors, request.form, 400)
    values = {leaf.code: request.form.get(f"v_{leaf.code}", "").strip() for leaf in unit.leaves()}
    confirmed = request.form.get("confirm") == "1"
    result = services.save_month(current_user, unit, month, values, confirmed=confirmed)
    if not result.ok:
        return _page(unit, month, list(result.errors), request.form, 422)
    flash(_("Saved %(n)d volumes.", n=result.saved), "info")
    return redirect(url_for("district.volumes", unit_code=unit.code, month=month.code), 303)


@bp.post("/import")
@login_required
def import_volumes(unit_code: str):
    """Import the one-stop software's monthly export: all rows or none."""
    unit = visible_unit_or_404(unit_code)
    upload = request.files.get("file")
    status = 422
    if not EmptyForm().validate_on_submit():
        errors = [_("Your session has expired. Please reload the page and try again.")]
        status = 400
    elif upload is None or not upload.filename:
        errors = [_("Please choose a file to import.")]
    else:
        try:
            result = services.import_file(
                current_user,
                unit,
                upload.filename,
                upload.read(),
                confirmed=request.form.get("confirm") == "1",
            )
        except VolumeFileError as exc:
            errors = [str(exc)]
            status = 415
        else:
            if result.ok:
                flash(_("Imported %(n)d volumes.", n=result.saved), "info")
                return redirect(url_for("district.volumes", unit_code=unit.code), 303)
            errors = list(result.errors)
    return _page(unit, resolve_period(unit, None), errors, {}, status)
