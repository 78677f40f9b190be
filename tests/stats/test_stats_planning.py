"""Tests for survey.stats.sample_size and sample_size_to_show."""

import json
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from scipy import stats as sps

from survey.stats import sample_size
from survey.stats import sample_size_to_show

FIXTURE = json.loads(
    (Path(__file__).parent / "fixtures" / "planning.json").read_text(encoding="utf-8")
)


@pytest.mark.parametrize(
    "case",
    FIXTURE["cases"]["sample_size"],
    ids=lambda c: f"p{c['expected_rate']}-e{c['margin']}-N{c['population']}",
)
def test_sample_size_matches_r(case):
    # Expected: R 4.2.2, n0 <- qnorm(0.975)^2 * p * (1 - p) / e^2;
    # n <- n0 / (1 + (n0 - 1) / N); ceiling(n - 1e-9)
    n = sample_size(case["expected_rate"], case["margin"], case["confidence"], case["population"])
    assert n == case["n"]
    assert n - 1 < case["n_real"] + 1e-9 <= n + 1e-9


@pytest.mark.parametrize(
    "case",
    FIXTURE["cases"]["sample_size_to_show"],
    ids=lambda c: f"{c['target']}-{c['expected_rate']}-{c['confidence']}-{c['power']}",
)
def test_sample_size_to_show_matches_r(case):
    # Expected: R 4.2.2, ((qnorm(conf) * sqrt(p0*(1-p0)) + qnorm(power) * sqrt(p1*(1-p1)))
    #                     / (p1 - p0))^2, rounded up
    n = sample_size_to_show(
        case["target"], case["expected_rate"], case["confidence"], case["power"]
    )
    assert n == case["n"]


def test_textbook_values():
    # Cochran: 1.96^2 * 0.25 / 0.05^2 = 384.16 -> 385; with N = 1000: 277.7 -> 278.
    assert sample_size(0.5, 0.05) == 385
    assert sample_size(0.5, 0.05, population=1000) == 278
    # (1.6449 * 0.3 + 0.8416 * 0.2179) / 0.05 = 13.537; squared 183.25 -> 184.
    assert sample_size_to_show(0.90, 0.95) == 184


def test_sample_size_never_exceeds_population_and_is_at_least_one():
    assert sample_size(0.5, 0.01, population=50) <= 50
    assert sample_size(0.5, 0.05, population=1) == 1
    assert sample_size(0.99, 0.9) == 1


def test_sample_size_to_show_works_in_both_directions():
    above = sample_size_to_show(0.90, 0.95)
    below = sample_size_to_show(0.90, 0.85)
    assert above > 0 and below > 0 and above != below


def _approximate_power(n, p0, p1, confidence):
    # Power of the one-sided normal-approximation test with n responses.
    z = sps.norm.ppf(confidence)
    shift = abs(p1 - p0) * math.sqrt(n) - z * math.sqrt(p0 * (1 - p0))
    return sps.norm.cdf(shift / math.sqrt(p1 * (1 - p1)))


@settings(max_examples=200, deadline=None)
@given(
    p0=st.floats(min_value=0.5, max_value=0.98),
    delta=st.floats(min_value=0.005, max_value=0.2),
    sign=st.sampled_from([-1, 1]),
    confidence=st.sampled_from([0.9, 0.95, 0.975, 0.99]),
    power=st.sampled_from([0.7, 0.8, 0.9]),
)
def test_sample_size_to_show_is_the_smallest_with_enough_power(p0, delta, sign, confidence, power):
    p1 = p0 + sign * delta
    if not 0 < p1 < 1:
        return
    n = sample_size_to_show(p0, p1, confidence, power)
    assert _approximate_power(n, p0, p1, confidence) >= power - 1e-9
    if n > 1:
        assert _approximate_power(n - 1, p0, p1, confidence) < power + 1e-9


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((0.0, 0.05), {}, r"expected_rate \(0.0\) must be strictly between 0 and 1"),
        ((1, 0.05), {}, r"expected_rate \(1\) must be strictly between 0 and 1"),
        ((0.9, 0), {}, r"margin \(0\) must be strictly between 0 and 1"),
        ((0.9, 5), {}, r"margin \(5\) must be strictly between 0 and 1"),
        ((0.9, 0.05), {"confidence": 95}, r"confidence \(95\) must be strictly between"),
        ((0.9, 0.05), {"population": 0}, r"population \(0\) must be an integer >= 1"),
        ((0.9, 0.05), {"population": 10.5}, r"population \(10.5\) must be an integer"),
        (("0.9", 0.05), {}, r"expected_rate \('0.9'\) must be a real number"),
    ],
)
def test_sample_size_invalid_input(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        sample_size(*args, **kwargs)


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((0.9, 0.9), {}, r"expected_rate \(0.9\) must differ from target \(0.9\)"),
        ((1.0, 0.95), {}, r"target \(1.0\) must be strictly between 0 and 1"),
        ((0.9, 1.0), {}, r"expected_rate \(1.0\) must be strictly between 0 and 1"),
        ((0.9, 0.95), {"power": 1.0}, r"power \(1.0\) must be strictly between 0 and 1"),
        ((0.9, 0.95), {"power": 80}, r"power \(80\) must be strictly between 0 and 1"),
        ((0.9, 0.95), {"confidence": 0}, r"confidence \(0\) must be strictly between"),
    ],
)
def test_sample_size_to_show_invalid_input(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        sample_size_to_show(*args, **kwargs)
