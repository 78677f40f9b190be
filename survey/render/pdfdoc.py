"""A small PDF writer for pages that repeat: text in embedded TrueType fonts, lines,
boxes, and Form XObjects drawn on many pages.

Paper ballots are a batch of identical pages that differ only in a serial and a QR
code. Drawn with matplotlib, every page lays out and embeds its text again (about
a quarter of a second per ballot); here the common part is one Form XObject that
every page refers to, so a page costs its serial and its QR code: a hundred ballots
take a fraction of a second and the file stays small.

Fonts are matplotlib's own DejaVu files (always installed with it), subset to the
glyphs used with fontTools and embedded as CID fonts (Identity-H) with a ToUnicode
map, so Vietnamese prints and can be searched and copied. Text is set with the
fonts' advance widths, without kerning; :meth:`Font.width` measures the same way.

Pure: no Flask, no database. Output is deterministic (no dates, fixed subset tags).
"""

from __future__ import annotations

import functools
import hashlib
import io
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import matplotlib
from fontTools import subset as ft_subset
from fontTools.ttLib import TTFont

_FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
FONT_FILES = {
    "sans": "DejaVuSans.ttf",
    "sans-bold": "DejaVuSans-Bold.ttf",
    "mono-bold": "DejaVuSansMono-Bold.ttf",
}


@functools.cache
def _load(name: str) -> tuple[bytes, dict[int, int], dict[int, int], int, tuple]:
    """(font bytes, {code point: glyph id}, {glyph id: advance}, units per em, metrics)."""
    data = (_FONT_DIR / FONT_FILES[name]).read_bytes()
    font = TTFont(io.BytesIO(data))
    order = {g: i for i, g in enumerate(font.getGlyphOrder())}
    cmap = {cp: order[g] for cp, g in font.getBestCmap().items()}
    hmtx = font["hmtx"].metrics
    advances = {order[g]: hmtx[g][0] for g in font.getGlyphOrder()}
    head = font["head"]
    hhea = font["hhea"]
    metrics = (head.xMin, head.yMin, head.xMax, head.yMax, hhea.ascent, hhea.descent)
    return data, cmap, advances, head.unitsPerEm, metrics


class Font:
    """One embedded font of a document: measures text and encodes it for a content stream."""

    def __init__(self, name: str, resource: str) -> None:
        self.name = name
        self.resource = resource
        self._data, self._cmap, self._advances, self._upem, self._metrics = _load(name)
        self.used: dict[int, str] = {}  # glyph id -> text it stands for

    def _gid(self, char: str) -> int:
        return self._cmap.get(ord(char), 0)  # 0: .notdef, drawn as a box

    def width(self, text: str, size: float) -> float:
        """Width of ``text`` at ``size`` points, in points."""
        units = sum(self._advances.get(self._gid(c), 0) for c in text)
        return units * size / self._upem

    def encode(self, text: str) -> bytes:
        """The text as a PDF hex string of glyph ids; records the glyphs used."""
        out = []
        for char in text:
            gid = self._gid(char)
            self.used.setdefault(gid, char)
            out.append(f"{gid:04X}")
        return b"<" + "".join(out).encode("ascii") + b">"


def _num(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _gray(color: float) -> str:
    return _num(color)


@dataclass
class Content:
    """A content stream being drawn (a page, or a Form XObject)."""

    fonts: dict[str, Font]
    ops: list[bytes] = field(default_factory=list)

    def text(
        self,
        x: float,
        y: float,
        text: str,
        font: str,
        size: float,
        *,
        gray: float = 0.0,
        align: str = "left",
    ) -> None:
        """One line of text, its baseline at ``y``; ``align`` left, center or right of ``x``."""
        if not text:
            return
        f = self.fonts[font]
        if align != "left":
            width = f.width(text, size)
            x -= width / 2 if align == "center" else width
        self.ops.append(
            f"BT {_gray(gray)} g /{f.resource} {_num(size)} Tf {_num(x)} {_num(y)} Td ".encode()
            + f.encode(text)
            + b" Tj ET"
        )

    def rect(self, x: float, y: float, w: float, h: float, *, gray=0.0, width=0.6) -> None:
        self.ops.append(
            f"{_gray(gray)} G {_num(width)} w {_num(x)} {_num(y)} {_num(w)} {_num(h)} re S".encode()
        )

    def line(self, x1, y1, x2, y2, *, gray=0.0, width=0.5, dash: tuple = ()) -> None:
        pattern = " ".join(_num(d) for d in dash)
        self.ops.append(
            f"[{pattern}] 0 d {_gray(gray)} G {_num(width)} w {_num(x1)} {_num(y1)} m "
            f"{_num(x2)} {_num(y2)} l S [] 0 d".encode()
        )

    def filled_rects(self, rects: Iterable[tuple[float, float, float, float]]) -> None:
        """Black filled rectangles (x, y, w, h) in one path: a QR code's dark modules."""
        parts = [f"{_num(x)} {_num(y)} {_num(w)} {_num(h)} re" for x, y, w, h in rects]
        if parts:
            self.ops.append(("0 g " + " ".join(parts) + " f").encode())

    def place(self, form: str, x: float, y: float) -> None:
        """Draw a Form XObject with its origin at (x, y)."""
        self.ops.append(f"q 1 0 0 1 {_num(x)} {_num(y)} cm /{form} Do Q".encode())

    def stream(self) -> bytes:
        return b"\n".join(self.ops)


class Document:
    """Pages of one size, Form XObjects shared by them, and the fonts both use."""

    def __init__(self, width: float, height: float, title: str = "") -> None:
        self.width, self.height, self.title = width, height, title
        self.fonts = {name: Font(name, f"F{i}") for i, name in enumerate(FONT_FILES, start=1)}
        self.forms: dict[str, tuple[float, float, Content]] = {}
        self.pages: list[Content] = []

    def form(self, name: str, width: float, height: float) -> Content:
        content = Content(self.fonts)
        self.forms[name] = (width, height, content)
        return content

    def page(self) -> Content:
        content = Content(self.fonts)
        self.pages.append(content)
        return content

    # --- Writing ---------------------------------------------------------------------------

    def render(self) -> bytes:
        objects: list[bytes | None] = [None]  # object 0 is the free head of the xref

        def reserve() -> int:
            objects.append(None)
            return len(objects) - 1

        def put(number: int, body: bytes) -> None:
            objects[number] = body

        def stream(body: bytes, extra: str = "") -> bytes:
            packed = zlib.compress(body, 6)
            head = f"<< /Length {len(packed)} /Filter /FlateDecode {extra}>>\nstream\n"
            return head.encode() + packed + b"\nendstream"

        catalog, pages_root = reserve(), reserve()
        # Draw everything first: the fonts' used glyphs are known only then.
        form_streams = {name: c.stream() for name, (_w, _h, c) in self.forms.items()}
        page_streams = [p.stream() for p in self.pages]
        font_refs = {}
        for font in self.fonts.values():
            if font.used:
                font_refs[font.resource] = self._write_font(font, reserve, put, stream)
        font_dict = " ".join(f"/{r} {n} 0 R" for r, n in font_refs.items())
        form_refs = {}
        for name, (width, height, _content) in self.forms.items():
            number = reserve()
            put(
                number,
                stream(
                    form_streams[name],
                    f"/Type /XObject /Subtype /Form /BBox [0 0 {_num(width)} {_num(height)}] "
                    f"/Resources << /Font << {font_dict} >> >> ",
                ),
            )
            form_refs[name] = number
        xobjects = " ".join(f"/{n} {r} 0 R" for n, r in form_refs.items())
        resources = reserve()
        put(resources, f"<< /Font << {font_dict} >> /XObject << {xobjects} >> >>".encode())
        kids = []
        for body in page_streams:
            contents, page = reserve(), reserve()
            put(contents, stream(body))
            put(
                page,
                (
                    f"<< /Type /Page /Parent {pages_root} 0 R "
                    f"/MediaBox [0 0 {_num(self.width)} {_num(self.height)}] "
                    f"/Resources {resources} 0 R /Contents {contents} 0 R >>"
                ).encode(),
            )
            kids.append(page)
        put(
            pages_root,
            (
                f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] "
                f"/Count {len(kids)} >>"
            ).encode(),
        )
        put(catalog, f"<< /Type /Catalog /Pages {pages_root} 0 R >>".encode())
        info = reserve()
        put(
            info,
            b"<< /Producer (sipas-survey) /Title <"
            + ("\ufeff" + self.title).encode("utf-16-be").hex().upper().encode()
            + b"> >>",
        )
        out = io.BytesIO()
        out.write(b"%PDF-1.6\n%\xe2\xe3\xcf\xd3\n")
        offsets = [0]
        for number in range(1, len(objects)):
            offsets.append(out.tell())
            out.write(f"{number} 0 obj\n".encode() + objects[number] + b"\nendobj\n")
        xref = out.tell()
        out.write(f"xref\n0 {len(objects)}\n0000000000 65535 f \n".encode())
        for offset in offsets[1:]:
            out.write(f"{offset:010d} 00000 n \n".encode())
        out.write(
            f"trailer\n<< /Size {len(objects)} /Root {catalog} 0 R /Info {info} 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n".encode()
        )
        return out.getvalue()

    @staticmethod
    def _write_font(font: Font, reserve, put, stream) -> int:
        data, _cmap, advances, upem, metrics = _load(font.name)
        gids = sorted(font.used)
        subset = _subset(font.name, tuple(gids))
        scale = 1000 / upem
        # A subset's name carries a tag of six capitals; derived from its glyphs, so the
        # same ballots give the same bytes.
        digest = hashlib.sha256(repr(gids).encode()).digest()
        tag = "".join(chr(65 + b % 26) for b in digest[:6])
        base = f"{tag}+{Path(FONT_FILES[font.name]).stem.replace('-', '')}"
        xmin, ymin, xmax, ymax, ascent, descent = metrics
        file_ref, descriptor, cid, to_unicode, type0 = (reserve() for _ in range(5))
        put(file_ref, stream(subset, f"/Length1 {len(subset)} "))
        put(
            descriptor,
            (
                f"<< /Type /FontDescriptor /FontName /{base} /Flags 32 "
                f"/FontBBox [{_num(xmin * scale)} {_num(ymin * scale)} {_num(xmax * scale)} "
                f"{_num(ymax * scale)}] /ItalicAngle 0 /Ascent {_num(ascent * scale)} "
                f"/Descent {_num(descent * scale)} /CapHeight {_num(ascent * scale)} "
                f"/StemV 80 /FontFile2 {file_ref} 0 R >>"
            ).encode(),
        )
        widths = " ".join(f"{g} [{_num(advances.get(g, 0) * scale)}]" for g in gids)
        put(
            cid,
            (
                f"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{base} "
                "/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
                f"/FontDescriptor {descriptor} 0 R /W [{widths}] /CIDToGIDMap /Identity >>"
            ).encode(),
        )
        put(to_unicode, stream(_to_unicode(font.used)))
        put(
            type0,
            (
                f"<< /Type /Font /Subtype /Type0 /BaseFont /{base} /Encoding /Identity-H "
                f"/DescendantFonts [{cid} 0 R] /ToUnicode {to_unicode} 0 R >>"
            ).encode(),
        )
        return type0


@functools.lru_cache(maxsize=32)
def _subset(name: str, gids: tuple[int, ...]) -> bytes:
    """The font with only these glyphs, glyph ids kept (they are the CIDs)."""
    data = _load(name)[0]
    font = TTFont(io.BytesIO(data))
    options = ft_subset.Options()
    options.retain_gids = True
    options.notdef_outline = True
    options.name_IDs = []
    options.layout_features = []
    options.hinting = False
    options.drop_tables += ["GPOS", "GSUB", "kern", "FFTM"]
    subsetter = ft_subset.Subsetter(options)
    order = font.getGlyphOrder()
    subsetter.populate(glyphs=[order[g] for g in gids if g < len(order)])
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def _to_unicode(used: dict[int, str]) -> bytes:
    lines = [
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Adobe-Identity-UCS def /CMapType 2 def",
        "1 begincodespacerange <0000> <FFFF> endcodespacerange",
    ]
    items = sorted(used.items())
    for start in range(0, len(items), 100):
        chunk = items[start : start + 100]
        lines.append(f"{len(chunk)} beginbfchar")
        for gid, char in chunk:
            lines.append(f"<{gid:04X}> <{char.encode('utf-16-be').hex().upper()}>")
        lines.append("endbfchar")
    lines.append("endcmap CMapName currentdict /CMap defineresource pop end end")
    return "\n".join(lines).encode()
