"""The floor of ``bench/submissions.py``: the least a form submission can cost.

A minimal Flask app with one endpoint, ``POST /s/<desk_code>``, that parses the
posted form and stores it with a single raw ``INSERT`` (one row, the answers as
JSON) into a small table of its own in the *same* SQLite file as the real app,
with the app's durability settings (WAL, ``synchronous=FULL``), then answers
``303`` to a thank-you URL like the real form. No ORM, no CSRF, no rate
limits, no templates: whatever the real app spends beyond this is its own.

A repeated ``submission_id`` is answered ``303`` and stored once (the unique
constraint), as the real app does, so the bench's retry of a dropped
connection cannot count twice.

Served by gunicorn exactly like the app:
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
    id INTEGER PRIMARY KEY,
    submission_id VARCHAR(36) NOT NULL UNIQUE,
    desk_code VARCHAR(32) NOT NULL,
    submitted_at TEXT NOT NULL,
    answers TEXT NOT NULL,
    comment TEXT
)
"""

INSERT = (
    f"INSERT INTO {TABLE} (submission_id, desk_code, submitted_at, answers, comment) "
    "VALUES (?, ?, ?, ?, ?)"
)


def connect(path: str) -> sqlite3.Connection:
    """A connection with the pragmas the real app sets (survey/__init__.py)."""
    conn = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


def create_table(path: str) -> None:
    """Create the floor's table (the bench calls this before starting the servers)."""
    conn = connect(path)
    try:
        conn.execute(SCHEMA)
    finally:
        conn.close()


def create_app(path: str | None = None) -> Flask:
    """The floor app, writing to ``path`` (default: ``FLOOR_DATABASE``)."""
    path = path or os.environ["FLOOR_DATABASE"]
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    local = threading.local()  # one connection per worker thread, opened once

    def conn() -> sqlite3.Connection:
        if getattr(local, "conn", None) is None:
            local.conn = connect(path)
        return local.conn

    @app.post("/s/<desk_code>")
    def respond(desk_code: str):
        """Store the posted form in one INSERT (autocommit: one durable commit)."""
        form = request.form
        answers = {k: v for k, v in form.items() if k.startswith("q_") and k != "q_comment"}
        try:
            conn().execute(
                INSERT,
                (
                    form["submission_id"],
                    desk_code,
                    datetime.now(UTC).isoformat(),
                    json.dumps(answers),
                    form.get("q_comment") or None,
                ),
            )
        except sqlite3.IntegrityError:
            pass  # the same submission again: stored once, thanked again
        return redirect(f"/s/{desk_code}/thanks", 303)

    @app.get("/healthz")
    def healthz():
        """Readiness probe for the bench."""
        conn().execute("SELECT 1").fetchone()
        return {"status": "ok"}

    return app


app = create_app() if "FLOOR_DATABASE" in os.environ else None
