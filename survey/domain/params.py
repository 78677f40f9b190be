"""Whole numbers from request text (query strings, form fields, cookies), safely.

``str.isdigit`` also accepts digits such as "²" that ``int`` refuses, and a
number of thirty digits overflows the database's integers: both used to end
in a 500. Every such parse goes through :func:`bounded_int`.
"""

from __future__ import annotations

#: The largest value a database integer column (BIGINT) holds.
DB_INT_MAX = 2**63 - 1
#: The largest value a plain INTEGER column holds (PostgreSQL's is 32-bit).
DB_INT32_MAX = 2**31 - 1


def bounded_int(text: str | None, low: int, high: int) -> int | None:
    """``text`` as a whole number within ``[low, high]``, or None for anything else.

    >>> bounded_int("12", 1, 40), bounded_int("²", 1, 40), bounded_int("9" * 30, 1, 40)
    (12, None, None)
    """
    if not text or not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if low <= value <= high else None
