"""Tests for survey.stats.display: printed figures never contradict the verdict.

The reference is exact rational arithmetic (fractions.Fraction), independent
of the Decimal code under test.
"""

import math
from fractions import Fraction
from functools import cache

import pytest

from survey.stats import ShownValue
from survey.stats import display_interval
from survey.stats import display_rate
from survey.stats import proportion_ci

TARGETS = [0.85, 0.90, 0.95]


def _round_half_up(value: float, digits: int) -> Fraction:
    """100 * value rounded to ``digits`` decimals, halves up, exactly."""
    scaled = Fraction(value) * 100 * 10**digits
    return Fraction(math.floor(scaled + Fraction(1, 2)), 10**digits)


def _honest(value: float, printed: Fraction, target: float | None) -> bool:
    if target is not None and (value >= target) != (printed >= Fraction(repr(target)) * 100):
        return False
    return not ((value < 1 and printed >= 100) or (value > 0 and printed <= 0))


def _check(shown: ShownValue, value: float, target: float | None, min_digits=1, max_digits=3):
    printed = Fraction(shown.percent)
    assert abs(shown.value * 100 - float(printed)) < 1e-9
    if shown.prefix == "":
        # Correctly rounded, honest, and with the fewest decimals that are.
        assert printed == _round_half_up(value, shown.digits)
        assert _honest(value, printed, target)
        for fewer in range(min_digits, shown.digits):
            assert not _honest(value, _round_half_up(value, fewer), target), (value, fewer)
    else:
        # No decimals up to max_digits were honest; the statement is true and on
        # the value's side of the target.
        for digits in range(min_digits, max_digits + 1):
            assert not _honest(value, _round_half_up(value, digits), target)
        assert shown.digits == min_digits
        exact = Fraction(value) * 100
        if shown.prefix == "<":
            assert exact < printed
            if target is not None:
                assert value < target and printed <= Fraction(repr(target)) * 100
        else:
            assert shown.prefix == ">" and exact > printed
            if target is not None:
                assert value >= target and printed >= Fraction(repr(target)) * 100


def _reads(shown: ShownValue, target: float) -> str:
    """Which side of the target a reader puts a printed figure."""
    target_percent = Fraction(repr(target)) * 100
    printed = Fraction(shown.percent)
    if shown.prefix == "<" and printed <= target_percent:
        return "below"
    return "below" if printed < target_percent else "at_or_above"


@cache
def _interval(k, n, method):
    return proportion_ci(k, n, method=method)


# The service's exact intervals for every k <= n <= 200; Wilson's up to 100.
@pytest.mark.parametrize(("method", "top"), [("exact", 200), ("wilson", 100)])
@pytest.mark.parametrize("target", TARGETS)
def test_every_interval_reads_as_its_verdict(target, method, top):
    digits_used = set()
    for n in range(1, top + 1):
        for k in range(n + 1):
            ci = _interval(k, n, method)
            shown = display_interval(ci.low, ci.high, target, rate=ci.rate)
            _check(shown.low, ci.low, target)
            _check(shown.high, ci.high, target)
            _check(shown.rate, ci.rate, target)
            low, high = _reads(shown.low, target), _reads(shown.high, target)
            read = "met" if low == "at_or_above" else "not_met" if high == "below" else "inc"
            expected = {"met": "met", "not_met": "not_met", "inconclusive": "inc"}[shown.status]
            assert read == expected, (k, n)
            assert shown.digits == max(shown.low.digits, shown.high.digits, shown.rate.digits)
            digits_used.add(shown.digits)
    # The rule has work to do: some intervals need more than one decimal.
    assert max(digits_used) > 1


def test_issue_example_35_of_35_against_90():
    ci = proportion_ci(35, 35, method="exact")
    assert ci.low < 0.90
    shown = display_interval(ci.low, ci.high, 0.90, rate=ci.rate)
    assert shown.status == "inconclusive"
    # Not "90,0 %" beside "not yet known".
    assert shown.low.percent == Fraction(89997, 1000) and shown.low.prefix == ""
    assert (shown.high.percent, shown.high.digits) == (100, 1)
    tight = display_interval(ci.low, ci.high, 0.90, max_digits=2)
    assert (tight.low.prefix, tight.low.percent) == ("<", 90)


def test_rate_never_prints_100_or_0_unless_exact():
    _check(display_rate(0.99996), 0.99996, None)
    assert display_rate(0.99996).percent < 100
    # 100,0 % and 100,00 % would both be false: "> 99,9 %".
    assert display_rate(0.999999, max_digits=2) == ShownValue(0.999, 1, ">")
    assert display_rate(1.0).percent == 100 and display_rate(0.0).percent == 0
    tiny = display_rate(1e-9, max_digits=3)
    assert tiny.prefix == "<" and tiny.percent == Fraction(1, 10)


def test_a_target_with_more_decimals_than_max_digits():
    # 87.25 % needs two decimals: a rate just above it is printed with them,
    # never as "87,2 %" under the target.
    shown = display_rate(0.87251, 0.8725, max_digits=1)
    assert shown.prefix == "" and shown.percent >= Fraction(8725, 100)
    _check(shown, 0.87251, 0.8725, max_digits=2)


@pytest.mark.parametrize(
    "value", [0.0, 1e-12, 0.1234, 0.849999, 0.85, 0.8500001, 0.89995, 0.9, 0.99995, 1.0]
)
@pytest.mark.parametrize("target", [None, 0.85, 0.9, 0.875, 1.0])
def test_display_rate_rule(value, target):
    _check(display_rate(value, target), value, target)


def test_display_rejects_bad_arguments():
    with pytest.raises(ValueError, match="rate"):
        display_rate(1.2)
    with pytest.raises(ValueError, match="target"):
        display_rate(0.5, 0.0)
    with pytest.raises(ValueError, match="max_digits"):
        display_rate(0.5, 0.9, min_digits=3, max_digits=2)
    with pytest.raises(ValueError, match="must not exceed"):
        display_interval(0.9, 0.8, 0.85)
    with pytest.raises(ValueError, match="target"):
        display_interval(0.8, 0.9, None)
