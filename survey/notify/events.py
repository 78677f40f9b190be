"""Alerts written by the use case that causes them, in its transaction.

Called on the citizen's hot path: nothing is read, and one insert is made only
when the response raises an alert (a harassment report, a comment from a
citizen who agreed to be contacted). Whether a unit's rules want the alert is
decided later by the worker, off the hot path.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from survey.data.models import Alert
from survey.domain.alerts import response_alert_kinds

_INSERT = Alert.__table__.insert()


def record_response_alerts(
    connection: sa.Connection,
    *,
    response_id: int,
    unit_id: int,
    desk_id: int,
    at: datetime,
    answers: dict[str, str],
    trouble_id: str | None,
    comment: str | None,
    consent: bool,
) -> int:
    """Add the response's alerts in the caller's transaction; return how many."""
    kinds = response_alert_kinds(answers, trouble_id=trouble_id, comment=comment, consent=consent)
    if not kinds:
        return 0
    rows = [
        {
            "kind": kind,
            "unit_id": unit_id,
            "desk_id": desk_id,
            "response_id": response_id,
            "dedupe_key": None,
            "detail": None,
            "created_at": at,
            "due_at": at,
            "dispatched_at": None,
        }
        for kind in kinds
    ]
    connection.execute(_INSERT, rows)
    return len(rows)
