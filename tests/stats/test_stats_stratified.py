"""Tests for survey.stats.stratified_proportion against R's survey package."""

import json
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import stats as sps

from survey.stats import Stratum
from survey.stats import stratified_proportion
from survey.stats.stratified import NOTE_CENSUS
from survey.stats.stratified import NOTE_SINGLE_RESPONSE
from survey.stats.stratified import NOTE_ZERO_VARIANCE

FIXTURE = json.loads(
    (Path(__file__).parent / "fixtures" / "stratified.json").read_text(encoding="utf-8")
)
CASES = FIXTURE["cases"]
SINGLE_RESPONSE = {"fail": "error", "adjust": "adjust"}


def _id(case):
    return f"{case['name']}-{case['confidence']}"


@pytest.mark.parametrize("case", CASES, ids=_id)
@pytest.mark.parametrize(("design", "fpc"), [("fpc", True), ("no_fpc", False)])
def test_matches_r_survey(case, design, fpc):
    # Expected: R 4.2.2, survey 4.1.1 (see tests/stats/make_fixtures.R):
    #   fpc:    d <- svydesign(ids = ~1, strata = ~unit, fpc = ~N, data = df)
    #   no_fpc: d <- svydesign(ids = ~1, strata = ~unit, weights = ~w, data = df), w = N/n
    #   svymean(~y, d); SE(); degf(d)
    #   svyciprop(~y, d, method = "beta", level = confidence)
    #   svyciprop(~y, d, method = "logit", level = confidence)
    ref = case[design]
    mode = SINGLE_RESPONSE[case["single_response"]]
    kg = stratified_proportion(case["strata"], case["confidence"], "korn-graubard", fpc, mode)
    assert_allclose(kg.rate, ref["rate"], rtol=1e-12, atol=1e-14)
    assert_allclose(kg.se, ref["se"], rtol=1e-9, atol=1e-12)
    assert kg.df == ref["df"]
    assert_allclose([kg.low, kg.high], ref["beta"], rtol=0, atol=1e-8)
    logit = stratified_proportion(case["strata"], case["confidence"], "logit", fpc, mode)
    # R fits the logit interval with svyglm (IRLS), converged to about 1e-9.
    assert_allclose([logit.low, logit.high], ref["logit"], rtol=0, atol=1e-7)
    assert (logit.rate, logit.se, logit.df) == (kg.rate, kg.se, kg.df)
    # Kish's design effect: with fpc against SRS without replacement,
    # deff(svymean(~y, d, deff = TRUE)); without, against SRS with replacement,
    # deff(svymean(~y, d, deff = "replace")). R's NaN (no variance) is None here.
    expected = ref["deff"] if fpc else ref["deff_replace"]
    if expected is None:
        assert kg.design_effect is None
    else:
        assert_allclose(kg.design_effect, expected, rtol=1e-9)
    assert logit.design_effect == kg.design_effect


def test_design_effect_is_not_the_effective_size_ratio():
    # The issue's complaint: n / n_effective put the strata's fpc in the numerator
    # only (0.85 here); Kish's deff compares like with like (R: 0.9511).
    result = stratified_proportion([Stratum(38, 40, 500), Stratum(70, 80, 600)])
    assert_allclose(result.design_effect, 0.951149093522511, rtol=1e-9)
    assert result.n / result.n_effective < 0.86


def test_issue_example():
    # From the issue: strata (38 of 40, N = 500) and (70 of 80, N = 600).
    result = stratified_proportion([Stratum(38, 40, 500), Stratum(70, 80, 600)])
    assert_allclose(result.rate, 0.909090909, atol=1e-9)
    assert_allclose(result.se, 0.024259108, atol=1e-9)
    assert_allclose([result.low, result.high], [0.848894069, 0.951028495], atol=1e-9)
    assert (result.df, result.n, result.population, result.strata) == (118, 120, 1100, 2)
    assert result.note is None and result.dropped == ()
    no_fpc = stratified_proportion([Stratum(38, 40, 500), Stratum(70, 80, 600)], fpc=False)
    assert_allclose(no_fpc.se, 0.025759615, atol=1e-9)
    assert_allclose([no_fpc.low, no_fpc.high], [0.844312946, 0.953207856], atol=1e-9)


def test_hand_arithmetic_of_the_variance():
    # W = (500, 600)/1100; V = sum W^2 (1 - n/N) p(1-p)/(n-1)
    w1, w2 = 500 / 1100, 600 / 1100
    p1, p2 = 38 / 40, 70 / 80
    variance = (
        w1**2 * (1 - 40 / 500) * p1 * (1 - p1) / 39 + w2**2 * (1 - 80 / 600) * p2 * (1 - p2) / 79
    )
    result = stratified_proportion([(38, 40, 500), (70, 80, 600)])
    assert_allclose(result.rate, w1 * p1 + w2 * p2, rtol=1e-15)
    assert_allclose(result.se, math.sqrt(variance), rtol=1e-14)
    assert_allclose(result.n_effective, result.rate * (1 - result.rate) / variance, rtol=1e-14)
    # Kish's deff as R's svymean(deff = TRUE): against SRS without replacement of
    # 120 from 1100, with S^2 = p(1-p) 120/119 (svyvar's divisor n - 1).
    srs = result.rate * (1 - result.rate) * 120 / 119 / 120 * (1 - 120 / 1100)
    assert_allclose(result.design_effect, variance / srs, rtol=1e-14)


def test_accepts_strata_in_three_shapes():
    as_dataclass = stratified_proportion([Stratum(38, 40, 500, "A"), Stratum(70, 80, 600, "B")])
    as_dicts = stratified_proportion(
        [
            {"successes": 38, "n": 40, "population": 500, "label": "A"},
            {"successes": 70, "n": 80, "population": 600},
        ]
    )
    as_tuples = stratified_proportion(iter([(38, 40, 500, "A"), [70, 80, 600]]))
    assert as_dataclass == as_dicts == as_tuples


def test_self_weighting_design_gives_the_pooled_rate():
    # N_h proportional to n_h: every response weighs the same.
    result = stratified_proportion([(9, 10, 100), (15, 20, 200), (28, 30, 300)])
    assert_allclose(result.rate, 52 / 60, rtol=1e-14)


# ----------------------------------------------------------- degenerate cases


def test_every_stratum_at_100_percent_uses_labelled_fallback():
    # R returns NaN here (n.eff = 0/0). We use n_eff = total responses, df-adjusted.
    result = stratified_proportion([(20, 20, 300), (15, 15, 100)])
    assert result.rate == 1.0 and result.se == 0.0 and result.high == 1.0
    assert result.note == NOTE_ZERO_VARIANCE
    assert result.design_effect is None and result.n_effective == 35
    factor = (sps.t.ppf(0.025, 34) / sps.t.ppf(0.025, 33)) ** 2
    assert_allclose(result.low, 0.025 ** (1 / (35 * factor)), rtol=1e-12)
    assert all(math.isfinite(x) for x in (result.low, result.high, result.se))


def test_every_stratum_at_0_percent_uses_labelled_fallback():
    result = stratified_proportion([(0, 20, 300), (0, 15, 100)], method="logit")
    assert result.rate == 0.0 and result.low == 0.0 and 0.0 < result.high < 0.2
    assert result.note == NOTE_ZERO_VARIANCE


def test_census_of_every_stratum_is_exact():
    result = stratified_proportion([(18, 20, 20), (9, 10, 10)])
    assert result.se == 0.0 and result.low == result.high == result.rate == 27 / 30
    assert result.note == NOTE_CENSUS and result.n_effective is None
    # Without fpc the same data is a sample again.
    sample = stratified_proportion([(18, 20, 20), (9, 10, 10)], fpc=False)
    assert sample.se > 0 and sample.low < sample.rate < sample.high and sample.note is None


def test_single_response_stratum_is_an_error_by_default():
    with pytest.raises(ValueError, match=r"stratum 'Xã A' has n \(1\) response"):
        stratified_proportion([Stratum(1, 1, 30, "Xã A"), Stratum(40, 45, 200)])


def test_single_response_stratum_adjust_is_labelled():
    result = stratified_proportion(
        [(1, 1, 30), (40, 45, 200), (18, 20, 90)], single_response="adjust"
    )
    assert result.note == NOTE_SINGLE_RESPONSE
    # R agreement for this case is in test_matches_r_survey ("lonely_adjust").


def test_single_response_census_stratum_contributes_nothing():
    # n = N = 1 with fpc: the stratum is fully known, no variance, no error.
    with_census = stratified_proportion([(1, 1, 1), (40, 45, 200)])
    assert with_census.note is None
    w = 200 / 201
    expected = w**2 * (1 - 45 / 200) * (40 / 45) * (5 / 45) / 44
    assert_allclose(with_census.se, math.sqrt(expected), rtol=1e-13)


def test_all_strata_single_response_has_no_degrees_of_freedom():
    with pytest.raises(ValueError, match=r"df \(0\) degrees of freedom"):
        stratified_proportion([(1, 1, 10), (0, 1, 10)], single_response="adjust")


def test_stratum_without_dossiers_or_responses_is_dropped():
    result = stratified_proportion(
        [Stratum(38, 40, 500), Stratum(0, 0, 0, "Xã B"), Stratum(70, 80, 600), (0, 0, 0)]
    )
    assert result.dropped == ("Xã B", 3)
    assert_allclose(result.se, 0.0242591080355717, rtol=1e-9)
    assert result.strata == 2 and result.df == 118


@pytest.mark.parametrize(
    ("strata", "message"),
    [
        ([(5, 6, 5), (9, 10, 50)], r"stratum 0 n \(6\) exceeds population \(5\)"),
        ([(1, 1, 0)], r"stratum 0 n \(1\) exceeds population \(0\)"),
        (
            [Stratum(0, 0, 40, "Xã C"), (9, 10, 50)],
            r"stratum 'Xã C' has population 40 but n \(0\) responses",
        ),
        ([(0, 0, 0)], r"contain no stratum with dossiers"),
        ([], r"contain no stratum with dossiers"),
        ([(11, 10, 50)], r"stratum 0 successes \(11\) must not exceed n \(10\)"),
        ([(-1, 10, 50)], r"stratum 0 successes \(-1\) must be an integer >= 0"),
        ([(1, 10, 50.5)], r"stratum 0 population \(50.5\) must be an integer"),
        ([(1, 10, None)], r"stratum 0 population \(None\) must be an integer"),
        ([(1, 10)], r"stratum 0 \(\(1, 10\)\) must be a Stratum, a mapping or a tuple"),
        ([5], r"stratum 0 \(5\) must be a Stratum"),
        ([{"successes": 1, "n": 2}], r"stratum 0 .* lacks \['population'\]"),
        (
            [{"successes": 1, "n": 2, "population": 3, "weight": 1}],
            r"stratum 0 has unknown keys \['weight'\]",
        ),
        ("abc", r"strata \('abc'\) must be a sequence of strata"),
        (None, r"strata \(None\) must be a sequence of strata"),
    ],
)
def test_invalid_strata(strata, message):
    with pytest.raises(ValueError, match=message):
        stratified_proportion(strata)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "beta"}, r"method \('beta'\) must be one of 'korn-graubard', 'logit'"),
        ({"confidence": 1.5}, r"confidence \(1.5\) must be strictly between 0 and 1"),
        ({"fpc": "yes"}, r"fpc \('yes'\) must be True or False"),
        ({"single_response": "remove"}, r"single_response \('remove'\) must be one of"),
    ],
)
def test_invalid_options(kwargs, message):
    with pytest.raises(ValueError, match=message):
        stratified_proportion([(38, 40, 500), (70, 80, 600)], **kwargs)


# ------------------------------------------------------------------ properties

stratum_strategy = st.integers(min_value=2, max_value=200).flatmap(
    lambda n: st.tuples(
        st.integers(min_value=0, max_value=n),
        st.just(n),
        st.integers(min_value=n, max_value=5000),
    )
)


@settings(max_examples=200, deadline=None)
@given(
    strata=st.lists(stratum_strategy, min_size=1, max_size=8),
    method=st.sampled_from(["korn-graubard", "logit"]),
    fpc=st.booleans(),
    confidence=st.sampled_from([0.9, 0.95, 0.99]),
)
def test_result_is_finite_and_contains_the_estimate(strata, method, fpc, confidence):
    result = stratified_proportion(strata, confidence, method, fpc)
    values = (result.rate, result.se, result.low, result.high)
    assert all(math.isfinite(x) for x in values)
    assert 0.0 <= result.low <= result.rate <= result.high <= 1.0
    assert result.df == sum(n for _, n, _ in strata) - len(strata)
    for extra in (result.n_effective, result.design_effect):
        assert extra is None or (math.isfinite(extra) and extra > 0)
