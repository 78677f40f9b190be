"""The difference between two satisfaction rates (two channels, two periods).

People rate differently on a tablet in front of the officer than on their own
phone, so the dashboard sets the channels' rates side by side. Whether two rates
really differ, or only by chance, is read from the interval of their
difference: when it does not contain 0 the difference is real at that level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .proportions import proportion_ci


@dataclass(frozen=True)
class RateDifference:
    """``p1 − p2`` with its interval (fractions, e.g. 0.08 for 8 points)."""

    difference: float
    low: float
    high: float

    @property
    def real(self) -> bool:
        """Whether the interval excludes 0: a difference beyond chance at this level."""
        return self.low > 0 or self.high < 0


def rate_difference(
    successes1: int, n1: int, successes2: int, n2: int, confidence: float = 0.95
) -> RateDifference:
    """Newcombe's hybrid score interval for the difference of two independent rates.

    Newcombe (1998), method 10: with the Wilson intervals (l₁, u₁) and (l₂, u₂) of
    p̂₁ and p̂₂ and d = p̂₁ − p̂₂,

        low  = d − √((p̂₁ − l₁)² + (u₂ − p̂₂)²)
        high = d + √((u₁ − p̂₁)² + (p̂₂ − l₂)²)

    It keeps close to its nominal coverage for small samples and rates near 0 or
    1 (where the Wald interval fails), never leaves [−1, 1], and is what
    statsmodels' ``confint_proportions_2indep(method="newcomb")`` computes; the
    tests compare with it.

    >>> d = rate_difference(45, 50, 30, 40)
    >>> round(d.difference, 3), round(d.low, 3), round(d.high, 3), d.real
    (0.15, -0.007, 0.312, False)

    :raise ValueError: as :func:`proportion_ci` for either rate.
    """
    first = proportion_ci(successes1, n1, confidence, "wilson")
    second = proportion_ci(successes2, n2, confidence, "wilson")
    p1, p2 = first.rate, second.rate
    difference = p1 - p2
    low = difference - math.sqrt((p1 - first.low) ** 2 + (second.high - p2) ** 2)
    high = difference + math.sqrt((first.high - p1) ** 2 + (p2 - second.low) ** 2)
    return RateDifference(difference, low, high)
