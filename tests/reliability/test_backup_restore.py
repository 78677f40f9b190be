"""A pg_dump of a live database restores into a fresh one with identical figures.

This is the backup procedure of docs/OPERATIONS.md, run against the test
PostgreSQL server: ``pg_dump -Fc``, then ``pg_restore`` into a new database.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from datetime import UTC
from datetime import datetime

import sqlalchemy as sa

from survey import create_app
from survey.extensions import db
from tests.conftest import add_responses
from tests.conftest import sign_in
from tests.conftest import skip_or_fail
from tests.pg_server import find_bin

IN_MARCH = datetime(2025, 3, 5, 3, tzinfo=UTC)
IN_FEBRUARY = datetime(2025, 2, 3, 3, tzinfo=UTC)


def _app(url: str):
    return create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SURVEY_PUBLIC_BASE_URL": "https://x", "SURVEY_DEMO": True}
    )


def _run(*cmd: str, stdin: bytes | None = None) -> bytes:
    args = list(cmd)
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    done = subprocess.run(args, input=stdin, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


def _summaries(app) -> dict:
    client = app.test_client()
    assert sign_in(client, "camgiang").status_code == 302
    out = {}
    for path in (
        "/api/v1/units/HD-CG-LC/summary?period=2025-03",
        "/api/v1/units/HD-CG/summary?period=2025-03",
        "/api/v1/units/HD-CG/summary?period=2025-Q1",
        "/api/v1/units/HD-CG-LC/desks?period=2025-03",
    ):
        reply = client.get(path)
        assert reply.status_code == 200, path
        out[path] = reply.get_json()
    return out


def test_pg_dump_restores_to_identical_summaries(pg_server):
    pg_dump, pg_restore = find_bin("pg_dump"), find_bin("pg_restore")
    if not (pg_dump and pg_restore):
        skip_or_fail("pg_dump/pg_restore not found: install PostgreSQL 15 (postgresql-client)")
    source, target = ("b_" + uuid.uuid4().hex[:10] for _ in range(2))
    with pg_server.admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {source} TEMPLATE survey_template"))
        conn.execute(sa.text(f"CREATE DATABASE {target}"))
    apps = []
    try:
        original = _app(f"{pg_server.base}/{source}")
        apps.append(original)
        from survey.cli import demo
        from survey.data.queries import ensure_questionnaire

        with original.app_context():
            ensure_questionnaire()
            demo.load_units_and_desks()
            demo.load_officers()
        add_responses(original, "LC-01", IN_MARCH, {"5": 30, "4": 8, "3": 2}, comment="Tốt")
        add_responses(original, "LC-02", IN_FEBRUARY, {"5": 9, "2": 1}, field="dat_dai")
        add_responses(original, "TT-01", IN_MARCH, {"4": 12, "1": 1})
        before = _summaries(original)
        with original.app_context():
            db.session.remove()
            db.engine.dispose()

        # The documented backup and restore, as the postgres user.
        conn = ["-h", "127.0.0.1", "-p", str(pg_server.port), "-U", "postgres"]
        dump = _run(pg_dump, *conn, "-Fc", "--no-owner", source)
        _run(pg_restore, *conn, "--no-owner", "--exit-on-error", "-d", target, stdin=dump)

        restored = _app(f"{pg_server.base}/{target}")
        apps.append(restored)
        after = _summaries(restored)
        assert after == before
        assert before["/api/v1/units/HD-CG-LC/summary?period=2025-03"]["responses"] == 40
    finally:
        for app in apps:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        with pg_server.admin.connect() as conn:
            for name in (source, target):
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
