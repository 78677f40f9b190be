"""An interviewer on a phone (headless Chromium, 360×740): signs in, lands on the
interview screen, records interviews with the network cut off (CDP
Network.emulateNetworkConditions), and sees them sent, each once, when it is back."""

from __future__ import annotations

import uuid
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
import sqlalchemy as sa

from survey.data.models import Interview
from survey.data.models import SurveyResponse
from survey.data.queries import find_unit
from survey.domain.periods import today_in_vietnam
from survey.extensions import db
from survey.interviews import services
from tests.conftest import skip_or_fail

pytestmark = pytest.mark.browser

PASSWORD = "Dieu-tra-vien-2026"
TAPS = {
    "q_field": "dat_dai",
    "q_access": "4",
    "q_procedure": "5",
    "q_official": "5",
    "q_result": "4",
    "q_feedback": "na",
    "q_overall": "4",
    "q_wait": "lt15",
    "q_visits": "1",
    "q_trouble": "no",
}


@pytest.fixture
def interviewer(live_server):
    with live_server.app.app_context():
        district = find_unit("HD-CG")
        officer = services.create_interviewer(None, district, "dtv.lan", "Nguyễn Thị Lan", PASSWORD)
        today = today_in_vietnam()
        services.assign(None, district, officer, "HD-CG-LC", today, today + timedelta(days=3))
        return officer.id


def _network(cdp, offline: bool) -> None:
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )


def _interview(phone, overall: str) -> None:
    phone.select_option("#desk", "LC-01")
    phone.locator("#start-button").tap()
    for name, value in {**TAPS, "q_overall": overall}.items():
        phone.locator(f"label.opt:has(input[name='{name}'][value='{value}'])").tap()
    phone.locator("#save-button").tap()
    phone.wait_for_selector("#saved:not([hidden])")


def _stored(app) -> list[tuple[str, int, int]]:
    with app.app_context():
        return [
            (r.answer_map()["overall"], r.served_by_id, i.duration_seconds)
            for r, i in db.session.execute(
                sa.select(SurveyResponse, Interview)
                .join(Interview, Interview.submission_id == SurveyResponse.submission_id)
                .where(SurveyResponse.channel == "interview")
                .order_by(SurveyResponse.id)
            )
        ]


def test_interviews_recorded_offline_are_sent_once_when_back_online(
    live_server, phone, interviewer, artifacts, request
):
    app = live_server.app
    phone.goto(f"{live_server.url}/login")
    phone.fill("input[name='username']", "dtv.lan")
    phone.fill("input[name='password']", PASSWORD)
    phone.locator("button[type='submit']").tap()
    phone.wait_for_url("**/interview/")
    assert phone.locator("h1").inner_text() == "Phỏng vấn"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360

    cdp = phone.context.new_cdp_session(phone)
    cdp.send("Network.enable")
    _network(cdp, offline=True)
    phone.wait_for_selector("#net.offline")

    # Saving with answers missing marks them and keeps nothing.
    phone.select_option("#desk", "LC-01")
    phone.locator("#start-button").tap()
    phone.locator("#save-button").tap()
    assert phone.locator("#missing").is_visible()
    assert phone.locator("#q-overall.bad").count() == 1
    phone.on("dialog", lambda dialog: dialog.accept())
    phone.locator("#cancel-button").tap()
    assert phone.locator("#queue").get_attribute("data-count") == "0"

    _interview(phone, "4")
    _interview(phone, "2")
    assert phone.locator("#queue").get_attribute("data-count") == "2"
    assert "Phiếu chờ gửi: 2" in phone.inner_text("#queue")
    queued = phone.evaluate(
        "JSON.parse(localStorage.getItem('sipas.interviews.' + "
        "document.getElementById('interview-app').dataset.officer))"
    )
    assert [item["desk"] for item in queued] == ["LC-01", "LC-01"]
    assert len({item["submission_id"] for item in queued}) == 2
    phone.screenshot(
        path=artifacts / f"interview-offline-{request.node.callspec.id}.png", full_page=True
    )
    assert _stored(app) == []

    _network(cdp, offline=False)
    phone.wait_for_selector("#net.online")
    phone.wait_for_selector("#queue[data-count='0']")
    stored = _stored(app)
    assert [(overall, who) for overall, who, _ in stored] == [
        ("4", interviewer),
        ("2", interviewer),
    ]
    assert all(seconds >= 0 for _, _, seconds in stored)
    phone.screenshot(
        path=artifacts / f"interview-sent-{request.node.callspec.id}.png", full_page=True
    )

    # Reopened later: nothing is sent twice.
    phone.reload()
    phone.wait_for_selector("#net.online")
    phone.locator("#send-now").wait_for(state="hidden")
    assert len(_stored(app)) == 2


def test_the_screen_opens_again_without_a_connection(live_server, phone, interviewer):
    """The service worker keeps the screen: a reload with the network gone shows it."""
    phone.goto(f"{live_server.url}/login")
    phone.fill("input[name='username']", "dtv.lan")
    phone.fill("input[name='password']", PASSWORD)
    phone.locator("button[type='submit']").tap()
    phone.wait_for_url("**/interview/")
    phone.evaluate("navigator.serviceWorker.ready.then(() => true)")
    phone.reload()  # now through the service worker, which keeps a copy
    phone.wait_for_selector("#net.online")
    phone.context.set_offline(True)
    phone.reload()
    phone.wait_for_selector("#net.offline")
    assert phone.locator("#start-button").is_visible()
    _interview(phone, "5")
    assert phone.locator("#queue").get_attribute("data-count") == "1"
    phone.context.set_offline(False)
    phone.wait_for_selector("#queue[data-count='0']")
    assert [overall for overall, _, _ in _stored(live_server.app)] == ["5"]


def test_interview_pages_pass_axe(officers, live_server, browser, interviewer, artifacts, request):
    from tests.web.test_axe_browser import AXE
    from tests.web.test_axe_browser import _violations

    if not AXE.exists():
        skip_or_fail("axe-core is not installed (npm ci)")
    context = browser.new_context(viewport={"width": 360, "height": 740}, bypass_csp=True)
    page = context.new_page()
    found = {}
    page.goto(f"{live_server.url}/login")
    page.fill("#username", "dtv.lan")
    page.fill("#password", PASSWORD)
    page.click("button[type='submit']")
    page.wait_for_url("**/interview/")
    found["screen"] = _violations(page)
    page.click("#start-button")
    page.click("#save-button")
    found["screen, answers missing"] = _violations(page)
    context.clear_cookies()
    # One short interview, so the quality page shows its tables.
    with live_server.app.app_context():
        from survey.data.models import Officer
        from survey.data.queries import current_questionnaire

        sent = services.InterviewSubmission(
            desk_code="LC-01",
            submission_id=str(uuid.uuid4()),
            answers={k[2:]: v for k, v in TAPS.items()},
            comment=None,
            language="vi",
            started_at=datetime.now(UTC) - timedelta(minutes=1),
            duration_seconds=40,
        )
        officer = db.session.get(Officer, interviewer)
        result = services.record_interview(officer, current_questionnaire(), sent)
        assert result.outcome == services.Outcome.STORED
    page.goto(f"{live_server.url}/login")
    page.fill("#username", "camgiang")
    page.fill("#password", "demo-camgiang")
    page.click("button[type='submit']")
    page.wait_for_url("**/units/HD-CG")
    for path, heading in (
        ("/units/HD-CG/interviewers", "#new-interviewer"),
        ("/units/HD-CG/interviewers/quality", "#summary"),
    ):
        page.goto(live_server.url + path)
        assert page.locator(heading).is_visible(), path
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
        found[path] = _violations(page)
        name = path.rsplit("/", 1)[-1]
        page.screenshot(
            path=artifacts / f"district-{name}-{request.node.callspec.id}.png", full_page=True
        )
    context.close()
    assert {p: v for p, v in found.items() if v} == {}
