"""Printable paper ballots: A5 pages, or two A5 ballots side by side on A4.

Drawn with matplotlib like :mod:`survey.render.posters` (DejaVu Sans embedded,
so Vietnamese prints correctly; the QR code as one vector path). Every box to
tick carries, in light grey, the number the officer types when entering the
ballot (``domain/ballots``), so entry is one keystroke per answer read straight
off the paper. Each ballot has its serial, large and in a fixed-width font, and
a QR code of the ballot's address, which a scanner types into the entry screen.

This module is pure: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import PathPatch
from matplotlib.patches import Rectangle
from matplotlib.transforms import Affine2D

from . import qr
from .charts import chart_style
from .posters import _font
from .posters import _qr_path
from .posters import _width
from .posters import _wrap

__all__ = ["LAYOUTS", "Ballot", "BallotQuestion", "BallotSheet", "render_ballots"]

_MM = 72 / 25.4
#: Page size in points and ballot slots (x offset in points) of each layout.
LAYOUTS = {
    "a5": ((148 * _MM, 210 * _MM), (0.0,)),
    "a4x2": ((297 * _MM, 210 * _MM), (0.0, 148.5 * _MM)),
}
_BALLOT_W, _BALLOT_H = 148 * _MM, 210 * _MM
_GREY = "#555555"
_LIGHT = "#b0b0b0"
_MONO = "DejaVu Sans Mono"


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


class _Canvas:
    """Draws in points inside one ballot's slot of a figure (origin bottom left)."""

    def __init__(self, fig: Figure, page_w: float, page_h: float, x0: float) -> None:
        self.fig, self.w, self.h, self.x0 = fig, page_w, page_h, x0

    def text(self, x, y, s, size, weight="normal", color="black", ha="left", family=None):
        self.fig.text(
            (self.x0 + x) / self.w,
            y / self.h,
            s,
            fontproperties=_font(size, weight, family or "DejaVu Sans"),
            color=color,
            ha=ha,
            va="baseline",
        )

    def box(self, x, y, side, key, key_size):
        self.fig.add_artist(
            Rectangle(
                ((self.x0 + x) / self.w, y / self.h),
                side / self.w,
                side / self.h,
                transform=self.fig.transFigure,
                fill=False,
                edgecolor="black",
                lw=0.7,
            )
        )
        self.text(x + side / 2, y + side * 0.25, key, key_size, color=_LIGHT, ha="center")

    def rect(self, x, y, width, height, lw=0.6):
        self.fig.add_artist(
            Rectangle(
                ((self.x0 + x) / self.w, y / self.h),
                width / self.w,
                height / self.h,
                transform=self.fig.transFigure,
                fill=False,
                edgecolor=_GREY,
                lw=lw,
            )
        )

    def rule(self, x, y, width):
        self.fig.add_artist(
            Line2D(
                [(self.x0 + x) / self.w, (self.x0 + x + width) / self.w],
                [y / self.h, y / self.h],
                transform=self.fig.transFigure,
                color=_LIGHT,
                lw=0.4,
            )
        )

    def qr(self, x, y, side, url):
        self.fig.add_artist(
            PathPatch(
                _qr_path(qr.matrix(url)),
                transform=Affine2D()
                .scale(side / self.w, side / self.h)
                .translate((self.x0 + x) / self.w, y / self.h)
                + self.fig.transFigure,
                facecolor="black",
                edgecolor="none",
                lw=0,
            )
        )


class _Recorder:
    """Records the drawing of a ballot once, to replay it for every ballot of a batch:
    the words are measured and wrapped once, not once per ballot."""

    def __init__(self) -> None:
        self.ops: list[tuple] = []

    def __getattr__(self, name):
        return lambda *args: self.ops.append((name, args))


def _replay(ops: list[tuple], canvas: _Canvas, ballot: Ballot) -> None:
    for name, args in ops:
        if name == "serial":
            x, y, size = args
            canvas.text(x, y, ballot.serial, size, "bold", "black", "left", _MONO)
        elif name == "qr":
            canvas.qr(*args, ballot.url)
        else:
            getattr(canvas, name)(*args)


def _layout(sheet: BallotSheet, k: float, canvas: _Recorder | None, serial: str) -> float:
    """Draw one ballot at scale ``k`` (or only measure it, without a canvas); the
    serial (as long as ``serial``) and the QR code are left as ``serial`` and ``qr`` ops.

    Returns the lowest y used, in points from the bottom of the ballot.
    """
    margin = 26.0
    inner = _BALLOT_W - 2 * margin
    left = margin
    y = _BALLOT_H - margin

    def put(x, yy, s, size, weight="normal", color="black", ha="left", family=None):
        if canvas is not None:
            canvas.text(x, yy, s, size, weight, color, ha, family)

    # Header: title, unit and desk on the left; the QR code and serial on the right.
    qr_side = 62.0
    head_w = inner - qr_side - 8
    size = 11.5 * k
    for line in _wrap(sheet.title.upper(), _font(size, "bold"), head_w):
        y -= size * 1.15
        put(left, y, line, size, "bold")
    size = 9.5 * k
    for line in _wrap(sheet.unit_name, _font(size, "bold"), head_w):
        y -= size * 1.3
        put(left, y, line, size, "bold")
    size = 8.5 * k
    for line in _wrap(sheet.desk_name, _font(size), head_w):
        y -= size * 1.25
        put(left, y, line, size, color=_GREY)
    y -= 13 * k
    put(left, y, f"{sheet.serial_label}:", 8.5 * k, color=_GREY)
    label_w = _width(f"{sheet.serial_label}: ", _font(8.5 * k))
    serial_size = 12.5 * k
    while _width(serial, _font(serial_size, "bold", _MONO)) > head_w - label_w and serial_size > 7:
        serial_size *= 0.95
    top_of_qr = _BALLOT_H - margin + 4
    if canvas is not None:
        canvas.serial(left + label_w, y, serial_size)
        canvas.qr(_BALLOT_W - margin - qr_side + 4, top_of_qr - qr_side, qr_side)
    y = min(y - 6 * k, top_of_qr - qr_side - 2)

    # Intro and how to answer.
    size = 7.6 * k
    for line in _wrap(sheet.intro, _font(size), inner):
        y -= size * 1.3
        put(left, y, line, size)
    for line in _wrap(sheet.instruction, _font(size, "bold"), inner):
        y -= size * 1.35
        put(left, y, line, size, "bold")
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
                y = _grid(
                    [g for g in questions[index:] if g.grid],
                    sheet.scale_prompt,
                    k,
                    y,
                    left,
                    inner,
                    put,
                    canvas,
                )
                grid_done = True
            continue
        y -= 5 * k
        for i, line in enumerate(_wrap(f"{q.number}. {q.text}", _font(text_size, "bold"), inner)):
            y -= text_size * 1.3
            put(left + (0 if i == 0 else 8 * k), y, line, text_size, "bold")
        # Boxes flow left to right, wrapping like words.
        x = left + 8 * k
        y -= box + 3 * k
        for key, label in q.boxes:
            width = box + 3 * k + _width(label, _font(label_size)) + 10 * k
            if x + width > left + inner + 4 and x > left + 8 * k:
                x = left + 8 * k
                y -= box + 4 * k
            if canvas is not None:
                canvas.box(x, y, box, key, key_size)
            put(x + box + 3 * k, y + box * 0.2, label, label_size)
            x += width

    # The comment box.
    y -= 8 * k
    size = 7.8 * k
    for line in _wrap(sheet.comment_label, _font(size, "bold"), inner):
        y -= size * 1.3
        put(left, y, line, size, "bold")
    height = 70 * k
    y -= height + 3 * k
    if canvas is not None:
        canvas.rect(left, y, inner, height)
    # The footer, at the bottom of the ballot (or under the box when space runs out).
    size = 6.8 * k
    lines = _wrap(sheet.footer, _font(size), inner)
    foot_y = margin - 6 + size * 1.25 * (len(lines) - 1)
    foot_y = min(foot_y, y - size * 1.6)
    for line in lines:
        put(left, foot_y, line, size, color=_GREY)
        foot_y -= size * 1.25
    return foot_y + size * 1.25 - size * 0.3


def _grid(questions, prompt, k, y, left, inner, put, canvas) -> float:
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
    for line in _wrap(prompt, _font(size, "bold"), inner):
        y -= size * 1.3
        put(left, y, line, size, "bold")
    # Column headings: the scale's labels, wrapped in their narrow columns, bottom aligned.
    wrapped = [_wrap(label, _font(head_size), col - 2) for _, label in heading]
    rows = max(len(w) for w in wrapped)
    y -= 2 * k
    for c, lines in enumerate(wrapped):
        cx = left + text_w + 4 + c * col + col / 2
        for r, line in enumerate(lines):
            put(
                cx, y - head_size * 1.15 * (rows - len(lines) + r + 1), line, head_size, ha="center"
            )
    y -= head_size * 1.15 * rows + 2 * k
    for q in questions:
        lines = _wrap(f"{q.number}. {q.text}", _font(text_size), text_w)
        height = max(box + 4 * k, text_size * 1.25 * len(lines) + 3 * k)
        top = y
        if canvas is not None:
            canvas.rule(left, top, inner)
        for i, line in enumerate(lines):
            put(
                left + (0 if i == 0 else 8 * k), top - text_size * (1.1 + 1.25 * i), line, text_size
            )
        box_y = top - height / 2 - box / 2
        for c, (key, _label) in enumerate(q.boxes):
            if canvas is not None:
                cx = left + text_w + 4 + c * col + col / 2
                canvas.box(cx - box / 2, box_y, box, key, 6.2 * k)
        y = top - height
    return y


def _fitting_scale(sheet: BallotSheet, serial: str) -> float:
    """The largest scale (≤ 1) at which the ballot fits its page; never cut."""
    k = 1.0
    while k > 0.6 and _layout(sheet, k, None, serial) < 12:
        k *= 0.95
    return k


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
    buffer = BytesIO()
    metadata = {
        "Title": f"{sheet.title} – {sheet.unit_name}",
        "Creator": "Khảo sát mức độ hài lòng",
        "CreationDate": None,
        "ModDate": None,
    }
    with chart_style():
        longest = max((b.serial for b in ballots), key=len)
        recorder = _Recorder()
        _layout(sheet, _fitting_scale(sheet, longest), recorder, longest)
        with PdfPages(buffer, metadata=metadata) as pdf:
            for start in range(0, len(ballots), len(slots)):
                fig = Figure(figsize=(page_w / 72, page_h / 72))
                for slot, ballot in zip(slots, ballots[start : start + len(slots)], strict=False):
                    _replay(recorder.ops, _Canvas(fig, page_w, page_h, slot), ballot)
                if len(slots) == 2:
                    # The cutting line between the two ballots.
                    fig.add_artist(
                        Line2D(
                            [0.5, 0.5],
                            [0.02, 0.98],
                            transform=fig.transFigure,
                            color=_LIGHT,
                            lw=0.5,
                            linestyle=(0, (4, 3)),
                        )
                    )
                pdf.savefig(fig)
    return buffer.getvalue()
