"""An invited citizen on a cheap phone (headless Chromium, 360×740) follows the link
the SMS gateway received, and a district officer reads the invitations page on a phone."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from survey.data.models import Invitation
from survey.data.models import SurveyResponse
from survey.extensions import db
from tests.invitations.test_invitations import request_token
from tests.invitations.test_invitations import tick

pytestmark = pytest.mark.browser

TAPS = {
    "q_field": "ho_tich",
    "q_access": "5",
    "q_procedure": "4",
    "q_official": "5",
    "q_result": "4",
    "q_feedback": "na",
    "q_overall": "5",
    "q_wait": "lt15",
    "q_visits": "1",
    "q_trouble": "no",
}


def test_the_invited_citizen_rates_from_the_sms_link(
    invite_app, api_key, gateway, live_server, phone, browser, artifacts, request
):
    invite_app.config["SURVEY_PUBLIC_BASE_URL"] = live_server.url
    client = invite_app.test_client()
    assert request_token(client, api_key, phone="0912 345 678").status_code == 201
    assert tick(invite_app).sent == 1
    (sms,) = gateway.requests
    link = re.search(r"(http://\S+\?t=[A-Z0-9]{8})", sms["json"]["text"]).group(1)
    phone.goto(link)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    for name, value in TAPS.items():
        phone.locator(f"label.opt:has(input[name='{name}'][value='{value}'])").tap()
    phone.locator("button.send").tap()
    phone.wait_for_url("**/s/LC-01/thanks")
    assert "Xin cảm ơn Ông/Bà!" in phone.inner_text("body")
    suffix = request.node.callspec.id
    phone.screenshot(path=artifacts / f"invitation-thanks-{suffix}.png")
    with invite_app.app_context():
        response = db.session.scalar(sa.select(SurveyResponse))
        assert response.channel == "invitation" and response.receipt_token_id is not None
        assert db.session.scalar(sa.select(Invitation.contact)) is None

    # The district officer, on a phone, finds it counted.
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN")
    page = context.new_page()
    page.goto(f"{live_server.url}/login")
    page.fill("#username", "camgiang")
    page.fill("#password", "demo-camgiang")
    page.click("button.primary")
    page.wait_for_url("**/units/HD-CG**")
    page.click("nav.tabs >> text=Lời mời đánh giá")
    page.wait_for_url("**/units/HD-CG/invitations**")
    assert page.locator("#sent").inner_text() == "1"
    assert page.locator("#answered").inner_text() == "1"
    assert page.locator("#rate").inner_text() == "100,0%"
    row = page.locator("#unit-HD-CG-LC").inner_text()
    assert "Thị trấn Lai Cách" in row
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=artifacts / f"invitations-page-phone-{suffix}.png", full_page=True)
    context.close()
