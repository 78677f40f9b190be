"""Printable paper ballots: A5 pages, or two A5 ballots side by side on A4.

Every box to tick carries, in light grey, the number the officer types when
entering the ballot (``domain/ballots``), so entry is one keystroke per answer read
straight off the paper. Each ballot has its serial, large and in a fixed-width font,
and a QR code of the ballot's address, which a scanner types into the entry screen.

The part every ballot of a batch shares is laid out once and drawn once, as a Form
XObject of :mod:`survey.render.pdfdoc` that each page places; a page adds only its
serial and QR code (DejaVu fonts embedded, so Vietnamese prints correctly).

This module is pure: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from . import qr
from .pdfdoc import Content
from .pdfdoc import Document
from .text import wrap

__all__ = ["LAYOUTS", "Ballot", "BallotQuestion", "BallotSheet", "render_ballots"]

_MM = 72 / 25.4
#: Page size in points and ballot slots (x offset in points) of each layout.
LAYOUTS = {
    "a5": ((148 * _MM, 210 * _MM), (0.0,)),
    "a4x2": ((297 * _MM, 210 * _MM), (0.0, 148.5 * _MM)),
}
_BALLOT_W, _BALLOT_H = 148 * _MM, 210 * _MM
_GREY = 0.33
_LIGHT = 0.69
_SANS, _BOLD, _MONO = "sans", "sans-bold", "mono-bold"


@dataclass(frozen=True)
class BallotQuestion:
    """One question as printed: its number, its text, and its boxes (printed key, label).

    ``grid`` questions (the satisfaction scale) are drawn as rows of a table whose
    column headings are the scale's labels; the others list their boxes with labels.
    """

    number: int
    text: str
    boxes: tuple[tuple[str, str], ...]
    grid: bool = False


@dataclass(frozen=True)
class BallotSheet:
    """What every ballot of a batch says, already in Vietnamese."""

    title: str
    unit_name: str
    desk_name: str
    intro: str
    instruction: str
    serial_label: str
    scale_prompt: str
    questions: tuple[BallotQuestion, ...]
    comment_label: str
    footer: str


@dataclass(frozen=True)
class Ballot:
    """One ballot: its serial and the address its QR code encodes."""

    serial: str
    url: str


class _Static:
    """Draws the shared part of a ballot into a Form XObject (or only measures it)."""

    def __init__(self, doc: Document, content: Content | None) -> None:
        self.doc, self.content = doc, content
        self.serial_at: tuple[float, float, float] = (0.0, 0.0, 0.0)
        self.qr_at: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def width(self, text: str, size: float, font: str = _SANS) -> float:
        return self.doc.fonts[font].width(text, size)

    def wrap(self, text: str, size: float, width: float, font: str = _SANS) -> list[str]:
        return wrap(text, lambda s: self.width(s, size, font), width)

    def text(self, x, y, s, size, font=_SANS, gray=0.0, align="left"):
        if self.content is not None:
            self.content.text(x, y, s, font, size, gray=gray, align=align)

    def box(self, x, y, side, key, key_size):
        if self.content is not None:
            self.content.rect(x, y, side, side, width=0.7)
            self.content.text(
                x + side / 2, y + side * 0.25, key, _SANS, key_size, gray=_LIGHT, align="center"
            )

    def rect(self, x, y, width, height):
        if self.content is not None:
            self.content.rect(x, y, width, height, gray=_GREY)

    def rule(self, x, y, width):
        if self.content is not None:
            self.content.line(x, y, x + width, y, gray=_LIGHT, width=0.4)


def _layout(sheet: BallotSheet, k: float, c: _Static, serial: str) -> float:
    """Draw the shared part of a ballot at scale ``k`` (or only measure it); note where
    the serial (as long as ``serial``) and the QR code go.

    Returns the lowest y used, in points from the bottom of the ballot.
    """
    margin = 26.0
    inner = _BALLOT_W - 2 * margin
    left = margin
    y = _BALLOT_H - margin

    # Header: title, unit and desk on the left; the QR code and serial on the right.
    qr_side = 62.0
    head_w = inner - qr_side - 8
    size = 11.5 * k
    for line in c.wrap(sheet.title.upper(), size, head_w, _BOLD):
        y -= size * 1.15
        c.text(left, y, line, size, _BOLD)
    size = 9.5 * k
    for line in c.wrap(sheet.unit_name, size, head_w, _BOLD):
        y -= size * 1.3
        c.text(left, y, line, size, _BOLD)
    size = 8.5 * k
    for line in c.wrap(sheet.desk_name, size, head_w):
        y -= size * 1.25
        c.text(left, y, line, size, gray=_GREY)
    y -= 13 * k
    c.text(left, y, f"{sheet.serial_label}:", 8.5 * k, gray=_GREY)
    label_w = c.width(f"{sheet.serial_label}: ", 8.5 * k)
    serial_size = 12.5 * k
    while c.width(serial, serial_size, _MONO) > head_w - label_w and serial_size > 7:
        serial_size *= 0.95
    top_of_qr = _BALLOT_H - margin + 4
    c.serial_at = (left + label_w, y, serial_size)
    c.qr_at = (_BALLOT_W - margin - qr_side + 4, top_of_qr - qr_side, qr_side)
    y = min(y - 6 * k, top_of_qr - qr_side - 2)

    # Intro and how to answer.
    size = 7.6 * k
    for line in c.wrap(sheet.intro, size, inner):
        y -= size * 1.3
        c.text(left, y, line, size)
    for line in c.wrap(sheet.instruction, size, inner, _BOLD):
        y -= size * 1.35
        c.text(left, y, line, size, _BOLD)
    y -= 4 * k

    text_size = 7.8 * k
    label_size = 7.4 * k
    box = 10.0 * k
    key_size = 6.2 * k
    grid_done = False
    questions = sheet.questions
    for index, q in enumerate(questions):
        if q.grid:
            if not grid_done:
                grid = [g for g in questions[index:] if g.grid]
                y = _grid(grid, sheet.scale_prompt, k, y, left, inner, c)
                grid_done = True
            continue
        y -= 5 * k
        for i, line in enumerate(c.wrap(f"{q.number}. {q.text}", text_size, inner, _BOLD)):
            y -= text_size * 1.3
            c.text(left + (0 if i == 0 else 8 * k), y, line, text_size, _BOLD)
        # Boxes flow left to right, wrapping like words.
        x = left + 8 * k
        y -= box + 3 * k
        for key, label in q.boxes:
            width = box + 3 * k + c.width(label, label_size) + 10 * k
            if x + width > left + inner + 4 and x > left + 8 * k:
                x = left + 8 * k
                y -= box + 4 * k
            c.box(x, y, box, key, key_size)
            c.text(x + box + 3 * k, y + box * 0.2, label, label_size)
            x += width

    # The comment box.
    y -= 8 * k
    size = 7.8 * k
    for line in c.wrap(sheet.comment_label, size, inner, _BOLD):
        y -= size * 1.3
        c.text(left, y, line, size, _BOLD)
    height = 70 * k
    y -= height + 3 * k
    c.rect(left, y, inner, height)
    # The footer, at the bottom of the ballot (or under the box when space runs out).
    size = 6.8 * k
    lines = c.wrap(sheet.footer, size, inner)
    foot_y = margin - 6 + size * 1.25 * (len(lines) - 1)
    foot_y = min(foot_y, y - size * 1.6)
    for line in lines:
        c.text(left, foot_y, line, size, gray=_GREY)
        foot_y -= size * 1.25
    return foot_y + size * 1.25 - size * 0.3


def _grid(questions, prompt, k, y, left, inner, c: _Static) -> float:
    """The satisfaction questions as a table: one row each, a box per scale point."""
    heading = questions[0].boxes
    col = 31.0 * k
    cols_w = col * len(heading)
    text_w = inner - cols_w - 4
    text_size = 7.6 * k
    head_size = 5.6 * k
    box = 10.0 * k
    y -= 6 * k
    size = 7.8 * k
    for line in c.wrap(prompt, size, inner, _BOLD):
        y -= size * 1.3
        c.text(left, y, line, size, _BOLD)
    # Column headings: the scale's labels, wrapped in their narrow columns, bottom aligned.
    wrapped = [c.wrap(label, head_size, col - 2) for _, label in heading]
    rows = max(len(w) for w in wrapped)
    y -= 2 * k
    for n, lines in enumerate(wrapped):
        cx = left + text_w + 4 + n * col + col / 2
        for r, line in enumerate(lines):
            below = head_size * 1.15 * (rows - len(lines) + r + 1)
            c.text(cx, y - below, line, head_size, align="center")
    y -= head_size * 1.15 * rows + 2 * k
    for q in questions:
        lines = c.wrap(f"{q.number}. {q.text}", text_size, text_w)
        height = max(box + 4 * k, text_size * 1.25 * len(lines) + 3 * k)
        top = y
        c.rule(left, top, inner)
        for i, line in enumerate(lines):
            indent = 0 if i == 0 else 8 * k
            c.text(left + indent, top - text_size * (1.1 + 1.25 * i), line, text_size)
        box_y = top - height / 2 - box / 2
        for n, (key, _label) in enumerate(q.boxes):
            cx = left + text_w + 4 + n * col + col / 2
            c.box(cx - box / 2, box_y, box, key, 6.2 * k)
        y = top - height
    return y


def _fitting_scale(doc: Document, sheet: BallotSheet, serial: str) -> float:
    """The largest scale (≤ 1) at which the ballot fits its page; never cut."""
    k = 1.0
    while k > 0.6 and _layout(sheet, k, _Static(doc, None), serial) < 12:
        k *= 0.95
    return k


def _qr_rects(url: str, x0: float, y0: float, side: float) -> list[tuple]:
    """The QR code's dark modules as rectangles (horizontal runs merged), quiet zone included."""
    modules = qr.matrix(url)
    cell = side / len(modules)
    rects = []
    for row, line in enumerate(modules):
        top = y0 + side - row * cell
        col = 0
        while col < len(line):
            if not line[col]:
                col += 1
                continue
            start = col
            while col < len(line) and line[col]:
                col += 1
            rects.append((x0 + start * cell, top - cell, (col - start) * cell, cell))
    return rects


def render_ballots(sheet: BallotSheet, ballots: Sequence[Ballot], layout: str = "a4x2") -> bytes:
    """One PDF of the ballots, in serial order: A5 pages, or two per A4 page.

    :param layout: ``"a4x2"`` (two A5 ballots on A4 landscape, cut along the dashed
        line) or ``"a5"``.
    :raise ValueError: an unknown layout or no ballot.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout ({layout!r}) must be one of {', '.join(LAYOUTS)}")
    if not ballots:
        raise ValueError("no ballot to render")
    (page_w, page_h), slots = LAYOUTS[layout]
    doc = Document(page_w, page_h, title=f"{sheet.title} – {sheet.unit_name}")
    longest = max((b.serial for b in ballots), key=len)
    static = _Static(doc, doc.form("B", _BALLOT_W, _BALLOT_H))
    _layout(sheet, _fitting_scale(doc, sheet, longest), static, longest)
    sx, sy, serial_size = static.serial_at
    qx, qy, qside = static.qr_at
    for start in range(0, len(ballots), len(slots)):
        page = doc.page()
        for slot, ballot in zip(slots, ballots[start : start + len(slots)], strict=False):
            page.place("B", slot, 0)
            page.text(slot + sx, sy, ballot.serial, _MONO, serial_size)
            page.filled_rects(_qr_rects(ballot.url, slot + qx, qy, qside))
        if len(slots) == 2:
            # The cutting line between the two ballots.
            page.line(page_w / 2, 8, page_w / 2, page_h - 8, gray=_LIGHT, dash=(4, 3))
    return doc.render()
