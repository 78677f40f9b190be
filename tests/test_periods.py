"""Tests for survey.domain.periods: codes, labels, boundaries, UTC bounds and tiling.

Expected dates are worked out by hand from the Lai Cách calendar (15th to
14th) and from the ordinary calendar.
"""

from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from survey.domain.periods import Period
from survey.domain.periods import PeriodError
from survey.domain.periods import last_months
from survey.domain.periods import make_period
from survey.domain.periods import month_period
from survey.domain.periods import parse_period
from survey.domain.periods import period_containing

D = date

# (code, cutoff_day, kind, number, start, end, label vi, label en)
CASES = [
    ("2025-03", 1, "month", 3, D(2025, 3, 1), D(2025, 3, 31), "Tháng 3/2025", "March 2025"),
    ("2025-03", 15, "month", 3, D(2025, 2, 15), D(2025, 3, 14), "Tháng 3/2025", "March 2025"),
    ("2025-01", 15, "month", 1, D(2024, 12, 15), D(2025, 1, 14), "Tháng 1/2025", "January 2025"),
    ("2025-12", 1, "month", 12, D(2025, 12, 1), D(2025, 12, 31), "Tháng 12/2025", "December 2025"),
    ("2025-Q1", 1, "quarter", 1, D(2025, 1, 1), D(2025, 3, 31), "Quý I/2025", "Q1 2025"),
    ("2025-Q1", 15, "quarter", 1, D(2024, 12, 15), D(2025, 3, 14), "Quý I/2025", "Q1 2025"),
    ("2025-Q3", 15, "quarter", 3, D(2025, 6, 15), D(2025, 9, 14), "Quý III/2025", "Q3 2025"),
    ("2025-Q4", 1, "quarter", 4, D(2025, 10, 1), D(2025, 12, 31), "Quý IV/2025", "Q4 2025"),
    ("2025-H1", 1, "half", 1, D(2025, 1, 1), D(2025, 6, 30), "6 tháng đầu năm 2025", "H1 2025"),
    ("2025-H1", 15, "half", 1, D(2024, 12, 15), D(2025, 6, 14), "6 tháng đầu năm 2025", "H1 2025"),
    ("2025-H2", 1, "half", 2, D(2025, 7, 1), D(2025, 12, 31), "6 tháng cuối năm 2025", "H2 2025"),
    ("2025-H2", 15, "half", 2, D(2025, 6, 15), D(2025, 12, 14), "6 tháng cuối năm 2025", "H2 2025"),
    (
        "2025-9M",
        1,
        "nine_months",
        None,
        D(2025, 1, 1),
        D(2025, 9, 30),
        "9 tháng năm 2025",
        "9 months 2025",
    ),  # noqa: E501
    (
        "2025-9M",
        15,
        "nine_months",
        None,
        D(2024, 12, 15),
        D(2025, 9, 14),
        "9 tháng năm 2025",
        "9 months 2025",
    ),  # noqa: E501
    ("2025", 1, "year", None, D(2025, 1, 1), D(2025, 12, 31), "Năm 2025", "Year 2025"),
    ("2025", 15, "year", None, D(2024, 12, 15), D(2025, 12, 14), "Năm 2025", "Year 2025"),
]


@pytest.mark.parametrize(
    ("code", "cutoff", "kind", "number", "start", "end", "vi", "en"),
    CASES,
    ids=[f"{c[0]}-cut{c[1]}" for c in CASES],
)
def test_parse_every_kind(code, cutoff, kind, number, start, end, vi, en):
    period = parse_period(code, cutoff_day=cutoff)
    assert (period.kind, period.number, period.cutoff_day) == (kind, number, cutoff)
    assert (period.start, period.end) == (start, end)
    assert period.code == code
    assert str(period) == code
    assert period.label() == vi
    assert period.label("en") == en
    assert period.range_label() == f"{start:%d/%m/%Y} – {end:%d/%m/%Y}"
    months = period.months()
    assert months[0].start == start and months[-1].end == end
    for before, after in zip(months, months[1:], strict=False):
        assert after.start == before.end + timedelta(days=1)
    assert all(m.kind == "month" and m.cutoff_day == cutoff for m in months)
    assert make_period(kind, 2025, number, cutoff) == period


def test_range_label_lai_cach_month():
    assert parse_period("2025-03", cutoff_day=15).range_label() == "15/02/2025 – 14/03/2025"


def test_months_counts():
    assert [
        len(parse_period(c).months()) for c in ("2025-03", "2025-Q2", "2025-H2", "2025-9M", "2025")
    ] == [1, 3, 6, 9, 12]  # noqa: E501
    assert [m.code for m in parse_period("2025-Q2", 15).months()] == [
        "2025-04",
        "2025-05",
        "2025-06",
    ]  # noqa: E501


@pytest.mark.parametrize(
    ("d", "cutoff", "kind", "code"),
    [
        (D(2025, 3, 20), 15, "month", "2025-04"),
        (D(2025, 3, 14), 15, "month", "2025-03"),
        (D(2025, 3, 15), 15, "month", "2025-04"),
        (D(2025, 3, 20), 1, "month", "2025-03"),
        (D(2024, 12, 31), 15, "month", "2025-01"),
        (D(2024, 12, 31), 15, "year", "2025"),
        (D(2024, 12, 14), 15, "year", "2024"),
        (D(2024, 12, 31), 1, "year", "2024"),
        (D(2024, 12, 15), 15, "quarter", "2025-Q1"),
        (D(2025, 6, 14), 15, "half", "2025-H1"),
        (D(2025, 6, 15), 15, "half", "2025-H2"),
        (D(2025, 9, 14), 15, "nine_months", "2025-9M"),
        (D(2025, 9, 30), 1, "nine_months", "2025-9M"),
        (D(2024, 2, 29), 1, "month", "2024-02"),
        (D(2024, 2, 29), 28, "month", "2024-03"),
    ],
)
def test_period_containing(d, cutoff, kind, code):
    period = period_containing(d, kind, cutoff_day=cutoff)
    assert period.code == code
    assert period.contains(d)


def test_nine_months_after_september_is_the_years_nine_months():
    # No nine-month period contains the last quarter: the year's one is returned.
    after = period_containing(D(2025, 9, 15), "nine_months", cutoff_day=15)
    assert after.code == "2025-9M" and not after.contains(D(2025, 9, 15))
    assert after.is_complete(D(2025, 9, 15))
    assert period_containing(D(2025, 10, 1), "nine_months").code == "2025-9M"
    # With the 15th cut-off, 20/12/2025 is already in reporting year 2026.
    assert period_containing(D(2025, 12, 20), "nine_months", cutoff_day=15).code == "2026-9M"


def test_february_and_leap_years():
    assert month_period(2024, 2).end == D(2024, 2, 29)
    assert month_period(2025, 2).end == D(2025, 2, 28)
    assert month_period(2100, 2).end == D(2100, 2, 28)  # 2100 is not a leap year
    assert month_period(2000, 2).end == D(2000, 2, 29)
    # Cut-off 28: March covers 28/02 to 27/03; in a leap year 29/02 is in it.
    assert month_period(2024, 3, 28).start == D(2024, 2, 28)
    assert month_period(2024, 2, 28).end == D(2024, 2, 27)
    assert month_period(2024, 3, 15).start == D(2024, 2, 15)
    assert month_period(2024, 3, 15).end == D(2024, 3, 14)


def test_year_boundary_with_cutoff():
    january = month_period(2025, 1, 15)
    assert january.start == D(2024, 12, 15)
    assert january.previous().code == "2024-12"
    assert january.previous().end == D(2024, 12, 14)
    assert month_period(2024, 12, 15).next() == january


def test_next_previous_every_kind():
    assert parse_period("2025-Q4").next().code == "2026-Q1"
    assert parse_period("2025-Q1").previous().code == "2024-Q4"
    assert parse_period("2025-H2", 15).next().code == "2026-H1"
    assert parse_period("2025-9M").next().code == "2026-9M"
    assert parse_period("2025").previous().code == "2024"
    assert parse_period("2025-12", 15).next().start == D(2025, 12, 15)


def test_short_label():
    assert month_period(2025, 3).short_label() == "T3/2025"
    assert month_period(2025, 3).short_label("en") == "Mar 2025"
    assert parse_period("2025-Q1").short_label() == "Quý I/2025"


def test_utc_bounds_are_local_midnight():
    start, end = month_period(2025, 3).utc_bounds()
    # 00:00 at UTC+7 is 17:00 UTC the day before.
    assert start == datetime(2025, 2, 28, 17, 0, tzinfo=UTC)
    assert end == datetime(2025, 3, 31, 17, 0, tzinfo=UTC)
    assert start.utcoffset() == timedelta(0)
    start, end = parse_period("2025", cutoff_day=15).utc_bounds()
    assert start == datetime(2024, 12, 14, 17, 0, tzinfo=UTC)
    assert end == datetime(2025, 12, 14, 17, 0, tzinfo=UTC)


def test_utc_bounds_tile():
    march, april = month_period(2025, 3, 15), month_period(2025, 4, 15)
    assert march.utc_bounds()[1] == april.utc_bounds()[0]


def test_future_and_complete():
    march = month_period(2025, 3, 15)
    assert march.is_future(D(2025, 2, 14))
    assert not march.is_future(D(2025, 2, 15))
    assert not march.is_complete(D(2025, 3, 14))
    assert march.is_complete(D(2025, 3, 15))
    assert march.contains(D(2025, 2, 15)) and march.contains(D(2025, 3, 14))
    assert not march.contains(D(2025, 2, 14)) and not march.contains(D(2025, 3, 15))


def test_contains_rejects_datetime():
    with pytest.raises(PeriodError, match="must be a date"):
        month_period(2025, 3).contains(datetime(2025, 3, 1, tzinfo=UTC))


def test_last_months():
    codes = [p.code for p in last_months(month_period(2025, 3, 15), 12)]
    assert codes[0] == "2024-04" and codes[-1] == "2025-03" and len(codes) == 12
    assert [p.code for p in last_months(parse_period("2025", 15), 2)] == ["2025-11", "2025-12"]
    assert [p.code for p in last_months(parse_period("2025-H1"), 3)] == [
        "2025-04",
        "2025-05",
        "2025-06",
    ]
    assert all(p.cutoff_day == 15 for p in last_months(month_period(2025, 3, 15), 3))
    with pytest.raises(PeriodError, match=r"n \(0\)"):
        last_months(month_period(2025, 3), 0)
    with pytest.raises(PeriodError, match=r"end \('2025-03'\)"):
        last_months("2025-03", 3)


@pytest.mark.parametrize(
    ("code", "match"),
    [
        ("2025-13", r"\('2025-13'\).*01 to 12"),
        ("2025-00", r"\('2025-00'\).*01 to 12"),
        ("2025-Q5", r"\('2025-Q5'\).*Q1, Q2, Q3 or Q4"),
        ("2025-Q0", r"\('2025-Q0'\).*Q1, Q2, Q3 or Q4"),
        ("2025-q1", r"\('2025-q1'\) is not recognised"),
        ("2025-3", r"\('2025-3'\).*two digits"),
        ("2025-003", r"\('2025-003'\).*two digits"),
        ("25-03", r"\('25-03'\).*four digits"),
        ("2025-H3", r"\('2025-H3'\).*H1 or H2"),
        ("2025-H", r"\('2025-H'\).*H1 or H2"),
        ("1999-03", r"\('1999-03'\).*2000 to 2100"),
        ("2101", r"\('2101'\).*2000 to 2100"),
        (" 2025-03", r"\(' 2025-03'\).*spaces"),
        ("2025-03\n", r"spaces"),
        ("", r"\(''\) is empty"),
        ("2025-", r"\('2025-'\) is not recognised"),
        ("2025-03-01", r"\('2025-03-01'\) is not recognised"),
        ("2025-9m", r"not recognised"),
        ("２０２５-03", r"four digits"),  # full-width digits
        ("2025/03", r"four digits"),
    ],
)
def test_parse_errors(code, match):
    with pytest.raises(PeriodError, match=match):
        parse_period(code)


def test_parse_rejects_non_string():
    with pytest.raises(PeriodError, match=r"\(202503\) must be a string"):
        parse_period(202503)


@pytest.mark.parametrize("cutoff", [0, 29, 31, -1, True, 1.0, "15"])
def test_cutoff_day_validated(cutoff):
    with pytest.raises(PeriodError, match=rf"cutoff_day \({cutoff!r}\)"):
        parse_period("2025-03", cutoff_day=cutoff)
    with pytest.raises(PeriodError, match="cutoff_day"):
        month_period(2025, 3, cutoff)


def test_period_error_is_value_error():
    assert issubclass(PeriodError, ValueError)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("week", 2025, 1), r"kind \('week'\)"),
        (("month", 2025, 13), r"month number \(13\)"),
        (("quarter", 2025, None), r"quarter number \(None\)"),
        (("year", 2025, 1), r"no number; got 1"),
        (("month", 1999, 1), r"year \(1999\)"),
    ],
)
def test_make_period_errors(args, match):
    with pytest.raises(PeriodError, match=match):
        make_period(*args)


def test_direct_construction_is_checked():
    good = month_period(2025, 3)
    with pytest.raises(PeriodError, match="do not match"):
        Period("month", 2025, 3, 1, good.start, good.end + timedelta(days=1))
    assert Period("month", 2025, 3, 1, good.start, good.end) == good


def test_label_rejects_unknown_language():
    with pytest.raises(PeriodError, match=r"lang \('fr'\)"):
        month_period(2025, 3).label("fr")


def test_frozen():
    with pytest.raises(AttributeError):
        month_period(2025, 3).year = 2026


# ------------------------------------------------------------------ properties

# Away from the ends of 2000-2100 so that previous() and next() exist.
dates = st.dates(min_value=D(2001, 1, 1), max_value=D(2099, 10, 31))
cutoffs = st.integers(min_value=1, max_value=28)


@settings(max_examples=300, deadline=None)
@given(d=dates, cutoff=cutoffs)
def test_exactly_one_month_contains_each_date(d, cutoff):
    period = period_containing(d, "month", cutoff)
    assert period.contains(d)
    assert not period.previous().contains(d)
    assert not period.next().contains(d)
    # Consecutive months tile: no gap, no overlap.
    assert period.previous().end + timedelta(days=1) == period.start
    assert period.end + timedelta(days=1) == period.next().start
    assert parse_period(period.code, cutoff) == period


@settings(max_examples=200, deadline=None)
@given(d=dates, cutoff=cutoffs, kind=st.sampled_from(["quarter", "half", "year"]))
def test_longer_periods_are_made_of_the_containing_months(d, cutoff, kind):
    period = period_containing(d, kind, cutoff)
    assert period.contains(d)
    assert period_containing(d, "month", cutoff) in period.months()
    assert period.end + timedelta(days=1) == period.next().start
    length = (period.end - period.start).days + 1
    assert length == sum((m.end - m.start).days + 1 for m in period.months())
