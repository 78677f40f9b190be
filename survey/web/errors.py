"""Error pages in the citizen's language, with the right status."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from flask import render_template
from flask import request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from survey.extensions import db
from survey.web.lookup import BadPeriod
from survey.web.lookup import period_groups


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("The request could not be understood"), _("Please go back and try again.")),
        403: (_("Access denied"), _("You do not have permission to see this page.")),
        404: (
            _("Page not found"),
            _("Please check the code on the poster, or ask the staff at the desk."),
        ),
        405: (_("Not allowed"), _("This address does not accept that kind of request.")),
        410: (
            _("This code is no longer used"),
            _("The desk's QR code has been replaced. Please scan the new code at the desk."),
        ),
        413: (
            _("Too much data"),
            _("What you sent is too large. Please shorten your comment and try again."),
        ),
        415: (
            _("Unsupported format"),
            _("Please send the form from the survey page itself."),
        ),
        429: (_("Too many attempts"), _("Please wait a moment and try again.")),
        500: (_("Something went wrong"), _("Please try again in a moment.")),
        503: (
            _("Service temporarily unavailable"),
            _("Your answers were not saved. Please try again in a moment."),
        ),
    }


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def render_error(status: int, detail: str | None = None):
    title, hint = _messages().get(status, _messages()[500 if status >= 500 else 400])
    if _wants_json():
        return {"error": title, "detail": detail or hint, "status": status}, status
    return render_template(
        "errors/error.html", status=status, title=title, hint=detail or hint
    ), status


def _picker_endpoint() -> str:
    """Where the picker on the bad-period page leads: back to the page asked for,
    or the dashboard for a download."""
    if request.endpoint in ("officer.dashboard", "integrity.desks", "staff.officers"):
        return request.endpoint
    return "officer.dashboard"


def _rollback_quietly() -> None:
    """Roll back; if the database just closed the connection, drop it instead of raising."""
    try:
        db.session.rollback()
    except sa.exc.DBAPIError:
        db.session().invalidate()


def _release_session(exc: BaseException | None = None) -> None:
    """Close the request's session; if the database went away, drop the connection.

    Flask-SQLAlchemy's own teardown closes the session too, but closing rolls
    back, and a rollback on a connection the server has just closed (PostgreSQL
    restarting) raises after the response is built, turning a clear 503 into a
    bare 500. Registered after the extension, this runs first and leaves it
    nothing to do.
    """
    try:
        db.session.close()
    except sa.exc.DBAPIError:
        # The server closed the connection mid-transaction: forget this session
        # (invalidating what can be) so no later teardown retries the rollback.
        try:
            db.session().invalidate()
        except sa.exc.SQLAlchemyError:
            pass
        db.session.registry.clear()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_release_session)

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(
            400, _("Your session has expired. Please reload the page and try again.")
        )

    app.jinja_env.globals["period_groups"] = period_groups

    @app.errorhandler(BadPeriod)
    def bad_period(error: BadPeriod):
        # The officer typed or followed a period that cannot be shown: the page
        # again, inside the officers' layout, with the reason and the picker.
        if _wants_json():
            return render_error(400, error.description)
        page = render_template(
            "officer/bad_period.html",
            unit=error.unit,
            period=None,
            period_error=error.description,
            period_typed=error.typed,
            tab="dashboard",
            picker_endpoint=_picker_endpoint(),
        )
        return page, 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        # Werkzeug's own English descriptions are not for citizens; show only
        # a description the service set itself.
        default = type(error).description
        detail = error.description if error.description != default else None
        return render_error(error.code or 500, detail)

    # The database is down or restarting: say plainly that nothing was saved.
    @app.errorhandler(sa.exc.OperationalError)
    @app.errorhandler(sa.exc.InterfaceError)
    def database_error(error: sa.exc.DBAPIError):
        _rollback_quietly()
        app.logger.error("database error on %s %s: %s", request.method, request.path, error)
        return render_error(503)

    @app.errorhandler(Exception)
    def server_error(error: Exception):
        _rollback_quietly()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(500)
