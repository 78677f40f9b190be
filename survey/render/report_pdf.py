"""The printable monthly (or quarterly, annual) report as an A4 PDF.

Drawn with matplotlib only (no extra PDF library): every page is a
:class:`~matplotlib.figure.Figure` the size of A4 portrait, saved into one
:class:`~matplotlib.backends.backend_pdf.PdfPages`. Text is DejaVu Sans
embedded as TrueType (type 42), so Vietnamese prints correctly and can be
searched and copied.

Layout:

1. Title, unit, subtitle, summary rows, verdicts and tables (tables that do
   not fit continue on the next page, header repeated).
2. The chart, if any, on its own page.
3. The comments, on as many pages as they need. Long comments are wrapped,
   never cut; a comment may continue on the next page.

Every page has the footer text and "Trang i/N". The file carries no creation
date, so the same content gives the same bytes.

This module is pure: no Flask, no database.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO

import numpy as np
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.textpath import TextToPath

from .charts import chart_style
from .charts import lean_pdf_fonts
from .charts import pixels
from .text import wrap

__all__ = [
    "NATIONAL_NAME",
    "NATIONAL_MOTTO",
    "PAGE_SIZE",
    "Letterhead",
    "ReportContent",
    "render_report",
]

# The national heading of every administrative document (Nghị định 30/2020/NĐ-CP,
# Phụ lục I): always in Vietnamese, whatever the interface language.
NATIONAL_NAME = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
NATIONAL_MOTTO = "Độc lập - Tự do - Hạnh phúc"

PAGE_SIZE = (8.27, 11.69)  # A4 portrait, inches

_PT = 72.0
_W, _H = PAGE_SIZE[0] * _PT, PAGE_SIZE[1] * _PT  # page size in points
_LEFT = 0.8 * _PT
_CONTENT_W = _W - 2 * _LEFT
_TOP = 0.75 * _PT
_BOTTOM = _H - 0.85 * _PT  # content stays above this line
_FOOTER_RULE = _H - 0.7 * _PT
_FOOTER_BASE = _H - 0.5 * _PT
_HEADER_BASE = 0.45 * _PT
_LINE = 1.4  # line height, in font sizes
_CELL_PAD_X, _CELL_PAD_Y = 5.0, 3.0
_CHART_DPI = 200
_NUMERIC = re.compile(r"[\d\s.,%()+\-–]*")
_GREY = "#555555"
_FAMILY = "DejaVu Sans"

_TEXT_TO_PATH = TextToPath()


@dataclass(frozen=True)
class Letterhead:
    """The parts of an administrative document around its body (Nghị định 30/2020).

    Attributes
    ----------
    parent_body, issuing_body : str
        "Tên cơ quan chủ quản" (may be empty) and "tên cơ quan ban hành",
        printed in capitals at the top left.
    number : str
        "Số: …/BC-UBND" (the number is left blank for the clerk to fill in).
    place_date : str
        "Lai Cách, ngày 30 tháng 11 năm 2026", top right, in italics.
    recipients_heading : str
        "Nơi nhận:".
    recipients : sequence of str
        One recipient a line, bottom left.
    signer_title : sequence of str
        E.g. ("KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"), bottom right.
    signer_name : str
        Under the room left for the signature and seal.
    watermark : str
        Across every page when not empty, e.g. "TẠM TÍNH" for an unfinished period.
    """

    parent_body: str
    issuing_body: str
    number: str
    place_date: str
    recipients_heading: str
    recipients: Sequence[str]
    signer_title: Sequence[str]
    signer_name: str
    watermark: str = ""


@dataclass(frozen=True)
class ReportContent:
    """Everything the report shows, already formatted as text.

    Attributes
    ----------
    title : str
        E.g. "Báo cáo mức độ hài lòng – Tháng 3/2025".
    unit_name : str
        E.g. "UBND xã Lai Cách".
    subtitle : str
        E.g. the period's dates and the date of the report.
    summary : sequence of (str, str)
        (label, value) rows, e.g. ("Số phiếu", "128").
    verdicts : sequence of str
        Sentences such as "Đạt mục tiêu 90%".
    tables : sequence of (str, sequence of str, sequence of sequence of str)
        (heading, header, rows); every row as long as the header.
    chart : Figure or None
        Printed on its own page (as a 200 dpi image), e.g. from
        :func:`survey.render.charts.trend_chart`.
    comments_heading : str
        E.g. "Góp ý, phản ánh của người dân".
    comments : sequence of (str, str)
        (meta, text), e.g. ("05/03/2025 · Đất đai · Không hài lòng", "...").
    footer : str
        Printed at the bottom of every page, next to the page number.
    letterhead : Letterhead or None
        The national heading, issuing body, number, place and date above the
        title, and the recipients and signature block after the comments.
    """

    title: str
    unit_name: str
    subtitle: str
    summary: Sequence[tuple[str, str]]
    verdicts: Sequence[str]
    tables: Sequence[tuple[str, Sequence[str], Sequence[Sequence[str]]]]
    chart: Figure | None
    comments_heading: str
    comments: Sequence[tuple[str, str]]
    footer: str
    letterhead: Letterhead | None = None


@dataclass(frozen=True)
class _Style:
    size: float
    weight: str = "normal"
    color: str = "black"
    italic: bool = False

    @property
    def line(self) -> float:
        return self.size * _LINE


_TITLE = _Style(16, "bold")
_UNIT = _Style(12, "bold")
_SUBTITLE = _Style(10, color=_GREY)
_HEADING = _Style(12, "bold")
_BODY = _Style(10)
_BODY_BOLD = _Style(10, "bold")
_CELL = _Style(9)
_CELL_BOLD = _Style(9, "bold")
_META = _Style(8.5, "bold", color=_GREY)
_SMALL = _Style(8, color=_GREY)
_HEAD = _Style(10.5)
_HEAD_BOLD = _Style(10.5, "bold")
_MOTTO = _Style(11, "bold")
_PLACE = _Style(10.5, italic=True)
_RECIPIENTS_HEAD = _Style(10, "bold", italic=True)
_RECIPIENT = _Style(9)
_SIGNER = _Style(11, "bold")
# The heading's two columns (Nghị định 30: the issuing body left, the nation right).
_LEFT_W = _CONTENT_W * 0.42
_RIGHT_W = _CONTENT_W - _LEFT_W
_LEFT_X = _LEFT + _LEFT_W / 2
_RIGHT_X = _LEFT + _LEFT_W + _RIGHT_W / 2


@lru_cache(maxsize=32)
def _font(style: _Style) -> FontProperties:
    return FontProperties(
        family=_FAMILY,
        size=style.size,
        weight=style.weight,
        style="italic" if style.italic else "normal",
    )


@lru_cache(maxsize=16384)
def _width(text: str, style: _Style) -> float:
    """Width of one line of text in points."""
    if not text:
        return 0.0
    return _TEXT_TO_PATH.get_text_width_height_descent(text, _font(style), ismath=False)[0]


def _wrap(text: str, style: _Style, width: float) -> list[str]:
    """Lines of at most ``width`` points, with a 1 % margin for kerning."""
    return wrap(text, lambda s: _width(s, style), width * 0.99)


def _truncate(text: str, style: _Style, width: float) -> str:
    """One line cut to ``width`` with an ellipsis (running headers only)."""
    text = " ".join(text.split())
    if _width(text, style) <= width:
        return text
    while text and _width(text + "…", style) > width:
        text = text[:-1]
    return text.rstrip() + "…"


Op = Callable[[Figure], None]


def _text_op(x: float, baseline: float, text: str, style: _Style, ha: str = "left") -> Op:
    def draw(fig: Figure) -> None:
        fig.text(
            x / _W,
            1.0 - baseline / _H,
            text,
            fontproperties=_font(style),
            color=style.color,
            ha=ha,
            va="baseline",
            parse_math=False,  # citizens' "$" must not start mathtext
        )

    return draw


def _rule_op(x0: float, x1: float, y: float, color: str = "#999999", width: float = 0.6) -> Op:
    def draw(fig: Figure) -> None:
        fig.add_artist(
            Line2D(
                [x0 / _W, x1 / _W],
                [1.0 - y / _H] * 2,
                transform=fig.transFigure,
                color=color,
                linewidth=width,
            )
        )

    return draw


def _fill_op(x: float, y: float, w: float, h: float, color: str) -> Op:
    def draw(fig: Figure) -> None:
        fig.add_artist(
            Rectangle(
                (x / _W, 1.0 - (y + h) / _H),
                w / _W,
                h / _H,
                transform=fig.transFigure,
                facecolor=color,
                edgecolor="none",
                zorder=-1,
            )
        )

    return draw


def _image_op(image: np.ndarray, x: float, y: float, w: float, h: float) -> Op:
    def draw(fig: Figure) -> None:
        ax = fig.add_axes((x / _W, 1.0 - (y + h) / _H, w / _W, h / _H))
        # "none": the PDF gets the pixels as they are, scaled by the viewer.
        ax.imshow(image, interpolation="none")
        ax.set_axis_off()

    return draw


class _Flow:
    """Places blocks top to bottom, starting a new page when one is full."""

    def __init__(self) -> None:
        self.pages: list[list[Op]] = [[]]
        self.y = _TOP

    def new_page(self) -> None:
        self.pages.append([])
        self.y = _TOP

    def fits(self, height: float) -> bool:
        return self.y + height <= _BOTTOM

    def ensure(self, height: float) -> None:
        """Start a new page unless ``height`` fits (or the page is still empty)."""
        if not self.fits(height) and self.y > _TOP:
            self.new_page()

    def add(self, op: Op) -> None:
        self.pages[-1].append(op)

    def gap(self, height: float) -> None:
        self.y = min(self.y + height, _BOTTOM)

    def line(self, text: str, style: _Style, x: float = _LEFT, ha: str = "left") -> None:
        self.ensure(style.line)
        self.add(_text_op(x, self.y + style.size * 1.05, text, style, ha))
        self.y += style.line

    def paragraph(
        self, text: str, style: _Style, x: float = _LEFT, width: float = _CONTENT_W
    ) -> None:
        for line in _wrap(text, style, width):
            self.line(line, style, x)

    def centred(self, text: str, style: _Style) -> None:
        for line in _wrap(text, style, _CONTENT_W):
            self.line(line, style, _W / 2, ha="center")


def _natural(text: str, style: _Style) -> float:
    """Width a cell needs to stay on one line, with room for the wrap's margin."""
    widest = max((_width(line, style) for line in text.splitlines()), default=0.0)
    return widest * 1.02 + 1 + 2 * _CELL_PAD_X


def _fit_columns(natural: list[float], total: float) -> list[float]:
    """Column widths filling ``total``: natural widths, grown or shrunk fairly."""
    if sum(natural) <= total:
        scale = total / sum(natural)
        return [w * scale for w in natural]
    widths = list(natural)
    fixed: set[int] = set()
    while True:
        free = [i for i in range(len(widths)) if i not in fixed]
        room = total - sum(widths[i] for i in fixed)
        share = room / len(free)
        small = [i for i in free if natural[i] <= share]
        if not small or len(small) == len(free):
            wanted = sum(natural[i] for i in free)
            for i in free:
                widths[i] = max(room * natural[i] / wanted, 2 * _CELL_PAD_X + 10)
            return widths
        for i in small:
            widths[i] = natural[i]
            fixed.add(i)


def _cell_lines(cells: Sequence[str], widths: list[float], style: _Style) -> list[list[str]]:
    return [_wrap(cell, style, w - 2 * _CELL_PAD_X) for cell, w in zip(cells, widths, strict=True)]


def _row_height(cells: Sequence[str], widths: list[float], style: _Style) -> float:
    lines = _cell_lines(cells, widths, style)
    return max(len(cell) for cell in lines) * style.line + 2 * _CELL_PAD_Y


def _table_row(
    flow: _Flow,
    cells: Sequence[str],
    widths: list[float],
    right: list[bool],
    style: _Style,
    fill: str | None,
) -> None:
    wrapped = _cell_lines(cells, widths, style)
    height = _row_height(cells, widths, style)
    flow.ensure(height)
    top = flow.y
    if fill:
        flow.add(_fill_op(_LEFT, top, _CONTENT_W, height, fill))
    x = _LEFT
    for lines, w, align_right in zip(wrapped, widths, right, strict=True):
        for k, line in enumerate(lines):
            baseline = top + _CELL_PAD_Y + k * style.line + style.size * 1.05
            if align_right:
                flow.add(_text_op(x + w - _CELL_PAD_X, baseline, line, style, "right"))
            else:
                flow.add(_text_op(x + _CELL_PAD_X, baseline, line, style))
        x += w
    flow.y = top + height
    flow.add(_rule_op(_LEFT, _LEFT + _CONTENT_W, flow.y, "#bbbbbb", 0.5))


def _table(flow: _Flow, heading: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    ncols = len(header)
    natural = [_natural(str(h), _CELL_BOLD) for h in header]
    for row in rows:
        for c, cell in enumerate(row):
            natural[c] = max(natural[c], _natural(str(cell), _CELL))
    widths = _fit_columns(natural, _CONTENT_W)
    right = [
        c > 0 and bool(rows) and all(_NUMERIC.fullmatch(str(row[c])) for row in rows)
        for c in range(ncols)
    ]
    # Keep the heading with the header and the first row.
    flow.ensure(_HEADING.line + 3 * (_CELL.line + 2 * _CELL_PAD_Y) + 6)
    flow.paragraph(heading, _HEADING)
    flow.gap(2)
    header_cells = [str(h) for h in header]
    flow.add(_rule_op(_LEFT, _LEFT + _CONTENT_W, flow.y, "#666666", 0.8))
    _table_row(flow, header_cells, widths, right, _CELL_BOLD, "#ececec")
    for row in rows:
        page = len(flow.pages)
        cells = [str(cell) for cell in row]
        height = max(
            len(_wrap(cell, _CELL, w - 2 * _CELL_PAD_X))
            for cell, w in zip(cells, widths, strict=True)
        )
        if not flow.fits(height * _CELL.line + 2 * _CELL_PAD_Y):
            flow.new_page()
        if len(flow.pages) != page:
            flow.add(_rule_op(_LEFT, _LEFT + _CONTENT_W, flow.y, "#666666", 0.8))
            _table_row(flow, header_cells, widths, right, _CELL_BOLD, "#ececec")
        _table_row(flow, cells, widths, right, _CELL, None)
    flow.gap(14)


def _summary(flow: _Flow, rows: Sequence[tuple[str, str]]) -> None:
    # 18 pt of gutter; labels wrap at 14 pt short of the value column, so the
    # widest label fits on one line despite the wrap's safety margin.
    label_w = min(max(_width(label, _BODY) for label, _ in rows) + 18, 0.45 * _CONTENT_W)
    value_w = _CONTENT_W - label_w
    for label, value in rows:
        labels = _wrap(label, _BODY, label_w - 14)
        values = _wrap(value, _BODY_BOLD, value_w)
        flow.ensure(max(len(labels), len(values)) * _BODY.line)
        top = flow.y
        for k, line in enumerate(labels):
            flow.add(_text_op(_LEFT, top + k * _BODY.line + _BODY.size * 1.05, line, _BODY))
        for k, line in enumerate(values):
            baseline = top + k * _BODY.line + _BODY.size * 1.05
            flow.add(_text_op(_LEFT + label_w, baseline, line, _BODY_BOLD))
        flow.y = top + max(len(labels), len(values)) * _BODY.line
    flow.gap(10)


def _verdicts(flow: _Flow, verdicts: Sequence[str]) -> None:
    indent = 14.0
    for verdict in verdicts:
        lines = _wrap(verdict, _BODY_BOLD, _CONTENT_W - indent)
        flow.ensure(_BODY.line)
        flow.add(_text_op(_LEFT + 2, flow.y + _BODY.size * 1.05, "•", _BODY_BOLD))
        for line in lines:
            flow.line(line, _BODY_BOLD, _LEFT + indent)
        flow.gap(2)
    flow.gap(12)


def _chart_page(flow: _Flow, chart: Figure) -> None:
    # RGB only: an alpha channel would add a soft mask to the PDF for nothing.
    image = pixels(chart, dpi=_CHART_DPI)
    fig_w, fig_h = chart.get_size_inches()
    width = _CONTENT_W
    height = width * fig_h / fig_w
    room = _BOTTOM - _TOP
    if height > room:
        width, height = width * room / height, room
    flow.new_page()
    flow.add(_image_op(image, _LEFT + (_CONTENT_W - width) / 2, flow.y, width, height))
    flow.y += height


def _comments(
    flow: _Flow, heading: str, comments: Sequence[tuple[str, str]], no_comments: str
) -> None:
    if comments:
        flow.new_page()
    else:
        flow.ensure(_HEADING.line + _BODY.line + 8)
    if heading:
        flow.paragraph(heading, _HEADING)
        flow.gap(6)
    if not comments:
        flow.paragraph(no_comments, _Style(10, italic=True, color=_GREY))
        return
    for number, (meta, text) in enumerate(comments, start=1):
        metas = _wrap(f"{number}. {meta}", _META, _CONTENT_W)
        lines = _wrap(text, _BODY, _CONTENT_W - 10) if text.strip() else []
        # Never leave a comment's heading alone at the foot of a page.
        flow.ensure(len(metas) * _META.line + min(2, len(lines)) * _BODY.line)
        for line in metas:
            flow.line(line, _META)
        for line in lines:
            flow.line(line, _BODY, _LEFT + 10)
        flow.gap(7)


def _column(
    flow: _Flow, y: float, x: float, width: float, lines: Sequence[tuple[str, _Style]]
) -> tuple[float, list[tuple[float, float]]]:
    """Centred lines in a column from ``y``; the bottom, and each line's (y, width)."""
    placed = []
    for text, style in lines:
        for line in _wrap(text, style, width) if text else []:
            flow.add(_text_op(x, y + style.size * 1.05, line, style, "center"))
            placed.append((y + style.line, _width(line, style)))
            y += style.line
    return y, placed


def _letterhead(flow: _Flow, head: Letterhead) -> None:
    top = flow.y
    left_lines = [(head.parent_body.upper(), _HEAD), (head.issuing_body.upper(), _HEAD_BOLD)]
    left_y, left = _column(flow, top, _LEFT_X, _LEFT_W - 8, left_lines)
    right_y, right = _column(
        flow, top, _RIGHT_X, _RIGHT_W, [(NATIONAL_NAME, _HEAD_BOLD), (NATIONAL_MOTTO, _MOTTO)]
    )
    # The short rules under the issuing body and under the motto.
    for (y, width), x in ((left[-1], _LEFT_X), (right[-1], _RIGHT_X)):
        rule = width / 3 if x == _LEFT_X else width
        flow.add(_rule_op(x - rule / 2, x + rule / 2, y - 1, "black", 0.7))
    y = max(left_y, right_y) + 8
    _column(flow, y, _LEFT_X, _LEFT_W - 8, [(head.number, _HEAD)])
    bottom, _ = _column(flow, y, _RIGHT_X, _RIGHT_W, [(head.place_date, _PLACE)])
    flow.y = bottom + 14


def _signature(flow: _Flow, head: Letterhead) -> None:
    recipients = [(head.recipients_heading, _RECIPIENTS_HEAD)] + [
        (r, _RECIPIENT) for r in head.recipients
    ]
    left_h = sum(len(_wrap(t, st, _LEFT_W - 8)) * st.line for t, st in recipients)
    right_h = len(head.signer_title) * _SIGNER.line + 70 + _SIGNER.line
    flow.gap(14)
    flow.ensure(max(left_h, right_h))
    y = flow.y
    for text, style in recipients:
        for line in _wrap(text, style, _LEFT_W - 8):
            flow.add(_text_op(_LEFT, y + style.size * 1.05, line, style))
            y += style.line
    right_y, _ = _column(
        flow, flow.y, _RIGHT_X, _RIGHT_W, [(t, _SIGNER) for t in head.signer_title]
    )
    # Room for the signature and the seal.
    right_y, _ = _column(flow, right_y + 70, _RIGHT_X, _RIGHT_W, [(head.signer_name, _SIGNER)])
    flow.y = max(y, right_y)


def _watermark(fig: Figure, text: str) -> None:
    fig.text(
        0.5,
        0.5,
        text,
        fontproperties=_font(_Style(72, "bold")),
        color="#e2e2e2",
        ha="center",
        va="center",
        rotation=45,
        zorder=-10,
        parse_math=False,
    )


def _check(content: ReportContent) -> None:
    if not isinstance(content, ReportContent):
        raise ValueError(f"content ({content!r}) must be a ReportContent")
    for name in ("title", "unit_name", "subtitle", "comments_heading", "footer"):
        if not isinstance(getattr(content, name), str):
            raise ValueError(f"{name} ({getattr(content, name)!r}) must be a string")
    for i, row in enumerate(content.summary):
        if not (isinstance(row, tuple | list) and len(row) == 2):
            raise ValueError(f"summary[{i}] ({row!r}) must be a (label, value) pair")
    for i, comment in enumerate(content.comments):
        if not (isinstance(comment, tuple | list) and len(comment) == 2):
            raise ValueError(f"comments[{i}] ({comment!r}) must be a (meta, text) pair")
    for i, table in enumerate(content.tables):
        if not (isinstance(table, tuple | list) and len(table) == 3):
            raise ValueError(f"tables[{i}] ({table!r}) must be (heading, header, rows)")
        _, header, rows = table
        if not header:
            raise ValueError(f"tables[{i}] header ({header!r}) must not be empty")
        for j, row in enumerate(rows):
            if len(row) != len(header):
                raise ValueError(
                    f"tables[{i}] row {j} ({row!r}) must have {len(header)} cells like the header"
                )
    if content.chart is not None and not isinstance(content.chart, Figure):
        raise ValueError(f"chart ({content.chart!r}) must be a matplotlib Figure or None")
    if content.letterhead is not None and not isinstance(content.letterhead, Letterhead):
        raise ValueError(f"letterhead ({content.letterhead!r}) must be a Letterhead or None")


def _layout(content: ReportContent, no_comments: str) -> list[list[Op]]:
    flow = _Flow()
    if content.letterhead is not None:
        _letterhead(flow, content.letterhead)
    flow.centred(content.title, _TITLE)
    flow.gap(2)
    if content.unit_name:
        flow.centred(content.unit_name, _UNIT)
    if content.subtitle:
        flow.centred(content.subtitle, _SUBTITLE)
    flow.gap(6)
    flow.add(_rule_op(_LEFT, _LEFT + _CONTENT_W, flow.y, "#333333", 1.0))
    flow.gap(14)
    if content.summary:
        _summary(flow, [(str(a), str(b)) for a, b in content.summary])
    if content.verdicts:
        _verdicts(flow, [str(v) for v in content.verdicts])
    for heading, header, rows in content.tables:
        _table(flow, str(heading), header, rows)
    if content.chart is not None:
        _chart_page(flow, content.chart)
    _comments(
        flow,
        content.comments_heading,
        [(str(m), str(t)) for m, t in content.comments],
        no_comments,
    )
    if content.letterhead is not None:
        _signature(flow, content.letterhead)
    return flow.pages


def render_report(
    content: ReportContent,
    *,
    page_label: str = "Trang {page}/{pages}",
    no_comments_label: str = "Không có góp ý, phản ánh nào trong kỳ.",
) -> bytes:
    """The report as PDF bytes (A4 portrait).

    Parameters
    ----------
    content : ReportContent
        The text, tables, chart and comments, already formatted.
    page_label : str, optional
        Page number format, with ``{page}`` and ``{pages}``.
    no_comments_label : str, optional
        Printed under the comments heading when there are no comments.

    Returns
    -------
    bytes
        The PDF. Page 1 holds the title, summary, verdicts and tables; the
        chart gets the next page; comments start on a page of their own and
        take as many pages as they need.

    Raises
    ------
    ValueError
        Malformed content (a table row shorter than its header, a summary row
        that is not a pair, a chart that is not a Figure, ...).
    """
    _check(content)
    pages = _layout(content, no_comments_label)
    total = len(pages)
    running = _truncate(f"{content.unit_name} · {content.title}", _SMALL, _CONTENT_W)
    buffer = BytesIO()
    metadata = {
        "Title": content.title,
        "Subject": content.unit_name,
        "Creator": "Khảo sát mức độ hài lòng",
        "CreationDate": None,
        "ModDate": None,
    }
    lean_pdf_fonts()
    with chart_style(), PdfPages(buffer, metadata=metadata) as pdf:
        for number, ops in enumerate(pages, start=1):
            fig = Figure(figsize=PAGE_SIZE)
            if content.letterhead is not None and content.letterhead.watermark:
                _watermark(fig, content.letterhead.watermark)
            for op in ops:
                op(fig)
            if number > 1:
                _text_op(_LEFT, _HEADER_BASE, running, _SMALL)(fig)
            _rule_op(_LEFT, _LEFT + _CONTENT_W, _FOOTER_RULE, "#999999", 0.6)(fig)
            label = page_label.format(page=number, pages=total)
            label_w = _width(label, _SMALL) + 12
            footer = _wrap(content.footer, _SMALL, _CONTENT_W - label_w)
            if len(footer) > 2:  # a footer is a line or two; say so when cut
                footer = [footer[0], _truncate(" ".join(footer[1:]), _SMALL, _CONTENT_W - label_w)]
            for k, line in enumerate(footer):
                _text_op(_LEFT, _FOOTER_BASE + k * _SMALL.line, line, _SMALL)(fig)
            _text_op(_LEFT + _CONTENT_W, _FOOTER_BASE, label, _SMALL, "right")(fig)
            pdf.savefig(fig)
    return buffer.getvalue()
