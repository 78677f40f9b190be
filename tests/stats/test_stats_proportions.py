"""Tests for survey.stats.proportions: proportion_ci and compare_to_target."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import stats as sps

from survey.stats import MAX_EXTRA_RESPONSES
from survey.stats import STATUS_LABELS_VI
from survey.stats import compare_to_target
from survey.stats import proportion_ci
from survey.stats import responses_to_show_met
from survey.stats.proportions import _bounds

FIXTURES = Path(__file__).parent / "fixtures"
METHODS = ("wilson", "exact", "jeffreys")


def _load(name):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


CI_CASES = _load("proportion_ci.json")["cases"]
TEST_CASES = _load("binom_test.json")["cases"]


def _case_id(case):
    return f"{case['successes']}of{case['n']}-{case['confidence']}"


# ----------------------------------------------------------------- R references


@pytest.mark.parametrize("case", CI_CASES, ids=_case_id)
def test_wilson_matches_r_prop_test(case):
    # Expected: R 4.2.2, prop.test(k, n, correct = FALSE, conf.level = confidence)$conf.int
    ci = proportion_ci(case["successes"], case["n"], case["confidence"], "wilson")
    assert_allclose([ci.low, ci.high], case["wilson"], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("case", CI_CASES, ids=_case_id)
def test_exact_matches_r_binom_test(case):
    # Expected: R 4.2.2, binom.test(k, n, conf.level = confidence)$conf.int
    ci = proportion_ci(case["successes"], case["n"], case["confidence"], "exact")
    assert_allclose([ci.low, ci.high], case["exact"], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("case", CI_CASES, ids=_case_id)
def test_jeffreys_matches_r_qbeta(case):
    # Expected: R 4.2.2, qbeta(a/2, k+.5, n-k+.5) and qbeta(1-a/2, k+.5, n-k+.5),
    # with 0 for k = 0 and 1 for k = n (Brown, Cai & DasGupta 2001).
    ci = proportion_ci(case["successes"], case["n"], case["confidence"], "jeffreys")
    assert_allclose([ci.low, ci.high], case["jeffreys"], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    "case", TEST_CASES, ids=lambda c: f"{c['successes']}of{c['n']}-t{c['target']}"
)
def test_one_sided_p_values_match_r_binom_test(case):
    # Expected: R 4.2.2, binom.test(k, n, p = target, alternative = "greater" / "less")$p.value
    result = compare_to_target(case["successes"], case["n"], case["target"])
    assert_allclose(result.p_value_above, case["p_value_above"], rtol=1e-9, atol=1e-300)
    assert_allclose(result.p_value_below, case["p_value_below"], rtol=1e-9, atol=1e-300)


def test_fixtures_cover_the_required_cases():
    pairs = {(c["successes"], c["n"]) for c in CI_CASES}
    assert any(k == 0 for k, _ in pairs)
    assert any(k == n for k, n in pairs)
    assert any(n == 1 for _, n in pairs)
    assert min(n for _, n in pairs) <= 5 and max(n for _, n in pairs) >= 10000
    assert {c["target"] for c in TEST_CASES} == {0.85, 0.90, 0.95}


# ------------------------------------------------------------- proportion_ci


def test_proportion_ci_result_fields():
    ci = proportion_ci(38, 40)
    assert (ci.successes, ci.n, ci.confidence, ci.method) == (38, 40, 0.95, "wilson")
    assert ci.rate == 0.95
    with pytest.raises(AttributeError):
        ci.low = 0.5  # frozen


@pytest.mark.parametrize("method", METHODS)
def test_edge_counts(method):
    zero = proportion_ci(0, 7, method=method)
    assert zero.low == 0.0 and zero.rate == 0.0 and 0.0 < zero.high < 1.0
    full = proportion_ci(7, 7, method=method)
    assert full.high == 1.0 and full.rate == 1.0 and 0.0 < full.low < 1.0
    single = proportion_ci(1, 1, method=method)
    assert single.high == 1.0 and 0.0 < single.low < 1.0


def test_exact_all_satisfied_lower_bound_closed_form():
    # Clopper-Pearson with k = n: lower bound = (alpha/2)^(1/n).
    for n in (1, 10, 29, 59, 200):
        assert_allclose(proportion_ci(n, n, method="exact").low, 0.025 ** (1 / n), rtol=1e-12)


def test_wilson_matches_scipy_binomtest():
    # Independent implementation: scipy.stats.binomtest(k, n).proportion_ci("wilson").
    for k, n in [(0, 3), (2, 3), (45, 50), (300, 310)]:
        ref = sps.binomtest(k, n).proportion_ci(0.95, method="wilson")
        ci = proportion_ci(k, n)
        assert_allclose([ci.low, ci.high], [ref.low, ref.high], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"successes": 1, "n": 0}, r"successes \(1\) must not exceed n \(0\)"),
        ({"successes": 0, "n": 0}, r"n \(0\) must be at least 1"),
        ({"successes": -1, "n": 5}, r"successes \(-1\) must be an integer >= 0"),
        ({"successes": 1, "n": -5}, r"n \(-5\) must be an integer >= 0"),
        ({"successes": 6, "n": 5}, r"successes \(6\) must not exceed n \(5\)"),
        ({"successes": 2.5, "n": 5}, r"successes \(2.5\) must be an integer"),
        ({"successes": "3", "n": 5}, r"successes \('3'\) must be an integer"),
        ({"successes": True, "n": 5}, r"successes \(True\) must be an integer"),
        ({"successes": 3, "n": 5, "confidence": 1.0}, r"confidence \(1.0\) must be strictly"),
        ({"successes": 3, "n": 5, "confidence": 0}, r"confidence \(0\) must be strictly"),
        ({"successes": 3, "n": 5, "confidence": 95}, r"confidence \(95\) must be strictly"),
        ({"successes": 3, "n": 5, "confidence": math.nan}, r"confidence \(nan\) must be finite"),
        ({"successes": 3, "n": 5, "method": "foo"}, r"method \('foo'\) must be one of 'wilson'"),
        ({"successes": 3, "n": 5, "method": "Wilson"}, r"method \('Wilson'\) must be one of"),
        ({"successes": 3, "n": 5, "method": "wil"}, r"method \('wil'\) must be one of"),
    ],
)
def test_proportion_ci_invalid_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        proportion_ci(**kwargs)


def test_whole_number_floats_are_accepted():
    assert proportion_ci(3.0, 5.0) == proportion_ci(3, 5)


# ------------------------------------------------------------------- properties


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=5000),
    fraction=st.floats(min_value=0, max_value=1),
    confidence=st.sampled_from([0.8, 0.9, 0.95, 0.99, 0.999]),
    method=st.sampled_from(METHODS),
)
def test_interval_contains_estimate_and_lies_in_unit_interval(n, fraction, confidence, method):
    k = round(fraction * n)
    ci = proportion_ci(k, n, confidence, method)
    assert 0.0 <= ci.low <= ci.rate <= ci.high <= 1.0
    assert not any(math.isnan(x) for x in (ci.low, ci.high, ci.rate))


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=2000),
    fraction=st.floats(min_value=0, max_value=1),
    factor=st.integers(min_value=2, max_value=20),
    method=st.sampled_from(METHODS),
)
def test_interval_narrows_as_n_grows_at_the_same_rate(n, fraction, factor, method):
    k = round(fraction * n)
    small = proportion_ci(k, n, method=method)
    large = proportion_ci(k * factor, n * factor, method=method)
    assert large.high - large.low < small.high - small.low


@settings(max_examples=100, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=500),
    fraction=st.floats(min_value=0, max_value=1),
    method=st.sampled_from(METHODS),
)
def test_higher_confidence_gives_wider_interval(n, fraction, method):
    k = round(fraction * n)
    narrow = proportion_ci(k, n, 0.90, method)
    wide = proportion_ci(k, n, 0.99, method)
    assert wide.low <= narrow.low and wide.high >= narrow.high


def _exact_coverage(n, rates, method, confidence=0.95):
    # Coverage computed exactly, not simulated: P(low <= p <= high) = sum of the
    # Binomial(n, p) probabilities of the k whose interval contains p.
    k = np.arange(n + 1)
    low, high = _bounds(k, np.full(n + 1, n), confidence, method)
    pmf = sps.binom.pmf(k[None, :], n, rates[:, None])
    inside = (low[None, :] <= rates[:, None]) & (rates[:, None] <= high[None, :])
    return (pmf * inside).sum(axis=1)


RATES = np.linspace(0.80, 0.99, 191)


@pytest.mark.parametrize("n", [20, 30, 50, 100, 200, 500])
def test_exact_coverage_never_below_nominal(n):
    # Clopper-Pearson is conservative: coverage >= 95 % for every rate.
    coverage = _exact_coverage(n, RATES, "exact")
    assert coverage.min() >= 0.95 - 1e-12


@pytest.mark.parametrize("n", [20, 30, 50, 100, 200, 500])
def test_wilson_coverage_is_near_nominal(n):
    # Wilson: average coverage over rates 0.80-0.99 within 0.945-0.965, and the
    # oscillating dips (Brown, Cai & DasGupta 2001, fig. 4) no lower than 0.89.
    # For n = 10 the worst dip is 0.84 near p = 0.98: the reason to offer "exact".
    coverage = _exact_coverage(n, RATES, "wilson")
    assert 0.945 <= coverage.mean() <= 0.965
    assert coverage.min() >= 0.89


@pytest.mark.parametrize("n", [30, 100, 500])
def test_jeffreys_coverage_is_near_nominal_on_average(n):
    coverage = _exact_coverage(n, RATES, "jeffreys")
    assert 0.945 <= coverage.mean() <= 0.96
    assert coverage.min() >= 0.87


# ---------------------------------------------------------- compare_to_target


def test_status_rules():
    met = compare_to_target(200, 200, 0.90)
    assert met.status == "met" and met.low >= 0.90 and met.responses_needed == 0
    not_met = compare_to_target(70, 100, 0.90)
    assert not_met.status == "not_met" and not_met.high < 0.90 and not_met.responses_needed == 0
    unknown = compare_to_target(57, 60, 0.90)
    assert unknown.status == "inconclusive" and unknown.low < 0.90 <= unknown.high
    assert (unknown.rate, unknown.target, unknown.successes, unknown.n) == (0.95, 0.90, 57, 60)


def test_status_uses_the_chosen_interval():
    for method in METHODS:
        result = compare_to_target(57, 60, 0.85, method=method)
        ci = proportion_ci(57, 60, method=method)
        assert (result.low, result.high) == (ci.low, ci.high)
        expected = "met" if ci.low >= 0.85 else "not_met" if ci.high < 0.85 else "inconclusive"
        assert result.status == expected


def test_status_labels_in_vietnamese():
    assert STATUS_LABELS_VI == {
        "met": "Đạt",
        "not_met": "Chưa đạt",
        "inconclusive": "Chưa đủ dữ liệu để kết luận",
    }


@pytest.mark.parametrize(
    ("target", "confidence", "method", "needed"),
    [
        # The DOMAIN rule "29 to show > 90 %, 59 to show > 95 %" is the one-sided exact
        # test at 5 %: 0.9**29 = 0.047 < 0.05 <= 0.9**28; 0.95**59 = 0.048 < 0.05 <= 0.95**58.
        # That is the two-sided Clopper-Pearson lower bound at 90 % confidence.
        (0.90, 0.90, "exact", 29),
        (0.95, 0.90, "exact", 59),
        # The default verdict (two-sided 95 % Wilson): n/(n + z^2) >= target.
        (0.90, 0.95, "wilson", 35),
        (0.95, 0.95, "wilson", 73),
        # Two-sided 95 % exact: 0.025**(1/n) >= target.
        (0.90, 0.95, "exact", 36),
        (0.95, 0.95, "exact", 72),
        (0.85, 0.95, "wilson", 22),
    ],
)
def test_all_satisfied_rule_is_a_planning_figure(target, confidence, method, needed):
    assert responses_to_show_met(target, confidence, method) == needed
    # With no responses there is no rate to project: unknown, not "everyone satisfied".
    assert compare_to_target(0, 0, target, confidence, method).responses_needed is None
    # Pin the definition: `needed` all-satisfied answers are conclusive, one fewer is not.
    assert compare_to_target(needed, needed, target, confidence, method).status == "met"
    before = compare_to_target(needed - 1, needed - 1, target, confidence, method)
    assert before.status == "inconclusive"


def test_29_and_59_are_the_one_sided_exact_test():
    assert 0.9**29 < 0.05 <= 0.9**28 and 0.95**59 < 0.05 <= 0.95**58
    assert compare_to_target(29, 29, 0.90).p_value_above < 0.05
    assert compare_to_target(28, 28, 0.90).p_value_above >= 0.05
    assert compare_to_target(59, 59, 0.95).p_value_above < 0.05
    assert compare_to_target(58, 58, 0.95).p_value_above >= 0.05


def test_no_responses():
    result = compare_to_target(0, 0, 0.90)
    assert result.rate is None
    assert (result.low, result.high) == (0.0, 1.0)
    assert result.status == "inconclusive"
    assert (result.p_value_above, result.p_value_below) == (1.0, 1.0)
    assert compare_to_target(0, 0, 1.0).responses_needed is None
    assert responses_to_show_met(1.0) is None


def _brute_force_needed(k, n, target, confidence, method, limit):
    # Literal reading of the documented definition, one m at a time.
    for m in range(limit + 1):
        total = n + m
        k_m = (2 * k * total + n) // (2 * n)  # round(k/n * total), halves up
        ci = proportion_ci(k_m, total, confidence, method)
        if ci.low >= target or ci.high < target:
            return m
    return None


@pytest.mark.parametrize(
    ("k", "n", "target", "method"),
    [
        (57, 60, 0.90, "wilson"),
        (19, 20, 0.90, "exact"),
        (9, 10, 0.85, "jeffreys"),
        (85, 100, 0.90, "wilson"),
        (43, 50, 0.90, "exact"),
        (5, 5, 0.85, "wilson"),
        (1, 1, 0.90, "exact"),
        (1, 2, 0.90, "wilson"),
        (91, 100, 0.95, "wilson"),
    ],
)
def test_responses_needed_matches_definition(k, n, target, method):
    result = compare_to_target(k, n, target, method=method)
    assert result.status == "inconclusive"
    expected = _brute_force_needed(k, n, target, 0.95, method, limit=3000)
    assert result.responses_needed == expected
    assert expected is not None and expected > 0


def test_responses_needed_is_none_when_rate_equals_target():
    result = compare_to_target(9, 10, 0.90)
    assert result.status == "inconclusive" and result.responses_needed is None


def test_responses_needed_is_none_for_a_100_percent_target_at_100_percent():
    result = compare_to_target(50, 50, 1.0)
    assert result.status == "inconclusive" and result.responses_needed is None
    # Below 100 % the target can be shown unmet.
    assert compare_to_target(40, 50, 1.0).status == "not_met"


def test_responses_needed_is_none_beyond_the_search_limit():
    # 90.1 % against 90 % needs about 350 000 responses at this rate.
    result = compare_to_target(901, 1000, 0.90)
    assert result.status == "inconclusive" and result.responses_needed is None
    assert MAX_EXTRA_RESPONSES == 100_000


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(min_value=0, max_value=3000),
    fraction=st.floats(min_value=0, max_value=1),
    target=st.sampled_from([0.5, 0.85, 0.9, 0.95, 0.99, 1.0]),
    method=st.sampled_from(METHODS),
)
def test_compare_never_returns_nan(n, fraction, target, method):
    k = round(fraction * n)
    result = compare_to_target(k, n, target, method=method)
    numbers = [result.low, result.high, result.p_value_above, result.p_value_below]
    if result.rate is not None:
        numbers.append(result.rate)
    assert all(math.isfinite(x) and 0.0 <= x <= 1.0 for x in numbers)
    assert result.status in ("met", "not_met", "inconclusive")
    assert (result.responses_needed == 0) == (result.status != "inconclusive")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"successes": 5, "n": 4, "target": 0.9}, r"successes \(5\) must not exceed n \(4\)"),
        ({"successes": -1, "n": 4, "target": 0.9}, r"successes \(-1\) must be an integer"),
        ({"successes": 1, "n": 4, "target": 0.0}, r"target \(0.0\) must be in \(0, 1\]"),
        ({"successes": 1, "n": 4, "target": 1.5}, r"target \(1.5\) must be in \(0, 1\]"),
        ({"successes": 1, "n": 4, "target": 90}, r"target \(90\) must be in \(0, 1\]"),
        ({"successes": 1, "n": 4, "target": "0.9"}, r"target \('0.9'\) must be a real number"),
        ({"successes": 1, "n": 4, "target": None}, r"target \(None\) must be a real number"),
        (
            {"successes": 1, "n": 4, "target": 0.9, "confidence": 1.2},
            r"confidence \(1.2\) must be strictly between 0 and 1",
        ),
        (
            {"successes": 1, "n": 4, "target": 0.9, "method": "clopper"},
            r"method \('clopper'\) must be one of 'wilson', 'exact', 'jeffreys'",
        ),
    ],
)
def test_compare_to_target_invalid_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        compare_to_target(**kwargs)


def _exact_bounds(k_m: np.ndarray, total: np.ndarray):
    """Clopper-Pearson's Beta quantiles (the definition), not the binomial tails the
    search uses."""
    from scipy import special

    return special.betaincinv(k_m, total - k_m + 1, 0.025), special.betaincinv(
        k_m + 1, total - k_m, 0.975
    )


def _wilson_bounds(k_m: np.ndarray, total: np.ndarray):
    """Written out as in R's prop.test without continuity correction (the reference
    of the fixtures), not through the module's own helper."""
    z = 1.959963984540054
    p = k_m / total
    centre = p + z * z / (2 * total)
    spread = z * np.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
    low = np.where(k_m == 0, 0.0, (centre - spread) / (1 + z * z / total))
    high = np.where(k_m == total, 1.0, (centre + spread) / (1 + z * z / total))
    return low, high


@pytest.mark.parametrize(
    ("k", "n", "target", "method"),
    [
        (905, 1000, 0.90, "exact"),
        (1896, 2000, 0.95, "exact"),
        (893, 1000, 0.90, "exact"),
        (9030, 10000, 0.90, "exact"),
        (452, 500, 0.9, "exact"),
        (125, 140, 0.90, "exact"),
        (1250, 1400, 0.90, "exact"),
        (905, 1000, 0.90, "wilson"),
        (1896, 2000, 0.95, "wilson"),
        (893, 1000, 0.90, "wilson"),
        (9030, 10000, 0.90, "wilson"),
        (125, 140, 0.90, "wilson"),
        (1250, 1400, 0.90, "wilson"),
        (105, 1000, 0.10, "wilson"),
    ],
)
def test_responses_needed_in_the_thousands_matches_a_full_scan(k, n, target, method):
    """Beyond 4 096 the search narrows down to the boundary and scans only near it: it
    must still give the smallest m of a scan of every m up to 100 000."""
    result = compare_to_target(k, n, target, method=method)
    assert result.status == "inconclusive"
    m = np.arange(1, 100_001)
    total = (n + m).astype(float)
    k_m = ((2 * k * (n + m) + n) // (2 * n)).astype(float)
    low, high = (_exact_bounds if method == "exact" else _wilson_bounds)(k_m, total)
    hits = low >= target if k / n > target else high < target
    expected = int(m[np.flatnonzero(hits)[0]]) if hits.any() else None
    assert result.responses_needed == expected
    assert expected is None or expected > 4096  # the narrowing path, not the full scan
