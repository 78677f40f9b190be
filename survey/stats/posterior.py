"""What is known before the verdict is: posterior probabilities, outlooks and rank uncertainty.

A month's verdict is often "not yet known". These functions say what *is*
known, from the Jeffreys posterior of the true rate, :math:`\\theta \\mid k, n
\\sim \\mathrm{Beta}(k + 1/2, n - k + 1/2)` (the prior Beta(1/2, 1/2) carries
the weight of one response, so the data dominate from a handful of answers):

- :func:`probability_at_least`: the probability that the true rate reaches the target;
- :func:`conclusion_outlook` and :func:`responses_needed_for`: the chance that
  N more responses give a verdict, and the N that gives it a fair chance;
- :func:`within_reach`: whether that N can come in the time left;
- :func:`rank_probabilities`: how uncertain a commune's rank is.

Like every figure here they assume the responses are a random sample of the
dossiers; QR respondents choose themselves (see ``docs/STATISTICS.md``).
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

from ._validation import check_choice
from ._validation import check_confidence
from ._validation import check_count
from ._validation import check_open_unit
from ._validation import check_real
from ._validation import check_successes
from .proportions import INTERVAL_METHODS
from .proportions import _bounds
from .proportions import compare_to_target

__all__ = [
    "DEFAULT_MAX_EXTRA",
    "ConclusionOutlook",
    "RankDistribution",
    "conclusion_outlook",
    "probability_at_least",
    "rank_probabilities",
    "responses_needed_for",
    "within_reach",
]

#: :func:`responses_needed_for` looks no further than this many more responses by
#: default: a commune collecting 100 a month would need four years to get there.
DEFAULT_MAX_EXTRA = 5000
#: Tolerance on the probability reached in :func:`responses_needed_for`.
_PROBABILITY_SLACK = 1e-12
#: Quadrature nodes per commune in :func:`rank_probabilities`.
_RANK_NODES = 1024


def _check_target(target) -> float:
    value = check_real(target, "target")
    if not 0.0 < value <= 1.0:
        raise ValueError(f"target ({target!r}) must be in (0, 1]")
    return value


def probability_at_least(satisfied: int, valid: int, target: float) -> float | None:
    """Posterior probability that the true satisfaction rate is at least ``target``.

    Parameters
    ----------
    satisfied : int
        Satisfied answers k.
    valid : int
        Valid answers n (0 allowed: the result is then None).
    target : float
        Target rate in (0, 1].

    Returns
    -------
    float or None
        :math:`P(\\theta \\ge \\text{target} \\mid k, n)` for
        :math:`\\theta \\sim \\mathrm{Beta}(k + 1/2, n - k + 1/2)`, i.e. R's
        ``pbeta(target, k + 0.5, n - k + 0.5, lower.tail = FALSE)``. None when
        ``valid == 0``: with no answer the figure would be the prior's alone
        (20 % for a 90 % target), which says nothing about the commune.

    Notes
    -----
    This is the figure to show beside "not yet known": "the chance that the
    true rate reaches 90 % is 74 %". It is a Bayesian probability with the
    Jeffreys prior, the prior whose equal-tailed intervals are the
    ``"jeffreys"`` method of :func:`survey.stats.proportion_ci`; it is not a
    p-value. The exact (Clopper-Pearson) bounds lie outside the Jeffreys
    posterior's quantiles, so a verdict "met" from the two-sided 95 % exact
    interval implies a probability of at least 97.5 % here and "not met" one
    below 2.5 %; "not yet known" can go with anything in between.
    A 100 % target gives 0 (no finite sample proves perfection).

    Examples
    --------
    35 of 35 satisfied, target 90 % (the exact interval's lower bound is 89.997 %):

    >>> from survey.stats import probability_at_least
    >>> round(probability_at_least(35, 35, 0.90), 4)
    0.9936
    >>> round(probability_at_least(45, 50, 0.90), 4)
    0.4743
    >>> probability_at_least(0, 0, 0.90) is None
    True
    """
    successes, n = check_successes(satisfied, valid)
    target = _check_target(target)
    if n == 0:
        return None
    if target >= 1.0:
        return 0.0
    return float(special.betaincc(successes + 0.5, n - successes + 0.5, target))


@dataclass(frozen=True)
class ConclusionOutlook:
    """The chance that ``extra`` more responses settle the verdict (see :func:`conclusion_outlook`).

    Attributes
    ----------
    extra : int
        Number of additional responses considered.
    met, not_met : float
        Posterior predictive probability that, after ``extra`` more responses,
        the verdict is "met" / "not met".
    conclusive : float
        ``met + not_met``.
    """

    extra: int
    met: float
    not_met: float

    @property
    def conclusive(self) -> float:
        return self.met + self.not_met


def _thresholds(totals: np.ndarray, target: float, confidence: float, method: str):
    """For each total T: the fewest satisfied giving "met", the most giving "not met".

    Returns (met_from, not_met_to): "met" exactly when k >= met_from (T + 1 if
    never) and "not met" exactly when k <= not_met_to (-1 if never). The
    interval's lower and upper bounds increase with k, so each verdict region
    is a run of k and a bisection over all totals at once finds both ends.
    The bounds get the same guard as proportion_ci (low <= k/T <= high), so the
    verdicts are those of compare_to_target to the last bit.
    """
    totals = np.asarray(totals, dtype=np.int64)

    def verdicts(k):
        kf, tf = k.astype(float), totals.astype(float)
        low, high = _bounds(np.clip(kf, 0, tf), tf, confidence, method)
        rate = np.clip(kf, 0, tf) / tf
        return np.minimum(low, rate) >= target, np.maximum(high, rate) < target

    # met: smallest k in [0, T + 1] with met(k), met(T + 1) taken as true.
    lo, hi = np.zeros_like(totals), totals + 1
    while np.any(lo < hi):
        mid = (lo + hi) // 2
        met = verdicts(mid)[0] & (mid <= totals)
        hi = np.where(lo < hi, np.where(met, mid, hi), hi)
        lo = np.where(lo < hi, np.where(met, lo, mid + 1), lo)
    met_from = lo
    # not met: largest k in [-1, T] with not_met(k), not_met(-1) taken as true.
    lo, hi = np.full_like(totals, -1), totals.copy()
    while np.any(lo < hi):
        mid = (lo + hi + 1) // 2
        below = verdicts(mid)[1]
        lo = np.where(lo < hi, np.where(below, mid, lo), lo)
        hi = np.where(lo < hi, np.where(below, hi, mid - 1), hi)
    return met_from, lo


def _predictive_pmf(extra: int, a: float, b: float) -> np.ndarray:
    """Beta-binomial(extra, a, b) probabilities of 0..extra future satisfied answers."""
    y = np.arange(extra + 1, dtype=float)
    log_pmf = (
        special.gammaln(extra + 1.0)
        - special.gammaln(y + 1.0)
        - special.gammaln(extra - y + 1.0)
        + special.betaln(y + a, extra - y + b)
        - special.betaln(a, b)
    )
    return np.exp(log_pmf)


def _outlooks(successes, n, target, confidence, method, extras) -> list[ConclusionOutlook]:
    extras = np.asarray(extras, dtype=np.int64)
    met_from, not_met_to = _thresholds(n + extras, target, confidence, method)
    a, b = successes + 0.5, n - successes + 0.5
    found = []
    for extra, k_met, k_not in zip(extras, met_from, not_met_to, strict=True):
        extra, k_met, k_not = int(extra), int(k_met), int(k_not)
        pmf = _predictive_pmf(extra, a, b)
        # Future satisfied y gives k + y in total: met when k + y >= k_met.
        y_met, y_not = k_met - successes, k_not - successes
        met = float(pmf[max(y_met, 0) :].sum()) if y_met <= extra else 0.0
        not_met = float(pmf[: y_not + 1].sum()) if y_not >= 0 else 0.0
        found.append(ConclusionOutlook(extra, min(met, 1.0), min(not_met, 1.0)))
    return found


def _check_common(satisfied, valid, target, confidence, method):
    successes, n = check_successes(satisfied, valid)
    return (
        successes,
        n,
        _check_target(target),
        check_confidence(confidence),
        check_choice(method, "method", INTERVAL_METHODS),
    )


def conclusion_outlook(
    satisfied: int,
    valid: int,
    target: float,
    extra: int,
    confidence: float = 0.95,
    method: str = "exact",
) -> ConclusionOutlook | None:
    """Probability that ``extra`` more responses turn the verdict into "met" or "not met".

    Parameters
    ----------
    satisfied, valid : int
        The counts so far, k of n.
    target : float
        Target rate in (0, 1].
    extra : int
        Number of additional responses, >= 0.
    confidence : float, optional
        Confidence level of the verdict's interval. Default 0.95.
    method : {"exact", "wilson", "jeffreys"}, optional
        Interval method of the verdict (:func:`survey.stats.compare_to_target`).
        Default ``"exact"``, the service's.

    Returns
    -------
    ConclusionOutlook or None
        None when ``valid == 0``: with nothing observed any outlook would be the
        prior's, not the commune's.

    Notes
    -----
    The true rate is uncertain (Jeffreys posterior Beta(k+1/2, n-k+1/2)), so
    the number Y of satisfied among the next ``extra`` responses follows the
    posterior predictive beta-binomial distribution

    .. math:: P(Y = y) = \\binom{m}{y}
              \\frac{B(y + k + 1/2,\\; m - y + n - k + 1/2)}{B(k + 1/2,\\; n - k + 1/2)}

    and the verdict on k + Y out of n + m is computed for every y. The old
    "N more responses needed" held the current rate fixed; under this
    distribution that N concludes only about half the time.

    Examples
    --------
    57 of 60 satisfied against 90 %: the rate held fixed needs 67 more, which
    conclude only about half the time:

    >>> from survey.stats import conclusion_outlook
    >>> outlook = conclusion_outlook(57, 60, 0.90, 67)
    >>> round(outlook.met, 2), round(outlook.not_met, 4)
    (0.52, 0.0004)
    """
    successes, n, target, confidence, method = _check_common(
        satisfied, valid, target, confidence, method
    )
    extra = check_count(extra, "extra")
    if n == 0:
        return None
    return _outlooks(successes, n, target, confidence, method, [extra])[0]


def responses_needed_for(
    satisfied: int,
    valid: int,
    target: float,
    probability: float = 0.8,
    confidence: float = 0.95,
    method: str = "exact",
    max_extra: int = DEFAULT_MAX_EXTRA,
) -> int | None:
    """Fewest more responses giving at least ``probability`` of a verdict.

    Parameters
    ----------
    satisfied, valid : int
        The counts so far, k of n.
    target : float
        Target rate in (0, 1].
    probability : float, optional
        Required chance that the verdict is then "met" or "not met". Default 0.8.
    confidence : float, optional
        Confidence level of the verdict. Default 0.95.
    method : {"exact", "wilson", "jeffreys"}, optional
        Interval method of the verdict. Default ``"exact"``.
    max_extra : int, optional
        Look no further than this. Pass the responses expected in the time
        left (:func:`within_reach`) to ask "can it be settled this period?".
        Default :data:`DEFAULT_MAX_EXTRA`.

    Returns
    -------
    int or None
        0 when the verdict is already conclusive; otherwise the smallest m in
        1..``max_extra`` with :attr:`ConclusionOutlook.conclusive` >= ``probability``
        (to within 1e-12)
        (see :func:`conclusion_outlook`); None when ``valid == 0`` (unknown: no
        rate to project, and no assumption that everyone will be satisfied)
        or when no m up to ``max_extra`` reaches the probability.

    Notes
    -----
    The probability of concluding is not monotone in m (the discreteness of the
    counts makes it saw-toothed), so every m up to the answer is evaluated.
    A rate close to the target needs many responses: the verdict waits for
    the interval, about :math:`2 \\times 1.96\\sqrt{p(1-p)/n}` wide, to pass
    by the distance between the true rate and the target. At ``k/n`` equal to
    the target that distance is as likely small as large, so the answer is
    usually None (beyond ``max_extra``) unless n is small.
    The cost grows with the square of the answer (a few tenths of a second
    at 5 000).

    Examples
    --------
    >>> from survey.stats import responses_needed_for
    >>> responses_needed_for(57, 60, 0.90)
    489
    >>> responses_needed_for(57, 60, 0.90, probability=0.5)
    67
    >>> responses_needed_for(0, 0, 0.90) is None
    True
    """
    successes, n, target, confidence, method = _check_common(
        satisfied, valid, target, confidence, method
    )
    probability = check_open_unit(probability, "probability")
    max_extra = check_count(max_extra, "max_extra")
    if n == 0:
        return None
    if compare_to_target(successes, n, target, confidence, method).status != "inconclusive":
        return 0
    # Chunks that double in size: a near answer costs little, a far one at most
    # twice the evaluations of a scan straight to it.
    start, size = 1, 64
    while start <= max_extra:
        extras = np.arange(start, min(start + size, max_extra + 1), dtype=np.int64)
        for outlook in _outlooks(successes, n, target, confidence, method, extras):
            # Sums of probabilities carry rounding: an exact 50 % (a symmetric
            # posterior) must not come out as 0.4999999999999999 and be skipped.
            if outlook.conclusive >= probability - _PROBABILITY_SLACK:
                return outlook.extra
        start, size = int(extras[-1]) + 1, size * 2
    return None


def within_reach(needed: int | None, expected: float) -> bool:
    """Whether ``needed`` more responses can be expected in the time left.

    Parameters
    ----------
    needed : int or None
        From :func:`responses_needed_for` (or ``responses_needed``); None means
        unknown or out of reach.
    expected : float
        Responses expected before the period closes, e.g. the usual monthly
        count times the months left, >= 0.

    Returns
    -------
    bool
        True when ``needed`` is known and at most ``expected``. Show "N more
        responses" only then; otherwise say the period will likely end
        without a verdict and show :func:`probability_at_least`.

    Examples
    --------
    >>> from survey.stats import within_reach
    >>> within_reach(489, expected=40 * 3), within_reach(489, expected=200 * 3)
    (False, True)
    >>> within_reach(None, expected=1000)
    False
    """
    expected = check_real(expected, "expected")
    if expected < 0:
        raise ValueError(f"expected ({expected!r}) must be >= 0")
    if needed is None:
        return False
    return check_count(needed, "needed") <= expected


@dataclass(frozen=True)
class RankDistribution:
    """Rank uncertainty of one commune (see :func:`rank_probabilities`).

    Attributes
    ----------
    probabilities : tuple of float
        ``probabilities[r - 1]`` = probability that the commune's true rate
        is the r-th highest (rank 1 = best).
    mean_rank : float
        Expected rank.
    low, high : int
        Central rank interval: the smallest ranks whose cumulative probability
        reaches ``(1 - coverage) / 2`` and ``(1 + coverage) / 2``.
    """

    probabilities: tuple[float, ...]
    mean_rank: float
    low: int
    high: int


def rank_probabilities(
    counts: Sequence[tuple[int, int]],
    coverage: float = 0.9,
) -> tuple[RankDistribution, ...]:
    """Probability of each rank for each commune, from their Jeffreys posteriors.

    Parameters
    ----------
    counts : sequence of (int, int)
        (satisfied, valid) per commune, ``valid >= 1``, in any order.
    coverage : float, optional
        Probability of the central rank interval. Default 0.9.

    Returns
    -------
    tuple of RankDistribution
        One per commune, in the order given.

    Raises
    ------
    ValueError
        Fewer than 1 commune, a commune without answers (it has no rank: list
        it apart), invalid counts or coverage.

    Notes
    -----
    With independent posteriors :math:`\\theta_j \\sim \\mathrm{Beta}(k_j + 1/2,
    n_j - k_j + 1/2)` and :math:`F_j` their distribution functions, commune i
    has rank r when exactly r - 1 others have a higher rate:

    .. math:: P(\\text{rank}_i = r) = \\int_0^1 f_i(x)\\,[z^{r-1}]
              \\prod_{j \\ne i} \\bigl(F_j(x) + (1 - F_j(x))\\,z\\bigr)\\,dx

    where :math:`[z^{r-1}]` takes a polynomial's coefficient. The integral is
    taken in the quantile scale of :math:`\\theta_i` (midpoint rule on 1 024
    points), which follows the peak of :math:`f_i` however narrow it is; no
    random numbers, so the figures are the same on every run. Each commune's
    probabilities sum to 1 exactly; the probabilities of one rank over the
    communes sum to 1 within about 1e-3. Cost: about m³ × 1 024 operations
    for m communes: a fraction of a second for a district's 30 communes,
    several seconds for 100 (rank within districts, not across a province).

    A league table of raw rates ranks noise: with 30 to 60 responses a
    commune's 90 % rank interval typically spans half the district. Show the
    interval, or group communes by verdict, rather than a single rank.

    Examples
    --------
    >>> from survey.stats import rank_probabilities
    >>> ranks = rank_probabilities([(48, 50), (45, 50), (9, 10)])
    >>> [(r.low, r.high) for r in ranks]
    [(1, 2), (1, 3), (1, 3)]
    >>> round(ranks[0].probabilities[0], 2)
    0.73
    """
    coverage = check_open_unit(coverage, "coverage")
    if isinstance(counts, str | bytes) or not isinstance(counts, Sequence | np.ndarray):
        raise ValueError(f"counts ({counts!r}) must be a sequence of (satisfied, valid)")
    pairs = []
    for position, item in enumerate(counts):
        if not (isinstance(item, tuple | list) and len(item) == 2):
            raise ValueError(f"counts[{position}] ({item!r}) must be (satisfied, valid)")
        k, n = check_successes(*item)
        if n == 0:
            raise ValueError(f"counts[{position}] ({item!r}) has no answers: it has no rank")
        pairs.append((k, n))
    if not pairs:
        raise ValueError(f"counts ({counts!r}) must not be empty")
    a = np.array([k + 0.5 for k, _ in pairs])
    b = np.array([n - k + 0.5 for k, n in pairs])
    m = len(pairs)
    u = (np.arange(_RANK_NODES) + 0.5) / _RANK_NODES
    results = []
    for i in range(m):
        x = special.betaincinv(a[i], b[i], u)  # nodes in the quantile scale of theta_i
        # poly[:, r] = P(exactly r of the other communes are above x), built one commune
        # at a time: each is below x with probability F_j(x), above with 1 - F_j(x).
        poly = np.zeros((_RANK_NODES, m))
        poly[:, 0] = 1.0
        done = 0  # others folded in so far: only poly[:, : done + 1] can be non-zero
        for j in range(m):
            if j == i:
                continue
            below = special.betainc(a[j], b[j], x)[:, None]
            head = poly[:, : done + 2]
            above_part = head[:, :-1] * (1.0 - below)
            head *= below
            head[:, 1:] += above_part
            done += 1
        probabilities = poly.mean(axis=0)
        probabilities /= probabilities.sum()  # the rows sum to 1 up to rounding
        cumulative = np.cumsum(probabilities)
        low = int(np.searchsorted(cumulative, (1.0 - coverage) / 2.0)) + 1
        high = int(np.searchsorted(cumulative, (1.0 + coverage) / 2.0)) + 1
        results.append(
            RankDistribution(
                probabilities=tuple(float(p) for p in probabilities),
                mean_rank=float(np.dot(np.arange(1, m + 1), probabilities)),
                low=min(low, m),
                high=min(high, m),
            )
        )
    return tuple(results)
