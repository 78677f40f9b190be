"""Dossier volumes (N_h): entered in a form, imported from the one-stop software's
monthly export (CSV or XLSX), or posted to the API.

An import is all or nothing: every row is checked first, and one bad row
rejects the file with the line numbers of every problem.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from survey.data import rollup
from survey.data.models import DossierVolume
from survey.data.models import Officer
from survey.data.models import Unit
from survey.data.models import utcnow
from survey.data.targets import OVERALL
from survey.domain.params import bounded_int
from survey.domain.periods import PeriodError
from survey.domain.periods import parse_period
from survey.domain.periods import parse_typed_period
from survey.extensions import db

# Accepted column names (English or the Vietnamese the one-stop exports use).
COLUMNS = {
    "unit_code": {"unit_code", "unit", "ma_don_vi", "mã đơn vị", "ma don vi"},
    "month": {"month", "thang", "tháng", "ky", "kỳ"},
    "dossiers": {"dossiers", "so_ho_so", "số hồ sơ", "so ho so", "ho_so"},
    "field": {"field", "linh_vuc", "lĩnh vực", "linh vuc"},
}
REQUIRED = ("unit_code", "month", "dossiers")
MAX_ROWS = 50_000


@dataclass(frozen=True)
class VolumeRow:
    line: int
    unit: Unit
    month: str
    field: str
    dossiers: int


@dataclass(frozen=True)
class ImportResult:
    saved: int
    errors: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


class VolumeFileError(ValueError):
    """The file cannot be read as a table of volumes at all."""


def read_table(filename: str, data: bytes) -> list[list[str]]:
    """Rows of a CSV (UTF-8, with or without BOM; comma or semicolon) or XLSX file."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a damaged file
            raise VolumeFileError(_("The file is not a valid XLSX spreadsheet.")) from exc
        sheet = book.worksheets[0]
        rows = [[_cell_text(c) for c in row] for row in sheet.iter_rows(values_only=True)]
        book.close()
        return rows
    if name.endswith(".csv"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise VolumeFileError(_("The CSV file must be saved as UTF-8.")) from exc
        dialect = csv.excel
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        except csv.Error:
            pass
        return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text), dialect)]
    raise VolumeFileError(_("Please upload a .csv or .xlsx file."))


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        # A month typed into Excel ("11/2026") becomes a date: it names that month.
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# More dossiers than any unit handles in a month; also within a database INTEGER.
MAX_COUNT = 1_000_000_000
_THOUSANDS = re.compile(r"^\d{1,3}([.,\s]\d{3})+$")


def parse_count(text: str) -> int | None:
    """A whole number ≥ 0, allowing thousands separators (1.234 or 1,234); else None."""
    text = text.strip()
    if _THOUSANDS.match(text):
        text = re.sub(r"[.,\s]", "", text)
    return bounded_int(text, 0, MAX_COUNT)


def _header_map(header: list[str]) -> tuple[dict[str, int], list[str]]:
    found, errors = {}, []
    for index, raw in enumerate(header):
        key = raw.strip().lower()
        for column, names in COLUMNS.items():
            if key in names:
                found[column] = index
    for column in REQUIRED:
        if column not in found:
            errors.append(_("Line 1: the column “%(column)s” is missing.", column=column))
    return found, errors


def _responses_in(unit: Unit, month_code: str, field: str) -> int:
    """Responses already received by the unit (and below) in the month, for one field or all."""
    period = parse_period(month_code, unit.report_cutoff_day)
    rows = rollup.counts(unit.id, [period], ("procedure_field",), question_ids=[rollup.RESPONSES])
    return sum(n for row_field, n in rows if not field or row_field == field)


def check_rows(
    rows: list[list[str]], officer: Officer, fields: set[str]
) -> tuple[list[VolumeRow], list[str]]:
    """Check every row; return the good rows and every problem, with line numbers."""
    if not rows or not any(rows[0]):
        return [], [_("The file is empty.")]
    if len(rows) > MAX_ROWS + 1:
        return [], [_("The file has more than %(n)d rows.", n=MAX_ROWS)]
    columns, errors = _header_map(rows[0])
    if errors:
        return [], errors
    units = {u.code: u for u in db.session.scalars(sa.select(Unit))}
    good, seen = [], {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cell = {c: (row[i].strip() if i < len(row) else "") for c, i in columns.items()}
        if not cell["dossiers"]:
            # A template row not filled in (the commune's volume is not known yet):
            # nothing to save for it, as in the form.
            continue
        problems = []
        unit = units.get(cell["unit_code"].upper())
        if unit is None or not officer.can_see(unit):
            problems.append(_("unknown unit code “%(code)s”", code=cell["unit_code"]))
        elif unit.children:
            problems.append(
                _("%(code)s is not a commune: enter volumes for communes", code=unit.code)
            )
        month = cell["month"]
        try:
            # "2026-11" as the export writes it, or "11/2026", "T11/2026" as people type it.
            period = parse_typed_period(month, unit.report_cutoff_day if unit else 1)
            if period.kind != "month":
                raise PeriodError(month)
            month = period.code
        except PeriodError:
            problems.append(_("the month “%(month)s” is not YYYY-MM", month=month))
        field = cell.get("field", "") or ""
        if field and field not in fields:
            problems.append(_("unknown field “%(field)s”", field=field))
        dossiers = parse_count(cell["dossiers"])
        if dossiers is None:
            problems.append(
                _(
                    "the number of dossiers “%(value)s” is not a whole number ≥ 0",
                    value=cell["dossiers"],
                )
            )
        if not problems:
            key = (unit.id, month, field)
            if key in seen:
                problems.append(_("repeats line %(line)d", line=seen[key]))
            else:
                seen[key] = line
                responses = _responses_in(unit, month, field)
                if dossiers < responses:
                    problems.append(
                        _(
                            "%(dossiers)d dossiers is fewer than the %(responses)d responses "
                            "already received",
                            dossiers=dossiers,
                            responses=responses,
                        )
                    )
        if problems:
            errors.append(
                _("Line %(line)d: %(problems)s.", line=line, problems="; ".join(problems))
            )
        else:
            good.append(VolumeRow(line, unit, month, field or OVERALL, dossiers))
    return good, errors


def save_rows(rows: list[VolumeRow], source: str) -> int:
    """Insert or update every row in the current transaction (the caller commits)."""
    for row in rows:
        existing = db.session.scalar(
            sa.select(DossierVolume).where(
                DossierVolume.unit_id == row.unit.id,
                DossierVolume.month == row.month,
                DossierVolume.procedure_field == row.field,
            )
        )
        if existing is None:
            existing = DossierVolume(
                unit_id=row.unit.id, month=row.month, procedure_field=row.field
            )
            db.session.add(existing)
        existing.dossiers = row.dossiers
        existing.source = source
        existing.updated_at = utcnow()
    return len(rows)
