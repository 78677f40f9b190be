"""Confidence intervals for one satisfaction rate and the verdict against a target.

The interval formulas follow R's ``prop.test(correct = FALSE)`` (Wilson) and
``binom.test`` (Clopper-Pearson) line by line, so that the numbers an officer
sees can be reproduced in R to 1e-9 (see ``tests/stats/make_fixtures.R``).
"""

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import special

from ._validation import check_choice
from ._validation import check_confidence
from ._validation import check_real
from ._validation import check_successes

__all__ = [
    "INTERVAL_METHODS",
    "MAX_EXTRA_RESPONSES",
    "STATUS_LABELS_VI",
    "ProportionInterval",
    "TargetComparison",
    "compare_to_target",
    "proportion_ci",
    "responses_to_show_met",
]

IntervalMethod = Literal["wilson", "exact", "jeffreys"]
Status = Literal["met", "not_met", "inconclusive"]

#: Interval methods accepted by :func:`proportion_ci` and :func:`compare_to_target`.
INTERVAL_METHODS: tuple[str, ...] = ("wilson", "exact", "jeffreys")

#: Vietnamese wording of each verdict, as printed in reports.
STATUS_LABELS_VI: dict[str, str] = {
    "met": "Đạt",
    "not_met": "Chưa đạt",
    "inconclusive": "Chưa đủ dữ liệu để kết luận",
}

#: :func:`compare_to_target` searches at most this many additional responses.
MAX_EXTRA_RESPONSES = 100_000
#: responses_needed scans every m up to this; beyond, only this many below the boundary.
_SCAN_ALL = 4096
#: Points evaluated per round while narrowing down to the boundary (64 intervals).
_GRID_POINTS = 65


@dataclass(frozen=True)
class ProportionInterval:
    """A two-sided confidence interval for a proportion.

    Attributes
    ----------
    rate : float
        Point estimate ``successes / n``.
    low, high : float
        Interval bounds, always within ``[0, 1]`` and ``low <= rate <= high``.
    successes, n : int
        The counts the interval was computed from.
    confidence : float
        Confidence level, e.g. 0.95.
    method : str
        ``"wilson"``, ``"exact"`` or ``"jeffreys"``.
    """

    rate: float
    low: float
    high: float
    successes: int
    n: int
    confidence: float
    method: str


@dataclass(frozen=True)
class TargetComparison:
    """A satisfaction rate compared with a target (see :func:`compare_to_target`).

    Attributes
    ----------
    rate : float or None
        ``successes / n``; None when ``n == 0``.
    low, high : float
        Confidence interval; ``0.0`` and ``1.0`` when ``n == 0`` (nothing is known).
    target : float
        The target rate, e.g. 0.90.
    status : {"met", "not_met", "inconclusive"}
        ``"met"`` when ``low >= target``, ``"not_met"`` when ``high < target``,
        otherwise ``"inconclusive"``. :data:`STATUS_LABELS_VI` gives the wording.
    p_value_above : float
        One-sided exact binomial p-value of H0: rate <= target (R
        ``binom.test(k, n, target, alternative = "greater")``); 1.0 when ``n == 0``.
    p_value_below : float
        One-sided exact binomial p-value of H0: rate >= target (R
        ``binom.test(k, n, target, alternative = "less")``); 1.0 when ``n == 0``.
    responses_needed : int or None
        Additional responses, at the current rate, that would make the verdict
        conclusive; 0 when it already is; None when unknown (no responses) or
        when it never would (see :func:`compare_to_target`, Notes). A
        projection, not a promise: prefer
        :func:`survey.stats.responses_needed_for`.
    successes, n : int
        The counts.
    confidence : float
        Confidence level of the interval.
    method : str
        Interval method.
    """

    rate: float | None
    low: float
    high: float
    target: float
    status: Status
    p_value_above: float
    p_value_below: float
    responses_needed: int | None
    successes: int
    n: int
    confidence: float
    method: str


def _bounds(k: np.ndarray, n: np.ndarray, confidence: float, method: str):
    """Vectorised interval bounds; requires ``n >= 1`` and ``0 <= k <= n``.

    Wilson mirrors R's ``prop.test`` (stats 4.2, k == 1 branch, YATES = 0):
    ``(p + z^2/2n -/+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)``, with the
    lower bound set to exactly 0 when k == 0 and the upper to exactly 1 when
    k == n. Clopper-Pearson mirrors ``binom.test``: Beta quantiles
    ``qbeta(alpha/2, k, n-k+1)`` and ``qbeta(1-alpha/2, k+1, n-k)``. Jeffreys
    uses Beta(k+1/2, n-k+1/2) quantiles with the bound fixed at 0 (k == 0) or 1
    (k == n), as in Brown, Cai & DasGupta (2001), section 4.1.2.
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    alpha = 1.0 - confidence
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "wilson":
            z = special.ndtri((1.0 + confidence) / 2.0)
            p = k / n
            z22n = z**2 / (2.0 * n)
            root = z * np.sqrt(p * (1.0 - p) / n + z22n / (2.0 * n))
            low = np.where(k <= 0, 0.0, (p + z22n - root) / (1.0 + 2.0 * z22n))
            high = np.where(k >= n, 1.0, (p + z22n + root) / (1.0 + 2.0 * z22n))
        elif method == "exact":
            low = np.where(k <= 0, 0.0, special.betaincinv(k, n - k + 1.0, alpha / 2.0))
            high = np.where(k >= n, 1.0, special.betaincinv(k + 1.0, n - k, 1.0 - alpha / 2.0))
        else:  # jeffreys
            low = np.where(k <= 0, 0.0, special.betaincinv(k + 0.5, n - k + 0.5, alpha / 2.0))
            high = np.where(
                k >= n, 1.0, special.betaincinv(k + 0.5, n - k + 0.5, 1.0 - alpha / 2.0)
            )
    return np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)


def proportion_ci(
    successes: int,
    n: int,
    confidence: float = 0.95,
    method: IntervalMethod = "wilson",
) -> ProportionInterval:
    """Two-sided confidence interval for a satisfaction rate.

    Parameters
    ----------
    successes : int
        Number of satisfied answers (``0 <= successes <= n``).
    n : int
        Number of valid answers (``n >= 1``).
    confidence : float, optional
        Confidence level strictly between 0 and 1. Default 0.95.
    method : {"wilson", "exact", "jeffreys"}, optional
        ``"wilson"`` (default): Wilson score interval without continuity
        correction. ``"exact"``: Clopper-Pearson, conservative (coverage is
        never below the nominal level). ``"jeffreys"``: equal-tailed Jeffreys
        Bayesian interval.

    Returns
    -------
    ProportionInterval
        With ``rate``, ``low`` and ``high``.

    Raises
    ------
    ValueError
        If a count is not a non-negative whole number, ``n == 0``,
        ``successes > n``, ``confidence`` is not in (0, 1) or ``method`` is unknown.

    Notes
    -----
    With :math:`\\hat p = k/n` and :math:`z = \\Phi^{-1}(1 - \\alpha/2)` the Wilson
    (1927) interval is

    .. math:: \\frac{\\hat p + z^2/(2n) \\pm z\\sqrt{\\hat p(1-\\hat p)/n + z^2/(4n^2)}}{1 + z^2/n}

    which equals R's ``prop.test(k, n, correct = FALSE)$conf.int``. Brown, Cai &
    DasGupta (2001) recommend it for small n because the textbook Wald interval
    :math:`\\hat p \\pm z\\sqrt{\\hat p(1-\\hat p)/n}` has poor coverage near 0 and 1,
    which is exactly where satisfaction rates live.

    The Clopper & Pearson (1934) interval inverts two one-sided exact binomial
    tests: the bounds are the :math:`\\alpha/2` quantile of
    :math:`\\mathrm{Beta}(k, n-k+1)` and the :math:`1-\\alpha/2` quantile of
    :math:`\\mathrm{Beta}(k+1, n-k)`, with 0 for k = 0 and 1 for k = n. It equals R's
    ``binom.test(k, n)$conf.int``.

    The Jeffreys interval takes the quantiles :math:`\\alpha/2` and
    :math:`1-\\alpha/2` of :math:`\\mathrm{Beta}(k+1/2, n-k+1/2)`, with the lower bound
    0 when k = 0 and the upper 1 when k = n (Brown, Cai & DasGupta 2001, 4.1.2).

    References
    ----------
    .. [1] E. B. Wilson, "Probable inference, the law of succession, and
       statistical inference", J. Am. Stat. Assoc. 22 (1927) 209-212.
    .. [2] C. J. Clopper and E. S. Pearson, "The use of confidence or fiducial
       limits illustrated in the case of the binomial", Biometrika 26 (1934) 404-413.
    .. [3] L. D. Brown, T. T. Cai and A. DasGupta, "Interval estimation for a
       binomial proportion", Statistical Science 16 (2001) 101-133.

    Examples
    --------
    38 of 40 citizens satisfied:

    >>> from survey.stats import proportion_ci
    >>> ci = proportion_ci(38, 40)
    >>> round(ci.rate, 4), round(ci.low, 4), round(ci.high, 4)
    (0.95, 0.835, 0.9862)
    >>> ci = proportion_ci(38, 40, method="exact")
    >>> round(ci.low, 4), round(ci.high, 4)
    (0.8308, 0.9939)
    """
    successes, n = check_successes(successes, n)
    if n == 0:
        raise ValueError(f"n ({n!r}) must be at least 1 for an interval")
    confidence = check_confidence(confidence)
    method = check_choice(method, "method", INTERVAL_METHODS)
    low, high = _bounds(np.array(successes), np.array(n), confidence, method)
    rate = successes / n
    # Guard against last-bit rounding so that low <= rate <= high always holds.
    return ProportionInterval(
        rate=rate,
        low=min(float(low), rate),
        high=max(float(high), rate),
        successes=successes,
        n=n,
        confidence=confidence,
        method=method,
    )


def _status(low: float, high: float, target: float) -> Status:
    if low >= target:
        return "met"
    if high < target:
        return "not_met"
    return "inconclusive"


def _round_half_up(numerator: np.ndarray, denominator: int) -> np.ndarray:
    """Exact ``round(numerator / denominator)`` with halves rounded up (integers)."""
    return (2 * numerator + denominator) // (2 * denominator)


def _responses_needed(
    successes: int, n: int, target: float, confidence: float, method: str
) -> int | None:
    """Smallest m >= 1 for which the current rate, held over n + m answers, is conclusive.

    Called only when the verdict is inconclusive and n >= 1, or with n == 0 by
    responses_to_show_met (then every response is taken as satisfied). See
    compare_to_target, Notes.
    """
    if n == 0:
        above = True  # responses_to_show_met: the fewest answers that can show "met"
    elif successes / n == target:
        return None
    else:
        above = successes / n > target
    if above and target >= 1.0:
        return None  # low < 1 for every interval, so a 100 % target can never be shown met

    def conclusive(m: np.ndarray) -> np.ndarray:
        total = n + m
        k = total if n == 0 else _round_half_up(successes * total, n)
        if method == "exact":
            # The Clopper-Pearson bounds through their binomial tails, without
            # inverting the Beta function (4 times faster): low >= target exactly
            # when P(X >= k | target) <= alpha/2, and high < target exactly when
            # P(X <= k | target) < alpha/2.
            half = (1.0 - confidence) / 2.0
            k, total = k.astype(float), total.astype(float)
            with np.errstate(divide="ignore", invalid="ignore"):
                if above:
                    return (k > 0) & (special.betainc(k, total - k + 1.0, target) <= half)
                upper_tail = special.betainc(k + 1.0, total - k, target)
                return (k < total) & (1.0 - upper_tail < half)
        low, high = _bounds(k, total, confidence, method)
        return low >= target if above else high < target

    # Probe powers of two for the first conclusive one. Probes near n + MAX
    # are slow (Beta quantiles with large parameters), so the range's end is
    # only examined closely when no probe is conclusive.
    probes = np.unique(np.minimum(2 ** np.arange(0, 18), MAX_EXTRA_RESPONSES))
    hits = np.flatnonzero(conclusive(probes))
    if hits.size:
        stop = int(probes[hits[0]])
    else:
        tail = np.arange(MAX_EXTRA_RESPONSES - 1023, MAX_EXTRA_RESPONSES + 1, dtype=np.int64)
        hits = np.flatnonzero(conclusive(tail))
        if not hits.size:
            return None
        stop = int(tail[hits[0]])
    if stop > _SCAN_ALL:
        # Narrow down to a point where the verdict turns conclusive, assuming
        # it stays so; rounding k can make it flip back and forth only in a
        # band of about 2 sqrt(N) / (z sqrt(p(1-p))) answers (about 1 100 at
        # N = 100 000), so scanning _SCAN_ALL below that point finds the
        # smallest m while costing a few thousand evaluations, not 100 000.
        # Each round evaluates 64 evenly spaced points at once (a 65 536-wide
        # range takes 3 rounds): numpy's cost is per call, not per point, so
        # this is about 4 times faster than bisecting one point at a time.
        low_m, high_m = max(1, stop // 2), stop  # not conclusive, conclusive
        while high_m - low_m > 1:
            grid = np.unique(np.linspace(low_m, high_m, _GRID_POINTS).astype(np.int64))
            first = int(np.flatnonzero(conclusive(grid[1:]))[0]) + 1  # grid[-1] is high_m
            low_m, high_m = int(grid[first - 1]), int(grid[first])
        start = max(1, high_m - _SCAN_ALL)
        m = np.arange(start, high_m + 1, dtype=np.int64)
    else:
        m = np.arange(1, stop + 1, dtype=np.int64)
    hits = np.flatnonzero(conclusive(m))
    if hits.size:
        return int(m[hits[0]])
    return None  # pragma: no cover - the tail check above found a hit


def compare_to_target(
    successes: int,
    n: int,
    target: float,
    confidence: float = 0.95,
    method: IntervalMethod = "wilson",
) -> TargetComparison:
    """Decide whether a satisfaction rate meets a target, and how sure we are.

    Parameters
    ----------
    successes : int
        Number of satisfied answers.
    n : int
        Number of valid answers; 0 is allowed (verdict ``"inconclusive"``).
    target : float
        Target rate in (0, 1], e.g. 0.90 for "at least 90 % satisfied".
    confidence : float, optional
        Confidence level of the interval. Default 0.95.
    method : {"wilson", "exact", "jeffreys"}, optional
        Interval method, see :func:`proportion_ci`. Default ``"wilson"``.

    Returns
    -------
    TargetComparison
        With ``rate``, ``low``, ``high``, ``target``, ``status``,
        ``p_value_above``, ``p_value_below`` and ``responses_needed``.

    Raises
    ------
    ValueError
        For invalid counts, a target outside (0, 1], a confidence outside
        (0, 1) or an unknown method.

    Notes
    -----
    **Verdict.** ``"met"`` (Đạt) when the lower bound is at least the target,
    ``"not_met"`` (Chưa đạt) when the upper bound is below the target,
    ``"inconclusive"`` (Chưa đủ dữ liệu để kết luận) otherwise.

    **p-values.** ``p_value_above`` is the exact one-sided binomial p-value
    :math:`P(X \\ge k \\mid n, \\text{target})` of H0: rate <= target, and
    ``p_value_below`` is :math:`P(X \\le k \\mid n, \\text{target})` of H0: rate >=
    target, as R's ``binom.test(k, n, target, alternative = "greater")`` and
    ``"less"``. They are reported for information; the verdict uses the interval.

    **responses_needed.** With :math:`\\hat p = k/n` held fixed, it is the
    smallest :math:`m \\ge 0` such that :math:`k' = \\mathrm{round}(\\hat p (n + m))`
    satisfied answers out of :math:`n + m` (halves rounded up) give a conclusive
    verdict with the same ``confidence`` and ``method``: "met" if
    :math:`\\hat p` > target, "not_met" if :math:`\\hat p` < target. It is 0 when the
    verdict is already conclusive and None when

    - ``n == 0``: there is no rate to project (it used to assume everyone
      would be satisfied; :func:`responses_to_show_met` gives that planning figure),
    - :math:`\\hat p` equals the target (the interval never leaves it),
    - the target is 1.0 and :math:`\\hat p = 1` (no interval excludes 100 %), or
    - more than :data:`MAX_EXTRA_RESPONSES` (100 000) would be needed.

    Holding the rate fixed makes this a median, not a promise: the true rate
    is uncertain, and after that many more responses the verdict is reached
    typically only about half the time (median 53-54 % for n <= 120 at targets 0.85-0.95).
    :func:`survey.stats.responses_needed_for` gives the number for a chosen
    probability under the posterior predictive distribution, and
    :func:`survey.stats.within_reach` says whether it can come in time.

    **The 29 / 59 rule.** "Everyone satisfied takes 29 responses to show > 90 %
    and 59 to show > 95 %" is the one-sided exact binomial test at 5 %
    (:math:`0.9^{29} = 0.047`, :math:`0.95^{59} = 0.048`), which is the same as a
    two-sided Clopper-Pearson interval at 90 % confidence: use
    ``method="exact", confidence=0.90``. The default two-sided 95 % Wilson
    interval is stricter and needs 35 and 73; two-sided 95 % exact needs 36 and 72.

    References
    ----------
    .. [1] L. D. Brown, T. T. Cai and A. DasGupta, "Interval estimation for a
       binomial proportion", Statistical Science 16 (2001) 101-133.
    .. [2] C. J. Clopper and E. S. Pearson, Biometrika 26 (1934) 404-413.

    Examples
    --------
    A commune with 57 of 60 satisfied against the 90 % target:

    >>> from survey.stats import compare_to_target
    >>> result = compare_to_target(57, 60, 0.90)
    >>> result.status, round(result.low, 4), result.responses_needed
    ('inconclusive', 0.863, 67)

    No responses yet: nothing to project.

    >>> compare_to_target(0, 0, 0.90).responses_needed is None
    True
    """
    successes, n = check_successes(successes, n)
    target_value = check_real(target, "target")
    if not 0.0 < target_value <= 1.0:
        raise ValueError(f"target ({target!r}) must be in (0, 1]")
    target = target_value
    confidence = check_confidence(confidence)
    method = check_choice(method, "method", INTERVAL_METHODS)

    if n == 0:
        return TargetComparison(
            rate=None,
            low=0.0,
            high=1.0,
            target=target,
            status="inconclusive",
            p_value_above=1.0,
            p_value_below=1.0,
            responses_needed=None,
            successes=0,
            n=0,
            confidence=confidence,
            method=method,
        )

    ci = proportion_ci(successes, n, confidence, method)
    status = _status(ci.low, ci.high, target)
    needed = (
        0
        if status != "inconclusive"
        else _responses_needed(successes, n, target, confidence, method)
    )
    return TargetComparison(
        rate=ci.rate,
        low=ci.low,
        high=ci.high,
        target=target,
        status=status,
        # The binomial tails themselves: what binomtest(..., alternative="greater" /
        # "less").pvalue returns, without its result objects (40 times faster, and a
        # dashboard compares a dozen rates).
        p_value_above=1.0 if successes == 0 else float(special.bdtrc(successes - 1, n, target)),
        p_value_below=float(special.bdtr(successes, n, target)),
        responses_needed=needed,
        successes=successes,
        n=n,
        confidence=confidence,
        method=method,
    )


def responses_to_show_met(
    target: float,
    confidence: float = 0.95,
    method: IntervalMethod = "exact",
) -> int | None:
    """Fewest responses, all satisfied, whose interval can show ``target`` is met.

    A planning figure for a commune that has no responses yet: below this
    many the verdict cannot be "met" whatever the answers are.

    Parameters
    ----------
    target : float
        Target rate in (0, 1].
    confidence : float, optional
        Confidence level. Default 0.95.
    method : {"exact", "wilson", "jeffreys"}, optional
        Interval method. Default ``"exact"``, the service's.

    Returns
    -------
    int or None
        The smallest n whose interval for n satisfied out of n has its lower
        bound at or above ``target``; None for a 100 % target (never shown) or
        beyond :data:`MAX_EXTRA_RESPONSES`.

    Notes
    -----
    For the exact interval the lower bound of n of n is
    :math:`(\\alpha/2)^{1/n}`, so n is the smallest integer with
    :math:`n \\ge \\ln(\\alpha/2)/\\ln(\\text{target})`: 36 for 90 % and 72 for
    95 % (two-sided 95 %). The "29 and 59" often quoted are the one-sided
    5 % test, i.e. ``confidence=0.90``.

    Examples
    --------
    >>> from survey.stats import responses_to_show_met
    >>> responses_to_show_met(0.90), responses_to_show_met(0.95)
    (36, 72)
    >>> responses_to_show_met(0.90, confidence=0.90)
    29
    >>> responses_to_show_met(0.90, method="wilson")
    35
    """
    target_value = check_real(target, "target")
    if not 0.0 < target_value <= 1.0:
        raise ValueError(f"target ({target!r}) must be in (0, 1]")
    confidence = check_confidence(confidence)
    method = check_choice(method, "method", INTERVAL_METHODS)
    return _responses_needed(0, 0, target_value, confidence, method)
