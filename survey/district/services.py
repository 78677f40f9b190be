"""Use cases of the dossier volumes: each is one transaction that saves the
volumes and the audit entry recording them, or neither."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from survey.data.audit import record
from survey.data.models import ApiKey
from survey.data.models import DossierVolume
from survey.data.models import Officer
from survey.data.models import Unit
from survey.data.models import UnitLevel
from survey.data.queries import procedure_field_codes
from survey.district.volumes import ImportResult
from survey.district.volumes import check_rows
from survey.district.volumes import read_table
from survey.district.volumes import save_rows
from survey.domain.periods import Period
from survey.extensions import db

HEADER = ["unit_code", "month", "dossiers", "field"]


class KeyScope:
    """The reach of an API key: its unit and the units below it (like an officer's)."""

    def __init__(self, unit: Unit) -> None:
        self.unit = unit

    def can_see(self, unit: Unit) -> bool:
        return unit.id == self.unit.id or any(a.id == self.unit.id for a in unit.ancestors())

    def may_set_volumes(self, unit: Unit) -> bool:
        """A district's (or province's) key sets its communes' volumes; a commune's key
        does not set its own weight."""
        return (
            self.unit.level != UnitLevel.COMMUNE and unit.id != self.unit.id and self.can_see(unit)
        )


def _save(
    rows, scope, source: str, audit, *, empty_ok: bool = False, confirmed: bool = False
) -> ImportResult:
    """Check ``rows``; if all are good, save them with their audit entry and commit.

    An empty table saves nothing unless ``empty_ok`` (a form left blank is still
    a deliberate save, and is audited as one).
    """
    good, errors = check_rows(rows, scope, procedure_field_codes(), confirmed=confirmed)
    if errors:
        return ImportResult(0, tuple(errors))
    if not good and not empty_ok:
        return ImportResult(0, ())
    saved = save_rows(good, source)
    audit(saved)
    db.session.commit()
    return ImportResult(saved, ())


def save_month(
    officer: Officer, unit: Unit, month: Period, values: dict[str, str], *, confirmed: bool = False
) -> ImportResult:
    """The volumes form: ``values`` maps commune codes to what was typed for ``month``."""
    rows = [HEADER[:3]] + [[code, month.code, value] for code, value in values.items() if value]
    return _save(
        rows,
        officer,
        "form",
        lambda saved: record(
            "volumes", officer=officer, unit=unit, detail=f"{month.code}: {saved} rows (form)"
        ),
        empty_ok=True,
        confirmed=confirmed,
    )


def import_file(
    officer: Officer, unit: Unit, filename: str, data: bytes, *, confirmed: bool = False
) -> ImportResult:
    """A file from the one-stop software: all rows or none.

    :raise VolumeFileError: the file cannot be read as a table at all.
    """
    rows = read_table(filename, data)
    result = _save(
        rows,
        officer,
        "import",
        lambda saved: record(
            "volumes",
            officer=officer,
            unit=unit,
            detail=f"{saved} rows imported from {filename}",
        ),
        confirmed=confirmed,
    )
    if result.ok and not result.saved:
        return ImportResult(0, (_("The file has no rows of volumes."),))
    return result


def save_from_api(key: ApiKey, rows: list[dict], *, confirmed: bool = False) -> ImportResult:
    """Rows posted to ``/api/v1/volumes`` (messages say "line N": line 2 is the first row)."""
    table = [HEADER] + [
        [
            str(r.get("unit_code", "")),
            str(r.get("month", "")),
            str(r.get("dossiers", "")),
            str(r.get("field") or ""),
        ]
        for r in rows
    ]
    return _save(
        table,
        KeyScope(key.unit),
        "api",
        lambda saved: record(
            "volumes", unit=key.unit, detail=f"{saved} rows from API key {key.prefix}"
        ),
        confirmed=confirmed,
    )


def month_volumes(units: list[Unit], month: Period) -> dict[int, int]:
    """The total dossiers entered for each of ``units`` in ``month`` (by unit id)."""
    return dict(
        db.session.execute(
            sa.select(DossierVolume.unit_id, DossierVolume.dossiers).where(
                DossierVolume.month == month.code,
                DossierVolume.procedure_field == "",
                DossierVolume.unit_id.in_([u.id for u in units]),
            )
        ).all()
    )


def template_rows(unit: Unit, month: Period) -> tuple[list[str], list[list[object]]]:
    """A volumes file to fill in: one row per commune of ``unit`` for ``month``.

    Columns the import reads (unit_code, month, dossiers) and the commune's
    name to fill it by (ignored on import); the dossiers already stored are
    filled in, the others left blank (a blank row is skipped on import).
    """
    leaves = unit.leaves()
    stored = month_volumes(leaves, month)
    header = ["unit_code", "unit_name", "month", "dossiers"]
    rows: list[list[object]] = [
        [leaf.code, leaf.name, month.code, stored.get(leaf.id)] for leaf in leaves
    ]
    return header, rows
