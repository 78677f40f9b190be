"""SIPAS aggregation: question rates, element rates and the overall index.

The rules follow the SIPAS method of the Ministry of Home Affairs (Bộ Nội vụ)
as summarised in the project's DOMAIN notes:

- answers are on the 5-point scale of :data:`LIKERT_LABELS_VI`;
- a question's satisfaction rate is (Hài lòng + Rất hài lòng) / valid answers;
- "Bình thường" (3) is a valid answer that is **not** satisfied;
- "no opinion" / skipped ("na") is **not** a valid answer: it is counted and
  reported, but excluded from the denominator;
- an element's rate is its direct "overall" question where that question has
  valid answers, otherwise the mean of its criteria rates; the criteria mean is
  always reported too;
- the overall index is the unweighted mean of the element rates; elements
  without any valid answer are excluded and listed.
"""

import math
import types
from collections.abc import Hashable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Literal

from ._validation import check_count
from .proportions import IntervalMethod
from .proportions import proportion_ci

__all__ = [
    "LIKERT_LABELS_EN",
    "LIKERT_LABELS_VI",
    "NO_OPINION",
    "NO_OPINION_LABEL_VI",
    "SATISFIED_LEVELS",
    "ElementRate",
    "QuestionCounts",
    "QuestionRate",
    "SipasIndex",
    "question_rate",
    "sipas_index",
]

#: The SIPAS 5-point scale, Vietnamese labels (as on the official questionnaire).
LIKERT_LABELS_VI: dict[int, str] = {
    1: "Rất không hài lòng",
    2: "Không hài lòng",
    3: "Bình thường",
    4: "Hài lòng",
    5: "Rất hài lòng",
}

#: English labels of the same scale.
LIKERT_LABELS_EN: dict[int, str] = {
    1: "Very dissatisfied",
    2: "Dissatisfied",
    3: "Neutral",
    4: "Satisfied",
    5: "Very satisfied",
}

#: Levels counted as satisfied: Hài lòng (4) and Rất hài lòng (5).
SATISFIED_LEVELS: tuple[int, ...] = (4, 5)

#: Key of the "no opinion" / skipped count in a counts mapping.
NO_OPINION = "na"
NO_OPINION_LABEL_VI = "Không có ý kiến"

_FIELDS = ("very_dissatisfied", "dissatisfied", "neutral", "satisfied", "very_satisfied")


@dataclass(frozen=True)
class QuestionCounts:
    """Answer counts of one question on the 5-point scale.

    Attributes
    ----------
    very_dissatisfied, dissatisfied, neutral, satisfied, very_satisfied : int
        Counts of levels 1 to 5.
    no_opinion : int
        "Không có ý kiến" or skipped; not a valid answer.

    Examples
    --------
    >>> from survey.stats import QuestionCounts
    >>> counts = QuestionCounts.from_mapping({"4": 10, "5": 7, "3": 2, "na": 1})
    >>> counts.satisfied, counts.very_satisfied, counts.neutral, counts.no_opinion, counts.valid
    (10, 7, 2, 1, 19)
    """

    very_dissatisfied: int = 0
    dissatisfied: int = 0
    neutral: int = 0
    satisfied: int = 0
    very_satisfied: int = 0
    no_opinion: int = 0

    def __post_init__(self) -> None:
        for name in (*_FIELDS, "no_opinion"):
            check_count(getattr(self, name), name)

    @classmethod
    def from_mapping(cls, counts: Mapping[Any, int]) -> "QuestionCounts":
        """Build from ``{1: n1, ..., 5: n5, "na": n_no_opinion}``.

        Keys may be the integers 1-5 or the strings ``"1"``-``"5"`` (as stored in
        answers), and ``"na"``; missing keys count 0; any other key raises.
        """
        if not isinstance(counts, Mapping):
            raise ValueError(f"counts ({counts!r}) must be a mapping or QuestionCounts")
        values = dict.fromkeys((*_FIELDS, "no_opinion"), 0)
        for key, value in counts.items():
            if key == NO_OPINION:
                name = "no_opinion"
            elif (
                isinstance(key, int)
                and not isinstance(key, bool)
                and 1 <= key <= 5
                or key in ("1", "2", "3", "4", "5")
            ):
                name = _FIELDS[int(key) - 1]
            else:
                raise ValueError(
                    f"counts key ({key!r}) must be one of 1, 2, 3, 4, 5 (or '1'-'5') or 'na'"
                )
            values[name] += check_count(value, f"count of {key!r}")
        return cls(**values)

    @property
    def valid(self) -> int:
        """Answers on the scale (levels 1-5); "no opinion" excluded."""
        return sum(getattr(self, name) for name in _FIELDS)


@dataclass(frozen=True)
class QuestionRate:
    """Satisfaction rate of one question.

    Attributes
    ----------
    satisfied : int
        Hài lòng + Rất hài lòng (levels 4 and 5).
    valid : int
        Answers on the scale (levels 1-5).
    neutral : int
        Bình thường (level 3), valid and not satisfied.
    dissatisfied : int
        Rất không hài lòng + Không hài lòng (levels 1 and 2).
    no_opinion : int
        "No opinion" or skipped: excluded from ``valid``.
    rate : float or None
        ``satisfied / valid``; None when ``valid == 0``.
    low, high : float or None
        Confidence interval of the rate; None when ``valid == 0``.
    """

    satisfied: int
    valid: int
    neutral: int
    dissatisfied: int
    no_opinion: int
    rate: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class ElementRate:
    """Rate of one SIPAS element (yếu tố).

    Attributes
    ----------
    element : hashable
        Element id, e.g. ``"official"``.
    rate : float or None
        The overall question's rate if it has valid answers, else
        ``criteria_mean``; None if neither has valid answers.
    criteria_mean : float or None
        Unweighted mean of the criteria rates that have valid answers.
    source : {"overall", "criteria", "none"}
        Where ``rate`` came from.
    overall : QuestionRate or None
        The overall question's rate, if the element has one.
    criteria_without_answers : tuple
        Criteria ids with no valid answer (left out of ``criteria_mean``).
    """

    element: Hashable
    rate: float | None
    criteria_mean: float | None
    source: Literal["overall", "criteria", "none"]
    overall: QuestionRate | None = None
    criteria_without_answers: tuple = ()


@dataclass(frozen=True)
class SipasIndex:
    """Result of :func:`sipas_index`.

    Attributes
    ----------
    elements : tuple of ElementRate
        In the order of the ``elements`` argument.
    index : float or None
        Mean of the element rates that are not None; None if none has answers.
    excluded : tuple
        Ids of elements left out of the index because they had no valid answers.
    questions : mapping of question id to QuestionRate
        Every question referenced by ``elements`` (read-only).
    """

    elements: tuple[ElementRate, ...]
    index: float | None
    excluded: tuple = ()
    questions: Mapping[Hashable, QuestionRate] = field(
        default_factory=lambda: types.MappingProxyType({}), hash=False
    )


def _as_counts(counts: Any, name: str = "counts") -> QuestionCounts:
    if isinstance(counts, QuestionCounts):
        return counts
    if isinstance(counts, Mapping):
        return QuestionCounts.from_mapping(counts)
    raise ValueError(f"{name} ({counts!r}) must be a QuestionCounts or a mapping")


def question_rate(
    counts: QuestionCounts | Mapping[Any, int],
    confidence: float = 0.95,
    method: IntervalMethod = "wilson",
) -> QuestionRate:
    """Satisfaction rate of one question from its answer counts.

    Parameters
    ----------
    counts : QuestionCounts or mapping
        Counts per level, e.g. ``{1: 0, 2: 1, 3: 2, 4: 10, 5: 7, "na": 1}``.
    confidence : float, optional
        Confidence level of the interval. Default 0.95.
    method : {"wilson", "exact", "jeffreys"}, optional
        Interval method, see :func:`survey.stats.proportion_ci`.

    Returns
    -------
    QuestionRate

    Raises
    ------
    ValueError
        Unknown level, negative or non-integer count, bad confidence or method.

    Notes
    -----
    rate = (n4 + n5) / (n1 + n2 + n3 + n4 + n5). Level 3 (Bình thường) is in
    the denominator only; "na" is in neither (SIPAS method, Bộ Nội vụ).

    Examples
    --------
    >>> from survey.stats import question_rate
    >>> q = question_rate({1: 0, 2: 1, 3: 2, 4: 10, 5: 7, "na": 1})
    >>> q.satisfied, q.valid, q.neutral, q.dissatisfied, q.no_opinion, q.rate
    (17, 20, 2, 1, 1, 0.85)
    >>> round(q.low, 4), round(q.high, 4)
    (0.6396, 0.9476)
    >>> question_rate({"na": 3}).rate is None
    True
    """
    c = _as_counts(counts)
    satisfied = c.satisfied + c.very_satisfied
    valid = c.valid
    if valid == 0:
        # Still validate the options so a bad call fails the same way with or without data.
        proportion_ci(0, 1, confidence, method)
        rate = low = high = None
    else:
        ci = proportion_ci(satisfied, valid, confidence, method)
        rate, low, high = ci.rate, ci.low, ci.high
    return QuestionRate(
        satisfied=satisfied,
        valid=valid,
        neutral=c.neutral,
        dissatisfied=c.very_dissatisfied + c.dissatisfied,
        no_opinion=c.no_opinion,
        rate=rate,
        low=low,
        high=high,
    )


def _mean(values: Sequence[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None


def sipas_index(
    counts_by_question: Mapping[Hashable, QuestionCounts | Mapping[Any, int]],
    elements: Mapping[Hashable, Mapping[str, Any]],
    confidence: float = 0.95,
    method: IntervalMethod = "wilson",
) -> SipasIndex:
    """Element rates and the overall SIPAS index from per-question answer counts.

    Parameters
    ----------
    counts_by_question : mapping
        Question id -> counts (a :class:`QuestionCounts` or a mapping accepted by
        :meth:`QuestionCounts.from_mapping`). A question referenced by
        ``elements`` but absent here is treated as having no answers.
    elements : mapping
        Element id -> ``{"overall": question id or None, "criteria": [question ids]}``.
        Both keys are optional (missing means None / no criteria).
    confidence, method : optional
        Passed to :func:`question_rate` for the per-question intervals.

    Returns
    -------
    SipasIndex

    Raises
    ------
    ValueError
        Malformed ``elements`` or counts; no elements.

    Notes
    -----
    Element rate: the rate of its overall question where it was asked and has
    valid answers (``source="overall"``), otherwise the unweighted mean of its
    criteria rates (``source="criteria"``); the criteria mean is reported in
    both cases. Index: unweighted mean of the element rates, each element
    counting once whatever its number of answers (SIPAS method, Bộ Nội vụ).
    Elements without any valid answer are excluded from the index and listed
    in ``excluded``. No interval is given for the index: its parts share
    respondents, so they are not independent.

    Examples
    --------
    >>> from survey.stats import sipas_index
    >>> counts = {
    ...     "q_access": {4: 8, 5: 10, 3: 2},
    ...     "q_staff_polite": {4: 5, 5: 12, 2: 3},
    ...     "q_staff_overall": {4: 9, 5: 9, 3: 1, 1: 1, "na": 2},
    ... }
    >>> elements = {
    ...     "access": {"overall": None, "criteria": ["q_access"]},
    ...     "official": {"overall": "q_staff_overall", "criteria": ["q_staff_polite"]},
    ...     "feedback": {"overall": None, "criteria": ["q_feedback"]},
    ... }
    >>> result = sipas_index(counts, elements)
    >>> for e in result.elements:
    ...     print(e.element, e.rate, e.criteria_mean, e.source)
    access 0.9 0.9 criteria
    official 0.9 0.85 overall
    feedback None None none
    >>> round(result.index, 4), result.excluded
    (0.9, ('feedback',))
    """
    if not isinstance(counts_by_question, Mapping):
        raise ValueError(f"counts_by_question ({counts_by_question!r}) must be a mapping")
    if not isinstance(elements, Mapping) or not elements:
        raise ValueError(f"elements ({elements!r}) must be a non-empty mapping")

    rates: dict[Hashable, QuestionRate] = {}

    def rate_of(question: Hashable) -> QuestionRate:
        if question not in rates:
            counts = counts_by_question.get(question, QuestionCounts())
            rates[question] = question_rate(
                _as_counts(counts, f"counts of question {question!r}"), confidence, method
            )
        return rates[question]

    results = []
    for element, spec in elements.items():
        if not isinstance(spec, Mapping) or set(spec) - {"overall", "criteria"}:
            raise ValueError(
                f"elements[{element!r}] ({spec!r}) must be a mapping with keys "
                "'overall' and 'criteria'"
            )
        criteria = spec.get("criteria") or ()
        if isinstance(criteria, str) or not isinstance(criteria, Sequence):
            raise ValueError(
                f"elements[{element!r}]['criteria'] ({criteria!r}) must be a list of question ids"
            )
        overall_id = spec.get("overall")
        if overall_id is None and not criteria:
            raise ValueError(
                f"elements[{element!r}] ({spec!r}) has no overall question and no criteria"
            )

        criteria_rates = [(q, rate_of(q)) for q in criteria]
        answered = [r.rate for _, r in criteria_rates if r.rate is not None]
        criteria_mean = _mean(answered)
        without = tuple(q for q, r in criteria_rates if r.rate is None)
        overall = rate_of(overall_id) if overall_id is not None else None

        if overall is not None and overall.rate is not None:
            rate, source = overall.rate, "overall"
        elif criteria_mean is not None:
            rate, source = criteria_mean, "criteria"
        else:
            rate, source = None, "none"
        results.append(
            ElementRate(
                element=element,
                rate=rate,
                criteria_mean=criteria_mean,
                source=source,
                overall=overall,
                criteria_without_answers=without,
            )
        )

    included = [e.rate for e in results if e.rate is not None]
    return SipasIndex(
        elements=tuple(results),
        index=_mean(included),
        excluded=tuple(e.element for e in results if e.rate is None),
        questions=types.MappingProxyType(rates),
    )
