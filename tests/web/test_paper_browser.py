"""The paper ballot entry screen in headless Chromium, driven by the keyboard alone:
each ballot takes its serial, then one keystroke per question and Enter, and is
stored once; the next ballot can be typed at once. Without script it is a plain form.

Response times are measured by bench/paper_entry.py (docs/PERFORMANCE.md), not here:
no timing thresholds in tests.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from survey.data.models import Desk
from survey.data.models import Officer
from survey.data.models import PaperBallot
from survey.data.models import PaperLayout
from survey.data.models import SurveyResponse
from survey.extensions import db
from survey.paper import services
from tests.conftest import skip_or_fail
from tests.web.test_paper import KEYS
from tests.web.test_paper import STORED

pytestmark = pytest.mark.browser

# The questions in screen order, and the one key typed for each.
ORDER = list(KEYS)


def _print(app, count: int) -> list[str]:
    with app.app_context():
        officer = db.session.scalar(sa.select(Officer).where(Officer.username == "laicach"))
        desk = db.session.scalar(sa.select(Desk).where(Desk.code == "LC-01"))
        batch = services.create_batch(officer, desk, count, PaperLayout.A4X2)
        return list(
            db.session.scalars(
                sa.select(PaperBallot.serial)
                .where(PaperBallot.batch_id == batch.id)
                .order_by(PaperBallot.seq)
            )
        )


def _stored(app) -> list[dict[str, str]]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(SurveyResponse)
            .where(SurveyResponse.channel == "paper")
            .order_by(SurveyResponse.id)
        ).all()
        return [r.answer_map() for r in rows]


def _signed_in_page(browser, live_server, *, javascript: bool = True):
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="vi-VN", java_script_enabled=javascript
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/login")
    page.fill("#username", "laicach")
    page.fill("#password", "demo-laicach")
    page.click("button.primary")
    page.goto(f"{live_server.url}/units/HD-CG-LC/paper/entry")
    return context, page


def test_each_ballot_takes_its_questions_plus_one_keystroke(
    officers, live_server, browser, artifacts, request
):
    serials = _print(officers, 4)
    context, page = _signed_in_page(browser, live_server)
    assert page.evaluate("document.activeElement.id") == "serial"
    for done, serial in enumerate(serials, start=1):
        # The serial as an officer types it from the paper, without the hyphens.
        page.keyboard.type(serial.replace("-", ""))
        # Complete and with the right check character: on to the first question by itself.
        page.wait_for_selector("#a_field:focus")
        keystrokes = 0
        for question in ORDER:
            page.keyboard.press(KEYS[question])
            keystrokes += 1
        page.keyboard.press("Enter")
        keystrokes += 1
        assert keystrokes == len(ORDER) + 1
        # The next ballot is ready at once: empty, the focus on the serial.
        assert page.evaluate("document.activeElement.id") == "serial"
        assert page.input_value("#serial") == ""
        page.wait_for_selector(f"#paper-entry[data-done='{done}']", state="attached")
        assert f"Đã lưu phiếu {serial}." in page.inner_text("#entry-status")
    assert _stored(officers) == [STORED] * 4
    # The same serial again: refused, said so, and the ballot given back to correct.
    page.keyboard.type(serials[0].replace("-", ""))
    page.wait_for_selector("#a_field:focus")
    for question in ORDER:
        page.keyboard.press(KEYS[question])
    page.keyboard.press("Enter")
    page.wait_for_selector("#paper-entry[data-done='5']", state="attached")
    assert f"Phiếu {serials[0]} đã được nhập" in page.inner_text("#entry-status")
    assert page.input_value("#serial") == serials[0].replace("-", "")
    assert page.input_value("#a_overall") == KEYS["overall"]
    assert len(_stored(officers)) == 4
    suffix = request.node.callspec.id
    page.screenshot(path=artifacts / f"paper-entry-{suffix}.png", full_page=True)
    context.close()


def test_a_key_the_question_does_not_have_is_not_taken(officers, live_server, browser):
    (serial,) = _print(officers, 1)
    context, page = _signed_in_page(browser, live_server)
    page.keyboard.type(serial.replace("-", ""))
    page.wait_for_selector("#a_field:focus")
    page.keyboard.press("3")
    page.keyboard.press("7")  # the scale has 1 to 5 and 0
    assert page.evaluate("document.activeElement.id") == "a_access"
    assert page.input_value("#a_access") == ""
    assert "7 không phải là một ô của câu này." in page.inner_text("#entry-status")
    # Backspace on an empty answer goes back to the question before.
    page.keyboard.press("Backspace")
    assert page.evaluate("document.activeElement.id") == "a_field"
    # Enter with answers missing posts nothing: the first missing answer takes the focus.
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "a_access"
    assert _stored(officers) == []
    context.close()


def test_without_script_the_screen_is_a_plain_form(officers, live_server, browser):
    (serial,) = _print(officers, 1)
    context, page = _signed_in_page(browser, live_server, javascript=False)
    page.fill("#serial", serial)
    for question in ORDER:
        page.fill(f"#a_{question}", KEYS[question])
    page.click("#entry-submit")
    page.wait_for_url("**/units/HD-CG-LC/paper/entry")
    assert f"Đã lưu phiếu {serial}." in page.inner_text("main")
    assert _stored(officers) == [STORED]
    context.close()


def test_the_paper_pages_have_no_serious_accessibility_violation(officers, live_server, browser):
    from tests.web.test_axe_browser import AXE
    from tests.web.test_axe_browser import _violations

    if not AXE.exists():
        skip_or_fail("axe-core is not installed (npm ci)")
    _print(officers, 2)
    context = browser.new_context(viewport={"width": 360, "height": 740}, bypass_csp=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/login")
    page.fill("#username", "laicach")
    page.fill("#password", "demo-laicach")
    page.click("button.primary")
    for path in (
        "/units/HD-CG-LC/paper",
        "/units/HD-CG-LC/paper/entry",
        "/units/HD-CG-LC/paper/recheck",
    ):
        page.goto(f"{live_server.url}{path}")
        assert _violations(page) == [], path
    # After a refusal too (the error summary and the marked answers).
    page.goto(f"{live_server.url}/units/HD-CG-LC/paper/entry")
    page.fill("#serial", "LC-01-00001-0")
    # Posted as a plain form (form.submit() skips the script's handler): the server's page.
    with page.expect_navigation():
        page.evaluate("setTimeout(() => document.querySelector('#paper-entry').submit(), 0)")
    assert "ký tự cuối không khớp" in page.inner_text("#entry-error")  # the check caught it
    assert _violations(page) == []
    context.close()
