"""axe-core (the npm package, injected into each page) finds no serious or critical
accessibility violation on the pages citizens and officers use, signed in or not."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import add_responses
from tests.conftest import skip_or_fail

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"

PUBLIC = [
    "/s/LC-01",
    "/s/LC-01?lang=en",
    "/s/LC-01/thanks",
    "/results/HD-CG-LC",
    "/results/HD-CG",
    "/login",
]
SIGNED_IN = [
    "/units/HD-CG-LC?period=2025-03",
    "/units/HD-CG-LC?period=13/2025",
    "/units/HD-CG-LC/feedback",
    "/units/HD-CG-LC/targets",
    "/units/HD-CG-LC/desks?period=2025-03",
    "/units/HD-CG-LC/flagged",
    "/units/HD-CG-LC/report-settings",
    "/units/HD-CG?period=2025-03",
    "/units/HD-CG/volumes?month=2025-03",
]


def _violations(page) -> list[str]:
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document)")
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.fixture
def axe_browser(officers, live_server, browser):
    if not AXE.exists():
        skip_or_fail("axe-core is not installed (npm ci)")
    add_responses(
        officers, "LC-01", datetime(2025, 3, 5, 3, tzinfo=UTC), {"5": 30, "2": 2}, comment="Chậm"
    )
    # The pages' CSP allows no inline script; the test's own injected axe is let through.
    context = browser.new_context(viewport={"width": 360, "height": 740}, bypass_csp=True)
    yield live_server, context.new_page()
    context.close()


def test_public_pages(axe_browser):
    server, page = axe_browser
    found = {}
    for path in PUBLIC:
        page.goto(server.url + path)
        found[path] = _violations(page)
    # The refused form, with its summary of missing questions.
    page.goto(server.url + "/s/LC-01")
    page.click("button.send")
    found["/s/LC-01 (refused)"] = _violations(page)
    assert {p: v for p, v in found.items() if v} == {}


def test_officer_pages(axe_browser):
    server, page = axe_browser
    page.goto(server.url + "/login")
    page.fill("#username", "camgiang")
    page.fill("#password", "demo-camgiang")
    page.click("button.primary")
    found = {}
    for path in SIGNED_IN:
        page.goto(server.url + path)
        found[path] = _violations(page)
    assert {p: v for p, v in found.items() if v} == {}
