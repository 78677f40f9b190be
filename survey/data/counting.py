"""The rollup's counting job, run by a thread in each process that stores responses.

A form post stores its response uncounted (survey/citizen/services.py) and nudges
this process's counter; the counter waits ``SURVEY_ROLLUP_COUNT_DELAY_SECONDS``
(posts arriving meanwhile join the batch) and counts every waiting response
(:func:`survey.data.rollup.count_waiting`). It also looks every
``SURVEY_ROLLUP_COUNT_INTERVAL_SECONDS`` without a nudge, so responses left
waiting by a worker that died between a post and its counting are counted by
another. Until they are, every read of the rollup adds them, so nothing waits
to be seen: the delay only decides how much counting is done at once.

The job is idempotent and safe in several processes at once. It also runs in a
process of its own (:func:`run`): ``flask survey rollup-count --every S``, and a
thread of the alerts worker (``flask survey worker``). Under a heavy load of form
posts that is cheaper for the citizens: a worker's thread shares the
interpreter with the worker's requests, which wait while it counts.
"""

from __future__ import annotations

import logging
import os
import threading

from flask import Flask
from flask import current_app

from survey.data import rollup
from survey.extensions import db

log = logging.getLogger(__name__)

_EXTENSION = "survey.rollup_counter"


class Counter:
    """One process's counting thread for one app."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.pid = os.getpid()
        self.wake = threading.Event()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="rollup-counter", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        config = self.app.config
        delay = config["SURVEY_ROLLUP_COUNT_DELAY_SECONDS"]
        interval = config["SURVEY_ROLLUP_COUNT_INTERVAL_SECONDS"]
        while not self.stopped.is_set():
            self.wake.wait(timeout=interval)
            self.wake.clear()
            if self.stopped.wait(timeout=delay):
                break
            self.count()

    def count(self) -> int:
        with self.app.app_context():
            return count_once()

    def stop(self, timeout: float = 10.0) -> None:
        self.stopped.set()
        self.wake.set()
        self.thread.join(timeout)


def run(every: float, stop: threading.Event) -> None:
    """Count the waiting responses every ``every`` seconds until ``stop`` is set, in
    the current app context (a process, or a thread, of its own)."""
    while not stop.is_set():
        count_once()
        stop.wait(every)


def count_once() -> int:
    """Count what waits now, in the current app context; a failure (the database
    restarting, locked for long) is logged and leaves the responses waiting for
    the next round."""
    try:
        return rollup.count_waiting()
    except Exception:
        log.exception("counting the waiting responses failed; retried next round")
        db.session.rollback()
        return 0
    finally:
        db.session.remove()


def nudge() -> None:
    """Ask this process's counter to count soon (started on first use: after a
    gunicorn worker has forked, never in the master)."""
    app = current_app._get_current_object()
    if not app.config["SURVEY_ROLLUP_BACKGROUND"]:
        return
    counter = app.extensions.get(_EXTENSION)
    if counter is None or counter.pid != os.getpid() or not counter.thread.is_alive():
        with _STARTING:
            counter = app.extensions.get(_EXTENSION)
            if counter is None or counter.pid != os.getpid() or not counter.thread.is_alive():
                counter = app.extensions[_EXTENSION] = Counter(app)
    counter.wake.set()


def stop(app: Flask) -> None:
    """Stop the app's counter in this process, if it runs (tests, shutdown)."""
    counter = app.extensions.pop(_EXTENSION, None)
    if counter is not None and counter.pid == os.getpid():
        counter.stop()


_STARTING = threading.Lock()
