"""Tests for the SIPAS aggregation: question rates, element rates and the index."""

import math

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from survey.stats import LIKERT_LABELS_EN
from survey.stats import LIKERT_LABELS_VI
from survey.stats import NO_OPINION
from survey.stats import SATISFIED_LEVELS
from survey.stats import QuestionCounts
from survey.stats import QuestionRate
from survey.stats import proportion_ci
from survey.stats import question_rate
from survey.stats import sipas_index


def test_scale_labels():
    assert LIKERT_LABELS_VI == {
        1: "Rất không hài lòng",
        2: "Không hài lòng",
        3: "Bình thường",
        4: "Hài lòng",
        5: "Rất hài lòng",
    }
    assert list(LIKERT_LABELS_EN) == [1, 2, 3, 4, 5]
    assert SATISFIED_LEVELS == (4, 5) and NO_OPINION == "na"


# -------------------------------------------------------------- question_rate


def test_question_rate_rules():
    # 4 + 5 satisfied; 3 is valid and not satisfied; "na" is not valid.
    q = question_rate({1: 1, 2: 2, 3: 3, 4: 10, 5: 4, "na": 5})
    assert q == QuestionRate(
        satisfied=14,
        valid=20,
        neutral=3,
        dissatisfied=3,
        no_opinion=5,
        rate=0.7,
        low=proportion_ci(14, 20).low,
        high=proportion_ci(14, 20).high,
    )


def test_neutral_lowers_the_rate_and_no_opinion_does_not():
    base = question_rate({4: 9, 5: 9, 2: 2})
    with_neutral = question_rate({4: 9, 5: 9, 2: 2, 3: 5})
    with_no_opinion = question_rate({4: 9, 5: 9, 2: 2, "na": 5})
    assert base.rate == 0.9
    assert with_neutral.rate == 18 / 25
    assert with_no_opinion.rate == 0.9 and with_no_opinion.no_opinion == 5


def test_string_keys_as_stored_in_answers():
    assert question_rate({"1": 1, "4": 3, "5": 1, "na": 2}) == question_rate(
        {1: 1, 4: 3, 5: 1, "na": 2}
    )


def test_question_counts_dataclass():
    counts = QuestionCounts(very_dissatisfied=1, neutral=2, satisfied=3, very_satisfied=4)
    assert counts.valid == 10
    q = question_rate(counts, confidence=0.9, method="exact")
    assert (q.satisfied, q.valid, q.neutral, q.dissatisfied) == (7, 10, 2, 1)
    ci = proportion_ci(7, 10, 0.9, "exact")
    assert (q.low, q.high) == (ci.low, ci.high)


def test_no_valid_answers_gives_none_never_nan():
    for counts in ({}, {"na": 4}, QuestionCounts()):
        q = question_rate(counts)
        assert q.rate is None and q.low is None and q.high is None and q.valid == 0


def test_single_category():
    q = question_rate({5: 12})
    assert q.rate == 1.0 and q.high == 1.0 and q.low < 1.0
    q = question_rate({3: 12})
    assert q.rate == 0.0 and q.neutral == 12 and q.low == 0.0


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        ({6: 1}, r"counts key \(6\) must be one of 1, 2, 3, 4, 5"),
        ({0: 1}, r"counts key \(0\) must be one of"),
        ({"x": 1}, r"counts key \('x'\) must be one of"),
        ({True: 1}, r"counts key \(True\) must be one of"),
        ({4: -1}, r"count of 4 \(-1\) must be an integer >= 0"),
        ({4: 1.5}, r"count of 4 \(1.5\) must be an integer"),
        ([1, 2, 3], r"counts \(\[1, 2, 3\]\) must be a QuestionCounts or a mapping"),
    ],
)
def test_question_rate_invalid_counts(counts, message):
    with pytest.raises(ValueError, match=message):
        question_rate(counts)


def test_question_counts_invalid_field():
    with pytest.raises(ValueError, match=r"satisfied \(-2\) must be an integer >= 0"):
        QuestionCounts(satisfied=-2)


def test_question_rate_invalid_options_fail_even_without_data():
    with pytest.raises(ValueError, match=r"method \('foo'\) must be one of"):
        question_rate({"na": 1}, method="foo")
    with pytest.raises(ValueError, match=r"confidence \(2\) must be strictly"):
        question_rate({4: 1}, confidence=2)


# ---------------------------------------------------------------- sipas_index

COUNTS = {
    "access_seats": {4: 8, 5: 10, 3: 2},  # 0.9
    "access_signs": {4: 6, 5: 10, 2: 4},  # 0.8
    "proc_posted": {4: 15, 5: 5},  # 1.0
    "proc_overall": {4: 10, 5: 7, 3: 3, "na": 4},  # 0.85
    "staff_polite": {4: 5, 5: 12, 2: 3},  # 0.85
    "staff_overall": {4: 9, 5: 9, 3: 1, 1: 1, "na": 2},  # 0.9
    "result_correct": {"na": 6},  # no valid answers
    "result_overall": {"na": 3},  # no valid answers
}
ELEMENTS = {
    "access": {"overall": None, "criteria": ["access_seats", "access_signs"]},
    "procedure": {"overall": "proc_overall", "criteria": ["proc_posted"]},
    "official": {"overall": "staff_overall", "criteria": ["staff_polite", "staff_missing"]},
    "result": {"overall": "result_overall", "criteria": ["result_correct"]},
    "feedback": {"criteria": ["feedback_channel"]},
}


def test_element_rates_and_index():
    result = sipas_index(COUNTS, ELEMENTS)
    by_id = {e.element: e for e in result.elements}
    assert [e.element for e in result.elements] == list(ELEMENTS)

    access = by_id["access"]  # no overall question: mean of criteria
    assert access.source == "criteria" and math.isclose(access.rate, 0.85)
    assert math.isclose(access.criteria_mean, 0.85) and access.overall is None

    procedure = by_id["procedure"]  # overall question wins; criteria mean still reported
    assert procedure.source == "overall" and procedure.rate == 0.85
    assert procedure.criteria_mean == 1.0 and procedure.overall.no_opinion == 4

    official = by_id["official"]  # a criterion without answers is left out and listed
    assert official.rate == 0.9 and official.criteria_mean == 0.85
    assert official.criteria_without_answers == ("staff_missing",)

    result_element = by_id["result"]
    assert result_element.rate is None and result_element.source == "none"
    assert by_id["feedback"].rate is None

    assert result.excluded == ("result", "feedback")
    assert math.isclose(result.index, (0.85 + 0.85 + 0.9) / 3)


def test_overall_question_without_valid_answers_falls_back_to_criteria():
    counts = {"overall": {"na": 5}, "c1": {4: 4, 3: 1}, "c2": {5: 3, 1: 1}}
    result = sipas_index(counts, {"e": {"overall": "overall", "criteria": ["c1", "c2"]}})
    element = result.elements[0]
    assert element.source == "criteria" and math.isclose(element.rate, (0.8 + 0.75) / 2)
    assert element.overall.valid == 0 and element.overall.no_opinion == 5


def test_question_rates_are_reported_and_read_only():
    result = sipas_index(COUNTS, ELEMENTS)
    assert result.questions["proc_overall"].rate == 0.85
    assert result.questions["feedback_channel"].valid == 0
    with pytest.raises(TypeError):
        result.questions["x"] = None


def test_index_is_none_without_any_answers():
    result = sipas_index({}, {"a": {"overall": "q"}})
    assert result.index is None and result.excluded == ("a",)


def test_index_weights_elements_equally_not_by_answers():
    counts = {"a": {4: 1000}, "b": {4: 1, 1: 1}}
    result = sipas_index(counts, {"A": {"overall": "a"}, "B": {"overall": "b"}})
    assert result.index == 0.75


@pytest.mark.parametrize(
    ("counts", "elements", "message"),
    [
        (COUNTS, {}, r"elements \(\{\}\) must be a non-empty mapping"),
        (COUNTS, ["access"], r"elements \(\['access'\]\) must be a non-empty mapping"),
        ([], ELEMENTS, r"counts_by_question \(\[\]\) must be a mapping"),
        (COUNTS, {"e": "q1"}, r"elements\['e'\] \('q1'\) must be a mapping with keys"),
        (COUNTS, {"e": {"overal": "q"}}, r"elements\['e'\] .* must be a mapping with keys"),
        (COUNTS, {"e": {"criteria": "q1"}}, r"elements\['e'\]\['criteria'\] \('q1'\) must be"),
        (COUNTS, {"e": {"overall": None}}, r"elements\['e'\] .* has no overall question"),
        (
            {"q": {7: 1}},
            {"e": {"overall": "q"}},
            r"counts key \(7\) must be one of",
        ),
        (
            {"q": "many"},
            {"e": {"overall": "q"}},
            r"counts of question 'q' \('many'\) must be a QuestionCounts",
        ),
    ],
)
def test_sipas_index_invalid_input(counts, elements, message):
    with pytest.raises(ValueError, match=message):
        sipas_index(counts, elements)


count_strategy = st.dictionaries(
    st.sampled_from([1, 2, 3, 4, 5, "na"]), st.integers(min_value=0, max_value=50)
)


@settings(max_examples=150, deadline=None)
@given(counts=st.dictionaries(st.sampled_from(["q1", "q2", "q3", "q4"]), count_strategy))
def test_index_is_a_mean_of_rates_and_never_nan(counts):
    elements = {"e1": {"overall": "q1", "criteria": ["q2"]}, "e2": {"criteria": ["q3", "q4"]}}
    result = sipas_index(counts, elements)
    rates = [e.rate for e in result.elements if e.rate is not None]
    if rates:
        assert math.isclose(result.index, sum(rates) / len(rates))
        assert 0.0 <= result.index <= 1.0
    else:
        assert result.index is None
    for q in result.questions.values():
        if q.rate is not None:
            assert 0.0 <= q.low <= q.rate <= q.high <= 1.0
