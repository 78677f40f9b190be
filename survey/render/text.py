"""Word wrapping on measured widths, shared by the report and the posters."""

from __future__ import annotations

from collections.abc import Callable

from ..domain.text import strip_invisible


def wrap(text: str, measure: Callable[[str], float], width: float) -> list[str]:
    """Lines no wider than ``width`` (as ``measure`` counts); paragraphs kept, runs
    of blank lines merged.

    Greedy word wrap on the sum of word and space widths; a word longer than a
    line is split by character. Nothing is dropped: joining the words of the
    lines gives the text back.

    >>> wrap("một hai ba bốn", len, 7)
    ['một hai', 'ba bốn']
    >>> wrap("abcdefghij", len, 4)
    ['abcd', 'efgh', 'ij']
    """
    text = strip_invisible(text)
    space = measure(" ")
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        words = paragraph.split()
        if not words:
            if lines and lines[-1] != "":
                lines.append("")
            continue
        line, used = "", 0.0
        for word in words:
            size = measure(word)
            if line and used + space + size <= width:
                line, used = f"{line} {word}", used + space + size
                continue
            if line:
                lines.append(line)
            line, used = word, size
            while used > width and len(line) > 1:
                # Split an over-long word (a URL, a run of dots) by character.
                cut = len(line) - 1
                while cut > 1 and measure(line[:cut]) > width:
                    cut = max(1, int(cut * 0.9)) if cut > 20 else cut - 1
                lines.append(line[:cut])
                line = line[cut:]
                used = measure(line)
        lines.append(line)
    while lines and lines[-1] == "":
        lines.pop()
    return lines or [""]
