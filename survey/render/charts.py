"""Charts for the officer's reports, drawn with matplotlib's object API.

Server code never imports ``matplotlib.pyplot``: pyplot keeps every figure in
a global registry and leaks memory in a long-running process (matplotlib's
"Embedding in a web application server" page). Each chart is a plain
:class:`~matplotlib.figure.Figure`; :func:`render` turns it into PNG, SVG or
PDF bytes for a view to wrap in a ``Response``.

All text uses matplotlib's bundled DejaVu Sans, which has every Vietnamese
diacritic, so output is the same on every machine. SVG text is drawn as paths
(readable without fonts); PDF embeds the font as TrueType (type 42) so the text
can be searched and copied. Rates are fractions in [0, 1]; axes show percent.

A chart not in the download cache is drawn in about twice the time matplotlib
takes for an empty figure (docs/PERFORMANCE.md, "Charts and documents, second
pass"): labels are measured and rendered once per process (:class:`_Renderer`),
and ticks, tick labels, legend, the funnel's points and the trend's bars are
built as a few artists at fixed places rather than by matplotlib's per-item
machinery, which lays them out again at every draw. They look as matplotlib
draws them (tests/test_charts_text.py).

This module is pure: no Flask, no database.
"""

from __future__ import annotations

import math
import re
import struct
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from html import escape
from io import BytesIO

import matplotlib
import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.backends.backend_agg import get_hinting_flag
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.font_manager import fontManager
from matplotlib.font_manager import get_font
from matplotlib.ft2font import FT2Font
from matplotlib.ft2font import RenderMode
from matplotlib.lines import TICKDOWN
from matplotlib.lines import TICKLEFT
from matplotlib.lines import Line2D
from matplotlib.markers import MarkerStyle
from matplotlib.patches import BoxStyle
from matplotlib.patches import Rectangle
from matplotlib.path import Path
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator
from matplotlib.ticker import NullLocator
from matplotlib.ticker import ScalarFormatter
from matplotlib.transforms import Affine2D
from matplotlib.transforms import Bbox
from matplotlib.transforms import IdentityTransform
from matplotlib.transforms import ScaledTranslation
from zlib_ng import zlib_ng

__all__ = [
    "FORMATS",
    "STYLE",
    "TrendPoint",
    "chart_style",
    "clear_text_caches",
    "format_percent",
    "funnel_chart",
    "lean_pdf_fonts",
    "pixels",
    "render",
    "trend_chart",
]

FORMATS = ("png", "svg", "pdf")

# Settings for building and for saving figures. Fonts are fixed (not left to
# the machine's fontconfig); svg.hashsalt makes SVG element ids reproducible.
STYLE: dict[str, object] = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 10,
    "axes.titlesize": 13,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "svg.fonttype": "path",
    "svg.hashsalt": "sipas-survey",
    "savefig.bbox": "standard",
    "savefig.facecolor": "white",
    "savefig.transparent": False,
    "figure.facecolor": "white",
}

_METADATA: dict[str, dict[str, None]] = {
    "png": {"Software": None},
    "svg": {"Date": None},
    "pdf": {"CreationDate": None, "ModDate": None},
}

_BLUE = "#1f5fa8"
_BLUE_LIGHT = "#7fa7d6"
_GREY = "#6b6b6b"
_TARGET_COLOURS = ("#c0392b", "#d68910", "#1e8449", "#7d3c98")
# A white halo keeps a value label readable where it crosses a line.
_HALO = {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85}


#: matplotlib's settings are one global dict: a thread leaving its rc_context would
#: restore the defaults under another thread still drawing (a gthread worker drawing
#: two PDFs at once failed 3 times in 245 when one read ps.fonttype 3 mid-file).
#: Drawing is CPU-bound under the GIL anyway, so one thread draws at a time.
_STYLE_LOCK = threading.RLock()


#: Whether the thread holding the lock has applied STYLE (nested calls leave it).
_styled = [False]


@contextmanager
def chart_style() -> Iterator[None]:
    """Apply :data:`STYLE` (fonts, font embedding) while building or saving a figure;
    one thread of the process at a time (re-entrant).

    Saves and restores only the settings STYLE changes: ``rc_context`` copies all
    of matplotlib's settings (1,5 ms, a twentieth of a chart) to restore any
    that the code inside might change, and nothing inside changes others.
    """
    with _STYLE_LOCK:
        if _styled[0]:  # an outer chart_style of this thread applied it
            yield
            return
        params = matplotlib.rcParams
        saved = {key: dict.__getitem__(params, key) for key in STYLE}
        params.update(STYLE)
        _styled[0] = True
        try:
            yield
        finally:
            _styled[0] = False
            _lists_in_force[0] = None
            params._update_raw(saved)  # the values as they were, valid already


#: Most labels recur from chart to chart (months, "n=42", "91,4%", tick values, the
#: legend): matplotlib 3.11 shapes a label and renders it glyph by glyph in Python,
#: about 1 ms each, for every chart. Their sizes and their rendered coverage are kept
#: per process, keyed by everything that decides them (the text itself, the font files
#: and size, dpi, angle, hinting, antialiasing), never by the chart that drew them.
_TEXT_CACHE_ITEMS = 4096
_text_sizes: OrderedDict[tuple, tuple[float, float, float]] = OrderedDict()
_text_images: OrderedDict[tuple, tuple[np.ndarray, int, int] | None] = OrderedDict()
_font_heights: OrderedDict[tuple, tuple] = OrderedDict()
#: A label never drawn is mostly made of words and glyphs drawn before (names of
#: communes share "Xã", "Phường", their syllables and digits): each word is shaped
#: once (matplotlib 3.11's shaping costs about 50 µs a character) and each glyph
#: rendered once per position within its pixel, to 1/64 as matplotlib places it.
_words: OrderedDict[tuple, tuple[list, float]] = OrderedDict()
_glyphs: OrderedDict[tuple, tuple] = OrderedDict()
#: Each piece (a word, a digit) rendered at a place within its pixel: its glyphs merged.
_pieces: OrderedDict[tuple, tuple | None] = OrderedDict()
_UNSEEN = object()
#: Each label's glyphs and extent, between its measure and its drawing.
_shapes: OrderedDict[tuple, tuple | None] = OrderedDict()
# The caches are read and written under the drawing lock (every caller of the
# renderer holds chart_style), each bounded to _TEXT_CACHE_ITEMS entries, the
# oldest dropped first: a label takes about 5 KB (its size, image and layout), a
# rendered piece about 1 KB, so about 25 MB per worker at most (6,5 MB after 60
# communes' trends and five new districts' funnels; five districts' pieces: 70 KB).

#: The private text API of matplotlib 3.11 the renderer uses (shaping, one glyph
#: rendered at a place); without it, matplotlib's own text code draws every label.
_FAST_TEXT = all(hasattr(FT2Font, name) for name in ("_layout", "_render_glyph", "_set_transform"))
_PIECES = re.compile(r"\d|\D+")
_FONT_LISTS = ("font.serif", "font.sans-serif", "font.cursive", "font.fantasy", "font.monospace")


def clear_text_caches() -> None:
    """Forget every label measured and rendered so far in this process, as a freshly
    started worker (for benchmarks and tests)."""
    with _STYLE_LOCK:
        for table in (
            _text_sizes,
            _text_images,
            _font_heights,
            _words,
            _glyphs,
            _pieces,
            _shapes,
            _number_boxes,
            _layouts,
            _halo_paths,
        ):
            table.clear()


def _remember(table: OrderedDict, key: tuple, value) -> None:
    table[key] = value
    if len(table) > _TEXT_CACHE_ITEMS:
        table.popitem(last=False)


_rc_value = dict.__getitem__
#: The font lists in force, each set seen given a small number: a key holding the
#: lists themselves (some 70 names) would be hashed again at every lookup.
_font_lists: dict[tuple, int] = {}


#: The number of the font lists in force, read once while chart_style holds the
#: settings (nothing drawn inside changes them): about half of a key's cost.
_lists_in_force: list[int | None] = [None]


def _font_lists_number() -> int:
    if _styled[0] and _lists_in_force[0] is not None:
        return _lists_in_force[0]
    # Read as stored (valid already): rcParams[...] checks every read.
    lists = tuple(tuple(_rc_value(matplotlib.rcParams, name)) for name in _FONT_LISTS)
    number = _font_lists.get(lists)
    if number is None:
        number = _font_lists.setdefault(lists, len(_font_lists))
    if _styled[0]:
        _lists_in_force[0] = number
    return number


#: Each set of font properties seen, given a small number for the caches' keys: a
#: tuple of nine is hashed again at every lookup, and a label takes a dozen.
_font_numbers: dict[tuple, int] = {}


def _font_key(prop) -> int:
    """What decides which font files, size and hinting a label is drawn with, as a
    number: the properties, the families they may name (``sans-serif`` means the list
    in force) and ``text.hinting``."""
    described = (
        tuple(prop.get_family()),
        prop.get_style(),
        prop.get_variant(),
        prop.get_weight(),
        prop.get_stretch(),
        prop.get_size_in_points(),
        prop.get_file(),
        prop.get_math_fontfamily(),
        _font_lists_number(),
        _rc_value(matplotlib.rcParams, "text.hinting"),
    )
    number = _font_numbers.get(described)
    if number is None:
        number = _font_numbers.setdefault(described, len(_font_numbers))
    return number


class _Renderer(RendererAgg):
    """matplotlib's Agg renderer with labels measured and rendered once per process.

    A label is drawn at the nearest whole pixel (matplotlib places it to 1/64 of a
    pixel), so that its rendering at the origin can be copied wherever it recurs: at
    most half a pixel away, which nobody sees. Math text, font features and
    languages go to matplotlib's own code, as do all labels if its private text API
    (``_FAST_TEXT``) is missing.
    """

    def get_text_width_height_descent(self, s, prop, ismath):
        if ismath or not _FAST_TEXT:
            return super().get_text_width_height_descent(s, prop, ismath)
        fonts = _font_key(prop)
        key = (s, fonts, self.dpi)
        size = _text_sizes.get(key)
        if size is None:
            shaped = self._shaped(s, prop, fonts) if s else None
            if shaped is not None and shaped[0]:
                size = shaped[1]
            else:
                size = super().get_text_width_height_descent(s, prop, ismath)
            _remember(_text_sizes, key, size)
        return size

    def _shaped(self, s: str, prop, fonts: int) -> tuple[list, tuple[float, float, float]] | None:
        """The pieces of ``s`` as matplotlib lays them out: (piece, its glyphs, pen),
        each glyph (face, glyph, x, y) in pixels from the piece's origin, the pen
        where that origin sits; and their width, height and descent as matplotlib's
        ``set_text`` measures them. None for text with other white space than plain
        spaces. Kept per process: a label is measured, then drawn.

        Shaped word by word, and digit by digit: DejaVu Sans kerns no pair with a
        space or a digit, so the glyphs sit where shaping the whole line puts them
        (checked against it, tests/test_charts_text.py). ``fonts`` is ``_font_key(prop)``.
        """
        key = (s, fonts, self.dpi)
        if key in _shapes:
            return _shapes[key]
        size, flags = prop.get_size_in_points(), get_hinting_flag()
        shaped = None
        if not any(c.isspace() and c != " " for c in s):
            runs: list = []
            # The extent, in 1/64 pixel: the union of the glyphs' boxes, the origin
            # and the pen's end.
            left, right, bottom, top, pen = 0.0, -math.inf, math.inf, -math.inf, 0.0
            for index, word in enumerate(s.split(" ")):
                # Digits one by one: every count and percentage is new to some chart,
                # and DejaVu Sans kerns no digit (only "T" with "-", ".", ",", ":").
                for piece in _PIECES.findall(word) if index == 0 else (" ", *_PIECES.findall(word)):
                    items, advance, box = self._word(prop, fonts, size, piece, flags)
                    if box is not None:
                        runs.append((piece, items, pen))
                        shift = 64 * pen
                        left = min(left, shift + box[0])
                        right = max(right, shift + box[1])
                        bottom = min(bottom, box[2])
                        top = max(top, box[3])
                    pen += advance
            if runs:
                right = max(right, 64 * pen)
                shaped = (runs, ((right - left) / 64, (top - bottom) / 64, -bottom / 64))
            else:
                shaped = (runs, (0.0, 0.0, 0.0))
        _remember(_shapes, key, shaped)
        return shaped

    def _word(self, prop, fonts: int, size: float, word: str, flags):
        """A word's glyphs (face, glyph, x, y) from its origin, its advance in pixels and
        the union of its glyphs' boxes (left, right, bottom, top) in 1/64 pixel."""
        # fonts is _font_key(prop), size its size in points. Glyphs are
        # kept by font file name, not as matplotlib's font objects: those belong to
        # the thread that asked for them (font_manager.get_font).
        key = (word, fonts, self.dpi)
        shaped = _words.get(key)
        if shaped is None:
            items = [
                (i.ft_object.fname, i.glyph_index, i.x, i.y)
                for i in self._prepare_font(prop)._layout(word, flags=flags)
            ]
            advance, box = 0.0, None
            if items:
                edges = []
                for fname, glyph, x, y in items:
                    x0, y0, x1, y1 = self._glyph(fname, glyph, fonts, size, flags, 0, 0, True)[3]
                    edges.append((64 * x + x0, 64 * x + x1, 64 * y + y0, 64 * y + y1))
                box = (
                    min(e[0] for e in edges),
                    max(e[1] for e in edges),
                    min(e[2] for e in edges),
                    max(e[3] for e in edges),
                )
                fname, glyph, x, _ = items[-1]
                advance = x + self._glyph(fname, glyph, fonts, size, flags, 0, 0, True)[4] / 64
            shaped = (items, advance, box)
            _remember(_words, key, shaped)
        return shaped

    def _glyph(self, fname: str, glyph: int, fonts: int, size, flags, x: int, y: int, antialiased):
        """A glyph rendered at (x, y) in 1/64 pixel: its absorbance (``-log(1 - coverage)``,
        float, what overlapping glyphs add up), left and top in whole pixels, its box
        and hinted advance in 1/64 pixel."""
        # fonts (_font_key) stands for the size and hinting, a number quicker to hash.
        key = (fname, fonts, self.dpi, glyph, x % 64, y % 64, antialiased)
        rendered = _glyphs.get(key)
        if rendered is None:
            face = get_font(fname)
            face.set_size(size, self.dpi)
            identity = np.array([[0x10000, 0], [0, 0x10000]])
            face._set_transform(identity, [0, 0])
            loaded = face.load_glyph(glyph, flags)
            box, advance = loaded.bbox, loaded.horiAdvance
            face._set_transform(identity, [x % 64, y % 64])
            bitmap = face._render_glyph(
                glyph, flags, RenderMode.NORMAL if antialiased else RenderMode.MONO
            )
            coverage = np.asarray(bitmap.buffer, dtype=np.float32)
            rendered = (
                _absorbance(coverage if antialiased else coverage * 255),
                bitmap.left,
                bitmap.top,
                box,
                advance,
            )
            _remember(_glyphs, key, rendered)
        absorbance, left, top, box, advance = rendered
        return absorbance, left + x // 64, top + y // 64, box, advance

    def _get_font_height_metrics(self, prop):
        # matplotlib's hook for a font's ascent, descent and line gap (text.py reads
        # the font's OS/2 or hhea table on every layout of every label otherwise).
        key = (_font_key(prop), self.dpi)
        metrics = _font_heights.get(key)
        if metrics is None:
            font = get_font(fontManager._find_fonts_by_props(prop))
            metrics = (None, None, None)
            for table_name, gap, ascent, descent in (
                ("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
                ("hhea", "lineGap", "ascent", "descent"),
            ):
                table = font.get_sfnt_table(table_name)
                if table is not None:
                    units = font.get_sfnt_table("head")["unitsPerEm"]
                    scale = prop.get_size_in_points() * self.dpi / 72 / units
                    metrics = (table[ascent] * scale, -table[descent] * scale, table[gap] * scale)
                    break
            _remember(_font_heights, key, metrics)
        return metrics

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        special = mtext is not None and (
            mtext.get_fontfeatures() is not None or mtext.get_language() is not None
        )
        if ismath or special or not _FAST_TEXT:
            return super().draw_text(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)
        antialiased = bool(gc.get_antialiased())
        fonts = _font_key(prop)
        key = (s, fonts, self.dpi, angle, antialiased)
        if key in _text_images:
            image = _text_images[key]
        else:
            image = self._label_image(s, prop, fonts, angle, antialiased)
            _remember(_text_images, key, image)
        if image is None:  # nothing to draw (spaces)
            return None
        coverage, left, top = image
        # Whole pixels, y upwards from the bottom as FreeType counts.
        column, row = round(x), round(self.height - y)
        self._renderer.draw_text_image(
            coverage, column + left, int(self.height) - (row + top) + coverage.shape[0], 0, gc
        )
        return None

    def _piece(self, items, fonts, size, flags, at: int, antialiased):
        """A piece's glyphs rendered with its origin ``at`` 1/64 pixels into a pixel,
        as one absorbance image and its left and top in whole pixels; None if blank."""
        glyphs = []
        for fname, glyph, x, y in items:
            absorbance, left, top, _, _ = self._glyph(
                fname, glyph, fonts, size, flags, at + round(0x40 * x), round(0x40 * y), antialiased
            )
            if absorbance.size:
                glyphs.append((absorbance, left, top))
        return _merged(glyphs) if len(glyphs) > 1 else (glyphs[0] if glyphs else None)

    def _label_image(self, s, prop, fonts: int, angle, antialiased):
        """``s`` rendered with its origin at (0, 0) as matplotlib renders it (the same
        glyphs, positions and hinting), merged into one coverage image: each glyph laid
        over the others as the canvas would blend them one after the other."""
        flags = get_hinting_flag()
        size = prop.get_size_in_points()
        shaped = self._shaped(s, prop, fonts) if angle == 0 else None
        pieces = []
        if shaped is not None:
            for piece, items, pen in shaped[0]:
                # The pen is a whole number of 1/64 pixels (advances are), so the
                # piece drawn at its place within a pixel is its glyphs at theirs.
                # Kept per process: a new label is mostly pieces drawn before.
                at = round(0x40 * pen)
                key = (piece, fonts, self.dpi, at % 64, antialiased)
                image = _pieces.get(key, _UNSEEN)
                if image is _UNSEEN:
                    image = self._piece(items, fonts, size, flags, at % 64, antialiased)
                    _remember(_pieces, key, image)
                if image is not None:
                    pieces.append((image[0], image[1] + at // 64, image[2]))
        else:
            # Rotated: few labels (the y axis's, "no responses"), drawn as matplotlib does.
            font = self._prepare_font(prop)
            cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
            matrix = (0x10000 * np.array([[cos, -sin], [sin, cos]])).round().astype(int)
            mode = RenderMode.NORMAL if antialiased else RenderMode.MONO
            for item in font._layout(s, flags=flags):
                face = item.ft_object
                face.set_size(size, self.dpi)
                dx, dy = item.x, item.y
                face._set_transform(
                    matrix,
                    [round(0x40 * (dx * cos - dy * sin)), round(0x40 * (dx * sin + dy * cos))],
                )
                bitmap = face._render_glyph(item.glyph_index, flags, mode)
                coverage = np.asarray(bitmap.buffer, dtype=np.float32)
                if coverage.size:
                    coverage = coverage if antialiased else coverage * 255
                    pieces.append((_absorbance(coverage), bitmap.left, bitmap.top))
        if not pieces:
            return None
        absorbed, left, top = _merged(pieces) if len(pieces) > 1 else pieces[0]
        coverage = np.negative(absorbed)
        np.expm1(coverage, out=coverage)
        return np.rint(coverage * -255.0).astype(np.uint8), left, top


def _merged(pieces: list) -> tuple[np.ndarray, int, int]:
    """Absorbance images (image, left, top) laid over one another, as the canvas blends
    them one after the other: what shows through is the product of what each lets
    through, so their absorbances add up (one addition an image, no temporaries)."""
    left = min(p[1] for p in pieces)
    top = max(p[2] for p in pieces)
    right = max(p[1] + p[0].shape[1] for p in pieces)
    bottom = min(p[2] - p[0].shape[0] for p in pieces)
    absorbed = np.zeros((top - bottom, right - left), dtype=np.float32)
    for image, piece_left, piece_top in pieces:
        rows, columns = image.shape
        row, column = top - piece_top, piece_left - left
        absorbed[row : row + rows, column : column + columns] += image
    return absorbed, left, top


def _absorbance(coverage: np.ndarray) -> np.ndarray:
    """``-log(1 - c)`` of a glyph's coverage ``c`` (0–255); full coverage kept finite
    (it still rounds to 255)."""
    transmitted = np.maximum(1.0 - coverage / np.float32(255.0), np.float32(1e-7))
    return -np.log(transmitted)


class _Canvas(FigureCanvasAgg):
    """The Agg canvas, drawing with :class:`_Renderer`."""

    def get_renderer(self):
        w, h = self.get_width_height(physical=True)
        key = w, h, self.figure.dpi
        if self._lastKey != key:
            self.renderer = _Renderer(w, h, self.figure.dpi)
            self._lastKey = key
        return self.renderer


_measurers: dict[float, _Renderer] = {}


def _measuring(fig: Figure) -> _Renderer:
    """A renderer to measure ``fig``'s texts and boxes with, one per dpi and process:
    sizes do not depend on the canvas, and a canvas of the figure's size is
    megabytes to allocate and clear for each measure."""
    renderer = _measurers.get(fig.dpi)
    if renderer is None:
        renderer = _measurers[fig.dpi] = _Renderer(1, 1, fig.dpi)
    return renderer


#: Laid-out labels (their lines, sizes and offsets from their anchor), by all that
#: decides them, for :class:`_Label`.
_layouts: OrderedDict[tuple, tuple] = OrderedDict()


class _Label(Text):
    """A text whose layout is computed once per process for its text and style.

    matplotlib lays a text out again at every measure and draw (three or four times
    a chart, about 0,1 ms each); the layout is relative to the text's anchor, so
    it holds wherever the text is placed. Only on this module's Agg renderer.
    """

    def _get_layout(self, renderer):
        if not isinstance(renderer, _Renderer) or self.get_usetex() or self.get_wrap():
            return super()._get_layout(renderer)
        key = (
            self.get_text(),
            _font_key(self._fontproperties),
            renderer.dpi,
            self.get_figure(root=True).dpi,
            self.get_rotation(),
            self.get_rotation_mode(),
            self._horizontalalignment,
            self._verticalalignment,
            self._get_multialignment(),
            self._linespacing,
            self.get_parse_math(),
        )
        layout = _layouts.get(key)
        if layout is None:
            layout = super()._get_layout(renderer)
            _remember(_layouts, key, layout)
        return layout


#: Halo outlines at the origin, by style and box: numbers and labels recur, and
#: building the rounded box's path is most of drawing it.
_halo_paths: OrderedDict[tuple, Path] = OrderedDict()


@cache
def _box_style(style: str) -> BoxStyle:
    return BoxStyle(style)


def _draw_halo(renderer, halo: dict, x: float, y: float, box, prop) -> None:
    """The rounded box ``halo`` (as ``Text(bbox=halo)``: its style, face colour and
    alpha, no edge) behind a text anchored at (x, y) whose layout box is ``box``."""
    (box_x, box_y), (box_w, box_h) = box
    scale = renderer.points_to_pixels(prop.get_size_in_points())
    key = (halo["boxstyle"], box_w, box_h, scale)
    path = _halo_paths.get(key)
    if path is None:
        path = _box_style(halo["boxstyle"])(0.0, 0.0, box_w, box_h, scale)
        _remember(_halo_paths, key, path)
    gc = renderer.new_gc()
    gc.set_foreground((0, 0, 0, 0), isRGBA=True)
    gc.set_linewidth(0)
    gc.set_alpha(halo["alpha"])
    renderer.draw_path(
        gc,
        path,
        Affine2D().translate(x + box_x, y + box_y),
        to_rgba(halo["facecolor"], halo["alpha"]),
    )
    gc.restore()


class _Labels(Artist):
    """Texts of one style at many places (an axis's tick labels), as one artist.

    Each is laid out and drawn as a :class:`_Label` would be (the layout of a
    stand-in text, cached per text), without an artist of its own per label:
    creating, clipping and adding a text is about 0,2 ms of matplotlib's
    bookkeeping, a tenth of a trend chart for its 20 tick labels.
    """

    def __init__(
        self,
        positions,
        texts,
        transform,
        *,
        ha: str,
        va: str,
        fontsize,
        color: str | None = None,
        halo: dict | None = None,
    ) -> None:
        super().__init__()
        self.xy = np.asarray(positions, dtype=float).reshape(-1, 2)
        self.texts = list(texts)
        self.color = color if color is not None else matplotlib.rcParams["text.color"]
        self._halo = halo
        self._stamp = _Label(0, 0, "", ha=ha, va=va, fontsize=fontsize, parse_math=False)
        self._layouts: dict = {}
        self.set_transform(transform)
        self.set_clip_on(False)  # beside the axes, as tick labels are

    def _laid_out(self, renderer):
        figure = self.get_figure(root=True)
        # The labels' layouts do not move with them: once per renderer and dpi.
        key = (type(renderer), getattr(renderer, "dpi", None), figure.dpi)
        layouts = self._layouts.get(key)
        if layouts is None:
            self._stamp.set_figure(figure)
            layouts = []
            for text in self.texts:
                self._stamp.set_text(text)
                layouts.append(self._stamp._get_layout(renderer))
            self._layouts = {key: layouts}
        points = self.get_transform().transform(self.xy) if len(self.texts) else []
        for (x, y), layout in zip(points, layouts, strict=True):
            yield x, y, layout

    def extents(self, renderer) -> list:
        """Each label's box in display coordinates."""
        return [bbox.translated(x, y) for x, y, (bbox, _, _) in self._laid_out(renderer)]

    def get_window_extent(self, renderer=None):
        if renderer is None:
            renderer = self.get_figure(root=True)._get_renderer()
        boxes = self.extents(renderer)
        return Bbox.union(boxes) if boxes else Bbox.null()

    def draw(self, renderer):
        if not self.get_visible():
            return
        gc = renderer.new_gc()
        gc.set_foreground(to_rgba(self.color), isRGBA=True)
        gc.set_antialiased(matplotlib.rcParams["text.antialiased"])
        _, height = renderer.get_canvas_width_height()
        prop = self._stamp.get_fontproperties()
        for x, y, (_, lines, box) in self._laid_out(renderer):
            renderer.open_group("text", None)
            if self._halo is not None:
                _draw_halo(renderer, self._halo, x, y, box, prop)
            for line, _, (dx, dy) in lines:
                row = y + dy
                renderer.draw_text(
                    gc, x + dx, height - row if renderer.flipy() else row, line, prop, 0.0
                )
            renderer.close_group("text")
        gc.restore()
        self.stale = False


def _label(parent, x: float, y: float, text: str, **kwargs) -> _Label:
    """A :class:`_Label` added to ``parent`` (axes or figure) as ``ax.text`` would."""
    label = _Label(x, y, text, **{"clip_on": False, "parse_math": False, **kwargs})
    parent.add_artist(label)
    return label


@dataclass(frozen=True)
class TrendPoint:
    """One period of a trend chart.

    Attributes
    ----------
    label : str
        Axis label of the period, e.g. "T3/2025".
    rate : float or None
        Satisfaction rate in [0, 1]; None when the period has no valid answers.
    low, high : float or None
        95 % interval of the rate; None to draw the rate without an interval.
    n : int
        Number of valid answers (shown under the label).
    """

    label: str
    rate: float | None
    low: float | None
    high: float | None
    n: int


def format_percent(value: float, digits: int = 1, *, decimal_comma: bool = True) -> str:
    """A fraction as a percentage: ``0.914`` → "91,4%" (or "91.4%").

    Whole percentages drop the decimals: ``0.9`` → "90%".

    Examples
    --------
    >>> format_percent(0.914), format_percent(0.9), format_percent(0.998, decimal_comma=False)
    ('91,4%', '90%', '99.8%')
    """
    return _percent_text(value * 100.0, digits, decimal_comma)


def _percent_text(points: float, digits: int, decimal_comma: bool) -> str:
    rounded = round(points, digits)
    text = f"{rounded:.0f}" if float(rounded).is_integer() else f"{rounded:.{digits}f}"
    if text == "-0":
        text = "0"
    return (text.replace(".", ",") if decimal_comma else text) + "%"


#: Space kept free around the drawing and between the axes and the legend, in inches
#: (constrained layout's default padding).
_PAD = 3 / 72


def _lay_out(
    fig: Figure, ax, legend_top: float, *, anchored=(), min_axes_height: float = 0.0
) -> None:
    """Place the axes so that its labels, title and the legend below it (whose top is
    ``legend_top`` inches above the figure's bottom) fit the figure.

    The decorations are measured once on an Agg renderer and the axes set
    where they leave room, in figure fractions (valid at any dpi): no layout
    engine runs at drawing time, so every save of the figure gives the same
    bytes. Constrained layout did the same in three full passes over every
    artist, most of a chart's time. Tick labels, axis labels and title keep
    their distance to the axes wherever it goes (fixed tick positions), so they
    are measured once; only the ``anchored`` texts (at data positions: the value
    labels beside the last points) are measured again once the axes has moved.
    With ``min_axes_height`` (inches) the figure grows taller rather than squeeze
    the axes under a long legend.
    """
    renderer = _measuring(fig)
    pad = _PAD * fig.dpi
    legend_top *= fig.dpi
    for text in anchored:
        text.set_in_layout(False)
    box = ax.get_window_extent(renderer)
    tight = ax.get_tightbbox(renderer)
    for text in anchored:
        text.set_in_layout(True)
    beyond = (box.x0 - tight.x0, tight.x1 - box.x1, box.y0 - tight.y0, tight.y1 - box.y1)
    for _ in range(2 if anchored else 1):
        width, height = fig.get_size_inches() * fig.dpi
        box = ax.get_window_extent(renderer)
        left, right, below, above = beyond
        for text in anchored:
            extent = text.get_window_extent(renderer)
            left, right = max(left, box.x0 - extent.x0), max(right, extent.x1 - box.x1)
            below, above = max(below, box.y0 - extent.y0), max(above, extent.y1 - box.y1)
        x0, x1 = pad + left, width - pad - right
        y0, y1 = legend_top + pad + below, height - pad - above
        short = min_axes_height * fig.dpi - (y1 - y0)
        if short > 0.5:
            # Grow the figure downwards: the legend stays anchored at the bottom.
            fig.set_size_inches(width / fig.dpi, (height + short) / fig.dpi)
            renderer = _measuring(fig)
            height += short
            y1 += short
        ax.set_position([x0 / width, y0 / height, (x1 - x0) / width, (y1 - y0) / height])


def _legend(fig: Figure, handles, *, ncols: int, bottom: float = 0.0) -> float:
    """A legend of ``handles`` (lines and markers with their labels) centred above
    ``bottom`` (inches from the figure's bottom), laid out as matplotlib's
    ``fig.legend(loc="lower center", frameon=False)`` lays it out; its top, in inches.

    Plain lines and texts at fixed places: a ``Legend`` packs its boxes again at
    every measure and draw, which moves every transform under it (a seventh of a
    trend chart, a quarter of a funnel). Columns are filled top to bottom, the
    first ones one entry longer; sizes in the legend's font size: handles 2
    long and 0,7 high, 0,8 from their text, columns 2 apart, rows 0,5, padding
    0,4 inside and 0,5 outside (matplotlib's rcParams).
    """
    rc = matplotlib.rcParams
    props = FontProperties(size=rc["legend.fontsize"])
    em = props.get_size_in_points() / 72
    renderer = _measuring(fig)
    inch = fig.dpi_scale_trans
    # Each text's ascent and descent as a legend's text area measures it (at least
    # the ascent of "lp"), and its width, in inches.
    lp_height, lp_descent = renderer.get_text_width_height_descent("lp", props, False)[1:]
    entries = []
    for handle in handles:
        text = _label(fig, 0, 0, handle.get_label(), transform=inch, fontproperties=props)
        box = text.get_window_extent(renderer)
        ascent = max(box.y1, lp_height - lp_descent) / fig.dpi
        entries.append(
            (
                handle,
                text,
                box.width / fig.dpi,
                max(ascent, rc["legend.handleheight"] * em),
                max(-box.y0 / fig.dpi, 0.0),
            )
        )
    rows, longer = divmod(len(entries), ncols)
    columns, start = [], 0
    for count in [rows + 1] * longer + [rows] * (ncols - longer):
        if count:
            columns.append(entries[start : start + count])
            start += count
    handle_length = rc["legend.handlelength"] * em
    text_gap = rc["legend.handletextpad"] * em
    row_gap = rc["legend.labelspacing"] * em
    pad = rc["legend.borderpad"] * em
    widths = [max(handle_length + text_gap + e[2] for e in column) for column in columns]
    # Every column hangs from its first row's baseline; the lowest column decides the box.
    depths = [
        sum(e[3] + e[4] for e in column) + row_gap * (len(column) - 1) - column[0][3]
        for column in columns
    ]
    baseline = bottom + rc["legend.borderaxespad"] * em + pad + max(depths, default=0.0)
    total = sum(widths) + rc["legend.columnspacing"] * em * (len(columns) - 1)
    x = (fig.get_figwidth() - total) / 2
    for column, width in zip(columns, widths, strict=True):
        y = baseline
        for index, (handle, text, _, ascent, _) in enumerate(column):
            if index:
                y -= column[index - 1][4] + row_gap + ascent
            middle = y + rc["legend.handleheight"] * em / 2
            # The handle's look (update_from also copies its transform and clipping).
            line = Line2D([x, x + handle_length], [middle, middle])
            line.update_from(handle)
            parts = [line]
            if handle.get_marker() not in (None, "None", "", " "):
                # A marker stands alone in the middle of its handle (legend.numpoints 1).
                marker = Line2D([x + handle_length / 2], [middle])
                marker.update_from(handle)
                marker.set_linestyle("None")
                line.set_marker("None")
                parts.append(marker)
            for part in parts:
                part.set_transform(inch)
                part.set_clip_on(False)
                fig.add_artist(part)
            text.set_position((x + handle_length + text_gap, y))
        x += width + rc["legend.columnspacing"] * em
    return baseline + max((column[0][3] for column in columns), default=0.0) + pad


def _key_columns(fig: Figure, rows: list[str], columns: int = 3) -> float:
    """Write ``rows`` in up to ``columns`` columns of text at the bottom of the figure,
    centred, filled column by column; the top of the block, in inches from the bottom.

    One text per column rather than a legend entry per row: a legend lays out
    each entry as boxes of its own, most of a 100-commune funnel's time.
    """
    if not rows:
        return _PAD
    per_column = -(-len(rows) // columns)
    renderer = _measuring(fig)
    texts = []
    for start in range(0, len(rows), per_column):
        text = _label(
            fig,
            0,
            0,
            "\n".join(rows[start : start + per_column]),
            transform=fig.dpi_scale_trans,
            va="top",
            ha="left",
            fontsize=matplotlib.rcParams["legend.fontsize"],
            parse_math=False,
        )
        texts.append((text, text.get_window_extent(renderer)))
    gap = 2.0 * texts[0][0].get_fontsize() / 72.0
    widths = [box.width / fig.dpi for _, box in texts]
    height = max(box.height for _, box in texts) / fig.dpi
    x = (fig.get_figwidth() - sum(widths) - gap * (len(texts) - 1)) / 2
    top = 2 * _PAD + height
    for (text, _), width in zip(texts, widths, strict=True):
        text.set_position((x, top))
        x += width + gap
    return top


def _check_fraction(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise ValueError(f"{name} ({value!r}) must be a number in [0, 1]")
    result = float(value)
    if not (math.isfinite(result) and 0.0 <= result <= 1.0):
        raise ValueError(f"{name} ({value!r}) must be in [0, 1]")
    return result


def _check_count(value: object, name: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} ({value!r}) must be an integer >= {minimum}")
    return int(value)


def _check_points(points: Sequence[TrendPoint]) -> list[TrendPoint]:
    if isinstance(points, str | bytes) or not isinstance(points, Sequence):
        raise ValueError(f"points ({points!r}) must be a sequence of TrendPoint")
    checked = []
    for i, point in enumerate(points):
        if not isinstance(point, TrendPoint):
            raise ValueError(f"points[{i}] ({point!r}) must be a TrendPoint")
        _check_count(point.n, f"points[{i}].n")
        if point.rate is None:
            checked.append(point)
            continue
        rate = _check_fraction(point.rate, f"points[{i}].rate")
        for name in ("low", "high"):
            value = getattr(point, name)
            if value is not None:
                _check_fraction(value, f"points[{i}].{name}")
        if (point.low is None) != (point.high is None):
            raise ValueError(f"points[{i}] ({point!r}) must give both low and high, or neither")
        if point.low is not None and not point.low <= rate <= point.high:
            raise ValueError(f"points[{i}] ({point!r}) must have low <= rate <= high")
        checked.append(point)
    return checked


def _check_targets(targets: Sequence[tuple[str, float]]) -> list[tuple[str, float]]:
    if isinstance(targets, str | bytes) or not isinstance(targets, Sequence):
        raise ValueError(f"targets ({targets!r}) must be a sequence of (label, rate) pairs")
    checked = []
    for i, target in enumerate(targets):
        if not (isinstance(target, tuple | list) and len(target) == 2):
            raise ValueError(f"targets[{i}] ({target!r}) must be a (label, rate) pair")
        checked.append((str(target[0]), _check_fraction(target[1], f"targets[{i}] rate")))
    return checked


def _lower_limit(values: Sequence[float]) -> float:
    """Bottom of the y axis in percent points: 5 below the lowest value, down to a multiple of 5."""
    if not values:
        return 0.0
    return max(0.0, 5.0 * math.floor((min(values) * 100.0 - 5.0) / 5.0))


def _percent_ticks(bottom: float) -> tuple[float, list[float]]:
    """The top of a percent axis starting at ``bottom``, and its ticks (as matplotlib's
    ``MaxNLocator`` would place them, 8 intervals at most, within the axis)."""
    top = 100.0 + 0.03 * (100.0 - bottom)
    values = MaxNLocator(nbins=8, steps=[1, 2, 2.5, 5, 10]).tick_values(bottom, top)
    return top, [float(v) for v in values if bottom - 1e-9 <= v <= top + 1e-9]


#: Length of a tick and the gap between it and its label, in points (matplotlib's).
_TICK = 3.5
#: Gap between the tick labels and the axis label, in points (matplotlib's labelpad).
_LABEL_PAD = 4.0
#: Gap between the axes and the title, in points (matplotlib's axes.titlepad).
_TITLE_PAD = 6.0


def _fixed_axes(
    ax,
    x: Sequence[tuple[float, str]],
    y: Sequence[tuple[float, str]],
    *,
    x_size: float = 10.0,
    xlabel: str | None = None,
    ylabel: str | None = None,
    title: str = "",
) -> None:
    """Ticks, tick labels, horizontal grid, axis labels and title at fixed places.

    What matplotlib's axes would draw, built directly: its tick machinery makes
    two lines and two texts per tick, places the labels and the title by
    measuring them on every draw, and was most of what a chart cost once the
    text was cached. The ticks here are ``Line2D`` markers, the labels plain
    texts offset by the tick and its pad, the axis labels placed beyond the
    widest tick label, the title 6 points above the axes, as matplotlib does.
    """
    fig = ax.get_figure()
    ax.xaxis.set_major_locator(NullLocator())
    ax.yaxis.set_major_locator(NullLocator())
    below = ScaledTranslation(0, -2 * _TICK / 72, fig.dpi_scale_trans)
    left = ScaledTranslation(-2 * _TICK / 72, 0, fig.dpi_scale_trans)
    x_axis, y_axis = ax.get_xaxis_transform(), ax.get_yaxis_transform()
    tick = {"color": "black", "linestyle": "", "markersize": _TICK, "markeredgewidth": 0.8}
    for line in (
        Line2D([p for p, _ in x], [0] * len(x), transform=x_axis, marker=TICKDOWN, **tick),
        Line2D([0] * len(y), [p for p, _ in y], transform=y_axis, marker=TICKLEFT, **tick),
    ):
        line.set_clip_on(False)
        ax.add_artist(line)
    grid = LineCollection(
        [[(0, p), (1, p)] for p, _ in y], transform=y_axis, colors="#dddddd", linewidths=0.8
    )
    grid.set_zorder(0.5)  # below the data, as set_axisbelow(True) puts matplotlib's grid
    ax.add_collection(grid, autolim=False)
    x_texts = _Labels(
        [(position, 0) for position, _ in x],
        [label for _, label in x],
        x_axis + below,
        ha="center",
        va="top",
        fontsize=x_size,
    )
    y_texts = _Labels(
        [(0, position) for position, _ in y],
        [label for _, label in y],
        y_axis + left,
        ha="right",
        va="center_baseline",
        fontsize=matplotlib.rcParams["ytick.labelsize"],
    )
    ax.add_artist(x_texts)
    ax.add_artist(y_texts)
    # The axis labels clear the tick labels' boxes as matplotlib measures them
    # (each line at least the font's ascent and descent).
    renderer = _measuring(fig)
    if ylabel is not None:
        widest = max((b.width for b in y_texts.extents(renderer)), default=0.0)
        pad = 2 * _TICK + _LABEL_PAD + widest * 72 / fig.dpi
        ax.set_ylabel(ylabel, labelpad=pad, parse_math=False)
    if xlabel is not None:
        tallest = max((b.height for b in x_texts.extents(renderer)), default=0.0)
        pad = 2 * _TICK + _LABEL_PAD + tallest * 72 / fig.dpi
        ax.set_xlabel(xlabel, labelpad=pad, parse_math=False)
    _label(
        ax,
        0,
        1,
        title,
        transform=ax.transAxes + ScaledTranslation(0, _TITLE_PAD / 72, fig.dpi_scale_trans),
        ha="left",
        va="baseline",
        fontsize=matplotlib.rcParams["axes.titlesize"],
        fontweight=matplotlib.rcParams["axes.titleweight"],
        parse_math=False,
    )


def trend_chart(
    points: Sequence[TrendPoint],
    targets: Sequence[tuple[str, float]],
    title: str,
    *,
    ylabel: str = "Tỷ lệ hài lòng",
    decimal_comma: bool = True,
    no_data_label: str = "chưa có phiếu",
    series_label: str = "Tỷ lệ hài lòng (KTC 95%)",
    figsize: tuple[float, float] = (10.0, 5.0),
) -> Figure:
    """A rate per period (dots with 95 % interval bars) against target lines.

    Parameters
    ----------
    points : sequence of TrendPoint
        The periods in order, e.g. the last 12 months.
    targets : sequence of (str, float)
        Target lines as (label, rate), e.g. ``[("Mục tiêu 90%", 0.9)]``.
    title : str
        Chart title.
    ylabel : str, optional
        Label of the y axis.
    decimal_comma : bool, optional
        Write "91,4%" (Vietnamese) rather than "91.4%".
    no_data_label : str, optional
        Shown, in grey, in the slot of a period without answers.
    series_label : str, optional
        Legend entry of the dots and bars.
    figsize : (float, float), optional
        Size in inches; the default 10 × 5 fits A4 landscape.

    Returns
    -------
    Figure
        Not attached to pyplot, already laid out (see Notes); pass it to :func:`render`.

    Raises
    ------
    ValueError
        A rate or bound outside [0, 1], ``low <= rate <= high`` violated, a
        negative ``n``, or a malformed target.

    Notes
    -----
    Each tick reads "label\\nn=42", so a small month's wide interval is
    explained on the chart itself. The y axis starts 5 points below the lowest
    interval bound or target (rounded down to a multiple of 5) and ends at 100 %.
    The layout is computed once and then fixed, so every :func:`render` of the
    figure gives the same bytes; resizing it afterwards does not re-flow it.
    """
    points = _check_points(points)
    targets = _check_targets(targets)
    with chart_style():
        fig = Figure(figsize=figsize)
        ax = fig.add_subplot()
        data = [(x, p) for x, p in enumerate(points) if p.rate is not None]
        empty = [x for x, p in enumerate(points) if p.rate is None]
        bottom = _lower_limit(
            [p.low if p.low is not None else p.rate for _, p in data] + [v for _, v in targets]
        )
        top, y_ticks = _percent_ticks(bottom)
        ax.set_ylim(bottom, top)

        handles = []
        value_labels = []
        if data:
            xs = np.array([x for x, _ in data], dtype=float)
            ys = np.array([p.rate for _, p in data], dtype=float) * 100.0
            lows = np.array([p.rate if p.low is None else p.low for _, p in data]) * 100.0
            highs = np.array([p.rate if p.high is None else p.high for _, p in data]) * 100.0
            # What ax.errorbar(fmt="o", capsize=4, elinewidth=2.5) draws, as artists
            # added directly: the bars, a cap ("_", 8 points) at each end, the dots
            # just above them (zorder 3.1); errorbar also computes data limits,
            # containers and styles, about 2 ms, and the limits are set below.
            bars = LineCollection(
                [[(x, low), (x, high)] for x, low, high in zip(xs, lows, highs, strict=True)],
                colors=_BLUE_LIGHT,
                linewidths=2.5,
                zorder=3,
            )
            bars.set_clip_on(False)
            ax.add_collection(bars, autolim=False)
            for ends in (lows, highs):
                ax.add_artist(
                    Line2D(
                        xs,
                        ends,
                        marker="_",
                        markersize=8,
                        linestyle="None",
                        color=_BLUE,
                        markeredgecolor=_BLUE_LIGHT,
                        zorder=3,
                        clip_on=False,
                    )
                )
            ax.add_artist(
                Line2D(
                    xs,
                    ys,
                    marker="o",
                    markersize=7,
                    linestyle="None",
                    color=_BLUE,
                    zorder=3.1,
                    clip_on=False,
                )
            )
            # Plain texts offset 7 points right of their dots: an annotation does
            # the same with a hit test of its point against the axes at every measure.
            beside = ax.transData + ScaledTranslation(7 / 72, 0, fig.dpi_scale_trans)
            values = _Labels(
                np.column_stack([xs, ys]),
                [_percent_text(y, 1, decimal_comma) for y in ys],
                beside,
                ha="left",
                va="center",
                fontsize=8.5,
                color=_BLUE,
                halo=_HALO,
            )
            values.set_zorder(3)  # over the bars, as texts are
            ax.add_artist(values)
            value_labels.append(values)
        handles.append(
            Line2D([], [], color=_BLUE, marker="o", markersize=7, linestyle="", label=series_label)
        )
        for x in empty:
            # What ax.axvspan draws, without its data limits (set below).
            ax.add_artist(
                Rectangle(
                    (x - 0.4, 0),
                    0.8,
                    1,
                    transform=ax.get_xaxis_transform(),
                    color="#f2f2f2",
                    zorder=0,
                )
            )
            _label(
                ax,
                x,
                bottom + 0.5 * (100.0 - bottom),
                no_data_label,
                parse_math=False,
                rotation=90,
                ha="center",
                va="center",
                color=_GREY,
                fontsize=9,
                fontstyle="italic",
            )
        for i, (label, value) in enumerate(targets):
            colour = _TARGET_COLOURS[i % len(_TARGET_COLOURS)]
            line = Line2D(
                [0, 1],
                [value * 100.0] * 2,
                transform=ax.get_yaxis_transform(),
                color=colour,
                linestyle="--",
                linewidth=1.4,
                label=label,
            )
            ax.add_artist(line)  # as ax.axhline, without its data limits
            handles.append(line)

        ax.set_xlim(-0.6, max(len(points), 1) - 0.4)
        _fixed_axes(
            ax,
            [(x, f"{p.label}\nn={p.n}") for x, p in enumerate(points)],
            [(v, _percent_text(v, 1, decimal_comma)) for v in y_ticks],
            x_size=9,
            ylabel=ylabel,
            title=title,
        )
        legend_top = _legend(fig, handles, ncols=len(handles))
        _lay_out(fig, ax, legend_top, anchored=value_labels)
    return fig


def _count_ticks(right: float) -> list[tuple[float, str]]:
    """Ticks of an axis of counts from 0 to ``right``, placed and written as matplotlib's
    default locator and formatter would on a chart's width (at most 9 intervals)."""
    values = [
        float(v)
        for v in MaxNLocator(nbins=9, steps=[1, 2, 2.5, 5, 10]).tick_values(0.0, right)
        if -1e-9 <= v <= right + 1e-9
    ]
    formatter = ScalarFormatter()
    formatter.create_dummy_axis()
    formatter.axis.set_view_interval(0.0, right)
    return list(zip(values, formatter.format_ticks(values), strict=True))


#: Boxes of the numbers beside funnel points, measured once per process.
_number_boxes: OrderedDict[tuple, tuple[float, float, float, float]] = OrderedDict()


class _NumberedPoints(Artist):
    """A dot per unit and its number a few points up and to the right, on a white halo.

    What a ``Line2D`` and an ``annotate`` per unit drew (the same marker, text and
    rounded box, in the same order), as one artist: those are about 0,6 ms per unit
    of matplotlib's bookkeeping, most of a 100-commune funnel. In SVG each dot is
    still a group ``unit-<number>`` (its tooltip hangs on it). Not part of the
    layout: the numbers stay within the axes' margins.
    """

    def __init__(self, xs, ys, colours, *, markersize=7.0, fontsize=8.0, offset=(5.0, 3.0)):
        super().__init__()
        self.xy = np.column_stack([np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)])
        self.colours = list(colours)
        self._markersize = markersize
        self._offset = offset
        self._prop = FontProperties(size=fontsize, weight="bold")
        # Measures a number's halo as matplotlib's own text would lay it out.
        self._stamp = Text(0, 0, "", fontproperties=self._prop, bbox=_HALO, parse_math=False)
        self.set_zorder(3)
        self.set_in_layout(False)

    def _box(self, renderer, text: str):
        fig = self.get_figure(root=True)
        key = (type(renderer).__name__, text, _font_key(self._prop), fig.dpi)
        box = _number_boxes.get(key)
        if box is None:
            self._stamp.set_figure(fig)
            self._stamp.set_text(text)
            _, _, ((x, y), (w, h)) = self._stamp._get_layout(renderer)
            box = (x, y, w, h)
            _remember(_number_boxes, key, box)
        return box

    def draw(self, renderer):
        if not self.get_visible():
            return
        points = self.axes.transData.transform(self.xy)
        marker = MarkerStyle("o")
        size = renderer.points_to_pixels(self._markersize)
        marker_path = marker.get_path()
        marker_trans = marker.get_transform().scale(size)
        snap = size >= marker.get_snap_threshold()
        dx, dy = (renderer.points_to_pixels(v) for v in self._offset)
        _, height = renderer.get_canvas_width_height()
        # One graphics context for the dots and one for the numbers, their colour set
        # per unit: three new ones per unit were a tenth of the artist's time.
        dot = renderer.new_gc()
        dot.set_linewidth(matplotlib.rcParams["lines.markeredgewidth"])
        dot.set_snap(snap)
        dot.set_joinstyle(marker.get_joinstyle())
        dot.set_capstyle(marker.get_capstyle())
        ink = renderer.new_gc()
        ink.set_antialiased(matplotlib.rcParams["text.antialiased"])
        identity, colours = IdentityTransform(), {}
        for number, ((x, y), colour) in enumerate(zip(points, self.colours, strict=True), 1):
            rgba = colours.get(colour)
            if rgba is None:
                rgba = colours[colour] = to_rgba(colour)
            renderer.open_group("line2d", f"unit-{number}")
            dot.set_foreground(rgba, isRGBA=True)
            renderer.draw_markers(dot, marker_path, marker_trans, Path([[x, y]]), identity, rgba)
            renderer.close_group("line2d")

            text = str(number)
            box_x, box_y, box_w, box_h = self._box(renderer, text)
            x_text, y_text = x + dx, y + dy
            renderer.open_group("text", None)
            box = ((box_x, box_y), (box_w, box_h))
            _draw_halo(renderer, _HALO, x_text, y_text, box, self._prop)
            ink.set_foreground(rgba, isRGBA=True)
            renderer.draw_text(
                ink,
                x_text,
                height - y_text if renderer.flipy() else y_text,
                text,
                self._prop,
                0.0,
                ismath=False,
            )
            renderer.close_group("text")
        dot.restore()
        ink.restore()
        self.stale = False


def _check_limits(limits) -> np.ndarray:
    """The limits as an array sorted by n, each row checked; a ValueError names the
    first row that is not (n >= 1, four fractions)."""
    if isinstance(limits, str | bytes) or not isinstance(limits, Sequence) or not limits:
        raise ValueError(f"limits ({limits!r}) must be a non-empty sequence of 5-tuples")
    # Rows of plain ints and floats (what the district view passes, a few hundred)
    # checked as one array; anything else row by row, which names the bad row.
    if all(type(row) in (tuple, list) and len(row) == 5 for row in limits) and {
        type(v) for row in limits for v in row[1:]
    } <= {float, int}:
        table = np.array(limits, dtype=float)
        n, bounds = table[:, 0], table[:, 1:]
        if (
            all(type(row[0]) is int for row in limits)
            and (n >= 1).all()
            and ((bounds >= 0.0) & (bounds <= 1.0)).all()  # NaN fails both
        ):
            return table[np.lexsort(table.T[::-1])]  # as sorted(rows)
    rows = []
    for i, row in enumerate(limits):
        if not (isinstance(row, tuple | list) and len(row) == 5):
            raise ValueError(f"limits[{i}] ({row!r}) must be (n, low95, high95, low998, high998)")
        n = _check_count(row[0], f"limits[{i}] n", minimum=1)
        rows.append([n] + [_check_fraction(v, f"limits[{i}] bound") for v in row[1:]])
    table = np.array(sorted(rows), dtype=float)
    return table


def funnel_chart(
    points: Sequence[tuple[str, int, float]],
    target: float,
    limits: Sequence[tuple[int, float, float, float, float]],
    title: str,
    *,
    decimal_comma: bool = True,
    xlabel: str = "Số phiếu hợp lệ (n)",
    ylabel: str = "Tỷ lệ hài lòng",
    target_label: str | None = None,
    limit_labels: tuple[str, str] = ("Giới hạn 95%", "Giới hạn 99,8%"),
    figsize: tuple[float, float] = (10.0, 6.0),
    zones: Sequence[str] | None = None,
    zone_labels: dict[str, str] | None = None,
    steps: bool = False,
) -> Figure:
    """A funnel plot: each unit's rate against its number of answers, around a target.

    Every point is numbered, and the legend names each number's unit (and, with
    ``zone_labels``, each colour), so every dot can be identified on paper.

    Parameters
    ----------
    points : sequence of (str, int, float)
        (label, n, rate) for each commune; ``n >= 1``.
    target : float
        The target rate in [0, 1].
    limits : sequence of (int, float, float, float, float)
        The funnel: (n, low95, high95, low998, high998) on a grid of n, e.g.
        from :func:`survey.stats.funnel_limits` called at 0.95 and 0.998.
    title : str
        Chart title.
    decimal_comma : bool, optional
        Write "91,4%" rather than "91.4%".
    xlabel, ylabel, target_label, limit_labels : str, optional
        Axis and legend text; ``target_label`` defaults to "Mục tiêu 90%".
    figsize : (float, float), optional
        Size in inches.
    zones : sequence of str, optional
        Per point, where it lies: "above998", "below998", "above95", "below95"
        or "inside", from an exact binomial test of its own counts. Without it
        the points are compared with the drawn (interpolated) limits, which can
        flag a small unit at 100 % that no exact test would.
    zone_labels : dict of str, optional
        Legend text for the colours: keys "outside998", "outside95", "inside".
    steps : bool, optional
        Draw the limits as steps (one per whole n, e.g. from
        :func:`survey.stats.funnel_steps`), so a point lies beyond a drawn line
        exactly when its exact class says so.

    Returns
    -------
    Figure

    Notes
    -----
    The 99.8 % limits at each unit's own n are interpolated linearly on the
    grid (include the units' n in the grid for exact limits). Units outside
    them are drawn red (below) or green (above) and labelled; units between the
    95 % and 99.8 % limits are orange; the rest blue (Spiegelhalter 2005).
    """
    target = _check_fraction(target, "target")
    grid = _check_limits(limits)
    if isinstance(points, str | bytes) or not isinstance(points, Sequence):
        raise ValueError(f"points ({points!r}) must be a sequence of (label, n, rate)")
    units = []
    for i, point in enumerate(points):
        if not (isinstance(point, tuple | list) and len(point) == 3):
            raise ValueError(f"points[{i}] ({point!r}) must be (label, n, rate)")
        units.append(
            (
                str(point[0]),
                _check_count(point[1], f"points[{i}] n", minimum=1),
                _check_fraction(point[2], f"points[{i}] rate"),
            )
        )
    if target_label is None:
        target_label = "Mục tiêu " + format_percent(target, decimal_comma=decimal_comma)

    with chart_style():
        fig = Figure(figsize=figsize)
        ax = fig.add_subplot()
        ns = grid[:, 0]
        style = {"drawstyle": "steps-mid"} if steps else {}
        # Lines added as artists: ax.plot and ax.axhline would also compute the data
        # limits of every step of the funnel, and the axes' limits are set below.
        for column, colour, width, label in (
            (1, _GREY, 1.0, limit_labels[0]),
            (2, _GREY, 1.0, None),
            (3, "#333333", 1.3, limit_labels[1]),
            (4, "#333333", 1.3, None),
        ):
            line = Line2D(
                ns,
                grid[:, column] * 100,
                color=colour,
                linestyle="--" if colour == _GREY else "-",
                linewidth=width,
                label=label,
                **style,
            )
            ax.add_artist(line)
        ax.add_artist(
            Line2D(
                [0, 1],
                [target * 100] * 2,
                transform=ax.get_yaxis_transform(),
                color=_TARGET_COLOURS[0],
                linewidth=1.4,
                label=target_label,
            )
        )

        titles: dict[str, str] = {}
        xs, ys, colours = [], [], []
        for index, (label, n, rate) in enumerate(units):
            low95, high95 = np.interp(n, ns, grid[:, 1]), np.interp(n, ns, grid[:, 2])
            low998, high998 = np.interp(n, ns, grid[:, 3]), np.interp(n, ns, grid[:, 4])
            zone = zones[index] if zones is not None else None
            below998 = zone == "below998" if zone else rate < low998
            above998 = zone == "above998" if zone else rate > high998
            outside95 = zone in ("below95", "above95") if zone else (rate < low95 or rate > high95)
            if below998 or above998:
                colour = "#c0392b" if below998 else "#1e8449"
            elif outside95:
                colour = "#d68910"
            else:
                colour = _BLUE
            xs.append(n)
            ys.append(rate * 100)
            colours.append(colour)
            titles[f"unit-{index + 1}"] = (
                f"{index + 1}. {label}: {format_percent(rate, decimal_comma=decimal_comma)}, n={n}"
            )
        ax.add_artist(_NumberedPoints(xs, ys, colours))
        if zone_labels:
            for key, colour in (
                ("outside998", "#c0392b"),
                ("outside95", "#d68910"),
                ("inside", _BLUE),
            ):
                if key in zone_labels:
                    ax.plot([], [], "o", color=colour, label=zone_labels[key])

        bottom = _lower_limit([r for _, _, r in units] + [target])
        top, y_ticks = _percent_ticks(max(0.0, bottom - 5.0))
        ax.set_ylim(max(0.0, bottom - 5.0), top)
        largest = max([n for _, n, _ in units] + [int(ns.max())])
        ax.set_xlim(0, largest * 1.05)
        _fixed_axes(
            ax,
            _count_ticks(largest * 1.05),
            [(v, _percent_text(v, 1, decimal_comma)) for v in y_ticks],
            xlabel=xlabel,
            ylabel=ylabel,
            title=title,
        )
        # The key ("1  Xã A") in three columns of text at the bottom, the legend of
        # lines and colours above it. A district's key of 100 communes takes 34
        # rows: the figure grows for it rather than squeeze the axes.
        key_top = _key_columns(
            fig, [f"{index + 1}  {label}" for index, (label, _, _) in enumerate(units)]
        )
        labelled = [line for line in ax.lines if not str(line.get_label() or "_").startswith("_")]
        legend_top = _legend(fig, labelled, ncols=3, bottom=key_top)
        _lay_out(fig, ax, legend_top, min_axes_height=0.55 * figsize[1])
    fig.svg_titles = titles  # each point's name and figures, as SVG tooltips
    return fig


def render(fig: Figure, fmt: str, *, dpi: int = 100) -> bytes:
    """The figure as PNG, SVG or PDF bytes.

    Parameters
    ----------
    fig : Figure
        A figure from this module (or any pyplot-free figure).
    fmt : {"png", "svg", "pdf"}
        Output format.
    dpi : int, optional
        Resolution of PNG output: the image is ``figsize × dpi`` pixels.

    Returns
    -------
    bytes

    Raises
    ------
    ValueError
        Unknown ``fmt`` or non-positive ``dpi``.

    Notes
    -----
    No creation date or software version is written, so the same figure gives
    the same bytes (useful for caching and tests). SVG text is converted to
    paths; PDF embeds DejaVu Sans as TrueType so its text is extractable.
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt ({fmt!r}) must be one of 'png', 'svg', 'pdf'")
    if isinstance(dpi, bool) or not isinstance(dpi, int | float) or not dpi > 0:
        raise ValueError(f"dpi ({dpi!r}) must be a positive number")
    if fmt == "pdf":
        lean_pdf_fonts()
    if fmt == "png":
        with chart_style():
            return _png(_drawn(fig, dpi), dpi)
    buffer = BytesIO()
    with chart_style():
        fig.savefig(buffer, format=fmt, dpi=dpi, metadata=_METADATA[fmt])
    data = buffer.getvalue()
    titles = getattr(fig, "svg_titles", None)
    if fmt == "svg" and titles:
        data = _with_titles(data, titles)
    return data


def pixels(fig: Figure, *, dpi: int = 100) -> np.ndarray:
    """The figure drawn at ``dpi``, as an RGB array: the pixels of :func:`render`'s PNG,
    without encoding and decoding a PNG in between (for a figure placed in a document)."""
    with chart_style():
        rgba = _drawn(fig, dpi)
        return _rgb_rows(rgba).reshape(rgba.shape[0], rgba.shape[1], 3)


@cache
def _rgb_columns(width: int) -> np.ndarray:
    """Where each byte of an RGB row is in the RGBA row (alpha left out)."""
    return np.arange(width * 4, dtype=np.intp).reshape(width, 4)[:, :3].ravel()


def _rgb_rows(rgba: np.ndarray) -> np.ndarray:
    """An RGBA canvas as contiguous RGB rows, (height, width × 3): gathered a row of
    indices at a time, three to four times faster than numpy copying a
    three-byte-wide slice."""
    height, width, _ = rgba.shape
    return rgba.reshape(height, width * 4).take(_rgb_columns(width), axis=1)


def _drawn(fig: Figure, dpi: float) -> np.ndarray:
    """The figure drawn at ``dpi`` on a canvas of its own: its RGBA buffer (a view)."""
    canvas = _Canvas(fig)
    original = fig.dpi
    fig.dpi = dpi
    try:
        canvas.draw()
        return np.asarray(canvas.buffer_rgba())
    finally:
        fig.dpi = original


def _png(rgba: np.ndarray, dpi: float) -> bytes:
    """The canvas (height, width, 4) as an RGBA PNG: every row filtered "Up" (its
    difference from the row above), deflated by zlib-ng at level 2, its resolution
    in pHYs, no other metadata.

    A chart is mostly rows equal to the one above (white margins, the plot's
    background between lines), which "Up" turns into zeros that deflate at once.
    Pillow tries the five filters on every row and keeps the best: a file a few per
    cent smaller in twice the time. zlib-ng deflates a 100-commune funnel in 3,8 ms
    where zlib takes 9,4 at its level 3, for a file 5 % larger (docs/PERFORMANCE.md).
    The canvas is opaque, but its alpha channel is kept: leaving it out meant
    gathering three bytes of every four (2,2 ms for a funnel), while the alpha bytes
    filter to zeros and cost the file nothing (the funnel's PNG is 4 % smaller).
    """
    height, width, _ = rgba.shape
    rows = rgba.reshape(height, width * 4)
    body = np.empty((height, width * 4 + 1), dtype=np.uint8)
    body[:, 0] = 2  # filter type Up
    body[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=body[1:, 1:])
    deflate = zlib_ng.compressobj(2, zlib_ng.DEFLATED, 15, 8)
    data = deflate.compress(body.data) + deflate.flush()
    per_metre = round(dpi / 0.0254)

    def chunk(kind: bytes, content: bytes) -> bytes:
        return (
            struct.pack(">I", len(content))
            + kind
            + content
            + struct.pack(">I", zlib.crc32(kind + content))
        )

    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)),
            chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
            chunk(b"IDAT", data),
            chunk(b"IEND", b""),
        )
    )


@cache
def lean_pdf_fonts() -> None:
    """Embed fonts in PDFs without their OpenType layout tables (GSUB, GPOS, GDEF, kern).

    matplotlib has placed every glyph itself by the time it writes a PDF; the
    viewer draws glyphs by number and reads the text from the ToUnicode map, so
    these tables are dead weight in the file. Subsetting them was most of a
    report's time: 0,8 s per font, 0,2 s without them (a report embeds up to
    four: regular, bold, italic, bold italic). matplotlib builds its fontTools
    subsetting options from fontTools' default list of tables to drop; the list
    is extended once, for this process.
    """
    from fontTools import subset

    defaults = subset.Options._drop_tables_default
    defaults.extend(t for t in ("GSUB", "GPOS", "GDEF", "kern") if t not in defaults)


def _with_titles(svg: bytes, titles: dict[str, str]) -> bytes:
    """Give each ``<g id="…">`` of ``titles`` a ``<title>``: the tooltip a browser
    shows when the pointer rests on that point of the chart."""
    text = svg.decode("utf-8")
    for gid, title in titles.items():
        opening = f'<g id="{gid}">'
        text = text.replace(opening, f"{opening}<title>{escape(title)}</title>", 1)
    return text.encode("utf-8")
