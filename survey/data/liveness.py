"""Pooled database connections checked before use, when they have been idle.

A pooled connection can be dead when it is taken: the database server restarted
or ended the session while it sat in the pool. SQLAlchemy's ``pool_pre_ping``
checks every connection at every checkout, a round trip to the server at the
start of every request: on PostgreSQL about a tenth of a form post's time under
load (docs/PERFORMANCE.md). A connection handed back a moment ago was working a
moment ago; only one idle for longer than ``idle_seconds`` is pinged, and one
found dead is replaced before the request uses it. A server that dies within
those seconds fails the requests it was serving anyway; theirs is the same
answer (the form's 503, "your answers were not saved"), never a false thank-you.

SQLite runs in the process: its connections cannot go away, and are not pinged.
"""

from __future__ import annotations

import time

import sqlalchemy as sa

#: How long a connection may sit in the pool and still be taken without a ping.
DEFAULT_IDLE_SECONDS = 1.0

_RETURNED = "survey.returned_at"


def ping_when_idle(engine: sa.Engine, idle_seconds: float = DEFAULT_IDLE_SECONDS) -> None:
    """Ping ``engine``'s pooled connections at checkout when idle for ``idle_seconds``
    or more (0: at every checkout, as ``pool_pre_ping``); a dead one is replaced."""
    if engine.dialect.name == "sqlite":
        return
    dialect = engine.dialect

    @sa.event.listens_for(engine, "connect")
    def _fresh(dbapi_connection, record) -> None:
        record.info[_RETURNED] = time.monotonic()

    @sa.event.listens_for(engine, "checkin")
    def _returned(dbapi_connection, record) -> None:
        # ``info`` is emptied when a connection is invalidated: a replaced one is
        # stamped again by "connect".
        if dbapi_connection is not None:
            record.info[_RETURNED] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, proxy) -> None:
        returned = record.info.get(_RETURNED)
        if returned is not None and time.monotonic() - returned < idle_seconds:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                # The pool drops this connection and takes (or opens) another.
                raise sa.exc.DisconnectionError(str(error)) from error
            raise
