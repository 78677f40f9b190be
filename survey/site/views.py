"""The site's root: a plain landing page, and the liveness check for load
balancers and monitoring."""

import sqlalchemy as sa
from flask import Blueprint
from flask import jsonify
from flask import render_template

from survey.extensions import db

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
