"""Reads from a PostgreSQL streaming replica (``DATABASE_REPLICA_URL``).

Dashboards, downloads and the read API can be answered from a hot standby, so
that a province's or the nation's report traffic does not compete with the
form posts on the primary. Only reads go there: a standby refuses every write,
and the web layer (:mod:`survey.web.replica`) routes only read-only endpoints
to it. Everything else keeps using ``db.session`` on the primary.

A standby is never newer than the primary and may be older: :func:`probe`
says how far its replay is behind, so that a page can say how old its figures
are. A standby that cannot be reached is the caller's to skip (it falls back to
the primary); nothing here retries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as sa_orm
from flask_sqlalchemy.session import Session

from survey.extensions import db

#: Seconds a connection attempt to the standby may take before it counts as down;
#: a read then goes to the primary instead of making the officer wait.
CONNECT_TIMEOUT = 3

# Replay is behind when WAL was received but not yet applied (replay paused, or
# a long query holding it back), or when no WAL is streaming in at all (the
# link to the primary is down): the standby's figures may then be old. When it
# is streaming and has applied all it received, it is as new as the primary.
_STATUS = sa.text(
    "SELECT pg_is_in_recovery(), "
    "pg_last_wal_receive_lsn() IS DISTINCT FROM pg_last_wal_replay_lsn() "
    "OR NOT EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming'), "
    "pg_last_xact_replay_timestamp(), now()"
)


@dataclass(frozen=True)
class ReplicaState:
    """What the standby said about itself."""

    behind: bool  # it has not applied all the primary wrote
    replayed_at: datetime | None  # commit time of the last transaction it applied
    now: datetime

    def stale_since(self, max_lag_seconds: float) -> datetime | None:
        """The time its figures date from, when they are older than ``max_lag_seconds``."""
        if not self.behind or self.replayed_at is None:
            return None
        if (self.now - self.replayed_at).total_seconds() <= max_lag_seconds:
            return None
        return self.replayed_at


def make_engine(url: str) -> sa.Engine:
    """The standby's engine: a short connect timeout, and connections checked before
    use, so a standby that restarted is noticed at once rather than as a failed page."""
    connect_args = {"connect_timeout": CONNECT_TIMEOUT} if url.startswith("postgresql") else {}
    return sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def probe(engine: sa.Engine) -> ReplicaState:
    """Ask the standby how far behind it is.

    :raise sqlalchemy.exc.OperationalError: (or another ``DBAPIError``) when it
        cannot be reached.
    """
    with engine.connect() as conn:
        in_recovery, behind, replayed_at, now = conn.execute(_STATUS).one()
    # A server that is not in recovery (a promoted standby) is as new as it gets.
    return ReplicaState(bool(in_recovery and behind), replayed_at, now)


class _ReplicaSession(Session):
    """Flask-SQLAlchemy's session, every query bound to the standby."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        return bind if bind is not None else self.bind


def use_replica(engine: sa.Engine) -> None:
    """Make ``db.session`` read from the standby until the app context ends.

    Called before anything used the session in this context; Flask-SQLAlchemy's
    teardown closes it like any other session.
    """
    options = {**db.session.session_factory.kw, "bind": engine}
    if db.session.registry.has():
        db.session.remove()
    db.session.registry.set(sa_orm.sessionmaker(class_=_ReplicaSession, **options)())
