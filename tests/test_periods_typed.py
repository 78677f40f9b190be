"""What officers type in the period box: every natural form, and clear refusals."""

from datetime import date

import pytest

from survey.domain.periods import PeriodError
from survey.domain.periods import parse_typed_period
from survey.domain.periods import recent_periods


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("2026-11", "2026-11"),
        ("11/2026", "2026-11"),
        (" 11/2026 ", "2026-11"),
        ("3/2026", "2026-03"),
        ("T11/2026", "2026-11"),
        ("t11/2026", "2026-11"),
        ("T 11/2026", "2026-11"),
        ("tháng 11/2026", "2026-11"),
        ("Tháng 11 năm 2026", "2026-11"),
        ("thang 11-2026", "2026-11"),
        ("11.2026", "2026-11"),
        ("2026/11", "2026-11"),
        ("2026-3", "2026-03"),
        ("Q3/2026", "2026-Q3"),
        ("q3 2026", "2026-Q3"),
        ("quý 3/2026", "2026-Q3"),
        ("Quý III/2026", "2026-Q3"),
        ("quy iv/2026", "2026-Q4"),
        ("2026-Q3", "2026-Q3"),
        ("2026q3", "2026-Q3"),
        ("6T/2026", "2026-H1"),
        ("6 tháng/2026", "2026-H1"),
        ("6 tháng đầu năm 2026", "2026-H1"),
        ("6 tháng cuối năm 2026", "2026-H2"),
        ("H2/2026", "2026-H2"),
        ("2026-H1", "2026-H1"),
        ("9T/2026", "2026-9M"),
        ("9 tháng năm 2026", "2026-9M"),
        ("2026-9M", "2026-9M"),
        ("2026", "2026"),
        ("Năm 2026", "2026"),
    ],
)
def test_typed_forms_are_understood(typed, code):
    assert parse_typed_period(typed).code == code


def test_typed_period_keeps_the_units_calendar():
    # Lai Cách cuts on the 15th: "T3/2025" is 15/02 – 14/03.
    assert parse_typed_period("T3/2025", cutoff_day=15).range_label() == "15/02/2025 – 14/03/2025"


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("13/2026", "the month must be from 1 to 12"),
        ("T0/2026", "the month must be from 1 to 12"),
        ("Q5/2026", "the quarter must be from 1 to 4"),
        ("H3/2026", "the half must be from 1 to 2"),
        ("11/1999", "the year must be from 2000 to 2100"),
        ("march", "is not recognised"),
        ("11/26", "is not recognised"),
        ("", "is empty"),
        ("   ", "is empty"),
    ],
)
def test_bad_typed_periods_say_why(typed, reason):
    with pytest.raises(PeriodError, match=reason):
        parse_typed_period(typed)


def test_recent_periods_are_never_in_the_future():
    today = date(2026, 11, 30)
    recent = recent_periods(today)
    assert [p.code for p in recent["month"][:2]] == ["2026-11", "2026-10"]
    assert len(recent["month"]) == 12 and recent["month"][-1].code == "2025-12"
    assert [p.code for p in recent["half"]] == ["2026-H2", "2026-H1", "2025-H2", "2025-H1"]
    assert [p.code for p in recent["year"]] == ["2026", "2025", "2024"]
    for periods in recent.values():
        assert all(not p.is_future(today) for p in periods)
    # With a cut-off on the 15th, 20/11 is already in December's period.
    assert recent_periods(date(2026, 11, 20), 15)["month"][0].code == "2026-12"


def test_recent_periods_stop_at_the_first_year():
    assert [p.code for p in recent_periods(date(2000, 2, 1))["year"]] == ["2000"]
