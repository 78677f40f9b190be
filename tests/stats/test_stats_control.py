"""Tests for survey.stats.p_chart_limits and funnel_limits."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from survey.stats import funnel_limits
from survey.stats import p_chart_limits

FUNNEL = json.loads((Path(__file__).parent / "fixtures" / "funnel.json").read_text("utf-8"))


# ------------------------------------------------------------------- p-chart


def test_p_chart_hand_arithmetic():
    chart = p_chart_limits([45, 47, 30, 48], [50, 50, 50, 50])
    assert chart.center == 170 / 200
    half = 3 * math.sqrt(0.85 * 0.15 / 50)
    assert_allclose(chart.lower, [0.85 - half] * 4, rtol=1e-14)
    assert chart.upper == (1.0, 1.0, 1.0, 1.0)  # 0.85 + 0.1515 clipped to 1
    assert chart.rates == (0.9, 0.94, 0.6, 0.96)
    assert chart.out_of_control == (2,) and chart.below == (2,) and chart.above == ()
    assert chart.sigma == 3.0


def test_p_chart_limits_depend_on_period_size_and_flag_both_directions():
    chart = p_chart_limits([80, 200, 10, 95], [100, 210, 20, 100], sigma=2)
    center = 385 / 430
    for i, n in enumerate([100, 210, 20, 100]):
        half = 2 * math.sqrt(center * (1 - center) / n)
        assert_allclose(chart.lower[i], max(0.0, center - half), rtol=1e-14)
        assert_allclose(chart.upper[i], min(1.0, center + half), rtol=1e-14)
    assert chart.below == (0, 2) and chart.above == (1,)
    assert chart.out_of_control == (0, 1, 2)


def test_p_chart_period_without_responses():
    chart = p_chart_limits([45, 0, 40], [50, 0, 50])
    assert chart.rates[1] is None and chart.lower[1] is None and chart.upper[1] is None
    assert chart.center == 85 / 100
    assert 1 not in chart.out_of_control


def test_p_chart_all_satisfied_collapses_limits():
    chart = p_chart_limits([10, 20], [10, 20])
    assert chart.center == 1.0 and chart.lower == (1.0, 1.0) and chart.upper == (1.0, 1.0)
    assert chart.out_of_control == ()


def test_p_chart_accepts_numpy_arrays():
    chart = p_chart_limits(np.array([45, 47]), np.array([50, 50]))
    assert chart.center == 0.92


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (([1, 2], [5]), {}, r"successes_by_period \(2 periods\) and n_by_period \(1 periods\)"),
        (([], []), {}, r"n_by_period \(\[\]\) must not be empty"),
        (([0, 0], [0, 0]), {}, r"n_by_period \(\[0, 0\]\) has no responses in any period"),
        (([6], [5]), {}, r"successes \(6\) must not exceed n \(5\)"),
        (([-1], [5]), {}, r"successes \(-1\) must be an integer >= 0"),
        (([1], [5]), {"sigma": 0}, r"sigma \(0\) must be positive"),
        (([1], [5]), {"sigma": "3"}, r"sigma \('3'\) must be a real number"),
        ((5, [5]), {}, r"successes_by_period \(5\) must be a sequence"),
        (([1], "5"), {}, r"n_by_period \('5'\) must be a sequence"),
    ],
)
def test_p_chart_invalid_input(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        p_chart_limits(*args, **kwargs)


# -------------------------------------------------------------------- funnel


@pytest.mark.parametrize("case", FUNNEL["cases"], ids=lambda c: f"{c['target']}-{c['coverage']}")
def test_funnel_matches_r_spiegelhalter(case):
    # Expected: R 4.2.2, Spiegelhalter (2005) appendix A.1.1:
    #   r <- qbinom(p, n, t); a <- (pbinom(r, n, t) - p) / (pbinom(r, n, t) - pbinom(r - 1, n, t))
    #   limit <- (r - a) / n, clipped to [0, 1]
    limits = funnel_limits(case["target"], case["n"], case["coverage"])
    assert limits.n == tuple(case["n"])
    assert_allclose(limits.lower, case["lower"], rtol=1e-12, atol=1e-12)
    assert_allclose(limits.upper, case["upper"], rtol=1e-12, atol=1e-12)


def test_funnel_scalar_n_gives_one_point_tuples():
    limits = funnel_limits(0.9, 100)
    assert limits.n == (100,) and len(limits.lower) == len(limits.upper) == 1
    assert limits == funnel_limits(0.9, [100])
    assert (limits.target, limits.coverage) == (0.9, 0.95)


def test_funnel_wider_coverage_gives_wider_limits():
    narrow = funnel_limits(0.9, [10, 50, 200], 0.95)
    wide = funnel_limits(0.9, [10, 50, 200], 0.998)
    assert all(w <= n for w, n in zip(wide.lower, narrow.lower, strict=True))
    assert all(w >= n for w, n in zip(wide.upper, narrow.upper, strict=True))


def test_funnel_approaches_normal_limits_for_large_n():
    # For large n the limits approach target +/- z sqrt(t(1-t)/n).
    n = 100_000
    limits = funnel_limits(0.9, n, 0.95)
    half = 1.959964 * math.sqrt(0.9 * 0.1 / n)
    assert_allclose([limits.lower[0], limits.upper[0]], [0.9 - half, 0.9 + half], atol=1e-4)


@settings(max_examples=100, deadline=None)
@given(
    target=st.floats(min_value=0.5, max_value=0.99),
    n=st.lists(st.integers(min_value=1, max_value=10_000), min_size=1, max_size=10),
    coverage=st.sampled_from([0.95, 0.998]),
)
def test_funnel_limits_bracket_the_target(target, n, coverage):
    limits = funnel_limits(target, n, coverage)
    for low, high in zip(limits.lower, limits.upper, strict=True):
        assert 0.0 <= low <= target <= high <= 1.0
        assert math.isfinite(low) and math.isfinite(high)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0.0, 10), r"target \(0.0\) must be strictly between 0 and 1"),
        ((1.0, 10), r"target \(1.0\) must be strictly between 0 and 1"),
        ((0.9, 0), r"n \(0\) must be an integer >= 1"),
        ((0.9, [10, -2]), r"n \(-2\) must be an integer >= 1"),
        ((0.9, [10, 2.5]), r"n \(2.5\) must be an integer"),
        ((0.9, []), r"n \(\[\]\) must not be empty"),
        ((0.9, 10, 1.0), r"coverage \(1.0\) must be strictly between 0 and 1"),
        ((0.9, 10, 99.8), r"coverage \(99.8\) must be strictly between 0 and 1"),
        ((0.9, "10"), r"n \('10'\) must be an integer"),
    ],
)
def test_funnel_invalid_input(args, message):
    with pytest.raises(ValueError, match=message):
        funnel_limits(*args)


def test_funnel_limits_contain_an_extreme_target_for_one_response():
    # Found by hypothesis: Spiegelhalter's interpolation gives an upper limit of
    # 0.9746 < 0.984375 for n = 1; the funnel is clipped to contain its target.
    limits = funnel_limits(0.984375, [1, 2], 0.95)
    assert all(high >= 0.984375 for high in limits.upper)
    assert all(low <= 0.984375 for low in limits.lower)
