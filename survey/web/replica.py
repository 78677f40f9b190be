"""Which requests read from the replica (``DATABASE_REPLICA_URL``), and saying how old
their figures are.

Only GET requests of the endpoints in :data:`READ_ENDPOINTS` go to the standby:
dashboards, downloads and the read API, which write nothing. Pages an officer
returns to right after a change of their own (the feedback list, targets,
volumes) stay on the primary, so they always show that change. Form posts and
every other request never see the standby.

Before a routed request, the standby is asked how far behind it is (one small
query). When it cannot be reached, the request reads from the primary, a warning
is logged, and the standby is left alone for :data:`RETRY_SECONDS`, so an outage
costs no officer a wait. When its replay is more than ``SURVEY_REPLICA_MAX_LAG``
seconds behind, the page says the time its figures date from, and every routed
response carries that time in an ``X-Data-As-Of`` header.
"""

from __future__ import annotations

import threading
import time

import sqlalchemy as sa
from flask import Flask
from flask import current_app
from flask import g
from flask import request

from survey.data import replica
from survey.domain.periods import LOCAL_TZ

#: The read-only endpoints answered from the standby (GET only).
READ_ENDPOINTS = frozenset(
    {
        "officer.dashboard",
        "reports.chart",
        "reports.report",
        "api.api_summary",
        "api.api_desks",
    }
)
#: After the standby failed, read from the primary this long before trying it again.
RETRY_SECONDS = 30.0
_EXTENSION = "survey.web.replica"


class _Replica:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: sa.Engine | None = None
        self.down_until = 0.0
        self.lock = threading.Lock()

    def get_engine(self) -> sa.Engine:
        # Made on first use, in the worker that uses it (never in a preloading master).
        with self.lock:
            if self.engine is None:
                self.engine = replica.make_engine(self.url)
            return self.engine


def _route_reads() -> None:
    state: _Replica = current_app.extensions[_EXTENSION]
    if request.method != "GET" or request.endpoint not in READ_ENDPOINTS:
        return
    if time.monotonic() < state.down_until:
        return
    engine = state.get_engine()
    try:
        status = replica.probe(engine)
    except sa.exc.DBAPIError as exc:
        state.down_until = time.monotonic() + RETRY_SECONDS
        current_app.logger.warning(
            "read replica unavailable, reading from the primary for %d s: %s",
            RETRY_SECONDS,
            str(exc.orig or exc).strip().splitlines()[0],
        )
        return
    replica.use_replica(engine)
    g.replica_stale_since = status.stale_since(current_app.config["SURVEY_REPLICA_MAX_LAG"])


def _data_as_of_header(response):
    stale_since = g.get("replica_stale_since")
    if stale_since is not None:
        response.headers["X-Data-As-Of"] = stale_since.isoformat()
    return response


def _template_values() -> dict:
    stale_since = g.get("replica_stale_since")
    if stale_since is None:
        return {"data_as_of": None}
    return {"data_as_of": stale_since.astimezone(LOCAL_TZ).strftime("%H:%M %d/%m/%Y")}


def init_app(app: Flask) -> None:
    url = app.config.get("DATABASE_REPLICA_URL")
    if not url:
        return
    app.extensions[_EXTENSION] = _Replica(url)
    # First of all hooks: the session must be bound before anything (the signed-in
    # officer's lookup, for one) opens it.
    app.before_request_funcs.setdefault(None, []).insert(0, _route_reads)
    app.after_request(_data_as_of_header)
    app.context_processor(_template_values)
