"""sipas-survey: citizen-satisfaction surveys for Vietnamese one-stop desks."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from survey.config import load_config
from survey.data import liveness
from survey.extensions import babel
from survey.extensions import csrf
from survey.extensions import db
from survey.extensions import migrate


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application.

    :param test_config: settings that override the environment (tests use it).
    """
    app = Flask(__name__, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(load_config(Path(app.instance_path)))
    if test_config:
        app.config.from_mapping(test_config)
    if app.config.get("SURVEY_PROXY_FIX_X_FOR"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Behind a reverse proxy remote_addr is the proxy's: trust that many
        # X-Forwarded-For hops, so the per-IP limits see the citizen's address.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["SURVEY_PROXY_FIX_X_FOR"])

    if not app.debug and not app.testing:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        app.logger.addHandler(handler)
        app.logger.setLevel(logging.INFO)

    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            liveness.ping_when_idle(engine, app.config["SURVEY_DB_PING_IDLE_SECONDS"])
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    csrf.init_app(app)

    from survey import cli
    from survey.api import views as api
    from survey.citizen import views as citizen
    from survey.data import rollup
    from survey.district import views as district
    from survey.integrity import guard
    from survey.integrity import views as integrity
    from survey.interviews import views as interviews
    from survey.invitations import services as invitation_services
    from survey.invitations import views as invitations
    from survey.kiosk import views as kiosk
    from survey.officers import auth
    from survey.officers import views as officers
    from survey.paper import views as paper
    from survey.reach import views as reach
    from survey.reports import views as reports
    from survey.site import views as site
    from survey.staff import views as staff
    from survey.web import errors
    from survey.web import i18n
    from survey.web import presenters
    from survey.web import replica
    from survey.web import security
    from survey.web import wire

    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    i18n.init_app(app)
    presenters.init_app(app)
    auth.init_app(app)
    for blueprint in (
        site.bp,
        citizen.bp,
        officers.bp,
        district.bp,
        reports.bp,
        integrity.bp,
        integrity.receipts,
        invitations.bp,
        api.bp,
        paper.bp,
        paper.links,
        kiosk.bp,
        reach.bp,
        interviews.bp,
        interviews.field,
        staff.bp,
    ):
        app.register_blueprint(blueprint)
    errors.init_app(app)
    security.init_app(app)
    wire.init_app(app)
    replica.init_app(app)
    guard.init_app(app)
    invitation_services.init_app(app)
    cli.init_app(app)
    rollup.install()
    return app


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """Make SQLite durable and concurrent enough for several gunicorn workers.

    WAL lets readers and one writer work at once; synchronous=FULL makes a
    commit survive power loss, which an acknowledged response must.
    """
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
