"""Field interviews: whether an interview falls inside an interviewer's assignment,
and the quality checks a district reads (pure: no Flask, no database).

An assignment is one commune from one date to another (Vietnam dates, both
included). An interview is judged by the time it *started*, as the device
recorded it, not by when it reached the server: an interview made offline on
the last day of an assignment and sent the next morning is accepted. The
device's clock is trusted only within a tolerance: a start later than the
server's time plus ``clock_tolerance`` is refused, and so is one older than
``max_delay`` (a queued interview must be sent within that time).
"""

from __future__ import annotations

import enum
import re
import statistics
from collections import Counter
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta

from .periods import LOCAL_TZ

#: The longest interview accepted: a form of a dozen questions read aloud takes
#: minutes; hours mean a screen left open, not an interview.
MAX_DURATION_SECONDS = 4 * 3600


class Problem(enum.StrEnum):
    """Why an interview is refused (nothing is stored)."""

    NOT_ASSIGNED = "not_assigned"  # no assignment in this commune at all
    OUTSIDE_DATES = "outside_dates"  # assigned to the commune, not on that day
    FUTURE = "future"  # started later than the server's clock allows
    TOO_OLD = "too_old"  # sent more than max_delay after it started
    BAD_DURATION = "bad_duration"


@dataclass(frozen=True)
class Span:
    """One assignment: a unit from ``starts_on`` to ``ends_on`` (both included)."""

    unit_id: int
    starts_on: date
    ends_on: date

    def window(self, tolerance: timedelta) -> tuple[datetime, datetime]:
        """The instants an interview may start in: the first day's midnight to the
        last day's end (Vietnam time), widened by the clock tolerance."""
        first = datetime.combine(self.starts_on, time(0), LOCAL_TZ)
        after = datetime.combine(self.ends_on + timedelta(days=1), time(0), LOCAL_TZ)
        return first - tolerance, after + tolerance


def judge(
    *,
    unit_id: int,
    started_at: datetime,
    duration_seconds: int,
    now: datetime,
    spans: Iterable[Span],
    clock_tolerance: timedelta,
    max_delay: timedelta,
) -> Problem | None:
    """None if the interview may be stored, else why not.

    >>> from datetime import UTC
    >>> span = Span(7, date(2026, 11, 1), date(2026, 11, 30))
    >>> start = datetime(2026, 11, 30, 16, 50, tzinfo=UTC)  # 23:50 on 30/11 in Vietnam
    >>> late = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # sent the next morning
    >>> t, d = timedelta(minutes=15), timedelta(days=7)
    >>> judge(unit_id=7, started_at=start, duration_seconds=600, now=late, spans=[span],
    ...       clock_tolerance=t, max_delay=d) is None
    True
    >>> judge(unit_id=7, started_at=late, duration_seconds=600, now=late, spans=[span],
    ...       clock_tolerance=t, max_delay=d)
    <Problem.OUTSIDE_DATES: 'outside_dates'>
    >>> judge(unit_id=8, started_at=start, duration_seconds=600, now=late, spans=[span],
    ...       clock_tolerance=t, max_delay=d)
    <Problem.NOT_ASSIGNED: 'not_assigned'>
    """
    if not 0 <= duration_seconds <= MAX_DURATION_SECONDS:
        return Problem.BAD_DURATION
    if started_at + timedelta(seconds=duration_seconds) > now + clock_tolerance:
        return Problem.FUTURE
    if now - started_at > max_delay:
        return Problem.TOO_OLD
    mine = [span for span in spans if span.unit_id == unit_id]
    if not mine:
        return Problem.NOT_ASSIGNED
    for span in mine:
        low, high = span.window(clock_tolerance)
        if low <= started_at < high:
            return None
    return Problem.OUTSIDE_DATES


def covered(unit_id: int, started_at: datetime, spans: Iterable[Span]) -> bool:
    """Whether an assignment covers the day (Vietnam time) the interview started."""
    day = started_at.astimezone(LOCAL_TZ).date()
    return any(s.unit_id == unit_id and s.starts_on <= day <= s.ends_on for s in spans)


def local_day(value: datetime) -> date:
    return value.astimezone(LOCAL_TZ).date()


_DAY = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")
_ISO_DAY = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")


def parse_day(text: str | None) -> date | None:
    """A date typed as dd/mm/yyyy (also with dots or dashes) or yyyy-mm-dd
    (a browser's date box); None when it is not a date.

    >>> parse_day("1/12/2026"), parse_day("2026-12-01"), parse_day("31/02/2026")
    (datetime.date(2026, 12, 1), datetime.date(2026, 12, 1), None)
    """
    if not text:
        return None
    match = _DAY.match(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
    else:
        match = _ISO_DAY.match(text)
        if not match:
            return None
        year, month, day = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


@dataclass(frozen=True)
class Pattern:
    """An interviewer's most repeated full answer vector."""

    count: int
    share: float
    suspicious: bool


def repeated_pattern(
    vectors: Iterable[tuple], *, min_count: int, max_share: float
) -> Pattern | None:
    """The most common answer vector among one interviewer's interviews.

    Suspicious when the same full set of answers comes back at least
    ``min_count`` times and in more than ``max_share`` of the interviews: real
    people differ, copied or invented forms do not. A flag to look at, not proof.

    >>> repeated_pattern([(1,), (1,), (1,), (2,)], min_count=3, max_share=0.5)
    Pattern(count=3, share=0.75, suspicious=True)
    >>> repeated_pattern([], min_count=3, max_share=0.5) is None
    True
    """
    counts = Counter(vectors)
    total = sum(counts.values())
    if not total:
        return None
    count = counts.most_common(1)[0][1]
    share = count / total
    return Pattern(count, share, count >= min_count and share > max_share)


def answer_vector(answers: Mapping[str, str], question_ids: Iterable[str]) -> tuple:
    """The full answer vector in questionnaire order ("" for a skipped question)."""
    return tuple(answers.get(q, "") for q in question_ids)


def median(values: list[int]) -> float | None:
    return statistics.median(values) if values else None
