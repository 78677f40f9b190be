"""The audit log: who did what when."""

from __future__ import annotations

from survey.data.models import AuditEntry
from survey.data.models import Officer
from survey.data.models import SurveyResponse
from survey.data.models import Unit
from survey.extensions import db


def record(
    action: str,
    *,
    officer: Officer | None = None,
    unit: Unit | None = None,
    response: SurveyResponse | None = None,
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
