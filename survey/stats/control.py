"""Monthly trend (p-chart) and comparison of units (funnel plot) limits."""

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

from ._validation import check_count
from ._validation import check_open_unit
from ._validation import check_real
from ._validation import check_successes


def _scipy_stats():
    # scipy.stats is about 45 MB more than scipy.special: imported by the first view
    # that needs it (district comparisons), not by every worker at start.
    from scipy import stats

    return stats


__all__ = [
    "FUNNEL_ZONES",
    "FunnelLimits",
    "FunnelSteps",
    "PChartLimits",
    "funnel_class",
    "funnel_limits",
    "funnel_steps",
    "p_chart_limits",
]

#: What :func:`funnel_class` returns, from worst to best (the same words as the
#: district page's zones).
FUNNEL_ZONES: tuple[str, ...] = ("below998", "below95", "inside", "above95", "above998")

# R's qbinom searches for the smallest r with pbinom(r) >= p * (1 - 64 * DBL_EPSILON),
# so that a probability equal to p up to rounding counts as reaching it.
_QBINOM_FUZZ = 1.0 - 64.0 * np.finfo(float).eps


@dataclass(frozen=True)
class PChartLimits:
    """Control limits of a p-chart (see :func:`p_chart_limits`).

    Attributes
    ----------
    center : float
        Pooled rate :math:`\\bar p = \\sum k_i / \\sum n_i`.
    rates : tuple of (float or None)
        Rate of each period; None for a period without responses.
    lower, upper : tuple of (float or None)
        Limits of each period, clipped to [0, 1]; None without responses.
    out_of_control : tuple of int
        0-based indices of periods outside their limits (strictly).
    below, above : tuple of int
        The same, split by direction (``below`` = worse than usual).
    sigma : float
        Width of the limits in standard errors.
    """

    center: float
    rates: tuple[float | None, ...]
    lower: tuple[float | None, ...]
    upper: tuple[float | None, ...]
    out_of_control: tuple[int, ...]
    below: tuple[int, ...]
    above: tuple[int, ...]
    sigma: float


@dataclass(frozen=True)
class FunnelLimits:
    """Funnel-plot limits around a target (see :func:`funnel_limits`).

    Attributes
    ----------
    target : float
    coverage : float
        Probability that a unit exactly at the target falls inside its limits.
    n : tuple of int
        Sample sizes, one per point (a scalar ``n`` gives a 1-tuple).
    lower, upper : tuple of float
        Limits for a rate observed on each ``n``, within [0, 1].
    """

    target: float
    coverage: float
    n: tuple[int, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]


def _sequence(values, name: str) -> list:
    if isinstance(values, str | bytes) or not isinstance(values, Sequence | np.ndarray):
        raise ValueError(f"{name} ({values!r}) must be a sequence")
    return list(values)


def p_chart_limits(
    successes_by_period: Sequence[int],
    n_by_period: Sequence[int],
    sigma: float = 3,
) -> PChartLimits:
    """Shewhart p-chart limits for a monthly (or quarterly) satisfaction rate.

    Parameters
    ----------
    successes_by_period : sequence of int
        Satisfied answers in each period.
    n_by_period : sequence of int
        Valid answers in each period (0 allowed: that period has no limits).
    sigma : float, optional
        Width in standard errors. Default 3 (Shewhart).

    Returns
    -------
    PChartLimits

    Raises
    ------
    ValueError
        Sequences of different lengths or empty, invalid counts, no responses
        at all, or ``sigma <= 0``.

    Notes
    -----
    With :math:`\\bar p = \\sum_i k_i / \\sum_i n_i` (pooled over the periods
    shown), the limits of period i are (Montgomery 2019, section 7.2.2)

    .. math:: \\bar p \\pm \\sigma \\sqrt{\\bar p (1 - \\bar p) / n_i}

    clipped to [0, 1]. A period is out of control when its rate lies strictly
    outside its limits. Limits vary with :math:`n_i`: small months get wide limits.
    With :math:`\\bar p` equal to 0 or 1 the limits collapse to :math:`\\bar p`.

    References
    ----------
    .. [1] D. C. Montgomery, Introduction to Statistical Quality Control, 8th ed.,
       Wiley, 2019, chapter 7.

    Examples
    --------
    >>> from survey.stats import p_chart_limits
    >>> chart = p_chart_limits([45, 47, 30, 48], [50, 50, 50, 50])
    >>> round(chart.center, 3), round(chart.lower[0], 4), round(chart.upper[0], 4)
    (0.85, 0.6985, 1.0)
    >>> chart.out_of_control, chart.below
    ((2,), (2,))
    """
    successes = _sequence(successes_by_period, "successes_by_period")
    sizes = _sequence(n_by_period, "n_by_period")
    if len(successes) != len(sizes):
        raise ValueError(
            f"successes_by_period ({len(successes)} periods) and n_by_period "
            f"({len(sizes)} periods) must have the same length"
        )
    if not sizes:
        raise ValueError(f"n_by_period ({n_by_period!r}) must not be empty")
    pairs = [check_successes(k, n) for k, n in zip(successes, sizes, strict=True)]
    sigma_value = check_real(sigma, "sigma")
    if sigma_value <= 0:
        raise ValueError(f"sigma ({sigma!r}) must be positive")
    sigma = sigma_value
    total = sum(n for _, n in pairs)
    if total == 0:
        raise ValueError(f"n_by_period ({n_by_period!r}) has no responses in any period")

    center = sum(k for k, _ in pairs) / total
    rates: list[float | None] = []
    lower: list[float | None] = []
    upper: list[float | None] = []
    below: list[int] = []
    above: list[int] = []
    for i, (k, n) in enumerate(pairs):
        if n == 0:
            rates.append(None)
            lower.append(None)
            upper.append(None)
            continue
        half = sigma * math.sqrt(center * (1.0 - center) / n)
        rate = k / n
        low, high = max(0.0, center - half), min(1.0, center + half)
        rates.append(rate)
        lower.append(low)
        upper.append(high)
        if rate < low:
            below.append(i)
        elif rate > high:
            above.append(i)
    return PChartLimits(
        center=center,
        rates=tuple(rates),
        lower=tuple(lower),
        upper=tuple(upper),
        out_of_control=tuple(sorted(below + above)),
        below=tuple(below),
        above=tuple(above),
        sigma=sigma,
    )


def _binomial_limit(p: float, n: np.ndarray, target: float) -> np.ndarray:
    """Spiegelhalter (2005) appendix A.1.1: interpolated binomial p-quantile over n."""
    r = _scipy_stats().binom.ppf(p, n, target)
    cdf_r = _scipy_stats().binom.cdf(r, n, target)
    cdf_before = _scipy_stats().binom.cdf(r - 1, n, target)
    alpha = (cdf_r - p) / (cdf_r - cdf_before)
    return np.clip((r - alpha) / n, 0.0, 1.0)


def funnel_limits(
    target: float,
    n: int | Sequence[int],
    coverage: float = 0.95,
) -> FunnelLimits:
    """Funnel-plot control limits for rates observed on ``n`` responses.

    Parameters
    ----------
    target : float
        The rate every unit is compared with, in (0, 1), e.g. 0.90.
    n : int or sequence of int
        Number of valid answers (>= 1) of each unit, or a grid of n to draw the
        funnel. The result always holds tuples.
    coverage : float, optional
        0.95 (about 2 SD) or 0.998 (about 3 SD) are the usual choices;
        call once per funnel. Default 0.95.

    Returns
    -------
    FunnelLimits

    Raises
    ------
    ValueError
        ``target`` or ``coverage`` outside (0, 1), or an ``n`` below 1.

    Notes
    -----
    Exact binomial limits with Spiegelhalter's interpolation (2005, appendix
    A.1.1): for :math:`p = (1 - \\text{coverage})/2` (lower) and
    :math:`(1 + \\text{coverage})/2` (upper), let :math:`r_p` be the smallest r
    with :math:`F(r) = P(R \\le r) \\ge p` for :math:`R \\sim \\mathrm{Bin}(n, \\theta_0)`,
    and

    .. math:: \\alpha = \\frac{F(r_p) - p}{F(r_p) - F(r_p - 1)}, \\qquad
              \\text{limit} = \\frac{r_p - \\alpha}{n}

    clipped to [0, 1] and so that the lower limit never exceeds the target nor
    the upper falls below it. The interpolation gives a smooth funnel instead of the
    staircase of plain binomial quantiles. A unit outside the 99.8 % funnel is
    unlikely to differ from the target by chance alone; a league table of raw
    rates would rank noise.

    References
    ----------
    .. [1] D. J. Spiegelhalter, "Funnel plots for comparing institutional
       performance", Statistics in Medicine 24 (2005) 1185-1202.

    Examples
    --------
    >>> from survey.stats import funnel_limits
    >>> limits = funnel_limits(0.90, [20, 100, 500], coverage=0.95)
    >>> [round(x, 4) for x in limits.lower]
    [0.7215, 0.8323, 0.872]
    >>> [round(x, 4) for x in limits.upper]
    [0.9897, 0.9496, 0.9246]
    """
    target = check_open_unit(target, "target")
    coverage = check_open_unit(coverage, "coverage")
    scalar = not isinstance(n, Sequence | np.ndarray) or isinstance(n, str | bytes)
    values = [n] if scalar else list(n)
    if not values:
        raise ValueError(f"n ({n!r}) must not be empty")
    sizes = tuple(check_count(v, "n", minimum=1) for v in values)
    grid = np.asarray(sizes, dtype=float)
    # The interpolation can cross the target for one or two responses at an
    # extreme target (n = 1, target 0.984: upper 0.975); a funnel must still
    # contain its target, so the limits are clipped to it.
    lower = np.minimum(_binomial_limit((1.0 - coverage) / 2.0, grid, target), target)
    upper = np.maximum(_binomial_limit((1.0 + coverage) / 2.0, grid, target), target)
    return FunnelLimits(
        target=target,
        coverage=coverage,
        n=sizes,
        lower=tuple(float(x) for x in lower),
        upper=tuple(float(x) for x in upper),
    )


@dataclass(frozen=True)
class FunnelSteps:
    """Exact binomial funnel limits, a step for each number of answers (see :func:`funnel_steps`).

    Attributes
    ----------
    target : float
    coverage : float
    n : tuple of int
        Numbers of valid answers.
    lower_count, upper_count : tuple of int
        :math:`r_{lo}(n)` and :math:`r_{hi}(n)`: a unit with k satisfied is
        below the funnel when :math:`k < r_{lo}`, above it when :math:`k > r_{hi}`.
    lower, upper : tuple of float
        The same as rates, :math:`r/n`: the values to draw, as steps.
    """

    target: float
    coverage: float
    n: tuple[int, ...]
    lower_count: tuple[int, ...]
    upper_count: tuple[int, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]


def _qbinom(p: float, n: np.ndarray, target: float) -> np.ndarray:
    """R's ``qbinom(p, n, target)``: the smallest r with P(R <= r) >= p (with R's fuzz)."""
    wanted = p * _QBINOM_FUZZ
    n = np.asarray(n, dtype=np.int64)
    r = np.clip(_scipy_stats().binom.ppf(p, n, target), 0, n).astype(np.int64)
    # scipy's search and R's can differ by one where P(R <= r) is within rounding of
    # p; settle each r against the distribution function itself.
    for _ in range(64):
        down = (r > 0) & (special.bdtr(np.maximum(r - 1, 0), n, target) >= wanted)
        up = (r < n) & (special.bdtr(r, n, target) < wanted)
        if not (down.any() or up.any()):
            break
        r = r - down + up
    return r


def funnel_steps(
    target: float,
    n: int | Sequence[int],
    coverage: float = 0.95,
) -> FunnelSteps:
    """Exact binomial funnel limits, as drawn and as used to class each commune.

    Parameters
    ----------
    target : float
        Target rate in (0, 1).
    n : int or sequence of int
        Numbers of valid answers (>= 1): each commune's, or every whole number
        up to the largest to draw the funnel.
    coverage : float, optional
        0.95 or 0.998 usually. Default 0.95.

    Returns
    -------
    FunnelSteps

    Notes
    -----
    With :math:`R \\sim \\mathrm{Bin}(n, \\text{target})` and
    :math:`p = (1 - \\text{coverage})/2`:
    :math:`r_{lo} = ` ``qbinom(p, n, target)`` and :math:`r_{hi} =`
    ``qbinom(1 - p, n, target)`` (R). A commune with k of n satisfied is

    - below when :math:`k < r_{lo}`, i.e. :math:`P(R \\le k) < p`;
    - above when :math:`k > r_{hi}`, i.e. :math:`P(R \\ge k) \\le p`
      (up to R's rounding allowance);
    - inside otherwise, including a point exactly on a line.

    A unit exactly at the target falls outside with probability at most
    1 - coverage. These are Spiegelhalter's (2005) limits *before* his
    interpolation: the interpolated curve of :func:`funnel_limits` is smoother
    but lies between the steps, so points near it were coloured by one rule and
    drawn beside the other (565 of the 45 450 cases k <= n <= 300 at 90 %).
    Drawing these steps (``drawstyle="steps-mid"`` over whole n) and classing
    with :func:`funnel_class` makes the picture and the colours agree by
    construction.

    Examples
    --------
    >>> from survey.stats import funnel_steps
    >>> steps = funnel_steps(0.90, [20, 100, 500])
    >>> steps.lower_count, steps.upper_count
    ((15, 84, 436), (20, 95, 463))
    >>> [round(x, 4) for x in steps.lower]
    [0.75, 0.84, 0.872]
    """
    target = check_open_unit(target, "target")
    coverage = check_open_unit(coverage, "coverage")
    scalar = not isinstance(n, Sequence | np.ndarray) or isinstance(n, str | bytes)
    values = [n] if scalar else list(n)
    if not values:
        raise ValueError(f"n ({n!r}) must not be empty")
    sizes = tuple(check_count(v, "n", minimum=1) for v in values)
    grid = np.asarray(sizes, dtype=np.int64)
    tail = (1.0 - coverage) / 2.0
    low = _qbinom(tail, grid, target)
    high = _qbinom(1.0 - tail, grid, target)
    return FunnelSteps(
        target=target,
        coverage=coverage,
        n=sizes,
        lower_count=tuple(int(r) for r in low),
        upper_count=tuple(int(r) for r in high),
        lower=tuple(float(r) / m for r, m in zip(low, sizes, strict=True)),
        upper=tuple(float(r) / m for r, m in zip(high, sizes, strict=True)),
    )


def funnel_class(satisfied: int, n: int, target: float) -> str:
    """Where a commune lies on the funnel of :func:`funnel_steps` at 95 % and 99.8 %.

    Parameters
    ----------
    satisfied, n : int
        k of n valid answers, ``n >= 1``.
    target : float
        Target rate in (0, 1).

    Returns
    -------
    str
        One of :data:`FUNNEL_ZONES`: ``"below998"`` / ``"above998"`` outside
        the 99.8 % limits, ``"below95"`` / ``"above95"`` outside the 95 % but
        inside the 99.8 % limits, ``"inside"`` otherwise.

    Notes
    -----
    Uses the counts :math:`r_{lo}`, :math:`r_{hi}` of :func:`funnel_steps`,
    so a point is coloured exactly as it sits against the drawn steps.

    Examples
    --------
    >>> from survey.stats import funnel_class
    >>> funnel_class(40, 40, 0.90), funnel_class(30, 40, 0.90), funnel_class(22, 40, 0.90)
    ('above95', 'below95', 'below998')
    """
    k, n = check_successes(satisfied, n)
    if n == 0:
        raise ValueError(f"n ({n!r}) must be at least 1")
    target = check_open_unit(target, "target")
    for (low, high), zone in zip(_zone_counts(target, n), ("998", "95"), strict=True):
        if k < low:
            return "below" + zone
        if k > high:
            return "above" + zone
    return "inside"


@functools.lru_cache(maxsize=4096)
def _zone_counts(target: float, n: int) -> tuple[tuple[int, int], tuple[int, int]]:
    # A district page classes every commune against the same target, often with
    # the same n; the steps depend on (target, n) only.
    outer = funnel_steps(target, n, 0.998)
    inner = funnel_steps(target, n, 0.95)
    return (
        (outer.lower_count[0], outer.upper_count[0]),
        (inner.lower_count[0], inner.upper_count[0]),
    )
