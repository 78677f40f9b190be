"""Tests for survey.render.report_pdf: pages, Vietnamese text, nothing cut, layout.

Page 1 of a sample report is written to tests/artifacts/ (gitignored) for a
human to look at.
"""

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from PIL import Image

from survey.render.charts import TrendPoint
from survey.render.charts import trend_chart
from survey.render.report_pdf import ReportContent
from survey.render.report_pdf import _Style
from survey.render.report_pdf import _width
from survey.render.report_pdf import _wrap
from survey.render.report_pdf import render_report
from tests.conftest import ARTIFACTS
from tests.conftest import skip_or_fail

SURVEY_DIR = Path(__file__).resolve().parents[1] / "survey"
TITLE = "Báo cáo mức độ hài lòng – Tháng 3/2025"
FOOTER = "Hệ thống khảo sát SIPAS – xã Lai Cách · Xuất ngày 05/04/2025 10:32"
COMPLAINT = (
    "Cán bộ tiếp nhận hồ sơ đất đai yêu cầu bổ sung giấy tờ hai lần, "
    "đề nghị hướng dẫn đầy đủ ngay từ đầu."
)
ELEMENTS = (
    "Tỷ lệ hài lòng theo 5 yếu tố",
    ["Yếu tố", "Số phiếu", "Tỷ lệ", "KTC 95%", "Đánh giá"],
    [
        ["1. Tiếp cận dịch vụ", "128", "93,0%", "87,2% – 96,3%", "Đạt"],
        ["2. Thủ tục hành chính", "126", "90,5%", "84,1% – 94,5%", "Chưa kết luận"],
        ["3. Công chức", "127", "95,3%", "90,1% – 97,8%", "Đạt"],
        ["4. Kết quả", "120", "88,3%", "81,4% – 92,9%", "Chưa kết luận"],
        [
            "5. Tiếp nhận, xử lý góp ý, phản ánh, kiến nghị",
            "98",
            "84,7%",
            "76,3% – 90,5%",
            "Chưa đạt",
        ],  # noqa: E501
    ],
)


def _content(**changes) -> ReportContent:
    fields = {
        "title": TITLE,
        "unit_name": "UBND xã Lai Cách, huyện Cẩm Giàng",
        "subtitle": "Kỳ báo cáo: 15/02/2025 – 14/03/2025 · Lập ngày 05/04/2025",
        "summary": [
            ("Số phiếu", "128"),
            ("Tỷ lệ hài lòng", "91,4% (KTC 95%: 85,2% – 95,1%)"),
            ("Mục tiêu", "90% (Nghị quyết 76/NQ-CP)"),
        ],
        "verdicts": ["Đạt mục tiêu 90%", "Chưa đủ phiếu để kết luận về mục tiêu 95%"],
        "tables": [ELEMENTS],
        "chart": None,
        "comments_heading": "Góp ý, phản ánh, kiến nghị của người dân",
        "comments": [("05/03/2025 · Đất đai · Không hài lòng", COMPLAINT)],
        "footer": FOOTER,
    }
    fields.update(changes)
    return ReportContent(**fields)


def _chart():
    points = [
        TrendPoint("T1/2025", 0.9, 0.8, 0.95, 40),
        TrendPoint("T2/2025", None, None, None, 0),
        TrendPoint("T3/2025", 0.914, 0.852, 0.951, 128),
    ]
    return trend_chart(points, [("Mục tiêu 90%", 0.9)], "Tỷ lệ hài lòng theo tháng")


def _poppler(tool: str) -> None:
    if not shutil.which(tool):
        skip_or_fail(f"{tool} is not installed (apt-get install poppler-utils)")


def _pages(pdf: bytes, tmp_path: Path) -> int:
    _poppler("pdfinfo")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    return int(re.search(r"^Pages:\s+(\d+)$", info.stdout, re.MULTILINE).group(1))


def _text(pdf: bytes, tmp_path: Path) -> str:
    _poppler("pdftotext")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    )
    return result.stdout.decode("utf-8")


def _squash(text: str) -> str:
    return " ".join(text.split())


def test_three_pages_with_chart_and_vietnamese_text(tmp_path):
    pdf = render_report(_content(chart=_chart()))
    assert pdf.startswith(b"%PDF")
    assert _pages(pdf, tmp_path) == 3
    text = _text(pdf, tmp_path)
    assert TITLE in text
    assert "UBND xã Lai Cách, huyện Cẩm Giàng" in text
    assert "Đạt mục tiêu 90%" in text
    assert "91,4% (KTC 95%: 85,2% – 95,1%)" in text
    assert "Tiếp nhận, xử lý góp ý, phản ánh, kiến nghị" in _squash(text)
    assert COMPLAINT in _squash(text)
    assert "05/03/2025 · Đất đai · Không hài lòng" in text
    for page in (1, 2, 3):
        assert f"Trang {page}/3" in text
    assert text.count(FOOTER) == 3


def test_one_page_without_chart_or_comments(tmp_path):
    pdf = render_report(_content(comments=[]))
    assert _pages(pdf, tmp_path) == 1
    text = _text(pdf, tmp_path)
    assert "Không có góp ý, phản ánh nào trong kỳ." in text
    assert "Trang 1/1" in text


def test_labels_can_be_english(tmp_path):
    pdf = render_report(
        _content(comments=[]),
        page_label="Page {page} of {pages}",
        no_comments_label="No comments this month.",
    )
    text = _text(pdf, tmp_path)
    assert "Page 1 of 1" in text and "No comments this month." in text


def test_output_is_deterministic():
    content = _content()
    first = render_report(content)
    assert render_report(content) == first
    assert b"CreationDate" not in first


def test_reports_drawn_in_threads_at_once_are_all_whole():
    """A gthread worker draws several downloads at once: each PDF must come out whole
    and the same as drawn alone (matplotlib's settings are one global dict)."""
    from concurrent.futures import ThreadPoolExecutor

    alone = render_report(_content(chart=_chart()))
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda _: render_report(_content(chart=_chart())), range(6)))
    assert all(result == alone for result in results)


LONG = (
    "Tôi đến nộp hồ sơ chuyển quyền sử dụng đất, cán bộ hướng dẫn nhiệt tình nhưng phải đi lại "
    "ba lần vì thiếu giấy tờ không được thông báo từ đầu; đề nghị niêm yết đầy đủ thành phần hồ "
    "sơ, lệ phí 50$ và thời hạn giải quyết tại Bộ phận Một cửa để người dân biết trước."
)


@pytest.fixture(scope="module")
def many_comments():
    comments = [
        (
            f"{i % 28 + 1:02d}/03/2025 · Đất đai · Không hài lòng",
            f"Góp ý số {i}: {LONG} Hết góp ý {i}.",
        )
        for i in range(1, 61)
    ]
    url = "https://dichvucong.gov.vn/p/home/dvc-tra-cuu-ho-so.html?ma=" + "X" * 200
    comments.append(("06/03/2025 · Hộ tịch · Hài lòng", f"Xem {url} nhé"))
    content = _content(chart=_chart(), comments=comments)
    return content, render_report(content)


def test_long_comments_spill_onto_pages_and_none_is_cut(many_comments, tmp_path):
    content, pdf = many_comments
    pages = _pages(pdf, tmp_path)
    assert pages >= 6
    text = _text(pdf, tmp_path)
    # Drop running headers and footers, then every comment must be there whole.
    running = "UBND xã Lai Cách, huyện Cẩm Giàng · " + TITLE
    body = "\n".join(
        line
        for line in text.splitlines()
        if line.strip() not in (FOOTER, running) and not re.fullmatch(r"Trang \d+/\d+", line)
    )
    flat = _squash(body)
    for number, (meta, comment) in enumerate(content.comments, start=1):
        assert f"{number}. {meta}" in flat
        if "https://" in comment:
            # The long URL is split by character across lines: no character lost.
            assert comment.replace(" ", "") in flat.replace(" ", "")
        else:
            assert comment in flat, number
    assert f"Trang {pages}/{pages}" in text


def test_page_one_stays_inside_the_paper(many_comments, tmp_path):
    _, pdf = many_comments
    _poppler("pdftoppm")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    ARTIFACTS.mkdir(exist_ok=True)
    prefix = ARTIFACTS / "report-page"
    for page in (1, 2, 3):
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "60",
                "-f",
                str(page),
                "-l",
                str(page),
                "-singlefile",
                str(path),
                f"{prefix}{page}",
            ],
            check=True,
            capture_output=True,
        )
        with Image.open(f"{prefix}{page}.png") as image:
            grey = image.convert("L")
            width, height = grey.size
            assert (width, height) == (497, 702)  # A4 at 60 dpi, rounded up
            # Margins are 0.8 in; nothing is drawn in the outer 0.5 in.
            edge = 30
            for box in (
                (0, 0, edge, height),
                (width - edge, 0, width, height),
                (0, 0, width, 15),
                (0, height - 15, width, height),
            ):
                assert grey.crop(box).getextrema()[0] > 200, (page, box)


def test_table_too_long_for_page_one_continues_with_its_header(tmp_path):
    rows = [[f"Thủ tục số {i}", str(i), "90,0%"] for i in range(1, 91)]
    pdf = render_report(_content(tables=[("Theo thủ tục", ["Thủ tục", "Số phiếu", "Tỷ lệ"], rows)]))
    text = _text(pdf, tmp_path)
    assert _pages(pdf, tmp_path) == 4  # two pages of table, then comments
    # The header is repeated on the second page, and narrow columns are not wrapped.
    # Summary once, then the header on each of the table's three pages.
    assert text.count("Số phiếu") == 4
    assert "90,0%" in text and "90,0\n" not in text
    for i in (1, 45, 90):
        assert f"Thủ tục số {i}" in text


def test_dollar_signs_stay_text(tmp_path):
    pdf = render_report(_content(comments=[("meta", "Phí 50$ và 20$ là quá cao")]))
    assert "Phí 50$ và 20$ là quá cao" in _text(pdf, tmp_path)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"tables": [("T", ["a", "b"], [["1"]])]}, r"tables\[0\] row 0 \(\['1'\]\) must have 2"),
        ({"tables": [("T", [], [])]}, r"tables\[0\] header \(\[\]\)"),
        ({"summary": [("Số phiếu",)]}, r"summary\[0\] \(\('Số phiếu',\)\)"),
        ({"comments": ["chỉ có chữ"]}, r"comments\[0\] \('chỉ có chữ'\)"),
        ({"chart": "chart.png"}, r"chart \('chart.png'\)"),
        ({"title": None}, r"title \(None\)"),
    ],
)
def test_bad_content(changes, match):
    with pytest.raises(ValueError, match=match):
        render_report(_content(**changes))


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from("aăâbcdđeêơưỹỷộ ờ\n.,"), max_size=400))
def test_wrap_keeps_every_character_and_fits(text):
    style = _Style(10)
    lines = _wrap(text, style, 120.0)
    assert all(_width(line, style) <= 120.0 for line in lines)
    assert "".join(lines).replace(" ", "") == "".join(text.split())


def test_modules_import_without_flask_or_pyplot():
    script = textwrap.dedent(
        """
        import sys
        import types

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("flask", "flask_babel", "sqlalchemy"):
                    raise ImportError(f"report_pdf must not import {name}")
                return None

        sys.meta_path.insert(0, Block())
        package = types.ModuleType("bare_survey")
        package.__path__ = [sys.argv[1]]
        sys.modules["bare_survey"] = package
        import bare_survey.render.exports
        import bare_survey.domain.periods
        import bare_survey.render.report_pdf as report

        content = report.ReportContent("T", "U", "S", [], [], [], None, "C", [], "F")
        assert report.render_report(content).startswith(b"%PDF")
        assert "matplotlib.pyplot" not in sys.modules
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(SURVEY_DIR)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
