"""Labels measured and rendered once per process (survey/render/charts.py).

The charts copy a label's rendering wherever it recurs; these tests check that
what is copied is what matplotlib itself draws, that a chart drawn from the
caches is the chart drawn without them, and that one chart's text never shows
up in another's.
"""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.font_manager import FontProperties

from survey.render import charts
from survey.render.charts import TrendPoint


def _points(n_shift: int = 0, rate_shift: float = 0.0) -> list[TrendPoint]:
    points = []
    for month in range(1, 13):
        rate = min(1.0, 0.84 + 0.01 * month + rate_shift)
        points.append(
            TrendPoint(
                f"T{month}/2026", rate, rate - 0.06, min(1.0, rate + 0.04), 20 + month + n_shift
            )
        )
    return points


def _trend(title: str, **shift) -> np.ndarray:
    fig = charts.trend_chart(_points(**shift), [("Mục tiêu 90%", 0.9)], title)
    return charts.pixels(fig)


def _canvas(renderer_class) -> np.ndarray:
    """Labels drawn at whole-pixel positions by ``renderer_class``, as RGB pixels."""
    renderer = renderer_class(420, 260, 100)
    labels = [
        ("Thị trấn Lai Cách – tỷ lệ hài lòng", FontProperties(size=13, weight="bold"), 0),
        ("T11/2026", FontProperties(size=9), 0),
        ("n=42", FontProperties(size=9), 0),
        ("91,4%", FontProperties(size=8.5), 0),
        ("Hài lòng", FontProperties(size=10), 90),
        ("chưa có phiếu", FontProperties(size=9, style="italic"), 90),
        ("Xã Thử Nghiệm 37", FontProperties(size=8, weight="bold"), 0),
    ]
    for i, (text, prop, angle) in enumerate(labels):
        gc = renderer.new_gc()
        gc.set_foreground((0.1, 0.3, 0.6, 1.0), isRGBA=True)
        x, y = (20.0, 30.0 + 30 * i) if angle == 0 else (300.0 + 40 * (i - 4), 240.0)
        renderer.draw_text(gc, x, y, text, prop, angle)
        gc.restore()
    return np.asarray(renderer.buffer_rgba())[..., :3].astype(int)


def test_a_cached_label_is_the_label_matplotlib_draws():
    """At a whole pixel, the renderer's label (drawn fresh, then copied from the cache)
    matches matplotlib's own rendering, diacritics, bold, italic and rotation included."""
    with charts.chart_style():
        charts.clear_text_caches()
        reference = _canvas(RendererAgg)
        fresh = _canvas(charts._Renderer)
        cached = _canvas(charts._Renderer)
    assert (reference < 200).sum() > 2000  # there is text to compare
    # Overlapping glyphs are merged before blending: a rounding step apart at most.
    assert np.abs(fresh - reference).max() <= 2
    assert np.array_equal(fresh, cached)


def test_a_chart_drawn_from_the_caches_is_the_chart_drawn_without_them():
    with charts.chart_style():
        charts.clear_text_caches()
        first = _trend("Xã An Lâm – tỷ lệ hài lòng theo tháng")
        again = _trend("Xã An Lâm – tỷ lệ hài lòng theo tháng")
        charts.clear_text_caches()
        cold = _trend("Xã An Lâm – tỷ lệ hài lòng theo tháng")
    assert np.array_equal(first, again)
    assert np.array_equal(first, cold)


def test_one_communes_text_never_shows_in_anothers_chart():
    """Two communes' charts differ where their data differ (title, n, rates), and a
    chart drawn after another is the chart drawn alone."""
    with charts.chart_style():
        charts.clear_text_caches()
        alone = _trend("Xã Bình Minh – tỷ lệ hài lòng theo tháng", n_shift=7, rate_shift=0.02)
        charts.clear_text_caches()
        _trend("Xã An Lâm – tỷ lệ hài lòng theo tháng")
        after_other = _trend("Xã Bình Minh – tỷ lệ hài lòng theo tháng", n_shift=7, rate_shift=0.02)
        other = _trend("Xã An Lâm – tỷ lệ hài lòng theo tháng")
    assert np.array_equal(alone, after_other)
    differs = np.abs(alone.astype(int) - other.astype(int)).sum(axis=2) > 0
    rows = np.nonzero(differs.any(axis=1))[0]
    # The titles (top rows), the value labels and the "n=" line under the months differ.
    assert rows.min() < 25 and rows.max() > 430


def test_a_label_is_cached_per_font_size_and_weight():
    with charts.chart_style():
        charts.clear_text_caches()
        renderer = charts._Renderer(10, 10, 100)
        regular = renderer.get_text_width_height_descent("Hài lòng", FontProperties(size=10), False)
        bold = renderer.get_text_width_height_descent(
            "Hài lòng", FontProperties(size=10, weight="bold"), False
        )
        bigger = renderer.get_text_width_height_descent("Hài lòng", FontProperties(size=13), False)
        again = renderer.get_text_width_height_descent("Hài lòng", FontProperties(size=10), False)
        plain = RendererAgg(10, 10, 100).get_text_width_height_descent(
            "Hài lòng", FontProperties(size=10), False
        )
    assert regular == again == plain
    assert bold[0] > regular[0] and bigger[0] > regular[0]


def test_the_caches_stay_bounded(monkeypatch):
    # By its dotted name: `charts` here may be the package's stand-in for the module.
    monkeypatch.setattr("survey.render.charts._TEXT_CACHE_ITEMS", 25)
    with charts.chart_style():
        charts.clear_text_caches()
        renderer = charts._Renderer(200, 40, 100)
        for i in range(60):
            gc = renderer.new_gc()
            renderer.draw_text(gc, 5.0, 30.0, f"n={i}", FontProperties(size=9), 0)
            renderer.draw_text(gc, 5.0, 30.0, "W" + "a" * i, FontProperties(size=9), 0)
            gc.restore()
            renderer.get_text_width_height_descent(f"n={i}", FontProperties(size=9), False)
    assert 0 < len(charts._text_images) <= 25
    assert 0 < len(charts._text_sizes) <= 25
    assert 0 < len(charts._pieces) <= 25  # "Wa…" is a new piece each time


def test_math_text_is_left_to_matplotlib():
    """A label matplotlib would read as math ($…$) is drawn by its own code, not cached."""
    with charts.chart_style():
        charts.clear_text_caches()
        renderer = charts._Renderer(200, 40, 100)
        gc = renderer.new_gc()
        renderer.draw_text(gc, 5.0, 30.0, r"$\alpha$", FontProperties(size=9), 0, ismath=True)
        gc.restore()
        drawn = np.asarray(renderer.buffer_rgba())[..., :3]
    assert (drawn < 200).any()
    assert not charts._text_images


@pytest.mark.parametrize("dpi", [100, 200])
def test_png_holds_the_pixels_and_resolution(dpi):
    from io import BytesIO

    from PIL import Image

    with charts.chart_style():
        fig = charts.trend_chart(_points(), [("Mục tiêu 90%", 0.9)], "Xã An Lâm")
    image = Image.open(BytesIO(charts.render(fig, "png", dpi=dpi)))
    assert image.mode == "RGBA"
    drawn = np.asarray(image)
    assert (drawn[..., 3] == 255).all()  # opaque
    assert np.array_equal(drawn[..., :3], charts.pixels(fig, dpi=dpi))
    assert [round(v) for v in image.info["dpi"]] == [dpi, dpi]
    assert matplotlib.get_backend()  # the PNG did not need pyplot or a backend switch


#: Names and labels as the charts carry them, with the pairs DejaVu Sans kerns.
_LINES = [
    "Thị trấn Lai Cách – tỷ lệ hài lòng theo tháng (Quầy, Ki-ốt)",
    "Huyện Cẩm Giàng – so sánh các xã, T5/2025",
    "Xã Tây Tựu – Y Tý",
    "Phường Yết Kiêu",
    "Xã Ái Quốc",
    "Xã Ý Yên",
    "Ngoài giới hạn 99,8%: không do ngẫu nhiên",
    "AVAWAY To Ty  L' A",
    " n=42 ",
    "n=1037",
    "T10/2025",
    "91,4%",
    "Giới hạn 99,8%",
    "Tỷ lệ hài lòng (KTC 95%)",
    "Xã 3-17 Thử Nghiệm 18",
    "Quý I/2026: 1.234 phiếu, 88,9% – 12:30",
    "T1, T2. T3: T-4",
]


@pytest.mark.parametrize(
    "prop",
    [FontProperties(size=9), FontProperties(size=13, weight="bold"), FontProperties(size=8.5)],
    ids=["9", "13 bold", "8.5"],
)
def test_labels_shaped_word_by_word_sit_where_whole_lines_put_them(prop):
    """A label never drawn is laid out from words shaped before: its glyphs and their
    positions are those of matplotlib shaping the whole line, its size as measured."""
    from matplotlib.backends.backend_agg import get_hinting_flag

    with charts.chart_style():
        charts.clear_text_caches()
        renderer = charts._Renderer(10, 10, 100)
        plain = RendererAgg(10, 10, 100)
        for line in _LINES:
            font = plain._prepare_font(prop)
            whole = [
                (i.glyph_index, i.x, i.y) for i in font._layout(line, flags=get_hinting_flag())
            ]
            runs = renderer._shaped(line, prop, charts._font_key(prop))[0]
            words = [(glyph, pen + x, y) for _, items, pen in runs for _, glyph, x, y in items]
            assert [g for g, _, _ in words] == [g for g, _, _ in whole], line
            assert (
                max(abs(a[1] - b[1]) + abs(a[2] - b[2]) for a, b in zip(words, whole, strict=True))
                < 1e-6
            )
            measured = renderer.get_text_width_height_descent(line, prop, False)
            expected = plain.get_text_width_height_descent(line, prop, False)
            # Kerned pairs are rounded to 1/64 pixel in another order: within a quarter pixel.
            assert measured == pytest.approx(expected, abs=0.25), line


def test_a_label_drawn_from_its_pieces_is_its_glyphs_laid_over_one_another():
    """A label is merged from pieces (words, digits) kept at their place within a pixel,
    often drawn for other labels: it is every glyph of it where it falls."""
    from matplotlib.backends.backend_agg import get_hinting_flag

    prop = FontProperties(size=9)
    with charts.chart_style():
        charts.clear_text_caches()
        renderer = charts._Renderer(10, 10, 100)
        fonts, flags = charts._font_key(prop), get_hinting_flag()
        # Their pieces recur at other places within a pixel ("Thử" after 1, 2, 3 digits).
        lines = ["Xã 3-17 Thử Nghiệm 18", "Xã 12-5 Thử Nghiệm 6", "Xã 123-45 Thử", "91,4%"]
        for line in lines + lines[::-1]:
            image, left, top = renderer._label_image(line, prop, fonts, 0, True)
            glyphs = []
            for _, items, pen in renderer._shaped(line, prop, fonts)[0]:
                for fname, glyph, x, y in items:
                    absorbance, glyph_left, glyph_top, _, _ = renderer._glyph(
                        fname, glyph, fonts, 9.0, flags, round(64 * (pen + x)), round(64 * y), True
                    )
                    if absorbance.size:
                        glyphs.append((absorbance, glyph_left, glyph_top))
            absorbed, expected_left, expected_top = charts._merged(glyphs)
            expected = np.rint(-np.expm1(-absorbed) * 255.0).astype(int)
            assert (left, top) == (expected_left, expected_top), line
            assert np.abs(image.astype(int) - expected).max() <= 1, line
            assert image.astype(int).sum() > 1000  # there is text


def test_without_matplotlibs_private_text_api_labels_are_drawn_by_matplotlib(monkeypatch):
    """Should a matplotlib release drop the text API the caches use, every label is
    drawn by matplotlib's own code: the same chart, text up to half a pixel apart."""
    with charts.chart_style():
        charts.clear_text_caches()
        fast = _trend("Xã An Lâm – tỷ lệ hài lòng theo tháng").astype(int)
        monkeypatch.setattr("survey.render.charts._FAST_TEXT", False)
        charts.clear_text_caches()
        plain = _trend("Xã An Lâm – tỷ lệ hài lòng theo tháng").astype(int)
        assert not charts._text_images and not charts._glyphs
    assert fast.shape == plain.shape
    differs = np.abs(fast - plain).sum(axis=2) > 0
    assert 0 < differs.mean() < 0.05  # anti-aliased edges of the text, nothing else


def test_chart_style_applies_the_style_and_leaves_the_settings_as_they_were():
    before = dict(matplotlib.rcParams)
    with pytest.raises(RuntimeError):
        with charts.chart_style():
            assert matplotlib.rcParams["svg.fonttype"] == "path"
            with charts.chart_style():  # nested, as a report drawing its chart
                assert matplotlib.rcParams["pdf.fonttype"] == 42
            assert matplotlib.rcParams["font.sans-serif"] == ["DejaVu Sans"]
            raise RuntimeError("a drawing that fails")
    assert dict(matplotlib.rcParams) == before
