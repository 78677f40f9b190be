"""Tests for survey.stats.posterior: posterior probability, outlook, ranks.

References: R's pbeta, a beta-binomial sum over binom.test's intervals and a
Monte Carlo of ranks (tests/stats/make_fixtures.R, stored in fixtures/), and
exhaustive computations with compare_to_target.
"""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats as sps

from survey.stats import DEFAULT_MAX_EXTRA
from survey.stats import compare_to_target
from survey.stats import conclusion_outlook
from survey.stats import probability_at_least
from survey.stats import proportion_ci
from survey.stats import rank_probabilities
from survey.stats import responses_needed_for
from survey.stats import within_reach
from survey.stats.posterior import _thresholds

FIXTURES = Path(__file__).parent / "fixtures"


def _load(name):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))["cases"]


POSTERIOR = _load("posterior.json")
OUTLOOK = _load("outlook.json")
RANKS = _load("ranks.json")


def _status(k, n, target, method):
    # compare_to_target's verdict without its (slow, here unused) responses_needed.
    ci = proportion_ci(k, n, method=method)
    return "met" if ci.low >= target else "not_met" if ci.high < target else "inconclusive"


# ------------------------------------------------------------ probability_at_least


@pytest.mark.parametrize(
    "case", POSTERIOR, ids=lambda c: f"{c['successes']}/{c['n']}-{c['target']}"
)
def test_probability_matches_r_pbeta(case):
    # R: pbeta(target, k + 0.5, n - k + 0.5, lower.tail = FALSE)
    got = probability_at_least(case["successes"], case["n"], case["target"])
    assert_allclose(got, case["probability"], rtol=1e-10, atol=1e-300)


def test_probability_unknown_without_answers_and_zero_for_a_100_percent_target():
    assert probability_at_least(0, 0, 0.90) is None
    assert probability_at_least(50, 50, 1.0) == 0.0


@pytest.mark.parametrize("target", [0.85, 0.90, 0.95])
def test_exact_verdict_implies_the_posterior_side(target):
    # Every k <= n <= 200: "met" by the exact 95 % interval means P(rate >= target)
    # >= 97.5 %, "not met" means < 2.5 % (the Jeffreys posterior is stochastically
    # between the two Beta laws of the Clopper-Pearson bounds).
    for n in range(1, 201):
        for k in range(n + 1):
            status = _status(k, n, target, "exact")
            probability = probability_at_least(k, n, target)
            if status == "met":
                assert probability >= 0.975, (k, n)
            elif status == "not_met":
                assert probability < 0.025, (k, n)


def test_probability_rejects_bad_arguments():
    with pytest.raises(ValueError, match="must not exceed"):
        probability_at_least(5, 4, 0.9)
    with pytest.raises(ValueError, match="target"):
        probability_at_least(4, 5, 0.0)
    with pytest.raises(ValueError, match="target"):
        probability_at_least(4, 5, 1.5)


# ------------------------------------------------------------------- thresholds


@pytest.mark.parametrize("method", ["exact", "wilson", "jeffreys"])
@pytest.mark.parametrize("target", [0.85, 0.90, 0.95, 1.0])
def test_thresholds_give_the_verdicts_of_compare_to_target(method, target):
    totals = np.arange(1, 151)
    met_from, not_met_to = _thresholds(totals, target, 0.95, method)
    for total, k_met, k_not in zip(totals, met_from, not_met_to, strict=True):
        for k in range(total + 1):
            status = _status(k, int(total), target, method)
            assert (status == "met") == (k >= k_met), (k, total)
            assert (status == "not_met") == (k <= k_not), (k, total)


# ------------------------------------------------------------- conclusion_outlook


@pytest.mark.parametrize(
    "case",
    OUTLOOK["outlook"],
    ids=lambda c: f"{c['successes']}/{c['n']}-{c['target']}+{c['extra']}",
)
def test_outlook_matches_r(case):
    # R: sum of exp(lchoose + lbeta) predictive probabilities over the future
    # counts whose binom.test interval is above / below the target.
    outlook = conclusion_outlook(case["successes"], case["n"], case["target"], case["extra"])
    assert_allclose(outlook.met, case["met"], rtol=1e-9, atol=1e-13)
    assert_allclose(outlook.not_met, case["not_met"], rtol=1e-9, atol=1e-13)
    assert outlook.extra == case["extra"]


def _outlook_one_y_at_a_time(k, n, target, extra, method):
    # The definition literally: every future count y, its predictive probability
    # (scipy's beta-binomial) and compare_to_target's verdict on k + y of n + extra.
    pmf = sps.betabinom(extra, k + 0.5, n - k + 0.5).pmf
    met = not_met = 0.0
    for y in range(extra + 1):
        status = _status(k + y, n + extra, target, method)
        if status == "met":
            met += pmf(y)
        elif status == "not_met":
            not_met += pmf(y)
    return met, not_met


@pytest.mark.parametrize("method", ["exact", "wilson", "jeffreys"])
@pytest.mark.parametrize(
    ("k", "n", "target"),
    [(9, 10, 0.9), (57, 60, 0.9), (20, 25, 0.85), (1, 3, 0.95), (0, 4, 0.5), (30, 30, 0.95)],
)
@pytest.mark.parametrize("extra", [0, 1, 7, 40, 123])
def test_outlook_matches_a_count_by_count_sum(k, n, target, extra, method):
    outlook = conclusion_outlook(k, n, target, extra, method=method)
    met, not_met = _outlook_one_y_at_a_time(k, n, target, extra, method)
    assert_allclose([outlook.met, outlook.not_met], [met, not_met], rtol=1e-9, atol=1e-14)
    assert 0.0 <= outlook.conclusive <= 1.0 + 1e-12


def test_outlook_at_zero_extra_is_the_current_verdict():
    assert conclusion_outlook(40, 40, 0.9, 0).met == pytest.approx(1.0)
    assert conclusion_outlook(30, 40, 0.9, 0).not_met == pytest.approx(1.0)
    assert conclusion_outlook(36, 40, 0.9, 0).conclusive == 0.0


def test_outlook_unknown_without_answers():
    assert conclusion_outlook(0, 0, 0.9, 100) is None


def test_the_fixed_rate_projection_is_about_a_coin_flip():
    # The issue: "N more responses needed" at the current rate concludes about
    # half the time. For 57/60 against 90 % it is 67, with a 52 % chance.
    needed = compare_to_target(57, 60, 0.9, method="exact").responses_needed
    assert needed == 67
    assert 0.4 < conclusion_outlook(57, 60, 0.9, needed).conclusive < 0.6


def test_the_projection_concludes_about_half_the_time_in_general():
    # The documented median (53-54 %): every inconclusive k of n = 10, 20, ..., 120.
    chances = []
    for n in range(10, 121, 10):
        for k in range(n + 1):
            result = compare_to_target(k, n, 0.9, method="exact")
            if result.status == "inconclusive" and result.responses_needed:
                chances.append(conclusion_outlook(k, n, 0.9, result.responses_needed).conclusive)
    assert len(chances) > 50
    assert 0.5 < float(np.median(chances)) < 0.56


# ----------------------------------------------------------- responses_needed_for


@pytest.mark.parametrize(
    "case",
    OUTLOOK["needed"],
    ids=lambda c: f"{c['successes']}/{c['n']}-{c['target']}-{c['probability']}",
)
def test_responses_needed_for_matches_r_scan(case):
    # R: the first m in 1:3000 with P(met) + P(not met) >= probability.
    got = responses_needed_for(
        case["successes"],
        case["n"],
        case["target"],
        case["probability"],
        max_extra=case["max_extra"],
    )
    assert got == case["needed"]


@pytest.mark.parametrize("method", ["exact", "wilson"])
@pytest.mark.parametrize("target", [0.85, 0.9])
def test_responses_needed_for_is_the_first_m_of_an_exhaustive_scan(method, target):
    limit = 40
    for n in range(1, 13):
        for k in range(n + 1):
            if _status(k, n, target, method) != "inconclusive":
                assert responses_needed_for(k, n, target, 0.5, method=method) == 0
                continue
            expected = None
            for m in range(1, limit + 1):
                met, not_met = _outlook_one_y_at_a_time(k, n, target, m, method)
                if met + not_met >= 0.5 - 1e-12:  # the documented slack
                    expected = m
                    break
            got = responses_needed_for(k, n, target, 0.5, method=method, max_extra=limit)
            assert got == expected, (k, n)


def test_responses_needed_for_unknown_cases():
    assert responses_needed_for(0, 0, 0.9) is None  # no responses: no assumption
    assert responses_needed_for(40, 40, 0.9) == 0  # already met
    # 45 of 50 is exactly the target: 2 000 more still give less than 80 %
    # (it takes about 3 000), so within 2 000 the answer is None.
    assert responses_needed_for(45, 50, 0.9, max_extra=2000) is None
    assert conclusion_outlook(45, 50, 0.9, 2000).conclusive < 0.8
    assert responses_needed_for(45, 50, 0.9) <= DEFAULT_MAX_EXTRA
    # The cap is honoured: 57/60 needs 489 for 80 %.
    assert responses_needed_for(57, 60, 0.9, max_extra=488) is None
    assert responses_needed_for(57, 60, 0.9, max_extra=489) == 489


def test_responses_needed_for_rejects_bad_arguments():
    with pytest.raises(ValueError, match="probability"):
        responses_needed_for(5, 6, 0.9, probability=1.0)
    with pytest.raises(ValueError, match="max_extra"):
        responses_needed_for(5, 6, 0.9, max_extra=-1)
    with pytest.raises(ValueError, match="method"):
        responses_needed_for(5, 6, 0.9, method="wald")


# ------------------------------------------------------------------ within_reach


def test_within_reach():
    # Usual 40 a month, 3 months left: 120 expected.
    assert within_reach(120, 40 * 3)
    assert not within_reach(121, 40 * 3)
    assert within_reach(0, 0)
    assert not within_reach(None, 10**6)
    with pytest.raises(ValueError, match="expected"):
        within_reach(5, -1)
    with pytest.raises(ValueError, match="needed"):
        within_reach(-5, 10)


# --------------------------------------------------------------------- ranks


@pytest.mark.parametrize("case", RANKS, ids=lambda c: c["name"])
def test_rank_probabilities_match_r_monte_carlo(case):
    # R: 10^6 draws from each Beta posterior, set.seed(20261130). Allow five
    # Monte Carlo standard errors (plus 1e-3 for the quadrature).
    counts = [(c["successes"], c["n"]) for c in case["counts"]]
    found = rank_probabilities(counts)
    reference = np.array(case["probabilities"])
    got = np.array([r.probabilities for r in found])
    tolerance = 5 * np.sqrt(reference * (1 - reference) / case["draws"]) + 1e-3
    assert np.all(np.abs(got - reference) <= tolerance), np.abs(got - reference) - tolerance


def test_rank_probabilities_properties():
    counts = [(38, 40), (70, 80), (18, 20), (45, 50), (9, 12), (100, 105), (3, 4), (55, 70)]
    found = rank_probabilities(counts, coverage=0.9)
    matrix = np.array([r.probabilities for r in found])
    m = len(counts)
    assert_allclose(matrix.sum(axis=1), 1.0, rtol=1e-12)  # each commune has some rank
    assert_allclose(matrix.sum(axis=0), 1.0, atol=2e-3)  # each rank goes to one commune
    assert_allclose(sum(r.mean_rank for r in found), m * (m + 1) / 2, atol=1e-2)
    for r in found:
        cumulative = np.cumsum(r.probabilities)
        assert 1 <= r.low <= r.high <= m
        assert cumulative[r.high - 1] >= 0.95 - 1e-12
        assert r.low == 1 or cumulative[r.low - 2] < 0.05
    # 100/105 is far more likely first than 55/70.
    assert found[5].mean_rank < found[7].mean_rank


def test_identical_communes_have_identical_rank_distributions():
    a, b, c = rank_probabilities([(27, 30), (27, 30), (90, 100)])
    assert_allclose(a.probabilities, b.probabilities, atol=1e-12)
    single = rank_probabilities([(5, 9)])
    assert single[0].probabilities == (1.0,) and (single[0].low, single[0].high) == (1, 1)


def test_rank_probabilities_rejects_bad_arguments():
    with pytest.raises(ValueError, match="no answers"):
        rank_probabilities([(1, 2), (0, 0)])
    with pytest.raises(ValueError, match="empty"):
        rank_probabilities([])
    with pytest.raises(ValueError, match="satisfied, valid"):
        rank_probabilities([(1, 2, 3)])
    with pytest.raises(ValueError, match="sequence"):
        rank_probabilities("12")


def test_docstring_numbers_are_not_a_coincidence():
    # The docs quote 35/35 against 90 %: exact lower bound 89.997 %, yet a 99.4 %
    # posterior probability of reaching the target.
    low = compare_to_target(35, 35, 0.9, method="exact").low
    assert math.isclose(low, 0.025 ** (1 / 35), rel_tol=1e-12) and low < 0.9
    assert probability_at_least(35, 35, 0.9) > 0.99
