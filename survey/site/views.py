"""The site's root: a plain landing page, and the liveness check for load
balancers and monitoring."""

import sqlalchemy as sa
from flask import Blueprint
from flask import Response
from flask import abort
from flask import jsonify
from flask import render_template
from flask_babel import gettext as _

from survey.extensions import db
from survey.render.exports import Table
from survey.render.exports import to_csv
from survey.site.results import OPEN_DATA_HEADER
from survey.site.results import open_data
from survey.site.results import public_results
from survey.site.results import public_unit

bp = Blueprint("site", __name__, template_folder="templates")


@bp.get("/healthz")
def healthz():
    """Answer 200 when the database answers, 503 otherwise."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


@bp.get("/")
def index():
    """A plain landing page: citizens arrive by QR code, not here."""
    return render_template("public/index.html")


@bp.get("/results/<unit_code>")
def results(unit_code: str):
    """A commune's or district's published results: no sign-in, nothing identifying."""
    unit = public_unit(unit_code)
    if unit is None:
        abort(404, description=_("There is no unit with the code %(code)s.", code=unit_code))
    page = render_template("public/results.html", r=public_results(unit))
    # Shared caches may keep it a few minutes: the same for everyone, and it
    # spares the database when a link is passed round.
    return page, 200, {"Cache-Control": "public, max-age=300"}


@bp.get("/results/<unit_code>/data.<any(json, csv):fmt>")
def results_data(unit_code: str, fmt: str):
    """The published figures as open data: the unit and each unit below it, last month and
    the year so far; a rate below the minimum number of answers is null (empty in CSV)."""
    unit = public_unit(unit_code)
    if unit is None:
        abort(404, description=_("There is no unit with the code %(code)s.", code=unit_code))
    rows = open_data(unit)
    headers = {"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"}
    if fmt == "json":
        return jsonify(unit=unit.code, rows=rows), 200, headers
    table = Table(unit.code, OPEN_DATA_HEADER, [[r[k] for k in OPEN_DATA_HEADER] for r in rows])
    response = Response(to_csv([table], title_row=False), mimetype="text/csv; charset=utf-8")
    response.headers.update(headers)
    disposition = f'attachment; filename="results-{unit.code}.csv"'
    response.headers["Content-Disposition"] = disposition
    return response
