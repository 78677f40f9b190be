"""The five-answer scale at the sizes elderly citizens use: 320 px wide, 200 % text,
in both languages. Nothing may need sideways scrolling or be cut."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

CUT_OR_OVERFLOWING = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('.scale label.opt, .scale label.opt span')) {
    if (el.scrollWidth > el.clientWidth + 1) bad.push(el.textContent.trim());
  }
  return bad;
}"""


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("text_size", ["100%", "200%"])
def test_scale_wraps_at_320px(live_server, browser, lang, text_size):
    context = browser.new_context(viewport={"width": 320, "height": 640}, locale="vi-VN")
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/s/LC-01?lang={lang}")
        # The reader's text size (Chrome's font-size setting) scales the root font.
        page.evaluate(f"document.documentElement.style.fontSize = '{text_size}'")
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        assert page.evaluate(CUT_OR_OVERFLOWING) == []
        label = page.locator(".scale label.opt").first
        size = float(
            page.evaluate(
                "(el) => parseFloat(getComputedStyle(el).fontSize)", label.element_handle()
            )
        )
        assert size >= 14 * (2 if text_size == "200%" else 1)
    finally:
        context.close()


def test_dashboard_at_360px_targets_and_scroll_region(officers, live_server, browser):
    from datetime import UTC
    from datetime import datetime

    from tests.conftest import add_responses

    add_responses(officers, "LC-01", datetime(2025, 3, 5, 3, tzinfo=UTC), {"5": 20, "2": 2})
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN")
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/login")
        page.fill("#username", "laicach")
        page.fill("#password", "demo-laicach")
        page.click("button.primary")
        page.goto(f"{live_server.url}/units/HD-CG-LC?period=2025-03")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        for link in page.locator("#downloads a").all():
            box = link.bounding_box()
            assert box["height"] >= 44 and box["width"] >= 44, link.inner_text()
        region = page.locator("div.scroll").first
        # Wider than the screen, so it scrolls; a keyboard user can reach and scroll it.
        assert region.evaluate("(el) => el.scrollWidth > el.clientWidth")
        region.focus()
        assert page.evaluate("document.activeElement.getAttribute('role')") == "region"
        page.keyboard.press("ArrowRight")
        # The keyboard scroll may be animated: wait for it to move.
        page.wait_for_function("() => document.querySelector('div.scroll').scrollLeft > 0")
    finally:
        context.close()
