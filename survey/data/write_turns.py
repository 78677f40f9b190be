"""Form posts take turns for SQLite's write lock, handed over without sleeping.

SQLite has one write lock for the whole database. A writer that finds it taken
waits in SQLite's busy handler, which sleeps 1, 2, 5, 10… milliseconds between
tries, whatever the lock's holder is doing: two gunicorn workers posting forms
spend much of their time asleep while the lock is free, and the slowest posts
wait longest. A post holds the lock for a millisecond or two (its rate-limit
events, the response, its answers, the commit); here the posts of every worker
queue for it on a lock file (``flock``), and the kernel wakes the next one the
moment the last one commits.

Only the form post's write takes a turn. Other writers (officers, the counting
job, the CLI) still meet SQLite's busy handler, as before: a post holding a
turn may wait for one of them, never the other way round, so no two wait for
each other. PostgreSQL locks rows, not the database: nothing to do there.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
from collections.abc import Iterator

import sqlalchemy as sa

from survey.extensions import db

log = logging.getLogger(__name__)


class _Turns:
    """One database file's lock file, opened once per process."""

    def __init__(self, path: str) -> None:
        self.path = path
        # flock is per open file: threads sharing it (gthread workers) queue here.
        self.threads = threading.Lock()
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        with self.threads:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self.fd, fcntl.LOCK_UN)


#: Lock files by path: (the process that opened it, its turns or None if it cannot).
_OPEN: dict[str, tuple[int, _Turns | None]] = {}
_OPENING = threading.Lock()


def _turns_for(url: sa.URL) -> _Turns | None:
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    path = os.path.abspath(database) + "-writers"
    opened = _OPEN.get(path)
    if opened is None or opened[0] != os.getpid():  # none yet, or the parent's
        with _OPENING:
            opened = _OPEN.get(path)
            if opened is None or opened[0] != os.getpid():
                try:
                    turns = _Turns(path)
                except OSError as error:  # a read-only folder: SQLite's busy handler only
                    log.warning("no write turns for %s: %s", database, error)
                    turns = None
                opened = _OPEN[path] = (os.getpid(), turns)
    return opened[1]


@contextlib.contextmanager
def write_turn() -> Iterator[None]:
    """Hold this worker's turn for the database's write lock (SQLite only): from
    before the transaction's first write until after its commit or rollback."""
    turns = _turns_for(db.engine.url)
    if turns is None:
        yield
        return
    with turns.turn():
        yield
