"""The officer's dashboard in headless Chromium, on a laptop and on a phone."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

import pytest

from tests.conftest import add_responses

pytestmark = pytest.mark.browser


@pytest.fixture
def served(officers, live_server):
    add_responses(
        officers, "LC-01", datetime(2025, 3, 5, 3, tzinfo=UTC), {"5": 40, "4": 12, "2": 3}
    )
    add_responses(
        officers,
        "LC-02",
        datetime(2025, 3, 6, 3, tzinfo=UTC),
        {"4": 6, "1": 2},
        field="dat_dai",
        comment="Hồ sơ đất đai trả chậm 3 ngày.",
    )
    return live_server


@pytest.mark.parametrize("width, height, name", [(1280, 800, "laptop"), (360, 740, "phone")])
def test_dashboard_reads_at_laptop_and_phone_width(
    served, browser, artifacts, request, width, height, name
):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="vi-VN")
    page = context.new_page()
    page.goto(f"{served.url}/units/HD-CG-LC?period=2025-03")
    assert "/login" in page.url  # signed out: asked to sign in first
    page.fill("#username", "laicach")
    page.fill("#password", "demo-laicach")
    page.click("button.primary")
    page.wait_for_url("**/units/HD-CG-LC?period=2025-03")
    assert page.locator("h1").inner_text() == "Thị trấn Lai Cách"
    verdict = page.locator("#verdict").inner_text()
    assert "mục tiêu 90%" in verdict
    # The trend chart loaded (an image with a real size, not a broken icon).
    page.wait_for_function("document.querySelector('img.chart').naturalWidth > 0")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    suffix = request.node.callspec.id.split("-")[0]
    page.screenshot(path=artifacts / f"dashboard-{name}-{suffix}.png", full_page=True)
    page.click("text=Góp ý, phản ánh")
    assert "Hồ sơ đất đai trả chậm 3 ngày." in page.inner_text("main")
    page.screenshot(path=artifacts / f"feedback-{name}-{suffix}.png", full_page=True)
    context.close()


def test_district_page_in_the_browser(served, browser, artifacts, request):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN")
    page = context.new_page()
    page.goto(f"{served.url}/login")
    page.fill("#username", "camgiang")
    page.fill("#password", "demo-camgiang")
    page.click("button.primary")
    page.goto(f"{served.url}/units/HD-CG?period=2025-03")
    assert page.locator("h1").inner_text() == "Huyện Cẩm Giàng"
    # No dossier count entered: the headline is the pooled figure, and says so.
    figure = page.inner_text("#district-figure")
    assert "gộp" in figure and "Chưa nhập số hồ sơ" in figure
    page.wait_for_function("document.querySelector('img.chart').naturalWidth > 0")
    rows = page.locator("#communes tbody tr")
    assert rows.count() == 6
    suffix = request.node.callspec.id
    page.screenshot(path=artifacts / f"district-{suffix}.png", full_page=True)
    context.close()


@pytest.mark.parametrize(
    "path, heading_part",
    [
        ("/units/HD-CG-LC/desks?period=2025-03", "LC-01"),
        ("/units/HD-CG/flagged", "Huyện Cẩm Giàng"),
    ],
)
def test_desk_and_flagged_pages_on_a_phone(served, browser, artifacts, request, path, heading_part):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN")
    page = context.new_page()
    page.goto(f"{served.url}/login")
    page.fill("#username", "camgiang")
    page.fill("#password", "demo-camgiang")
    page.click("button.primary")
    page.goto(f"{served.url}{path}")
    assert heading_part in page.inner_text("main")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    name = path.split("/")[3].split("?")[0]
    page.screenshot(
        path=artifacts / f"{name}-{request.node.callspec.id.split('-')[0]}.png", full_page=True
    )
    context.close()
