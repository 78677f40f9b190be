"""Reporting periods: months, quarters, halves, nine months and years.

Commune reports are monthly (due before the 15th), quarterly, 6-month, 9-month
and annual. A unit either reports by calendar month (``cutoff_day=1``) or cuts
its data on a fixed day: with ``cutoff_day=15`` the month "2025-03" runs from
15/02/2025 to 14/03/2025 inclusive, and longer periods are made of such months
(Q1 = 15/12/2024 – 14/03/2025, year = 15/12/2024 – 14/12/2025). Periods are
named after the month they end in, as in the Lai Cách plan.

Dates are local dates in Vietnam; :meth:`Period.utc_bounds` turns a period into
the half-open UTC interval used to query ``submitted_at``.

This module is pure: no Flask, no database.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from typing import Literal
from zoneinfo import ZoneInfo

__all__ = [
    "KINDS",
    "LOCAL_TZ",
    "MAX_YEAR",
    "MIN_YEAR",
    "Period",
    "PeriodError",
    "last_months",
    "make_period",
    "month_code",
    "month_period",
    "parse_period",
    "parse_typed_period",
    "period_containing",
    "recent_periods",
]

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def today_in_vietnam() -> date:
    """Today's date in Vietnam, where every reporting period is counted."""
    return datetime.now(LOCAL_TZ).date()


MIN_YEAR = 2000
MAX_YEAR = 2100
MAX_CUTOFF_DAY = 28

PeriodKind = Literal["month", "quarter", "half", "nine_months", "year"]
KINDS: tuple[str, ...] = ("month", "quarter", "half", "nine_months", "year")

# First and last month (1-12) of each kind of period, by its number.
_SPAN = {"month": 1, "quarter": 3, "half": 6}
_NUMBERS = {"month": 12, "quarter": 4, "half": 2}

_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_ROMAN = ("I", "II", "III", "IV")
_LANGS = ("vi", "en")
_FORMATS = "YYYY-MM, YYYY-Qn, YYYY-H1, YYYY-H2, YYYY-9M or YYYY"


class PeriodError(ValueError):
    """An invalid period code, kind, year, number or cut-off day."""


def _check_cutoff(cutoff_day: object) -> int:
    if isinstance(cutoff_day, bool) or not isinstance(cutoff_day, int):
        raise PeriodError(f"cutoff_day ({cutoff_day!r}) must be an integer from 1 to 28")
    if not 1 <= cutoff_day <= MAX_CUTOFF_DAY:
        raise PeriodError(f"cutoff_day ({cutoff_day!r}) must be from 1 to {MAX_CUTOFF_DAY}")
    return cutoff_day


def _check_year(year: object) -> int:
    if isinstance(year, bool) or not isinstance(year, int):
        raise PeriodError(f"year ({year!r}) must be an integer")
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise PeriodError(f"year ({year!r}) must be from {MIN_YEAR} to {MAX_YEAR}")
    return year


def _check_kind(kind: object) -> str:
    if kind not in KINDS:
        listed = ", ".join(repr(k) for k in KINDS)
        raise PeriodError(f"kind ({kind!r}) must be one of {listed}")
    return str(kind)


def _check_number(kind: str, number: object) -> int | None:
    if kind in _NUMBERS:
        top = _NUMBERS[kind]
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= top:
            raise PeriodError(f"{kind} number ({number!r}) must be an integer from 1 to {top}")
        return number
    if number is not None:
        raise PeriodError(f"a {kind} period has no number; got {number!r}")
    return None


def _add_months(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def _month_start(year: int, month: int, cutoff_day: int) -> date:
    """First day of month period (year, month): the cut-off day of the month before."""
    if cutoff_day == 1:
        return date(year, month, 1)
    prev_year, prev_month = _add_months(year, month, -1)
    return date(prev_year, prev_month, cutoff_day)


def _month_end(year: int, month: int, cutoff_day: int) -> date:
    """Last day (inclusive) of month period (year, month)."""
    next_year, next_month = _add_months(year, month, 1)
    return _month_start(next_year, next_month, cutoff_day) - timedelta(days=1)


def _month_range(kind: str, number: int | None) -> tuple[int, int]:
    """First and last calendar month (1-12) a period is named by."""
    if kind == "year":
        return 1, 12
    if kind == "nine_months":
        return 1, 9
    assert number is not None  # nosec B101  # narrows the type; parse_period already validated it
    span = _SPAN[kind]
    return span * (number - 1) + 1, span * number


@dataclass(frozen=True)
class Period:
    """A reporting period with inclusive local start and end dates.

    Build one with :func:`parse_period`, :func:`make_period`,
    :func:`month_period` or :func:`period_containing`; direct construction is
    checked, and ``start``/``end`` must agree with the other fields.

    Attributes
    ----------
    kind : str
        "month", "quarter", "half", "nine_months" or "year".
    year : int
        Year the period is named by (the year of the month it ends in).
    number : int or None
        Month 1-12, quarter 1-4 or half 1-2; None for nine months and year.
    cutoff_day : int
        Day of the month the unit's months start on (1 = calendar months).
    start, end : date
        First and last day of the period, both inclusive.
    """

    kind: PeriodKind
    year: int
    number: int | None
    cutoff_day: int
    start: date
    end: date

    def __post_init__(self) -> None:
        kind = _check_kind(self.kind)
        year = _check_year(self.year)
        number = _check_number(kind, self.number)
        cutoff = _check_cutoff(self.cutoff_day)
        first, last = _month_range(kind, number)
        start, end = _month_start(year, first, cutoff), _month_end(year, last, cutoff)
        if (self.start, self.end) != (start, end):
            raise PeriodError(
                f"dates ({self.start!r}, {self.end!r}) do not match period "
                f"{kind} {year} {number!r} with cutoff_day {cutoff}; expected "
                f"({start!r}, {end!r})"
            )

    @property
    def code(self) -> str:
        """The code used in URLs: "2025-03", "2025-Q1", "2025-H1", "2025-9M" or "2025"."""
        if self.kind == "month":
            return f"{self.year}-{self.number:02d}"
        if self.kind == "quarter":
            return f"{self.year}-Q{self.number}"
        if self.kind == "half":
            return f"{self.year}-H{self.number}"
        if self.kind == "nine_months":
            return f"{self.year}-9M"
        return str(self.year)

    def label(self, lang: str = "vi") -> str:
        """The period's name for reports, e.g. "Quý I/2025" or "Q1 2025".

        Examples
        --------
        >>> parse_period("2025-03").label()
        'Tháng 3/2025'
        >>> parse_period("2025-H2").label("en")
        'H2 2025'
        """
        if lang not in _LANGS:
            raise PeriodError(f"lang ({lang!r}) must be 'vi' or 'en'")
        vi = lang == "vi"
        if self.kind == "month":
            assert self.number is not None  # nosec B101  # narrows the type; parse_period already validated it
            if vi:
                return f"Tháng {self.number}/{self.year}"
            return f"{_MONTHS_EN[self.number - 1]} {self.year}"
        if self.kind == "quarter":
            assert self.number is not None  # nosec B101  # narrows the type; parse_period already validated it
            if vi:
                return f"Quý {_ROMAN[self.number - 1]}/{self.year}"
            return f"Q{self.number} {self.year}"
        if self.kind == "half":
            if vi:
                which = "đầu" if self.number == 1 else "cuối"
                return f"6 tháng {which} năm {self.year}"
            return f"H{self.number} {self.year}"
        if self.kind == "nine_months":
            return f"9 tháng năm {self.year}" if vi else f"9 months {self.year}"
        return f"Năm {self.year}" if vi else f"Year {self.year}"

    def short_label(self, lang: str = "vi") -> str:
        """A compact name for chart axes: "T3/2025" or "Mar 2025" for a month.

        Other kinds use :meth:`label`.
        """
        if lang not in _LANGS:
            raise PeriodError(f"lang ({lang!r}) must be 'vi' or 'en'")
        if self.kind != "month":
            return self.label(lang)
        assert self.number is not None  # nosec B101  # narrows the type; parse_period already validated it
        if lang == "vi":
            return f"T{self.number}/{self.year}"
        return f"{_MONTHS_EN[self.number - 1][:3]} {self.year}"

    def range_label(self) -> str:
        """First and last day as "15/02/2025 – 14/03/2025" (dd/mm/yyyy, en dash)."""
        return f"{self.start:%d/%m/%Y} – {self.end:%d/%m/%Y}"

    def months(self) -> list[Period]:
        """The month periods (same cut-off day) that make up this period, in order."""
        first, last = _month_range(self.kind, self.number)
        return [month_period(self.year, m, self.cutoff_day) for m in range(first, last + 1)]

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """``(start_utc, end_utc)`` for ``submitted_at >= start_utc AND submitted_at < end_utc``.

        Local midnight (Asia/Ho_Chi_Minh, UTC+7) at the start and the day after
        the end, converted to aware UTC datetimes.

        Examples
        --------
        >>> start, end = parse_period("2025-03").utc_bounds()
        >>> start.isoformat(), end.isoformat()
        ('2025-02-28T17:00:00+00:00', '2025-03-31T17:00:00+00:00')
        """
        start = datetime.combine(self.start, time(0), tzinfo=LOCAL_TZ)
        end = datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=LOCAL_TZ)
        return start.astimezone(UTC), end.astimezone(UTC)

    def contains(self, d: date) -> bool:
        """Whether the local date ``d`` falls in the period (both ends inclusive)."""
        if isinstance(d, datetime):
            raise PeriodError(f"d ({d!r}) must be a date, not a datetime; convert to local first")
        return self.start <= d <= self.end

    def is_future(self, today: date) -> bool:
        """Whether the period has not started yet on ``today``."""
        return self.start > today

    def is_complete(self, today: date) -> bool:
        """Whether the period ended before ``today`` (its data can no longer change)."""
        return self.end < today

    def next(self) -> Period:
        """The following period of the same kind and cut-off day."""
        return self._shift(1)

    def previous(self) -> Period:
        """The preceding period of the same kind and cut-off day."""
        return self._shift(-1)

    def _shift(self, step: int) -> Period:
        if self.kind in _NUMBERS:
            assert self.number is not None  # nosec B101  # narrows the type; parse_period already validated it
            index = self.year * _NUMBERS[self.kind] + self.number - 1 + step
            year, number = divmod(index, _NUMBERS[self.kind])
            return make_period(self.kind, year, number + 1, self.cutoff_day)
        return make_period(self.kind, self.year + step, None, self.cutoff_day)

    def __str__(self) -> str:
        return self.code


def make_period(kind: str, year: int, number: int | None = None, cutoff_day: int = 1) -> Period:
    """The period of ``kind`` named by ``year`` and ``number``.

    Examples
    --------
    >>> make_period("quarter", 2025, 1, cutoff_day=15).range_label()
    '15/12/2024 – 14/03/2025'
    """
    kind = _check_kind(kind)
    year = _check_year(year)
    number = _check_number(kind, number)
    cutoff_day = _check_cutoff(cutoff_day)
    first, last = _month_range(kind, number)
    return Period(
        kind=kind,  # type: ignore[arg-type]
        year=year,
        number=number,
        cutoff_day=cutoff_day,
        start=_month_start(year, first, cutoff_day),
        end=_month_end(year, last, cutoff_day),
    )


def month_period(year: int, month: int, cutoff_day: int = 1) -> Period:
    """The month period named by ``year`` and ``month`` (the month it ends in).

    Examples
    --------
    >>> month_period(2025, 3, cutoff_day=15).range_label()
    '15/02/2025 – 14/03/2025'
    """
    return make_period("month", year, month, cutoff_day)


_YEAR_RE = re.compile(r"[0-9]{4}")


def parse_period(code: str, cutoff_day: int = 1) -> Period:
    """Parse a period code from a URL, strictly.

    Accepted: ``YYYY-MM`` (month, two digits), ``YYYY-Qn`` (n = 1..4),
    ``YYYY-H1`` / ``YYYY-H2``, ``YYYY-9M`` and ``YYYY``, with a year from 2000
    to 2100. Anything else (spaces, lower case, "2025-3", "25-03") raises
    :class:`PeriodError` with a message that quotes the code.

    Examples
    --------
    >>> parse_period("2025-Q1", cutoff_day=15).range_label()
    '15/12/2024 – 14/03/2025'
    >>> parse_period("2025-13")
    Traceback (most recent call last):
    ...
    survey.domain.periods.PeriodError: period code ('2025-13'): the month must be from 01 to 12
    """
    if not isinstance(code, str):
        raise PeriodError(f"period code ({code!r}) must be a string")
    cutoff_day = _check_cutoff(cutoff_day)
    if not code:
        raise PeriodError(f"period code ({code!r}) is empty; expected {_FORMATS}")
    if any(ch.isspace() for ch in code):
        raise PeriodError(f"period code ({code!r}) must not contain spaces")
    year_part, dash, rest = code.partition("-")
    if not _YEAR_RE.fullmatch(year_part):
        raise PeriodError(
            f"period code ({code!r}): the year must have four digits; expected {_FORMATS}"
        )
    year = int(year_part)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise PeriodError(f"period code ({code!r}): year must be from {MIN_YEAR} to {MAX_YEAR}")
    if not dash:
        return make_period("year", year, None, cutoff_day)
    if rest == "9M":
        return make_period("nine_months", year, None, cutoff_day)
    if rest[:1] == "Q":
        if not re.fullmatch(r"Q[1-4]", rest):
            raise PeriodError(f"period code ({code!r}): the quarter must be Q1, Q2, Q3 or Q4")
        return make_period("quarter", year, int(rest[1]), cutoff_day)
    if rest[:1] == "H":
        if not re.fullmatch(r"H[12]", rest):
            raise PeriodError(f"period code ({code!r}): the half must be H1 or H2")
        return make_period("half", year, int(rest[1]), cutoff_day)
    if re.fullmatch(r"[0-9]+", rest):
        if len(rest) != 2:
            raise PeriodError(
                f"period code ({code!r}): the month must have two digits, e.g. '{year}-03'"
            )
        month = int(rest)
        if not 1 <= month <= 12:
            raise PeriodError(f"period code ({code!r}): the month must be from 01 to 12")
        return make_period("month", year, month, cutoff_day)
    raise PeriodError(f"period code ({code!r}) is not recognised; expected {_FORMATS}")


def period_containing(d: date, kind: str = "month", cutoff_day: int = 1) -> Period:
    """The period of ``kind`` that contains the local date ``d``.

    With a cut-off day, a date on or after the cut-off belongs to the next
    month's period. A date in October–December (by period month) is in no
    nine-month period: for ``kind="nine_months"`` it gets the nine months of
    its reporting year, which ended before it (``contains(d)`` is then False),
    so that a list of "current" periods always has a nine-month entry.

    Examples
    --------
    >>> period_containing(date(2025, 3, 20), cutoff_day=15).code
    '2025-04'
    >>> period_containing(date(2024, 12, 31), "year", cutoff_day=15).code
    '2025'
    >>> period_containing(date(2025, 11, 3), "nine_months").range_label()
    '01/01/2025 – 30/09/2025'
    """
    if isinstance(d, datetime) or not isinstance(d, date):
        raise PeriodError(f"d ({d!r}) must be a date (a local date, not a datetime)")
    kind = _check_kind(kind)
    cutoff_day = _check_cutoff(cutoff_day)
    year, month = d.year, d.month
    if cutoff_day > 1 and d.day >= cutoff_day:
        year, month = _add_months(year, month, 1)
    if kind == "month":
        return make_period("month", year, month, cutoff_day)
    if kind in _SPAN:
        return make_period(kind, year, (month - 1) // _SPAN[kind] + 1, cutoff_day)
    # October to December are in no nine-month period; they get their
    # reporting year's, which has already ended (the 9-month report is then due).
    return make_period(kind, year, None, cutoff_day)


def month_code(at: datetime, cutoff_day: int = 1) -> str:
    """The code of the reporting month containing the instant ``at`` (timezone-aware).

    The same month as ``period_containing(local date of at, "month", cutoff_day)``,
    without building a Period: it runs once per stored response in the rollup.

    Examples
    --------
    >>> month_code(datetime(2025, 3, 14, 17, 30, tzinfo=UTC), cutoff_day=15)
    '2025-04'
    >>> month_code(datetime(2025, 3, 31, 16, 59, tzinfo=UTC))
    '2025-03'
    """
    if at.tzinfo is None:
        raise PeriodError(f"at ({at!r}) must be timezone-aware")
    local = at.astimezone(LOCAL_TZ)
    year, month = local.year, local.month
    if cutoff_day > 1 and local.day >= cutoff_day:
        year, month = _add_months(year, month, 1)
    return f"{year:04d}-{month:02d}"


def last_months(end: Period, n: int) -> list[Period]:
    """The ``n`` month periods ending with the month that contains ``end.end``, oldest first.

    Examples
    --------
    >>> [p.code for p in last_months(parse_period("2025-Q1"), 4)]
    ['2024-12', '2025-01', '2025-02', '2025-03']
    """
    if not isinstance(end, Period):
        raise PeriodError(f"end ({end!r}) must be a Period")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise PeriodError(f"n ({n!r}) must be an integer >= 1")
    last = period_containing(end.end, "month", end.cutoff_day)
    assert last.number is not None  # nosec B101  # narrows the type; parse_period already validated it
    months = []
    for back in range(n - 1, -1, -1):
        year, month = _add_months(last.year, last.number, -back)
        months.append(month_period(year, month, end.cutoff_day))
    return months


# What people type for a period, once accents, case and separators are gone
# (see _normalise): "T11/2026" → "t11 2026", "quý III/2026" → "quy iii 2026".
_ROMAN_NUMBERS = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_TYPED: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), kind)
    for pattern, kind in (
        (r"(?:nam )?(?P<year>\d{4})", "year"),
        (r"(?:t|thang) ?(?P<n>\d{1,2}) (?:nam )?(?P<year>\d{4})", "month"),
        (r"(?P<n>\d{1,2}) (?P<year>\d{4})", "month"),
        (r"(?P<year>\d{4}) (?P<n>\d{1,2})", "month"),
        (r"(?:q|quy) ?(?P<n>\d|i{1,3}|iv) (?:nam )?(?P<year>\d{4})", "quarter"),
        (r"(?P<year>\d{4}) ?q(?P<n>\d)", "quarter"),
        (r"6 ?(?:t|thang) (?:dau )?(?:nam )?(?P<year>\d{4})", "half1"),
        (r"6 ?(?:t|thang) cuoi (?:nam )?(?P<year>\d{4})", "half2"),
        (r"h(?P<n>\d) (?P<year>\d{4})", "half"),
        (r"(?P<year>\d{4}) ?h(?P<n>\d)", "half"),
        (r"9 ?(?:t|thang|m) (?:nam )?(?P<year>\d{4})", "nine_months"),
        (r"(?P<year>\d{4}) ?9m", "nine_months"),
    )
)
_TYPED_LIMITS = {"month": 12, "quarter": 4, "half": 2}
TYPED_EXAMPLES = "11/2026, T11/2026, Q3/2026, quý 3/2026, 6T/2026, 9T/2026, 2026"


def _normalise(text: str) -> str:
    """Lower case, no accents (đ → d), every run of separators one space."""
    decomposed = unicodedata.normalize("NFD", text.strip().lower().replace("đ", "d"))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[\s/.\-_,:]+", " ", plain).strip()


def parse_typed_period(text: str, cutoff_day: int = 1) -> Period:
    """A period as people type it in the period box, or :class:`PeriodError` with the reason.

    Accepts every URL code of :func:`parse_period` and the forms officers
    write in reports, in any case, with or without accents, with "/", "-",
    "." or spaces: ``11/2026``, ``T11/2026``, ``tháng 11/2026`` (month);
    ``Q3/2026``, ``quý 3/2026``, ``quý III/2026`` (quarter); ``6T/2026``,
    ``6 tháng đầu năm 2026``, ``6 tháng cuối năm 2026``, ``H2/2026`` (half);
    ``9T/2026``, ``9 tháng năm 2026`` (nine months); ``2026``, ``năm 2026``.

    Examples
    --------
    >>> parse_typed_period("T11/2026").code
    '2026-11'
    >>> parse_typed_period("quý III/2026").code
    '2026-Q3'
    >>> parse_typed_period("6 tháng cuối năm 2026").code
    '2026-H2'
    >>> parse_typed_period("9T/2026", cutoff_day=15).range_label()
    '15/12/2025 – 14/09/2026'
    >>> parse_typed_period("13/2026")
    Traceback (most recent call last):
    ...
    survey.domain.periods.PeriodError: period ('13/2026'): the month must be from 1 to 12
    """
    if not isinstance(text, str):
        raise PeriodError(f"period ({text!r}) must be a string")
    cutoff_day = _check_cutoff(cutoff_day)
    try:
        return parse_period(text.strip(), cutoff_day)
    except PeriodError:
        pass
    plain = _normalise(text)
    if not plain:
        raise PeriodError(f"period ({text!r}) is empty; expected e.g. {TYPED_EXAMPLES}")
    for pattern, kind in _TYPED:
        found = pattern.fullmatch(plain)
        if found is None:
            continue
        year = int(found["year"])
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise PeriodError(f"period ({text!r}): the year must be from {MIN_YEAR} to {MAX_YEAR}")
        if kind in ("half1", "half2"):
            return make_period("half", year, int(kind[-1]), cutoff_day)
        if kind not in _TYPED_LIMITS:
            return make_period(kind, year, None, cutoff_day)
        raw = found["n"]
        number = _ROMAN_NUMBERS[raw] if raw in _ROMAN_NUMBERS else int(raw)
        if not 1 <= number <= _TYPED_LIMITS[kind]:
            what = {"month": "month", "quarter": "quarter", "half": "half"}[kind]
            raise PeriodError(
                f"period ({text!r}): the {what} must be from 1 to {_TYPED_LIMITS[kind]}"
            )
        return make_period(kind, year, number, cutoff_day)
    raise PeriodError(f"period ({text!r}) is not recognised; expected e.g. {TYPED_EXAMPLES}")


def recent_periods(today: date, cutoff_day: int = 1) -> dict[str, list[Period]]:
    """The periods an officer reports on, newest first, none in the future.

    The last 12 months, the last 6 quarters, the last 4 halves, the last 3
    nine-month periods and the last 3 years, each including the one under way.

    >>> [p.code for p in recent_periods(date(2026, 11, 30))["quarter"][:3]]
    ['2026-Q4', '2026-Q3', '2026-Q2']
    >>> [p.code for p in recent_periods(date(2026, 5, 2))["nine_months"]]
    ['2026-9M', '2025-9M', '2024-9M']
    """
    counts = {"month": 12, "quarter": 6, "half": 4, "nine_months": 3, "year": 3}
    found: dict[str, list[Period]] = {}
    for kind, n in counts.items():
        period = period_containing(today, kind, cutoff_day)
        if period.is_future(today):
            period = period.previous()
        items = [period]
        while len(items) < n:
            try:
                period = period.previous()
            except PeriodError:  # before MIN_YEAR
                break
            items.append(period)
        found[kind] = items
    return found
