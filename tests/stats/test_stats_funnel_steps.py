"""Tests for survey.stats.funnel_steps and funnel_class: colours follow the drawn limits."""

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sps

from survey.stats import FUNNEL_ZONES
from survey.stats import funnel_class
from survey.stats import funnel_steps

STEPS = json.loads((Path(__file__).parent / "fixtures" / "funnel_steps.json").read_text("utf-8"))
TARGETS = [0.85, 0.90, 0.95]
TOP = 300


@pytest.mark.parametrize("case", STEPS["cases"], ids=lambda c: f"{c['target']}-{c['coverage']}")
def test_step_counts_match_r_qbinom(case):
    # R: qbinom((1 - coverage)/2, n, target) and qbinom((1 + coverage)/2, n, target),
    # for n = 1..300, 500, 1000, 5000, 20000.
    steps = funnel_steps(case["target"], case["n"], case["coverage"])
    assert list(steps.lower_count) == case["lower_count"]
    assert list(steps.upper_count) == case["upper_count"]
    assert steps.lower == tuple(r / n for r, n in zip(case["lower_count"], case["n"], strict=True))
    assert steps.upper == tuple(r / n for r, n in zip(case["upper_count"], case["n"], strict=True))


def _position(rate, lower, upper):
    if rate < lower:
        return "below"
    if rate > upper:
        return "above"
    return "inside"


@pytest.mark.parametrize("target", TARGETS)
def test_class_is_the_position_against_the_drawn_steps(target):
    # All 45 450 (k, n) with k <= n <= 300: the colour equals where the point
    # k/n sits against the very numbers a chart draws.
    grid = range(1, TOP + 1)
    inner = funnel_steps(target, grid, 0.95)
    outer = funnel_steps(target, grid, 0.998)
    seen = set()
    for i, n in enumerate(grid):
        for k in range(n + 1):
            rate = k / n
            far = _position(rate, outer.lower[i], outer.upper[i])
            near = _position(rate, inner.lower[i], inner.upper[i])
            expected = (
                far + "998" if far != "inside" else near + "95" if near != "inside" else "inside"
            )
            got = funnel_class(k, n, target)
            assert got == expected, (k, n)
            seen.add(got)
    assert seen == set(FUNNEL_ZONES)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("coverage", [0.95, 0.998])
def test_steps_are_the_exact_binomial_tails(target, coverage):
    # Below exactly when P(X <= k) < p, above exactly when P(X >= k) <= p (scipy's
    # binomial, independent of the search), except where a tail equals p to 1e-9.
    p = (1 - coverage) / 2
    grid = np.arange(1, TOP + 1)
    steps = funnel_steps(target, grid, coverage)
    for n, low, high in zip(grid, steps.lower_count, steps.upper_count, strict=True):
        k = np.arange(n + 1)
        at_most = sps.binom.cdf(k, n, target)
        at_least = sps.binom.sf(k - 1, n, target)
        clear_low = np.abs(at_most - p) > 1e-9 * p
        clear_high = np.abs(at_least - p) > 1e-9 * p
        assert np.array_equal((k < low)[clear_low], (at_most < p)[clear_low])
        assert np.array_equal((k > high)[clear_high], (at_least <= p)[clear_high])
        # A unit exactly at the target is flagged with probability at most 1 - coverage,
        # and the funnel contains the target.
        outside = sps.binom.cdf(low - 1, n, target) + sps.binom.sf(high, n, target)
        assert outside <= 1 - coverage + 1e-12
        assert low / n <= target <= high / n


def test_issue_examples():
    # 40 of 40 against 90 %: P(X >= 40) = 0.9**40 = 1.5 % < 2.5 %: above the 95 % funnel.
    assert funnel_class(40, 40, 0.90) == "above95"
    assert funnel_class(36, 40, 0.90) == "inside"
    # One response, unhappy: nothing to flag.
    assert funnel_class(0, 1, 0.90) == "inside"


def test_funnel_steps_invalid_input():
    with pytest.raises(ValueError, match="target"):
        funnel_steps(1.0, 10)
    with pytest.raises(ValueError, match="n"):
        funnel_steps(0.9, [10, 0])
    with pytest.raises(ValueError, match="empty"):
        funnel_steps(0.9, [])
    with pytest.raises(ValueError, match="at least 1"):
        funnel_class(0, 0, 0.9)
    with pytest.raises(ValueError, match="must not exceed"):
        funnel_class(5, 4, 0.9)
