"""Characters that change how text looks without being seen.

Direction controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C) can
make a comment read backwards or hide part of it in the inbox and the PDF;
zero-width characters (U+200B, U+200C, U+2060, U+FEFF) make two texts that
look the same differ. Citizens' text never needs them. The zero-width joiner
(U+200D) is kept: emoji sequences need it.
"""

from __future__ import annotations

import re

INVISIBLE = re.compile("[\u061c\u200b\u200c\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")


def strip_invisible(text: str) -> str:
    """``text`` without direction controls and zero-width characters.

    >>> strip_invisible("ab\u202ecd\u200b")
    'abcd'
    """
    return INVISIBLE.sub("", text)
