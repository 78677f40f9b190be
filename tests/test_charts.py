"""Tests for survey.render.charts: formats, sizes, Vietnamese text, no pyplot.

Sample charts are written to tests/artifacts/ (gitignored) for a human to look at.
"""

import re
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image

from survey.render.charts import TrendPoint
from survey.render.charts import format_percent
from survey.render.charts import funnel_chart
from survey.render.charts import render
from survey.render.charts import trend_chart
from survey.stats import funnel_limits
from survey.stats import proportion_ci
from tests.conftest import ARTIFACTS
from tests.conftest import skip_or_fail

SURVEY_DIR = Path(__file__).resolve().parents[1] / "survey"
TITLE = "Tỷ lệ hài lòng 12 tháng – Xã Lai Cách"

# (month label, satisfied, valid answers); July has no answers.
MONTHS = [
    ("T4/2024", 5, 5),
    ("T5/2024", 122, 128),
    ("T6/2024", 10, 12),
    ("T7/2024", 0, 0),
    ("T8/2024", 27, 30),
    ("T9/2024", 29, 30),
    ("T10/2024", 0, 0),
    ("T11/2024", 24, 30),
    ("T12/2024", 112, 128),
    ("T1/2025", 40, 42),
    ("T2/2025", 0, 0),
    ("T3/2025", 117, 128),
]


def _points():
    points = []
    for label, k, n in MONTHS:
        if n == 0:
            points.append(TrendPoint(label, None, None, None, 0))
        else:
            ci = proportion_ci(k, n)
            points.append(TrendPoint(label, ci.rate, ci.low, ci.high, n))
    return points


TARGETS = [("Mục tiêu 90%", 0.90), ("Mục tiêu đất đai 85%", 0.85)]


@pytest.fixture(scope="module")
def trend():
    return trend_chart(_points(), TARGETS, TITLE)


@pytest.fixture(scope="module")
def funnel():
    grid = list(range(1, 301))
    l95 = funnel_limits(0.9, grid, 0.95)
    l998 = funnel_limits(0.9, grid, 0.998)
    limits = list(zip(grid, l95.lower, l95.upper, l998.lower, l998.upper, strict=True))
    communes = [
        ("Xã Lai Cách", 120, 0.93),
        ("Xã Cẩm Vũ", 40, 0.70),
        ("Xã Cẩm Hưng", 200, 0.99),
        ("Thị trấn Cẩm Giang", 80, 0.90),
        ("Xã Ngọc Liên", 15, 0.80),
        ("Xã Đức Chính", 250, 0.83),
    ]
    return funnel_chart(communes, 0.9, limits, "So sánh các xã – Quý I/2025")


def _pdftotext(pdf: bytes, tmp_path: Path) -> str:
    if not shutil.which("pdftotext"):
        skip_or_fail("pdftotext is not installed (apt-get install poppler-utils)")
    path = tmp_path / "chart.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    )
    return result.stdout.decode("utf-8")


def test_png_has_exact_size_and_is_saved_for_review(trend, funnel):
    ARTIFACTS.mkdir(exist_ok=True)
    for name, fig, size in (("trend", trend, (1000, 500)), ("funnel", funnel, (1000, 600))):
        png = render(fig, "png")
        (ARTIFACTS / f"chart-{name}.png").write_bytes(png)
        with Image.open(BytesIO(png)) as image:
            image.load()
            assert image.format == "PNG"
            assert image.size == size
    with Image.open(BytesIO(render(trend, "png", dpi=150))) as image:
        assert image.size == (1500, 750)


def test_svg_is_xml_with_text_as_paths(trend):
    svg = render(trend, "svg")
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("width") == "720pt"  # 10 in × 72
    # svg.fonttype "path": glyphs are drawn, so no <text> needs a font.
    assert not root.findall(".//{http://www.w3.org/2000/svg}text")
    assert b"<dc:date>" not in svg


def test_pdf_renders_and_keeps_vietnamese_text(trend, funnel, tmp_path):
    pdf = render(trend, "pdf")
    assert pdf.startswith(b"%PDF")
    text = _pdftotext(pdf, tmp_path)
    assert "Tỷ lệ hài lòng" in text
    assert TITLE in text
    assert "chưa có phiếu" in text
    assert "Mục tiêu 90%" in text
    assert "n=128" in text
    assert "91,4%" in text  # 117/128 with a decimal comma
    funnel_text = _pdftotext(render(funnel, "pdf"), tmp_path)
    assert "Xã Cẩm Vũ" in funnel_text and "Xã Đức Chính" in funnel_text
    assert "Xã Lai Cách" in funnel_text  # inside the limits, yet named in the key
    assert "Giới hạn 99,8%" in funnel_text

    if not shutil.which("pdftoppm"):
        skip_or_fail("pdftoppm is not installed (apt-get install poppler-utils)")
    (tmp_path / "chart.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", str(tmp_path / "chart.pdf"), str(tmp_path / "page")],
        check=True,
        capture_output=True,
    )
    with Image.open(tmp_path / "page-1.png") as page:
        assert page.size == (500, 250)


def test_output_is_deterministic(trend):
    for fmt in ("png", "svg", "pdf"):
        assert render(trend, fmt) == render(trend, fmt), fmt
    assert b"CreationDate" not in render(trend, "pdf")


def test_decimal_point_option(tmp_path):
    fig = trend_chart(
        _points(),
        [("Target 90%", 0.9)],
        "Satisfaction",
        ylabel="Satisfaction rate",
        decimal_comma=False,
        no_data_label="no responses",
    )
    text = _pdftotext(render(fig, "pdf"), tmp_path)
    assert "91.4%" in text and "91,4%" not in text
    assert "no responses" in text


def test_empty_and_single_point_charts(tmp_path):
    empty = trend_chart([TrendPoint("T1/2025", None, None, None, 0)], [], "Trống")
    assert "chưa có phiếu" in _pdftotext(render(empty, "pdf"), tmp_path)
    nothing = trend_chart([], [], "Không có tháng nào")
    assert render(nothing, "png").startswith(b"\x89PNG")
    one = trend_chart([TrendPoint("T1/2025", 1.0, None, None, 3)], [("Mục tiêu 95%", 0.95)], "x")
    assert render(one, "png")


def test_y_axis_starts_below_lowest_bound(trend):
    bottom, top = trend.axes[0].get_ylim()
    # Lowest bound: Wilson low of 5/5 is 56.6%; 5 points below, rounded down to 50.
    assert bottom == 50.0
    assert 100.0 < top < 103.0


@pytest.mark.parametrize("fmt", ["jpg", "PNG", "", None])
def test_render_rejects_unknown_format(trend, fmt):
    with pytest.raises(ValueError, match=re.escape(f"fmt ({fmt!r})")):
        render(trend, fmt)


def test_render_rejects_bad_dpi(trend):
    with pytest.raises(ValueError, match=r"dpi \(0\)"):
        render(trend, "png", dpi=0)


@pytest.mark.parametrize(
    ("point", "match"),
    [
        (TrendPoint("a", 1.2, None, None, 3), r"points\[0\]\.rate \(1\.2\)"),
        (TrendPoint("a", 0.9, 0.95, 0.99, 3), r"low <= rate <= high"),
        (TrendPoint("a", 0.9, 0.8, None, 3), r"both low and high"),
        (TrendPoint("a", 0.9, 0.8, 0.95, -1), r"points\[0\]\.n \(-1\)"),
        (TrendPoint("a", "90%", None, None, 3), r"rate \('90%'\)"),
    ],
)
def test_trend_chart_validates_points(point, match):
    with pytest.raises(ValueError, match=match):
        trend_chart([point], [], "x")


def test_trend_chart_validates_targets():
    with pytest.raises(ValueError, match=r"targets\[0\] rate \(90\)"):
        trend_chart([], [("Mục tiêu 90%", 90)], "x")
    with pytest.raises(ValueError, match=r"targets\[0\] \(0\.9\)"):
        trend_chart([], [0.9], "x")


def test_funnel_chart_validates():
    limits = [(10, 0.7, 0.98, 0.6, 1.0)]
    with pytest.raises(ValueError, match=r"points\[0\] n \(0\)"):
        funnel_chart([("Xã A", 0, 0.9)], 0.9, limits, "x")
    with pytest.raises(ValueError, match=r"limits \(\[\]\)"):
        funnel_chart([("Xã A", 5, 0.9)], 0.9, [], "x")
    with pytest.raises(ValueError, match=r"target \(1\.5\)"):
        funnel_chart([("Xã A", 5, 0.9)], 1.5, limits, "x")


def test_format_percent():
    assert format_percent(0.914) == "91,4%"
    assert format_percent(0.9) == "90%"
    assert format_percent(0.9999) == "100%"
    assert format_percent(0.0) == "0%"
    assert format_percent(0.12345, 2, decimal_comma=False) == "12.35%"


def test_module_never_imports_pyplot_or_flask():
    # Loads survey/charts.py as part of a bare package, so survey/__init__.py
    # (the Flask factory) does not run, and blocks Flask outright.
    script = textwrap.dedent(
        """
        import sys
        import types

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("flask", "flask_babel", "sqlalchemy"):
                    raise ImportError(f"charts must not import {name}")
                return None

        sys.meta_path.insert(0, Block())
        package = types.ModuleType("bare_survey")
        package.__path__ = [sys.argv[1]]
        sys.modules["bare_survey"] = package
        import bare_survey.render.charts as charts

        fig = charts.trend_chart([charts.TrendPoint("T1", 0.9, 0.8, 0.95, 40)], [], "x")
        assert charts.render(fig, "png").startswith(b"\\x89PNG")
        assert "matplotlib.pyplot" not in sys.modules
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(SURVEY_DIR)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_every_funnel_point_is_named_in_the_svg_and_coloured_by_the_drawn_steps():
    """Each commune is a numbered point with a tooltip (its name, rate and n), and its
    colour says which side of the drawn exact steps it lies on."""
    from survey.stats import funnel_class
    from survey.stats import funnel_steps

    grid = list(range(1, 60))
    inner, outer = funnel_steps(0.9, grid, 0.95), funnel_steps(0.9, grid, 0.998)
    limits = list(zip(grid, inner.lower, inner.upper, outer.lower, outer.upper, strict=True))
    # 35/35: the interpolated curve once passed below it (drawn above the funnel,
    # coloured inside); the exact step at 35 is 35/35 itself, so it is drawn on
    # the funnel's edge and classed inside, both.
    communes = [("Xã A", 35, 1.0), ("Xã B", 50, 0.9), ("Xã C", 40, 0.6)]
    zones = [funnel_class(round(r * n), n, 0.9) for _, n, r in communes]
    assert zones == ["inside", "inside", "below998"]
    assert inner.upper[34] == outer.upper[34] == 1.0
    fig = funnel_chart(communes, 0.9, limits, "x", zones=zones, steps=True)
    svg = render(fig, "svg").decode()
    for number, (name, n, _rate) in enumerate(communes, start=1):
        assert f"<title>{number}. {name}: " in svg and f"n={n}</title>" in svg
    # Each point's colour as drawn: the fill of the marker in its unit-<n> group.
    colours = {
        int(number): re.search(r'<use [^>]*style="fill: (#[0-9a-f]{6})', group).group(1)
        for number, group in re.findall(r'<g id="unit-(\d+)">(.*?)</g>\s*</g>', svg, re.S)
    }
    assert sorted(colours) == [1, 2, 3]
    assert colours[1] == colours[2] != colours[3]
