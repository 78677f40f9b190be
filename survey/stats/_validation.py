"""Argument checks shared by the statistics modules.

Every check runs before any arithmetic and raises :class:`ValueError` whose
message quotes the bad value, in the style of ``scipy.stats.binomtest``. A
wrong type (a string, ``True``, ``2.5`` responses) is also a ``ValueError`` so
callers have one exception to catch.
"""

import math
import numbers
from collections.abc import Collection
from typing import Any


def _is_integer(value: Any) -> bool:
    # bool is an int subclass, but True responses are a bug, not a count.
    if isinstance(value, bool):
        return False
    if isinstance(value, numbers.Integral):
        return True
    return isinstance(value, float) and math.isfinite(value) and value.is_integer()


def check_count(value: Any, name: str, *, minimum: int = 0) -> int:
    """Return ``value`` as an int, or raise if it is not a whole number >= minimum."""
    if not _is_integer(value):
        raise ValueError(f"{name} ({value!r}) must be an integer")
    count = int(value)
    if count < minimum:
        raise ValueError(f"{name} ({value!r}) must be an integer >= {minimum}")
    return count


def check_successes(successes: Any, n: Any) -> tuple[int, int]:
    """Validate a count of successes out of ``n`` trials."""
    n = check_count(n, "n")
    successes = check_count(successes, "successes")
    if successes > n:
        raise ValueError(f"successes ({successes!r}) must not exceed n ({n!r})")
    return successes, n


def check_real(value: Any, name: str) -> float:
    """Return ``value`` as a finite float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} ({value!r}) must be a real number")
    result = float(value)
    if not math.isfinite(result):
        raise ValueError(f"{name} ({value!r}) must be finite")
    return result


def check_open_unit(value: Any, name: str) -> float:
    """Return ``value`` as a float strictly between 0 and 1."""
    result = check_real(value, name)
    if not 0.0 < result < 1.0:
        raise ValueError(f"{name} ({value!r}) must be strictly between 0 and 1")
    return result


def check_confidence(confidence: Any) -> float:
    """Validate a confidence level such as 0.95."""
    return check_open_unit(confidence, "confidence")


def check_choice(value: Any, name: str, choices: Collection[str]) -> str:
    """Return ``value`` if it is exactly one of ``choices`` (no prefix matching)."""
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(choice) for choice in choices)
        raise ValueError(f"{name} ({value!r}) must be one of {listed}")
    return value
