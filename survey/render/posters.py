"""Printable QR posters for the desks, A4 or A5, one desk per page.

Drawn with matplotlib only, like :mod:`survey.render.report_pdf`: each page is a
:class:`~matplotlib.figure.Figure` saved into one
:class:`~matplotlib.backends.backend_pdf.PdfPages`, text in DejaVu Sans
embedded as TrueType (type 42) so Vietnamese prints correctly. The QR code is
drawn as one vector path (from :func:`survey.render.qr.matrix`), so it stays sharp at
any print size; the form's address is printed under it for phones that cannot
scan.

This module is pure: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import PathPatch
from matplotlib.patches import Rectangle
from matplotlib.path import Path
from matplotlib.textpath import TextToPath
from matplotlib.transforms import Affine2D

from . import qr
from .charts import chart_style
from .text import wrap

__all__ = ["SIZES", "PosterContent", "render_posters", "short_url"]

#: Portrait page sizes in inches (ISO 216: 210 × 297 mm and 148 × 210 mm).
SIZES = {"A4": (210 / 25.4, 297 / 25.4), "A5": (148 / 25.4, 210 / 25.4)}

_RED = "#c8102e"
_GREY = "#444444"
_FAMILY = "DejaVu Sans"
_MONO = "DejaVu Sans Mono"
_TEXT_TO_PATH = TextToPath()


@dataclass(frozen=True)
class PosterContent:
    """What one desk's poster says, already translated.

    Attributes
    ----------
    unit_name, desk_name : str
        E.g. "Thị trấn Lai Cách", "Bàn 1 – Hộ tịch, chứng thực".
    heading : str
        Printed in the red band at the top.
    instruction : str
        E.g. "Quét mã để đánh giá mức độ hài lòng của Ông/Bà".
    url : str
        The absolute form URL the QR code encodes.
    short_url : str
        The same address as people type it (no scheme), printed under the code.
    url_hint : str
        The line above the printed address.
    footer : str
        A small line at the bottom.
    """

    unit_name: str
    desk_name: str
    heading: str
    instruction: str
    url: str
    short_url: str
    url_hint: str
    footer: str


def short_url(url: str) -> str:
    """``https://khaosat.example.vn/s/LC-01`` → ``khaosat.example.vn/s/LC-01``."""
    for scheme in ("https://", "http://"):
        if url.startswith(scheme):
            return url[len(scheme) :]
    return url


@lru_cache(maxsize=64)
def _font(size: float, weight: str = "normal", family: str = _FAMILY) -> FontProperties:
    return FontProperties(family=family, size=size, weight=weight)


def _width(text: str, font: FontProperties) -> float:
    """Width of one line of text in points."""
    if not text:
        return 0.0
    return _TEXT_TO_PATH.get_text_width_height_descent(text, font, ismath=False)[0]


def _wrap(text: str, font: FontProperties, width: float) -> list[str]:
    return wrap(text, lambda s: _width(s, font), width)


def _balanced(text: str, font: FontProperties, width: float) -> list[str]:
    """Wrap ``text`` into as few lines as :func:`_wrap`, but of even lengths."""
    lines = _wrap(text, font, width)
    if len(lines) != 2:
        return lines
    words = text.split()
    splits = [(" ".join(words[:i]), " ".join(words[i:])) for i in range(1, len(words))]
    fitting = [p for p in splits if max(_width(p[0], font), _width(p[1], font)) <= width]
    if not fitting:
        return lines
    return list(min(fitting, key=lambda p: max(_width(p[0], font), _width(p[1], font))))


def _block(
    text: str, size: float, weight: str, width: float, max_lines: int
) -> tuple[float, list[str]]:
    """Font size and balanced lines so that ``text`` fits in ``max_lines``: never cut."""
    lines = _balanced(text, _font(size, weight), width)
    while len(lines) > max_lines and size > 8:
        size *= 0.92
        lines = _balanced(text, _font(size, weight), width)
    # A single word wider than the page is shrunk until it fits.
    while size > 6 and any(_width(line, _font(size, weight)) > width for line in lines):
        size *= 0.95
    return size, lines


def _fit(text: str, size: float, weight: str, width: float, family: str = _FAMILY) -> float:
    """The largest font size ≤ ``size`` at which ``text`` fits on one line."""
    while size > 6 and _width(text, _font(size, weight, family)) > width:
        size *= 0.95
    return size


def _qr_path(modules: list[list[bool]]) -> Path:
    """One compound path of the dark modules (horizontal runs merged) in the unit square."""
    n = len(modules)
    cell = 1.0 / n
    vertices, codes = [], []
    for row, line in enumerate(modules):
        top = 1.0 - row * cell
        col = 0
        while col < n:
            if not line[col]:
                col += 1
                continue
            start = col
            while col < n and line[col]:
                col += 1
            left, right = start * cell, col * cell
            vertices += [(left, top), (right, top), (right, top - cell), (left, top - cell), (0, 0)]
            codes += [Path.MOVETO, Path.LINETO, Path.LINETO, Path.LINETO, Path.CLOSEPOLY]
    return Path(vertices, codes)


def _page(content: PosterContent, size: str) -> Figure:
    width_in, height_in = SIZES[size]
    fig = Figure(figsize=(width_in, height_in))
    w, h = width_in * 72, height_in * 72  # points
    k = w / (SIZES["A4"][0] * 72)  # A5 is A4 scaled down
    margin = 40 * k
    inner = w - 2 * margin

    def text(x, y, s, size_pt, weight="normal", color="black", ha="center", family=_FAMILY):
        fig.text(
            x / w,
            y / h,
            s,
            fontproperties=_font(size_pt, weight, family),
            color=color,
            ha=ha,
            va="baseline",
        )

    # Red band with the heading.
    band = 70 * k
    fig.add_artist(
        Rectangle((0, 1 - band / h), 1, band / h, transform=fig.transFigure, color=_RED, lw=0)
    )
    heading = content.heading.upper()
    heading_size = _fit(heading, 22 * k, "bold", inner)
    text(w / 2, h - band / 2 - 8 * k, heading, heading_size, "bold", "white")

    # Unit and desk.
    y = h - band - 52 * k
    unit_size, lines = _block(content.unit_name, 30 * k, "bold", inner, 2)
    for line in lines:
        text(w / 2, y, line, unit_size, "bold")
        y -= unit_size * 1.2
    desk_size, lines = _block(content.desk_name, 18 * k, "normal", inner, 2)
    y += unit_size * 1.2 - (0.35 * unit_size + 1.1 * desk_size)
    for line in lines:
        text(w / 2, y, line, desk_size, color=_GREY)
        y -= desk_size * 1.25
    y -= 20 * k

    # The instruction, on one or two lines.
    size, lines = _block(content.instruction, 20 * k, "bold", inner, 2)
    for line in lines:
        text(w / 2, y, line, size, "bold", _RED)
        y -= size * 1.3

    # The QR code, as large as the space allows, centred in it. Its quiet zone
    # (4 modules) is part of the drawing, so the code never touches the text.
    footer_space = 125 * k
    side = min(w * 0.78, y - footer_space)
    modules = qr.matrix(content.url)
    x0 = (w - side) / 2
    y0 = footer_space + (y - footer_space - side) / 2
    # The path is built in a unit square, then scaled and placed on the page.
    patch = PathPatch(
        _qr_path(modules),
        transform=Affine2D().scale(side / w, side / h).translate(x0 / w, y0 / h) + fig.transFigure,
        facecolor="black",
        edgecolor="none",
        lw=0,
    )
    fig.add_artist(patch)

    # The address for phones that cannot scan.
    y = y0 - 8 * k
    text(w / 2, y, content.url_hint, 13 * k, color=_GREY)
    y -= 30 * k
    url_size = _fit(content.short_url, 22 * k, "bold", inner, _MONO)
    text(w / 2, y, content.short_url, url_size, "bold", family=_MONO)

    # Footer.
    footer_size = _fit(content.footer, 11 * k, "normal", inner)
    text(w / 2, 30 * k, content.footer, footer_size, color=_GREY)
    return fig


def render_posters(
    contents: Sequence[PosterContent],
    size: str = "A4",
    progress: Callable[[int], None] | None = None,
) -> bytes:
    """One PDF with a poster page per desk.

    :param size: ``"A4"`` or ``"A5"``.
    :param progress: called with 1 after each page (e.g. a progress bar's ``update``).
    :raise ValueError: an unknown size or no content.
    """
    if size not in SIZES:
        raise ValueError(f"size ({size!r}) must be one of {', '.join(SIZES)}")
    if not contents:
        raise ValueError("no poster to render")
    buffer = BytesIO()
    metadata = {
        "Title": contents[0].heading if len(contents) > 1 else contents[0].unit_name,
        "Creator": "Khảo sát mức độ hài lòng",
        "CreationDate": None,
        "ModDate": None,
    }
    with chart_style(), PdfPages(buffer, metadata=metadata) as pdf:
        for content in contents:
            pdf.savefig(_page(content, size))
            if progress is not None:
                progress(1)
    return buffer.getvalue()
