"""Monthly trend (p-chart) and comparison of units (funnel plot) limits."""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ._validation import check_count
from ._validation import check_open_unit
from ._validation import check_real
from ._validation import check_successes

__all__ = ["FunnelLimits", "PChartLimits", "funnel_limits", "p_chart_limits"]


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
    r = stats.binom.ppf(p, n, target)
    cdf_r = stats.binom.cdf(r, n, target)
    cdf_before = stats.binom.cdf(r - 1, n, target)
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
