"""Pooled connections pinged before use only when idle (survey/data/liveness.py).

On a real PostgreSQL server: the server ends the pooled connection's session (as
a restart would) and the next request must still be answered; a connection
handed back a moment ago is taken without the round trip of a ping.
"""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from survey import create_app
from survey.extensions import db

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def _app(database_url: str, idle_seconds: float):
    return create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "SURVEY_DB_PING_IDLE_SECONDS": idle_seconds}
    )


def _pings(app, monkeypatch) -> list[int]:
    """Counts the pings of ``app``'s engine (the dialect's own ping still runs)."""
    calls: list[int] = []
    with app.app_context():
        dialect = db.engine.dialect
    ping = dialect.do_ping

    def counted(dbapi_connection):
        calls.append(1)
        return ping(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counted)
    return calls


def _end_sessions(pg_server, database_url: str) -> int:
    """End every session on the test's database, as a server restart does."""
    name = database_url.rsplit("/", 1)[1]
    with pg_server.admin.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        ).scalar_one()


def test_a_connection_handed_back_a_moment_ago_is_taken_without_a_ping(database_url, monkeypatch):
    app = _app(database_url, idle_seconds=60)
    pings = _pings(app, monkeypatch)
    client = app.test_client()
    for _ in range(5):
        assert client.get("/healthz").status_code == 200
    assert pings == []
    with app.app_context():
        db.engine.dispose()


def test_an_idle_connection_is_pinged_and_replaced_when_the_server_ended_it(
    database_url, pg_server, monkeypatch
):
    app = _app(database_url, idle_seconds=0.2)
    pings = _pings(app, monkeypatch)
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    assert _end_sessions(pg_server, database_url) >= 1
    time.sleep(0.3)
    # The pooled connection is dead; its ping finds out and another is opened.
    reply = client.get("/healthz")
    assert reply.status_code == 200, reply.get_data(as_text=True)
    assert reply.get_json() == {"status": "ok", "database": "ok"}
    assert len(pings) >= 1
    with app.app_context():
        db.engine.dispose()


def test_without_the_ping_the_dead_connection_fails_the_request(database_url, pg_server):
    """What the ping is for: the same dead connection, taken within the idle time,
    fails its request (the health check's 503); the pool then replaces it."""
    app = _app(database_url, idle_seconds=60)
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    assert _end_sessions(pg_server, database_url) >= 1
    assert client.get("/healthz").status_code == 503
    assert client.get("/healthz").status_code == 200
    with app.app_context():
        db.engine.dispose()
