"""The Content-Disposition of a download, whatever letters its name holds."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def ascii_name(filename: str) -> str:
    """``filename`` in ASCII letters, digits, '.', '_' and '-' (Vietnamese letters
    lose their marks: "Lai Cách" → "Lai_Cach")."""
    text = filename.replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _UNSAFE.sub("_", text).strip("_") or "download"


def content_disposition(kind: str, filename: str) -> str:
    """``inline`` or ``attachment`` with an ASCII ``filename`` every client reads, and the
    exact name as RFC 5987 ``filename*`` when it differs.

    A header value must be Latin-1: a desk or unit code holding a Vietnamese
    letter put into it as it was made every download of that unit a 500.
    """
    plain = ascii_name(filename)
    header = f'{kind}; filename="{plain}"'
    if plain != filename:
        header += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return header
