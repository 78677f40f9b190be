"""Tables for download: CSV for machines, XLSX for people.

Both formats are safe to open in a spreadsheet: every text cell that a
spreadsheet could read as a formula (it starts with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return) gets a leading apostrophe, as the OWASP "CSV
Injection" page recommends. Citizens' comments are untrusted text; a comment
such as ``=HYPERLINK("http://evil", "Xem")`` must stay text on an officer's PC.

- CSV is UTF-8 with a byte-order mark (so Excel shows Vietnamese correctly)
  and dates as dd/mm/yyyy, in one of two forms:

  * ``","`` (the default here): numbers with a decimal point and rates as
    fractions (``0.851064``), for other programs; unambiguous in any locale.
  * ``";"``: what Excel set up for Vietnam (list separator ``;``, decimal
    comma) opens into real columns and numbers: ``1234,5`` and rates as
    percentages (``85,1064%``), which Excel reads as the number 0.851064 in a
    percent format.

  Fractions are written to 6 decimals (a rate, not a 15-digit float).
- XLSX has one sheet per table: the title in row 1, a bold frozen header in
  row 2, real numbers and dates, and percentages stored as fractions with the
  format ``0.0%`` (Excel shows them with the reader's own decimal mark). A
  whole column is marked with ``Table.percent_columns``; one cell in a mixed
  column (an Item/Value table) by wrapping its number in :class:`Percent`.

This module is pure: no Flask, no database.
"""

from __future__ import annotations

import csv
import math
import numbers
import re
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from io import BytesIO
from io import StringIO

from ..domain.periods import LOCAL_TZ
from ..domain.text import strip_invisible

__all__ = [
    "DANGEROUS_PREFIXES",
    "SEPARATORS",
    "Percent",
    "Table",
    "neutralise",
    "sheet_name",
    "to_csv",
    "to_xlsx",
]


# OWASP's list, plus the full-width forms that some East Asian spreadsheet
# set-ups convert to their ASCII twins on entry.
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")

_DATE_FORMAT = "DD/MM/YYYY"
_DATETIME_FORMAT = "DD/MM/YYYY HH:MM"
_PERCENT_FORMAT = "0.0%"
_SHEET_NAME_MAX = 31
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
# Control characters an XLSX file may not contain (openpyxl refuses them).
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_MIN_WIDTH, _MAX_WIDTH = 8, 60


# The CSV forms :func:`to_csv` writes: the field separator and the decimal mark.
SEPARATORS = {",": ".", ";": ","}
# Decimals kept for a fraction in CSV: 6 (0.851064 = 85.1064 %), enough for any rate.
_CSV_DECIMALS = 6


class Percent(float):
    """A fraction to show as a percentage, in a column that is not all rates.

    >>> Percent(0.851063829787234) == 0.851063829787234
    True
    """

    __slots__ = ()


def neutralise(value: object) -> object:
    """Make a text cell safe from formula injection; leave everything else alone.

    A string starting with one of :data:`DANGEROUS_PREFIXES` gets a leading
    apostrophe. Numbers (including negative ones), None, dates and other
    non-strings are returned unchanged.

    Examples
    --------
    >>> neutralise("=1+1"), neutralise("-1"), neutralise(-1), neutralise("Hài lòng")
    ("'=1+1", "'-1", -1, 'Hài lòng')
    """
    if isinstance(value, str) and value.startswith(DANGEROUS_PREFIXES):
        return "'" + value
    return value


@dataclass(frozen=True)
class Table:
    """One table to export.

    Attributes
    ----------
    title : str
        Shown above the table (CSV) or in row 1 (XLSX); the default sheet name.
    header : sequence of str
        Column headings.
    rows : sequence of sequences
        Cells: str, int, float, date, datetime (aware ones are shown in
        Vietnam's time), None (empty) or anything with a useful ``str()``.
    percent_columns : frozenset of int
        0-based columns whose numbers are fractions to show as "91.4%" in
        XLSX (CSV keeps the fraction, e.g. 0.914).
    """

    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[object]]
    percent_columns: frozenset[int] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not isinstance(self.title, str):
            raise ValueError(f"title ({self.title!r}) must be a string")
        if isinstance(self.header, str) or not isinstance(self.header, Sequence):
            raise ValueError(f"header ({self.header!r}) must be a sequence of strings")
        width = len(self.header)
        if isinstance(self.rows, str) or not isinstance(self.rows, Sequence):
            raise ValueError(f"rows ({self.rows!r}) must be a sequence of rows")
        for i, row in enumerate(self.rows):
            if isinstance(row, str) or not isinstance(row, Sequence) or len(row) != width:
                raise ValueError(f"row {i} ({row!r}) must have {width} cells like the header")
        for column in self.percent_columns:
            if isinstance(column, bool) or not isinstance(column, int) or not 0 <= column < width:
                raise ValueError(
                    f"percent_columns ({set(self.percent_columns)!r}) must hold column "
                    f"indexes from 0 to {width - 1}"
                )


def _local(value: datetime) -> datetime:
    """An aware datetime in Vietnam's time, without tzinfo (spreadsheets have none)."""
    if value.tzinfo is None:
        return value
    return value.astimezone(LOCAL_TZ).replace(tzinfo=None)


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _decimal(number: float, decimals: int, mark: str) -> str:
    """``number`` with at most ``decimals`` decimals, trailing zeros dropped, ``mark`` as point."""
    text = f"{number:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text == "-0":
        text = "0"
    return text.replace(".", mark)


def _csv_cell(value: object, separator: str = ",", percent: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return _local(value).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if _is_number(value):
        if isinstance(value, numbers.Integral):
            return str(int(value))
        number = float(value)  # type: ignore[arg-type]
        if not math.isfinite(number):
            return ""
        mark = SEPARATORS[separator]
        if separator == ";" and (percent or isinstance(value, Percent)):
            # Excel (Vietnam) reads "85,1064%" as 0.851064 shown as a percentage.
            return _decimal(number * 100, _CSV_DECIMALS - 2, mark) + "%"
        return _decimal(number, _CSV_DECIMALS, mark)
    text = value if isinstance(value, str) else str(value)
    return str(neutralise(strip_invisible(text)))


def to_csv(tables: Sequence[Table], *, separator: str = ",", title_row: bool = True) -> bytes:
    r"""The tables as one UTF-8 CSV file with a byte-order mark.

    Each table is its title line, its header, its rows and a blank line. Text
    is neutralised (see :func:`neutralise`); non-finite numbers are left
    empty; dates are dd/mm/yyyy and datetimes dd/mm/yyyy HH:MM in Vietnam's
    time. Lines end with CRLF (RFC 4180).

    With ``separator=","`` numbers use a decimal point (``0.914``), for other
    programs; with ``separator=";"`` they use a decimal comma (``2,5``) and
    rates are percentages (``91,4%``), for Excel set up for Vietnam.
    ``title_row=False`` leaves out the title lines and the blank line after
    each table: the header is line 1, as a file meant to be imported back.

    >>> to_csv([Table("t", ["a", "b"], [[Percent(0.5), 2.5]])], separator=";")[3:]
    b'"t"\r\n"a";"b"\r\n"50%";"2,5"\r\n\r\n'
    """
    if separator not in SEPARATORS:
        raise ValueError(f"separator ({separator!r}) must be one of {sorted(SEPARATORS)}")
    tables = _check_tables(tables, allow_empty=True)
    out = StringIO()
    # Every cell quoted: Excel in a decimal-comma locale splits on ";", and an
    # unquoted "a;=b" became a cell starting with "=" there.
    writer = csv.writer(out, delimiter=separator, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    for table in tables:
        if title_row:
            writer.writerow([_csv_cell(table.title)])
        writer.writerow([_csv_cell(h) for h in table.header])
        for row in table.rows:
            writer.writerow(
                [_csv_cell(v, separator, c in table.percent_columns) for c, v in enumerate(row)]
            )
        if title_row:
            writer.writerow([])
    return out.getvalue().encode("utf-8-sig")


def _check_tables(tables: Sequence[Table], *, allow_empty: bool) -> list[Table]:
    if isinstance(tables, Table) or not isinstance(tables, Sequence):
        raise ValueError(f"tables ({tables!r}) must be a sequence of Table")
    for i, table in enumerate(tables):
        if not isinstance(table, Table):
            raise ValueError(f"tables[{i}] ({table!r}) must be a Table")
    if not tables and not allow_empty:
        raise ValueError(f"tables ({tables!r}) must not be empty: a workbook needs a sheet")
    return list(tables)


def sheet_name(name: str, taken: Sequence[str] = (), *, default: str = "Bảng") -> str:
    """A valid, unique Excel sheet name made from ``name``.

    Replaces ``[]:*?/\\`` with "-", drops control characters and apostrophes at
    either end, cuts to 31 characters and adds " (2)", " (3)"… when the name
    is already ``taken`` (Excel compares names case-insensitively).

    Examples
    --------
    >>> sheet_name("Tháng 3/2025")
    'Tháng 3-2025'
    >>> sheet_name("Tháng 3/2025", ["tháng 3-2025"])
    'Tháng 3-2025 (2)'
    """
    if not isinstance(name, str):
        raise ValueError(f"sheet name ({name!r}) must be a string")
    cleaned = _SHEET_FORBIDDEN.sub("-", _ILLEGAL_XML.sub("", name)).strip().strip("'").strip()
    cleaned = cleaned[:_SHEET_NAME_MAX].rstrip().rstrip("'") or default
    used = {t.casefold() for t in taken}
    candidate, k = cleaned, 1
    while candidate.casefold() in used or candidate.casefold() == "history":
        k += 1
        suffix = f" ({k})"
        candidate = cleaned[: _SHEET_NAME_MAX - len(suffix)].rstrip() + suffix
    return candidate


def _xlsx_value(value: object) -> object:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, datetime):
        return _local(value)
    if isinstance(value, date):
        return value
    if _is_number(value):
        if isinstance(value, numbers.Integral):
            return int(value)
        number = float(value)  # type: ignore[arg-type]
        return number if math.isfinite(number) else None
    text = value if isinstance(value, str) else str(value)
    return neutralise(strip_invisible(_ILLEGAL_XML.sub("", text)))


def _display_width(value: object, percent: bool) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    if percent and _is_number(value):
        return 7
    if isinstance(value, float):
        return len(f"{value:.4g}")
    return max((len(line) for line in str(value).splitlines()), default=0)


def to_xlsx(
    tables: Sequence[Table],
    *,
    sheet_names: Sequence[str] | None = None,
    title_row: bool = True,
    text_columns: frozenset[int] = frozenset(),
) -> bytes:
    """The tables as an Excel workbook, one sheet per table.

    Parameters
    ----------
    tables : sequence of Table
        At least one table.
    sheet_names : sequence of str, optional
        One name per table; defaults to the titles. Names are made valid and
        unique with :func:`sheet_name` (e.g. "Tháng 3/2025" → "Tháng 3-2025").
    title_row : bool
        False: no title row, the header is row 1 (frozen below it), as a file
        meant to be imported back.
    text_columns : frozenset of int
        0-based columns formatted as text ("@"), so that what is typed there
        ("2026-11") stays as typed instead of becoming a date.

    Returns
    -------
    bytes
        The .xlsx file.

    Notes
    -----
    Row 1 holds the title (bold), row 2 the header (bold, grey, frozen, with
    filter buttons), data from row 3. Numbers stay numbers; columns in
    ``percent_columns`` and :class:`Percent` cells get the format ``0.0%``; dates get dd/mm/yyyy and
    datetimes (aware ones in Vietnam's time) dd/mm/yyyy hh:mm. Text is
    neutralised and stripped of control characters that XLSX cannot hold.
    Column widths follow the longest cell (8 to 60 characters); longer text
    wraps.
    """
    tables = _check_tables(tables, allow_empty=False)
    if sheet_names is None:
        names: Sequence[str] = [t.title for t in tables]
    else:
        if isinstance(sheet_names, str) or len(sheet_names) != len(tables):
            raise ValueError(
                f"sheet_names ({sheet_names!r}) must give one name for each of the "
                f"{len(tables)} tables"
            )
        names = sheet_names

    # openpyxl (about 30 MB) is loaded by the first spreadsheet, not with the app.
    from openpyxl import Workbook
    from openpyxl.styles import Alignment
    from openpyxl.styles import Border
    from openpyxl.styles import Font
    from openpyxl.styles import PatternFill
    from openpyxl.styles import Side
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    taken: list[str] = []
    bold = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="E8E8E8")
    header_border = Border(bottom=Side(style="thin", color="808080"))
    wrap = Alignment(wrap_text=True, vertical="top")
    for i, (table, name) in enumerate(zip(tables, names, strict=True)):
        title = sheet_name(name, taken, default=f"Bảng {i + 1}")
        taken.append(title)
        sheet = workbook.create_sheet(title)
        header_row = 2 if title_row else 1
        if title_row:
            title_cell = sheet.cell(row=1, column=1, value=_xlsx_value(table.title))
            title_cell.font = Font(bold=True, size=12)
        widths = [_display_width(h, False) for h in table.header]
        for c, heading in enumerate(table.header, start=1):
            cell = sheet.cell(row=header_row, column=c, value=_xlsx_value(heading))
            cell.font = bold
            cell.fill = header_fill
            cell.border = header_border
        for r, row in enumerate(table.rows, start=header_row + 1):
            for c, raw in enumerate(row):
                value = _xlsx_value(raw)
                cell = sheet.cell(row=r, column=c + 1, value=value)
                percent = c in table.percent_columns or isinstance(raw, Percent)
                if isinstance(value, datetime):
                    cell.number_format = _DATETIME_FORMAT
                elif isinstance(value, date):
                    cell.number_format = _DATE_FORMAT
                elif percent and _is_number(value):
                    cell.number_format = _PERCENT_FORMAT
                elif c in text_columns:
                    cell.number_format = "@"
                width = _display_width(value, percent)
                if width > _MAX_WIDTH or (isinstance(value, str) and "\n" in value):
                    cell.alignment = wrap
                widths[c] = max(widths[c], width)
        for c, width in enumerate(widths, start=1):
            letter = get_column_letter(c)
            sheet.column_dimensions[letter].width = min(max(width + 2, _MIN_WIDTH), _MAX_WIDTH)
        sheet.freeze_panes = f"A{header_row + 1}"
        if table.header:
            last = get_column_letter(len(table.header))
            end = max(header_row, len(table.rows) + header_row)
            sheet.auto_filter.ref = f"A{header_row}:{last}{end}"
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
