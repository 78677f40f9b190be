"""The kiosk on a tablet (800×1280, touch) in headless Chromium: pairing, tapping a
rating, the fresh form after it and after a minute without a touch, the shift by
PIN, and ratings made while the Wi-Fi is down, sent once when it returns."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from survey.data.models import Desk
from survey.data.models import Kiosk
from survey.data.models import Officer
from survey.data.models import SurveyResponse
from survey.extensions import db
from survey.kiosk import services

pytestmark = pytest.mark.browser

TAPS = {
    "field": "ho_tich",
    "access": "5",
    "procedure": "4",
    "official": "5",
    "result": "4",
    "feedback": "na",
    "overall": "5",
    "wait": "lt15",
    "visits": "1",
    "trouble": "no",
}


@pytest.fixture
def tablet(browser):
    context = browser.new_context(
        viewport={"width": 800, "height": 1280},
        device_scale_factor=1,
        is_mobile=True,
        has_touch=True,
        locale="vi-VN",
    )
    page = context.new_page()
    yield page
    context.close()


def new_code(app, desk_code="LC-01") -> str:
    with app.app_context():
        officer = db.session.scalar(sa.select(Officer).where(Officer.username == "laicach"))
        desk = db.session.scalar(sa.select(Desk).where(Desk.code == desk_code))
        _kiosk, code = services.issue_code(officer, desk)
        return services.format_code(code)


def pair(page, server) -> None:
    page.goto(f"{server.url}/kiosk")
    page.fill("#code", new_code(server.app))
    page.locator("button.send").tap()
    page.wait_for_selector("#kf")


def tap_rating(page, **changes) -> None:
    for name, value in {**TAPS, **changes}.items():
        page.locator(f"label.opt:has(input[name='{name}'][value='{value}'])").tap()


def stored(app) -> list[SurveyResponse]:
    with app.app_context():
        rows = db.session.scalars(sa.select(SurveyResponse).order_by(SurveyResponse.id)).all()
        for row in rows:
            row.answer_map()
        db.session.expunge_all()
        return rows


def queue_length(page) -> int:
    return page.evaluate("(JSON.parse(localStorage.getItem('kiosk.queue.v1')) || []).length")


def wait_until_sent(page) -> None:
    page.wait_for_function(
        "() => (JSON.parse(localStorage.getItem('kiosk.queue.v1')) || []).length === 0",
        timeout=60_000,
    )


def fresh(page) -> bool:
    return page.evaluate(
        "!document.querySelector('#kf input:checked') && "
        "[...document.querySelectorAll('#kf textarea')].every(t => !t.value) && "
        "document.getElementById('fu').hidden"
    )


def test_a_citizen_rates_on_the_tablet_and_the_next_one_gets_a_fresh_form(
    live_server, officers, tablet, artifacts, request
):
    app = live_server.app
    app.config.update(SURVEY_KIOSK_MIN_GAP_SECONDS=0, SURVEY_KIOSK_IDLE_SECONDS=2)
    with app.app_context():
        laicach = db.session.scalar(sa.select(Officer).where(Officer.username == "laicach"))
        services.set_pin(laicach, "2580")
        laicach_id = laicach.id
    pair(tablet, live_server)
    assert tablet.evaluate("document.documentElement.scrollWidth") <= 800

    # The officer starts a shift with the PIN; the tablet names them.
    tablet.locator("#shift-open").tap()
    tablet.locator("#shift-officers label.opt").first.tap()
    tablet.fill("#pin", "2580")
    tablet.locator("#sf button.send").tap()
    tablet.wait_for_function(
        "() => document.getElementById('serving').textContent.includes('Lai Cách')"
    )
    assert tablet.inner_text("#serving").startswith("Đang phục vụ:")
    assert tablet.locator("#shift").is_hidden()

    # Targets for a finger at arm's length.
    for name in TAPS:
        box = tablet.locator(f"label.opt:has(input[name='{name}'])").first.bounding_box()
        assert box["height"] >= 64, f"{name} target is {box['height']}px high"
    # A poor overall rating asks what went wrong.
    tap_rating(tablet, overall="2")
    assert tablet.locator("#fu").is_visible()
    tablet.locator("label.opt:has(input[name='reason'][value='wait_long'])").tap()
    tablet.fill("#reason_text", "Chờ lâu quá")
    tablet.screenshot(path=artifacts / f"kiosk-low-{request.node.callspec.id}.png", full_page=True)
    tablet.locator("#send").tap()
    # At once a fresh form, with the thanks above it: nothing of the answers left.
    assert fresh(tablet)
    assert tablet.locator("#toast").is_visible()
    wait_until_sent(tablet)
    (first,) = stored(app)
    assert first.channel == "kiosk" and first.served_by_id == laicach_id
    assert first.answer_map()["low_reason"] == "wait_long" and first.answer_map()["overall"] == "2"
    assert first.comment == "Chờ lâu quá"

    # A good rating: no follow-up question.
    tap_rating(tablet)
    assert tablet.locator("#fu").is_hidden()
    tablet.locator("#send").tap()
    wait_until_sent(tablet)
    assert "low_reason" not in stored(app)[1].answer_map()

    # Someone walks away halfway: after the idle time the form is fresh again.
    tablet.locator("label.opt:has(input[name='overall'][value='1'])").tap()
    tablet.fill("#reason_text", "dở dang")
    tablet.wait_for_function("() => !document.querySelector('#kf input:checked')", timeout=20_000)
    assert fresh(tablet)
    assert len(stored(app)) == 2

    # A missing answer is marked, and nothing is sent.
    tablet.locator("label.opt:has(input[name='overall'][value='4'])").tap()
    tablet.locator("#send").tap()
    assert tablet.locator("#missing").is_visible()
    assert tablet.locator("#q-field.bad").count() == 1
    assert queue_length(tablet) == 0


def devtools(page):
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    return cdp


def network(cdp, *, offline: bool) -> None:
    """The Wi-Fi down or back, as Chromium's DevTools emulate it (one session does
    both: emulation set by one session is not lifted by another)."""
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )


def test_ratings_made_offline_are_kept_and_sent_once_when_the_wifi_returns(
    live_server, officers, tablet, artifacts, request
):
    app = live_server.app
    app.config.update(SURVEY_KIOSK_MIN_GAP_SECONDS=0, SURVEY_KIOSK_IDLE_SECONDS=600)
    pair(tablet, live_server)
    cdp = devtools(tablet)
    network(cdp, offline=True)
    for overall in ("5", "3"):
        tap_rating(tablet, overall=overall)
        tablet.locator("#send").tap()
        assert fresh(tablet)
    tablet.wait_for_selector("#queue:not([hidden])")
    assert "2 đánh giá đang chờ gửi" in tablet.inner_text("#queue")
    tablet.screenshot(path=artifacts / f"kiosk-offline-{request.node.callspec.id}.png")
    assert queue_length(tablet) == 2 and stored(app) == []
    # A reload while offline would lose the page, not the ratings: they live in
    # localStorage. Back online, they go out, each once.
    network(cdp, offline=False)
    wait_until_sent(tablet)
    tablet.wait_for_selector("#queue[hidden]", state="attached")
    rows = stored(app)
    assert sorted(r.answer_map()["overall"] for r in rows) == ["3", "5"]
    assert all(r.channel == "kiosk" and not r.flagged for r in rows)
    # A resend (an answer lost on the way back) is harmless: still two.
    tablet.evaluate(
        "ids => localStorage.setItem('kiosk.queue.v1', JSON.stringify(ids.map(id => ({"
        "submission_id: id, questionnaire_version: 1, kiosk: +document.getElementById('kf')"
        ".dataset.kiosk, answers: {overall: '1'}, offline: true}))))",
        [r.submission_id for r in rows],
    )
    tablet.evaluate("dispatchEvent(new Event('online'))")
    wait_until_sent(tablet)
    assert len(stored(app)) == 2


def test_ratings_queued_by_a_tablet_revoked_meanwhile_are_kept_for_review(
    live_server, officers, tablet, artifacts, request
):
    app = live_server.app
    app.config.update(SURVEY_KIOSK_MIN_GAP_SECONDS=0, SURVEY_KIOSK_IDLE_SECONDS=600)
    pair(tablet, live_server)
    cdp = devtools(tablet)
    network(cdp, offline=True)
    tap_rating(tablet, overall="4")
    tablet.locator("#send").tap()
    with app.app_context():
        officer = db.session.scalar(sa.select(Officer).where(Officer.username == "laicach"))
        services.revoke(officer, db.session.scalar(sa.select(Kiosk)))
    network(cdp, offline=False)
    # Sent, stored flagged, and the tablet then says it is no longer paired.
    tablet.wait_for_selector("form[action='/kiosk/pair']", timeout=60_000)
    assert "thu hồi" in tablet.inner_text("#message")
    tablet.screenshot(path=artifacts / f"kiosk-revoked-{request.node.callspec.id}.png")
    (row,) = stored(app)
    assert row.flagged and row.flag_reason == "revoked_kiosk" and row.answer_map()["overall"] == "4"
    assert queue_length(tablet) == 0


def test_the_kiosk_pages_have_no_serious_accessibility_violation(live_server, officers, browser):
    """axe-core on the pairing form (with a refused code), the kiosk with its
    follow-up and shift sheet open, and the officer's shift and PIN page."""
    from tests.web.test_axe_browser import AXE
    from tests.web.test_axe_browser import _violations

    if not AXE.exists():
        from tests.conftest import skip_or_fail

        skip_or_fail("axe-core is not installed (npm ci)")
    context = browser.new_context(
        viewport={"width": 800, "height": 1280}, has_touch=True, bypass_csp=True
    )
    page = context.new_page()
    found = {}
    page.goto(f"{live_server.url}/kiosk")
    page.fill("#code", "ABCD-2345")
    page.click("button.send")
    found["pair (refused)"] = _violations(page)
    pair(page, live_server)
    page.click("label.opt:has(input[name='overall'][value='1'])")
    found["kiosk, follow-up"] = _violations(page)
    page.click("#shift-open")
    found["kiosk, shift sheet"] = _violations(page)
    page.goto(f"{live_server.url}/login")
    page.fill("input[name='username']", "laicach")
    page.fill("input[name='password']", "demo-laicach")
    page.click("button[type='submit']")
    page.goto(f"{live_server.url}/kiosk/me")
    found["/kiosk/me"] = _violations(page)
    page.goto(f"{live_server.url}/units/HD-CG-LC/desks")
    found["desks with kiosks"] = _violations(page)
    context.close()
    assert {p: v for p, v in found.items() if v} == {}
