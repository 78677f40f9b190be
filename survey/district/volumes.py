"""Dossier volumes (N_h): entered in a form, imported from the one-stop software's
monthly export (CSV or XLSX), or posted to the API.

An import is all or nothing: every row is checked first, and one bad row
rejects the file with the line numbers of every problem.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from survey.data import rollup
from survey.data.models import DossierVolume
from survey.data.models import Unit
from survey.data.models import utcnow
from survey.data.targets import OVERALL
from survey.domain.params import bounded_int
from survey.domain.periods import PeriodError
from survey.domain.periods import last_months
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


# Bounds of a spreadsheet read for volumes: far above a month's export (one row per
# commune and field), far below what would hold a worker for long. A file of a few
# kilobytes can declare a sheet of 17 billion cells or unzip to gigabytes, so the
# declared range and sizes are checked before reading, and every cell is counted
# while the sheet is streamed.
MAX_COLUMNS = 50
MAX_CELLS = 500_000
MAX_XLSX_UNPACKED = 8 * 1024 * 1024


def read_table(filename: str, data: bytes) -> list[list[str]]:
    """Rows of a CSV (UTF-8, with or without BOM; comma or semicolon) or XLSX file."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        return _read_xlsx(data)
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
        rows = []
        for row in csv.reader(io.StringIO(text), dialect):
            if len(rows) > MAX_ROWS or len(row) > MAX_COLUMNS:
                raise VolumeFileError(_too_big())
            rows.append([c.strip() for c in row])
        return rows
    raise VolumeFileError(_("Please upload a .csv or .xlsx file."))


def _too_big() -> str:
    return _(
        "The spreadsheet is too large: at most %(rows)d rows and %(columns)d columns.",
        rows=MAX_ROWS,
        columns=MAX_COLUMNS,
    )


def _read_xlsx(data: bytes) -> list[list[str]]:
    """The first sheet's rows, streamed cell by cell within the bounds above.

    openpyxl's own row reader pads every row to the declared width and fills
    every missing row up to the declared height, which is what a crafted
    dimension turns into gigabytes; here cells are taken one at a time and the
    reading stops at the first bound passed.
    """
    # defusedxml: no entity expansion or external entities from an uploaded file
    # (openpyxl uses it too for its own parsing when it is installed).
    from defusedxml.ElementTree import iterparse
    from openpyxl import load_workbook
    from openpyxl.worksheet._reader import WorkSheetParser
    from openpyxl.xml.constants import SHEET_MAIN_NS

    invalid = _("The file is not a valid XLSX spreadsheet.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise VolumeFileError(invalid) from exc
    if unpacked > MAX_XLSX_UNPACKED:
        raise VolumeFileError(_too_big())
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise VolumeFileError(invalid) from exc
    try:
        sheet = book.worksheets[0]
        # The range the sheet declares, refused before a cell is read.
        rows_declared = (sheet.max_row or 0) - (sheet.min_row or 1) + 1
        columns_declared = sheet.max_column or 0
        if rows_declared > MAX_ROWS + 1 or columns_declared > MAX_COLUMNS:
            raise VolumeFileError(_too_big())
        row_tag, cell_tag = f"{{{SHEET_MAIN_NS}}}row", f"{{{SHEET_MAIN_NS}}}c"
        rows: list[list[str]] = []
        cells = depth = 0
        with sheet._get_source() as source:
            parser = WorkSheetParser(
                source,
                sheet._shared_strings,
                data_only=True,
                epoch=book.epoch,
                date_formats=book._date_formats,
                timedelta_formats=book._timedelta_formats,
            )
            for event, element in iterparse(source, events=("start", "end")):
                if event == "start":
                    depth += 1
                    if element.tag == row_tag:
                        number = element.get("r")
                        parser.row_counter = (
                            bounded_int(number, 1, MAX_ROWS + 1)
                            if number is not None
                            else parser.row_counter + 1
                        ) or MAX_ROWS + 2
                        parser.col_counter = 0
                        if parser.row_counter > MAX_ROWS + 1:
                            raise VolumeFileError(_too_big())
                        rows.extend([] for _ in range(parser.row_counter - len(rows)))
                    continue
                depth -= 1
                if element.tag == cell_tag:
                    cell = parser.parse_cell(element)
                    cells += 1
                    column = cell["column"]
                    if cells > MAX_CELLS or not 1 <= column <= MAX_COLUMNS or not rows:
                        raise VolumeFileError(_too_big())
                    row = rows[-1]
                    row.extend("" for _ in range(column - len(row)))
                    row[column - 1] = _cell_text(cell["value"])
                    element.clear()
                elif element.tag == row_tag or depth <= 1:
                    # Nothing is kept behind in the tree once read.
                    element.clear()
    except VolumeFileError:
        raise
    except Exception as exc:  # a damaged sheet: malformed XML, a bad cell reference
        raise VolumeFileError(invalid) from exc
    finally:
        book.close()
    # The table starts at its first row with content (the header), wherever the
    # sheet puts it, as openpyxl's reader did.
    first = next((n for n, row in enumerate(rows) if row), len(rows))
    return rows[first:]


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


#: A month's count this many times the commune's usual month is asked to be confirmed.
IMPLAUSIBLE_FACTOR = 3
#: ... and at least this many dossiers above it (small communes vary a lot).
IMPLAUSIBLE_MARGIN = 30


def _usual_month(unit: Unit, month: str) -> int | None:
    """The median of the unit's counts (all fields) in the 12 months before ``month``."""
    before = [m.code for m in last_months(parse_period(month, unit.report_cutoff_day), 13)[:-1]]
    counts = sorted(
        db.session.scalars(
            sa.select(DossierVolume.dossiers).where(
                DossierVolume.unit_id == unit.id,
                DossierVolume.month.in_(before),
                DossierVolume.procedure_field == OVERALL,
            )
        )
    )
    return counts[len(counts) // 2] if counts else None


def check_rows(
    rows: list[list[str]], scope, fields: set[str], *, confirmed: bool = False
) -> tuple[list[VolumeRow], list[str]]:
    """Check every row; return the good rows and every problem, with line numbers.

    ``scope`` (an officer, or an API key's reach) must be allowed to set each
    row's volumes (:meth:`~survey.data.models.Officer.may_set_volumes`). A count
    below the responses already received, or far above the commune's usual
    month, is refused unless ``confirmed`` (a district officer's second look).
    """
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
        if unit is None or not scope.can_see(unit):
            problems.append(_("unknown unit code “%(code)s”", code=cell["unit_code"]))
        elif not scope.may_set_volumes(unit):
            problems.append(
                _("the volumes of %(code)s are entered by its district", code=unit.code)
            )
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
                if dossiers < responses and not confirmed:
                    problems.append(
                        _(
                            "%(dossiers)d dossiers is fewer than the %(responses)d responses "
                            "already received (confirm to save it anyway)",
                            dossiers=dossiers,
                            responses=responses,
                        )
                    )
                usual = _usual_month(unit, month) if not field and not confirmed else None
                if usual is not None and dossiers > max(
                    usual * IMPLAUSIBLE_FACTOR, usual + IMPLAUSIBLE_MARGIN
                ):
                    problems.append(
                        _(
                            "%(dossiers)d dossiers is far above the usual %(usual)d a month "
                            "(confirm to save it anyway)",
                            dossiers=dossiers,
                            usual=usual,
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
