"""The floor of ``bench/submissions.py``: the least a form submission can cost.

A minimal Flask app with one endpoint, ``POST /s/<desk_code>``, that parses the
posted form and stores it with a single raw ``INSERT`` (one row, the answers as
JSON) through the database's own driver into a small table of its own in the
*same* database as the real app: the SQLite file with the app's durability
settings (WAL, ``synchronous=FULL``), or the PostgreSQL database (one
autocommitted statement, the server's own durability settings). It then
answers ``303`` to a thank-you URL like the real form. No ORM, no CSRF, no
rate limits, no templates: whatever the real app spends beyond this is its own.

A repeated ``submission_id`` is answered ``303`` and stored once (the unique
constraint), as the real app does, so the bench's retry of a dropped
connection cannot count twice.

Served by gunicorn exactly like the app, ``FLOOR_DATABASE`` being a SQLite file
or a ``postgresql://`` URL:
``FLOOR_DATABASE=/path/survey.db gunicorn bench.floor_app:app``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from datetime import UTC
from datetime import datetime

from flask import Flask
from flask import redirect
from flask import request

TABLE = "bench_floor_response"

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id {{id}} PRIMARY KEY,
    submission_id VARCHAR(36) NOT NULL UNIQUE,
    desk_code VARCHAR(32) NOT NULL,
    submitted_at TEXT NOT NULL,
    answers TEXT NOT NULL,
    comment TEXT
)
"""

COLUMNS = "submission_id, desk_code, submitted_at, answers, comment"


def is_postgresql(target: str) -> bool:
    return target.startswith(("postgresql://", "postgresql+psycopg://"))


def sqlalchemy_url(target: str) -> str:
    """The SQLAlchemy URL of a bench target (a SQLite file or a PostgreSQL URL), with
    the psycopg driver the app uses."""
    if is_postgresql(target):
        return target.replace("postgresql://", "postgresql+psycopg://", 1)
    return f"sqlite:///{target}"


class Store:
    """One driver connection per worker thread (opened once) and the INSERT in its
    parameter style."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.postgresql = is_postgresql(target)
        marks = ", ".join(["%s" if self.postgresql else "?"] * 5)
        self.insert = f"INSERT INTO {TABLE} ({COLUMNS}) VALUES ({marks})"
        self.local = threading.local()
        if self.postgresql:
            import psycopg

            self.duplicate: type[Exception] = psycopg.errors.UniqueViolation
        else:
            self.duplicate = sqlite3.IntegrityError

    def connect(self):
        if self.postgresql:
            import psycopg

            return psycopg.connect(self.target.replace("+psycopg", ""), autocommit=True)
        # The pragmas the real app sets (survey/__init__.py); autocommit.
        conn = sqlite3.connect(
            self.target, timeout=10, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=10000")
        return conn

    def conn(self):
        if getattr(self.local, "conn", None) is None:
            self.local.conn = self.connect()
        return self.local.conn


def create_table(target: str) -> None:
    """Create the floor's table (the bench calls this before starting the servers)."""
    store = Store(target)
    conn = store.connect()
    try:
        identity = "BIGINT GENERATED ALWAYS AS IDENTITY" if store.postgresql else "INTEGER"
        conn.execute(SCHEMA.format(id=identity))
    finally:
        conn.close()


def create_app(target: str | None = None) -> Flask:
    """The floor app, writing to ``target`` (default: ``FLOOR_DATABASE``)."""
    store = Store(target or os.environ["FLOOR_DATABASE"])
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024

    @app.post("/s/<desk_code>")
    def respond(desk_code: str):
        """Store the posted form in one INSERT (autocommit: one durable commit)."""
        form = request.form
        answers = {k: v for k, v in form.items() if k.startswith("q_") and k != "q_comment"}
        try:
            store.conn().execute(
                store.insert,
                (
                    form["submission_id"],
                    desk_code,
                    datetime.now(UTC).isoformat(),
                    json.dumps(answers),
                    form.get("q_comment") or None,
                ),
            )
        except store.duplicate:
            pass  # the same submission again: stored once, thanked again
        return redirect(f"/s/{desk_code}/thanks", 303)

    @app.get("/healthz")
    def healthz():
        """Readiness probe for the bench."""
        store.conn().execute("SELECT 1").fetchone()
        return {"status": "ok"}

    return app


app = create_app() if "FLOOR_DATABASE" in os.environ else None
