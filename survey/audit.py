"""The audit log: who did what when."""

from __future__ import annotations

from .extensions import db
from .models import AuditEntry
from .models import Officer
from .models import Response
from .models import Unit


def record(
    action: str,
    *,
    officer: Officer | None = None,
    unit: Unit | None = None,
    response: Response | None = None,
    detail: str | None = None,
) -> AuditEntry:
    """Add an audit entry to the session; it is committed with the change it records."""
    entry = AuditEntry(
        action=action,
        officer_id=officer.id if officer is not None else None,
        unit_id=unit.id if unit is not None else None,
        response_id=response.id if response is not None else None,
        detail=detail,
    )
    db.session.add(entry)
    return entry
