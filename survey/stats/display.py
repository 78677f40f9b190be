"""How many decimals to print so that a printed figure never contradicts the verdict.

With 35 of 35 satisfied the exact interval's lower bound is 0.899972: the
verdict against 90 % is "not yet known", yet "90,0 %" printed beside it reads
as "met". The rule here: **every printed figure lies on the same side of the
target as the figure itself**, and nothing short of 100 % (or above 0 %) is
printed as 100 % (0 %). The fewest decimals that achieve it are chosen (1,
then 2, ...); past ``max_digits`` the figure is written as "< 90,0 %" or
"> 99,9 %" instead.

The functions return numbers and decimals, not text: the web layer formats
them in the reader's language, e.g. ``percent(shown.value, shown.digits)``
with a ``shown.prefix`` in front.
"""

from dataclasses import dataclass
from decimal import ROUND_CEILING
from decimal import ROUND_FLOOR
from decimal import ROUND_HALF_UP
from decimal import Decimal

from ._validation import check_count
from ._validation import check_real

__all__ = ["ShownInterval", "ShownValue", "display_interval", "display_rate"]

_HUNDRED = Decimal(100)


@dataclass(frozen=True)
class ShownValue:
    """One figure as printed (see :func:`display_rate`).

    Attributes
    ----------
    value : float
        The printed rate as a fraction, already rounded to ``digits``
        decimals of a percentage (0.89997 for "89,997 %").
    digits : int
        Decimals of the percentage.
    prefix : str
        ``""``, ``"<"`` or ``">"``: print it before the number ("< 90,0 %").
    """

    value: float
    digits: int
    prefix: str = ""

    @property
    def percent(self) -> Decimal:
        """The printed percentage as an exact decimal, e.g. ``Decimal('89.997')``."""
        return _percent(self.value, self.digits, ROUND_HALF_UP)


@dataclass(frozen=True)
class ShownInterval:
    """An interval (and optionally its rate) as printed (see :func:`display_interval`).

    Attributes
    ----------
    low, high : ShownValue
        The bounds.
    rate : ShownValue or None
        The point estimate, when given.
    status : {"met", "not_met", "inconclusive"}
        The verdict the figures were checked against (lower bound >= target,
        upper bound < target, otherwise).
    digits : int
        The largest ``digits`` of the figures, for a table column that prints
        them all alike (printing with more decimals never breaks the rule).
    """

    low: ShownValue
    high: ShownValue
    rate: ShownValue | None
    status: str
    digits: int


def _percent(value: float, digits: int, rounding: str) -> Decimal:
    # Decimal(float) is the float's exact binary value: no second rounding.
    return (Decimal(value) * _HUNDRED).quantize(Decimal(1).scaleb(-digits), rounding=rounding)


def _target_percent(target: float) -> Decimal:
    # Targets are written by people as 0.9 or 0.875: compare with that decimal,
    # not with the binary 0.90000000000000002220.
    return Decimal(repr(target)) * _HUNDRED


def _honest(value: float, shown: Decimal, target: float | None) -> bool:
    if target is not None:
        if (value >= target) != (shown >= _target_percent(target)):
            return False
    if value < 1.0 and shown >= _HUNDRED:
        return False
    return not (value > 0.0 and shown <= 0)


def _decimals(target: float | None) -> int:
    """Decimals of a percentage needed to print the target itself (90 %: 0; 87.5 %: 1)."""
    if target is None:
        return 0
    return max(0, -_target_percent(target).normalize().as_tuple().exponent)


def _shown(value: float, target: float | None, min_digits: int, max_digits: int) -> ShownValue:
    # Printed with at least the target's own decimals, a figure at or above the
    # target never rounds below it; so only figures just below the target or
    # just inside 0 % and 100 % can exhaust the decimals.
    floor_digits = max(min_digits, _decimals(target))
    for digits in range(min_digits, max(max_digits, floor_digits) + 1):
        shown = _percent(value, digits, ROUND_HALF_UP)
        if _honest(value, shown, target):
            return ShownValue(float(shown / _HUNDRED), digits)
    # No decimals up to max_digits tell the truth: say on which side the value is,
    # with the fewest decimals. Each statement is strictly true of the value and
    # on the value's side of the target.
    digits = floor_digits
    shown = _percent(value, digits, ROUND_HALF_UP)
    if target is not None and value < target and shown >= _target_percent(target):
        return ShownValue(float(_target_percent(target) / _HUNDRED), digits, "<")
    if value < 1.0 and shown >= _HUNDRED:
        return ShownValue(float(_percent(value, digits, ROUND_FLOOR) / _HUNDRED), digits, ">")
    return ShownValue(float(_percent(value, digits, ROUND_CEILING) / _HUNDRED), digits, "<")


def _check_digits(min_digits, max_digits) -> tuple[int, int]:
    min_digits = check_count(min_digits, "min_digits")
    max_digits = check_count(max_digits, "max_digits")
    if max_digits < min_digits:
        raise ValueError(f"max_digits ({max_digits!r}) must be >= min_digits ({min_digits!r})")
    return min_digits, max_digits


def _check_fraction(value, name: str) -> float:
    result = check_real(value, name)
    if not 0.0 <= result <= 1.0:
        raise ValueError(f"{name} ({value!r}) must be in [0, 1]")
    return result


def _check_target(target) -> float | None:
    if target is None:
        return None
    result = check_real(target, "target")
    if not 0.0 < result <= 1.0:
        raise ValueError(f"target ({target!r}) must be in (0, 1]")
    return result


def display_rate(
    rate: float,
    target: float | None = None,
    min_digits: int = 1,
    max_digits: int = 3,
) -> ShownValue:
    """A rate rounded with the fewest decimals that keep it on its side of the target.

    Parameters
    ----------
    rate : float
        The rate in [0, 1].
    target : float or None, optional
        Target in (0, 1]; None checks only the 0 % / 100 % rule.
    min_digits, max_digits : int, optional
        Decimals of the percentage to try, in order. Default 1 to 3.

    Returns
    -------
    ShownValue
        With the fewest ``digits`` in ``min_digits..max_digits`` such that the
        printed percentage is at least the target exactly when the rate is,
        and is 100 % (0 %) only when the rate is exactly 1 (0). A target with
        more decimals than ``max_digits`` (87.25 %) raises the limit to its
        own. When no number of decimals does, ``digits = min_digits`` and a
        ``prefix``: "<" with the target ("< 90,0 %"), ">" with the rate rounded
        down ("> 99,9 %") or "<" with the rate rounded up ("< 0,1 %").

    Notes
    -----
    A rate on one response is 0 % or 100 % and printed as such; do not print
    it large: show "1/1" (the counts) until there are enough answers.

    Examples
    --------
    >>> from survey.stats import display_rate
    >>> display_rate(0.912, 0.90)
    ShownValue(value=0.912, digits=1, prefix='')
    >>> display_rate(0.89996, 0.90)  # 90,0 % would read as "target reached"
    ShownValue(value=0.89996, digits=3, prefix='')
    >>> display_rate(0.8999996, 0.90)  # 90,000 % still would: "< 90,0 %"
    ShownValue(value=0.9, digits=1, prefix='<')
    >>> display_rate(0.8996, 0.90)
    ShownValue(value=0.8996, digits=2, prefix='')
    >>> display_rate(0.9997)  # not 100 %
    ShownValue(value=0.9997, digits=2, prefix='')
    """
    rate = _check_fraction(rate, "rate")
    target = _check_target(target)
    min_digits, max_digits = _check_digits(min_digits, max_digits)
    return _shown(rate, target, min_digits, max_digits)


def display_interval(
    low: float,
    high: float,
    target: float,
    rate: float | None = None,
    min_digits: int = 1,
    max_digits: int = 3,
) -> ShownInterval:
    """An interval (and its rate) rounded so that the printed bounds agree with the verdict.

    Parameters
    ----------
    low, high : float
        The interval, ``0 <= low <= high <= 1``.
    target : float
        Target in (0, 1].
    rate : float or None, optional
        The point estimate, to print alongside.
    min_digits, max_digits : int, optional
        Decimals of the percentage to try. Default 1 to 3.

    Returns
    -------
    ShownInterval
        Each figure as in :func:`display_rate`. Because each lies on its own
        side of the target, the printed interval gives the same verdict as the
        exact one: printed low >= target when "met", printed high < target
        when "not met", printed low < target <= printed high otherwise.

    Examples
    --------
    35 of 35 satisfied, exact interval 89.9972 %-100 %, target 90 %:

    >>> from survey.stats import display_interval
    >>> shown = display_interval(0.8999720, 1.0, 0.90, rate=1.0)
    >>> shown.status, shown.low, shown.high.digits
    ('inconclusive', ShownValue(value=0.89997, digits=3, prefix=''), 1)
    """
    low = _check_fraction(low, "low")
    high = _check_fraction(high, "high")
    if low > high:
        raise ValueError(f"low ({low!r}) must not exceed high ({high!r})")
    target_value = _check_target(target)
    if target_value is None:
        raise ValueError("target (None) must be a number in (0, 1]")
    min_digits, max_digits = _check_digits(min_digits, max_digits)
    if rate is not None:
        rate = _check_fraction(rate, "rate")
    status = "met" if low >= target_value else "not_met" if high < target_value else "inconclusive"
    shown_low = _shown(low, target_value, min_digits, max_digits)
    shown_high = _shown(high, target_value, min_digits, max_digits)
    shown_rate = None if rate is None else _shown(rate, target_value, min_digits, max_digits)
    figures = [shown_low, shown_high] + ([shown_rate] if shown_rate else [])
    return ShownInterval(
        low=shown_low,
        high=shown_high,
        rate=shown_rate,
        status=status,
        digits=max(f.digits for f in figures),
    )
