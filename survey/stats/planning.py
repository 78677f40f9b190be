"""How many responses to collect: for a margin of error, or to show a target is met."""

import math

from scipy import special

from ._validation import check_confidence
from ._validation import check_count
from ._validation import check_open_unit

__all__ = ["sample_size", "sample_size_to_show"]

# Sizes are rounded up after removing this much floating-point noise, so that an
# exact integer such as 100.00000000000001 stays 100 (R fixtures use the same rule).
_ROUNDING_SLACK = 1e-9


def _round_up(value: float) -> int:
    return max(1, math.ceil(value - _ROUNDING_SLACK))


def sample_size(
    expected_rate: float,
    margin: float,
    confidence: float = 0.95,
    population: int | None = None,
) -> int:
    """Responses needed to estimate a rate within ``± margin`` (Cochran).

    Parameters
    ----------
    expected_rate : float
        Anticipated rate p in (0, 1); use 0.5 when unknown (the largest size).
    margin : float
        Half-width e of the interval in (0, 1), e.g. 0.05 for ± 5 points.
    confidence : float, optional
        Two-sided confidence level. Default 0.95.
    population : int, optional
        N, e.g. dossiers expected in the period, for the finite-population
        correction. None (default) for an unlimited population.

    Returns
    -------
    int
        n, rounded up, at least 1 and at most ``population``.

    Raises
    ------
    ValueError
        If a rate, margin or confidence is outside (0, 1) or ``population`` is
        not a positive whole number.

    Notes
    -----
    Cochran (1977), equations (4.1) and (4.2), with :math:`z = \\Phi^{-1}(1-\\alpha/2)`:

    .. math:: n_0 = \\frac{z^2 p(1-p)}{e^2}, \\qquad n = \\frac{n_0}{1 + (n_0 - 1)/N}

    This is the normal (Wald) approximation, so it is a planning figure, not a
    guarantee: the Wilson interval actually reported is close to it for
    moderate n.

    References
    ----------
    .. [1] W. G. Cochran, Sampling Techniques, 3rd ed., Wiley, 1977, section 4.4.

    Examples
    --------
    >>> from survey.stats import sample_size
    >>> sample_size(0.5, 0.05)
    385
    >>> sample_size(0.5, 0.05, population=1000)
    278
    >>> sample_size(0.9, 0.05, population=300)
    95
    """
    p = check_open_unit(expected_rate, "expected_rate")
    e = check_open_unit(margin, "margin")
    confidence = check_confidence(confidence)
    if population is not None:
        population = check_count(population, "population", minimum=1)
    z = special.ndtri((1.0 + confidence) / 2.0)
    n0 = z**2 * p * (1.0 - p) / e**2
    n = n0 if population is None else n0 / (1.0 + (n0 - 1.0) / population)
    size = _round_up(n)
    return size if population is None else min(size, population)


def sample_size_to_show(
    target: float,
    expected_rate: float,
    confidence: float = 0.95,
    power: float = 0.8,
) -> int:
    """Responses needed to show that a rate beats (or misses) a target.

    Parameters
    ----------
    target : float
        p0, the target rate in (0, 1), e.g. 0.90.
    expected_rate : float
        p1, the rate the unit is believed to have, in (0, 1), not equal to the
        target. Above the target: size to show "met"; below: to show "not met".
    confidence : float, optional
        1 - alpha of the **one-sided** test. Default 0.95.
    power : float, optional
        Probability of reaching the conclusion when the rate really is p1.
        Default 0.8.

    Returns
    -------
    int
        n, rounded up.

    Raises
    ------
    ValueError
        If an argument is outside (0, 1) or ``expected_rate == target``.

    Notes
    -----
    One-sample one-sided test of H0: p = p0 against p = p1 with the normal
    approximation (e.g. Chow, Shao & Wang 2008, section 4.1; Fleiss, Levin &
    Paik 2003, section 2.5):

    .. math::

        n = \\left(\\frac{z_{1-\\alpha}\\sqrt{p_0(1-p_0)} + z_{\\text{power}}
        \\sqrt{p_1(1-p_1)}}{p_1 - p_0}\\right)^2

    rounded up. It is a planning figure: the verdict itself uses the interval
    of :func:`survey.stats.compare_to_target`, which is two-sided at 95 % by
    default, so pass ``confidence=0.975`` to plan for that verdict.

    References
    ----------
    .. [1] S.-C. Chow, J. Shao and H. Wang, Sample Size Calculations in Clinical
       Research, 2nd ed., Chapman & Hall/CRC, 2008, section 4.1.
    .. [2] J. L. Fleiss, B. Levin and M. C. Paik, Statistical Methods for Rates
       and Proportions, 3rd ed., Wiley, 2003.

    Examples
    --------
    To show a 90 % target is met by a unit whose true rate is 95 %:

    >>> from survey.stats import sample_size_to_show
    >>> sample_size_to_show(0.90, 0.95)
    184
    >>> sample_size_to_show(0.90, 0.95, confidence=0.975)
    239
    """
    p0 = check_open_unit(target, "target")
    p1 = check_open_unit(expected_rate, "expected_rate")
    confidence = check_confidence(confidence)
    power = check_open_unit(power, "power")
    if p1 == p0:
        raise ValueError(f"expected_rate ({expected_rate!r}) must differ from target ({target!r})")
    z_alpha = special.ndtri(confidence)
    z_beta = special.ndtri(power)
    root = z_alpha * math.sqrt(p0 * (1.0 - p0)) + z_beta * math.sqrt(p1 * (1.0 - p1))
    return _round_up((root / (p1 - p0)) ** 2)
