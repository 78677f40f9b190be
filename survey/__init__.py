"""sipas-survey: citizen-satisfaction surveys for Vietnamese one-stop desks."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .config import load_config
from .extensions import babel
from .extensions import csrf
from .extensions import db
from .extensions import migrate


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
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    csrf.init_app(app)

    from . import i18n

    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    i18n.init_app(app)

    from . import auth
    from . import cli
    from . import errors
    from . import integrity
    from . import rollup
    from . import security
    from .views import district
    from .views import health
    from .views import integrity as integrity_views
    from .views import officer
    from .views import public
    from .views import reports
    from .views import tokens

    app.register_blueprint(public.bp)
    app.register_blueprint(health.bp)
    auth.init_app(app)
    app.register_blueprint(officer.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(tokens.bp)
    app.register_blueprint(integrity_views.bp)
    app.register_blueprint(district.bp)
    errors.init_app(app)
    security.init_app(app)
    integrity.init_app(app)
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
