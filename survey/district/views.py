"""The dossier volumes that weight a district's communes: entered in a form or
imported from the one-stop software's monthly export.

(The district's dashboard is the officers' dashboard of a unit with communes.)
"""

from __future__ import annotations

from flask import Blueprint
from flask import Response
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
from survey.render.exports import Table
from survey.render.exports import to_csv
from survey.render.exports import to_xlsx
from survey.web.lookup import resolve_period
from survey.web.lookup import visible_unit_or_404

bp = Blueprint(
    "district", __name__, template_folder="templates", url_prefix="/units/<unit_code>/volumes"
)


def _month(unit, code: str | None):
    """The month asked for (a longer period means its last month); default this month."""
    month = resolve_period(unit, code)
    return month if month.kind == "month" else month.months()[-1]


def _page(unit, month, errors: list[str], posted, status: int):
    # The stored volumes are shown beside the boxes whatever happened: after a
    # refused save or import the officer still sees what is in force.
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
    month = _month(unit, request.args.get("month") or request.form.get("month"))
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
    month = _month(unit, request.form.get("month"))
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
                return redirect(
                    url_for("district.volumes", unit_code=unit.code, month=month.code), 303
                )
            errors = list(result.errors)
    return _page(unit, month, errors, {}, status)


@bp.get("/template.<any(csv, xlsx):fmt>")
@login_required
def template(unit_code: str, fmt: str):
    """A volumes file to fill in: the district's communes and the chosen month."""
    unit = visible_unit_or_404(unit_code)
    month = _month(unit, request.args.get("month"))
    header, rows = services.template_rows(unit, month)
    table = Table(_("Dossier volumes"), header, rows)
    if fmt == "csv":
        # "," and a header on line 1: the import reads it back as it is.
        data = to_csv([table], title_row=False)
        mimetype = "text/csv; charset=utf-8"
    else:
        data = to_xlsx([table], title_row=False, text_columns=frozenset({0, 2}))
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = Response(data, mimetype=mimetype)
    name = f"volumes-{unit.code}-{month.code}.{fmt}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
