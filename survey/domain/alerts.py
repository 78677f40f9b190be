"""Alert rules, quiet hours, working days and retry back-off: plain rules, no database.

The worker (survey/notify) asks these functions when a message is due; they
take times and numbers and answer with times and numbers, so they are tested
without a clock or a server.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from pathlib import Path

from .periods import LOCAL_TZ


class AlertKind:
    HARASSMENT = "harassment"
    NEGATIVE_RUN = "negative_run"
    COMMENT = "comment"


ALERT_KINDS = (AlertKind.HARASSMENT, AlertKind.NEGATIVE_RUN, AlertKind.COMMENT)

#: Overall answers that count as negative in a run (Rất không hài lòng, Không hài lòng).
NEGATIVE = frozenset({"1", "2"})
#: Overall answers that are a valid rating (``na`` is not one).
RATED = frozenset({"1", "2", "3", "4", "5"})


class RuleError(ValueError):
    """A rule with numbers that cannot work; the message says which and why."""


@dataclass(frozen=True)
class Rules:
    """A unit's alert rules. The defaults follow counter-feedback services: at
    least 4 responses at one desk within 15 minutes, half of them negative."""

    harassment: bool = True
    run_min_responses: int = 4
    run_negative_percent: int = 50
    run_window_minutes: int = 15
    comments: bool = True
    comment_hour: int = 15
    group_minutes: int = 60

    def __post_init__(self) -> None:
        check_rules(self)


def check_rules(rules: Rules) -> None:
    """:raise RuleError: for numbers no rule can use (a clear message for each)."""
    if not 1 <= rules.run_min_responses <= 1000:
        raise RuleError(
            f"The minimum number of responses ({rules.run_min_responses}) must be 1 to 1000."
        )
    if not 1 <= rules.run_negative_percent <= 100:
        raise RuleError(
            f"The share of negative responses ({rules.run_negative_percent} %) must be 1 to 100 %."
        )
    if not 1 <= rules.run_window_minutes <= 1440:
        raise RuleError(
            f"The window ({rules.run_window_minutes} minutes) must be 1 to 1440 minutes (a day)."
        )
    if not 0 <= rules.comment_hour <= 23:
        raise RuleError(f"The digest hour ({rules.comment_hour}) must be 0 to 23.")
    if not 0 <= rules.group_minutes <= 1440:
        raise RuleError(f"The grouping time ({rules.group_minutes} minutes) must be 0 to 1440.")


def is_negative_run(responses: int, negative: int, rules: Rules) -> bool:
    """Whether ``negative`` of ``responses`` rated responses in one window raise an alert.

    >>> is_negative_run(4, 2, Rules())
    True
    >>> is_negative_run(3, 3, Rules())
    False
    >>> is_negative_run(5, 2, Rules())
    False
    """
    if responses < rules.run_min_responses or responses <= 0:
        return False
    return negative * 100 >= rules.run_negative_percent * responses


def response_alert_kinds(
    answers: dict[str, str], *, trouble_id: str | None, comment: str | None, consent: bool
) -> list[str]:
    """The alerts a response raises when it is stored (the rest come from the worker).

    >>> response_alert_kinds({"trouble": "yes"}, trouble_id="trouble", comment=None, consent=False)
    ['harassment']
    >>> response_alert_kinds({}, trouble_id="trouble", comment="Chậm", consent=True)
    ['comment']
    """
    kinds = []
    if trouble_id is not None and answers.get(trouble_id) == "yes":
        kinds.append(AlertKind.HARASSMENT)
    if comment and consent:
        kinds.append(AlertKind.COMMENT)
    return kinds


_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_clock(text: str | None) -> time | None:
    """``"HH:MM"`` as a time, None for empty; :raise ValueError: otherwise.

    >>> parse_clock("7:30")
    datetime.time(7, 30)
    >>> parse_clock("")
    """
    if text is None or not text.strip():
        return None
    match = _CLOCK.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a time of day (HH:MM)")
    return time(int(match.group(1)), int(match.group(2)))


def quiet_until(now: datetime, start: time | None, end: time | None) -> datetime | None:
    """When quiet hours that contain ``now`` end (UTC), or None when ``now`` is not in them.

    Quiet hours are Vietnam time; a start after the end spans midnight
    (22:00–06:00). Equal or missing bounds mean no quiet hours.

    >>> now = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # 23:00 in Vietnam
    >>> quiet_until(now, time(22, 0), time(6, 0))
    datetime.datetime(2026, 11, 30, 23, 0, tzinfo=datetime.timezone.utc)
    >>> quiet_until(now, time(6, 0), time(22, 0)) is None
    True
    """
    if start is None or end is None or start == end:
        return None
    local = now.astimezone(LOCAL_TZ)
    clock = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= clock < end
    else:
        inside = clock >= start or clock < end
    if not inside:
        return None
    day = local.date() if clock < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=LOCAL_TZ).astimezone(UTC)


def is_working_day(day: date, holidays: frozenset[date] = frozenset()) -> bool:
    return day.weekday() < 5 and day not in holidays


def next_digest_time(
    after: datetime, hour: int, holidays: frozenset[date] = frozenset()
) -> datetime:
    """The first ``hour``:00 (Vietnam time) on a working day at or after ``after`` (UTC).

    >>> friday_evening = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # 19:00 Friday in Vietnam
    >>> next_digest_time(friday_evening, 15)  # Monday 15:00 in Vietnam
    datetime.datetime(2026, 11, 30, 8, 0, tzinfo=datetime.timezone.utc)
    """
    local = after.astimezone(LOCAL_TZ)
    day = local.date()
    for _ in range(60):
        moment = datetime.combine(day, time(hour), tzinfo=LOCAL_TZ)
        if is_working_day(day, holidays) and moment >= local:
            return moment.astimezone(UTC)
        day += timedelta(days=1)
    raise ValueError("no working day in the next 60 days")


def backoff(attempts: int, base_seconds: float, cap_seconds: float) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt: doubling, capped.

    >>> [backoff(n, 30, 3600).seconds for n in (1, 2, 3, 8)]
    [30, 60, 120, 3600]
    """
    exponent = max(0, min(attempts - 1, 30))
    return timedelta(seconds=min(base_seconds * 2**exponent, cap_seconds))


_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)


def check_email(address: str) -> str:
    """The address, trimmed and with its domain lower-cased; :raise ValueError: if it
    cannot be an e-mail address (one ``@``, a dotted domain, no spaces, at most 254).

    >>> check_email(" Lan@LaiCach.GOV.vn ")
    'Lan@laicach.gov.vn'
    """
    address = address.strip()
    if len(address) > 254 or not _EMAIL.match(address):
        raise ValueError(f"{address!r} is not a valid e-mail address")
    local, domain = address.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


_HOLIDAYS = Path(__file__).with_name("holidays_vn.json")


@functools.cache
def vietnam_holidays() -> frozenset[date]:
    """The public holidays of ``holidays_vn.json`` (a data file, updated yearly)."""
    days = json.loads(_HOLIDAYS.read_text(encoding="utf-8"))["days"]
    return frozenset(date.fromisoformat(d) for d in days)


def add_working_days(start: datetime, days: int, holidays: frozenset[date]) -> datetime:
    """The end (midnight, Vietnam time, as UTC) of the ``days``-th working day after
    the day of ``start``: the deadline of a case opened at ``start``.

    >>> friday = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)  # 10:00 Friday in Vietnam
    >>> add_working_days(friday, 3, frozenset())  # Mon, Tue, Wed: end of Wednesday
    datetime.datetime(2026, 12, 2, 17, 0, tzinfo=datetime.timezone.utc)
    >>> add_working_days(friday, 3, frozenset({date(2026, 12, 1)}))  # Tuesday off
    datetime.datetime(2026, 12, 3, 17, 0, tzinfo=datetime.timezone.utc)
    """
    if days < 1:
        raise ValueError(f"a deadline needs at least one working day, not {days}")
    day = start.astimezone(LOCAL_TZ).date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day, holidays):
            counted += 1
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=LOCAL_TZ).astimezone(UTC)
