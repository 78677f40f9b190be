"""Per-officer figures, fairly shown, through real HTTP (a live server on loopback):
the receipt-token API names the officer who handled a dossier, the rating made
with it counts for that officer, a commune officer sees only their own figures,
the commune's leader sees everyone's and each such view is audited, and below
the minimum number of ratings no rate appears at all."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
import requests
import sqlalchemy as sa
from scipy.stats import beta

from survey.data.models import Answer
from survey.data.models import AuditEntry
from survey.data.models import Desk
from survey.data.models import Officer
from survey.data.models import ReceiptToken
from survey.data.models import SurveyResponse
from survey.data.models import Unit
from survey.data.models import utcnow
from survey.data.queries import current_questionnaire
from survey.domain.periods import period_containing
from survey.domain.periods import today_in_vietnam
from survey.extensions import db
from survey.integrity.tokens import issue_api_key
from survey.officers.accounts import hash_password
from tests.conftest import VALID_ANSWERS
from tests.conftest import hidden_fields

#: Commune officers of Thị trấn Lai Cách added for these tests (username, name, leader).
STAFF = [
    ("lc.an", "Nguyễn Văn An", False),
    ("lc.binh", "Trần Thị Bình", False),
    ("lc.chutich", "Phạm Văn Chủ", True),
]
PASSWORD = "mat-khau-cua-can-bo-7"
ELEMENTS = ("access", "procedure", "official", "result", "feedback")


@pytest.fixture
def staff(officers):
    """Three more officers at Lai Cách (one its leader) and one at Cao An."""
    with officers.app_context():
        lai_cach = db.session.scalar(sa.select(Unit).where(Unit.code == "HD-CG-LC"))
        cao_an = db.session.scalar(sa.select(Unit).where(Unit.code == "HD-CG-CA"))
        for username, name, leader in STAFF:
            db.session.add(
                Officer(
                    username=username,
                    full_name=name,
                    role="commune",
                    unit_id=lai_cach.id,
                    is_leader=leader,
                    password_hash=hash_password(PASSWORD),
                )
            )
        db.session.add(
            Officer(
                username="ca.dung",
                full_name="Lê Văn Dũng",
                role="commune",
                unit_id=cao_an.id,
                password_hash=hash_password(PASSWORD),
            )
        )
        db.session.commit()
    return officers


def _officer_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Officer.id).where(Officer.username == username))


def add_served(app, username, answer_sets, *, desk="LC-01", when=None, flagged=False, comment=None):
    """Store one response per answer set, served by ``username`` (through the ORM, so the
    rollup counts them as any other write)."""
    when = when or utcnow() - timedelta(minutes=1)
    with app.app_context():
        desk_row = db.session.scalar(sa.select(Desk).where(Desk.code == desk))
        served_by = db.session.scalar(sa.select(Officer.id).where(Officer.username == username))
        questionnaire = current_questionnaire()
        for answers in answer_sets:
            answers = {
                "field": "ho_tich",
                "wait": "lt15",
                "visits": "1",
                "trouble": "no",
                **answers,
            }
            db.session.add(
                SurveyResponse(
                    submission_id=str(uuid.uuid4()),
                    unit_id=desk_row.unit_id,
                    desk_id=desk_row.id,
                    questionnaire_id=questionnaire.id,
                    submitted_at=when,
                    procedure_field="ho_tich",
                    comment=comment,
                    language="vi",
                    # As the counter's kiosk stores them during the officer's shift.
                    channel="kiosk",
                    served_by_id=served_by,
                    flagged=flagged,
                    flag_reason="burst" if flagged else None,
                    answers=[Answer(question_id=k, value=v) for k, v in answers.items()],
                )
            )
        db.session.commit()


def same(value: str, n: int) -> list[dict[str, str]]:
    """``n`` answer sets giving ``value`` to the overall question and every element."""
    return [{q: value for q in (*ELEMENTS, "overall")} for _ in range(n)]


def http_sign_in(base: str, username: str, password: str = PASSWORD) -> requests.Session:
    browser = requests.Session()
    page = browser.get(f"{base}/login", timeout=10)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page.text).group(1)
    reply = browser.post(
        f"{base}/login",
        data={"csrf_token": token, "username": username, "password": password},
        allow_redirects=False,
        timeout=10,
    )
    assert reply.status_code == 302, reply.text
    return browser


def this_month(app) -> str:
    with app.app_context():
        unit = db.session.scalar(sa.select(Unit).where(Unit.code == "HD-CG-LC"))
        return period_containing(today_in_vietnam(), "month", unit.report_cutoff_day).code


def views_of(app, viewer: str) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(AuditEntry.detail)
                .join(Officer, Officer.id == AuditEntry.officer_id)
                .where(AuditEntry.action == "officer_figures_viewed", Officer.username == viewer)
                .order_by(AuditEntry.id)
            )
        )


def section(html: str, section_id: str) -> str:
    match = re.search(
        rf'<section class="[^"]*" id="{re.escape(section_id)}">(.*?)</section>', html, re.S
    )
    assert match, f"no section {section_id}"
    return match.group(1)


# -- the receipt-token API names the handling officer ----------------------------


@pytest.fixture
def api_key(staff):
    with staff.app_context():
        return issue_api_key(db.session.scalar(sa.select(Unit).where(Unit.code == "HD-CG-LC")))


def post_token(base, key, **body):
    payload = {"desk_code": "LC-01", "dossier_number": "000.00.12.H23-261130-0007", **body}
    return requests.post(
        f"{base}/api/v1/tokens",
        json=payload,
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )


def test_a_token_names_the_officer_and_the_rating_counts_for_them(app, live_server, api_key):
    app.config["SURVEY_MIN_FILL_SECONDS"] = 0
    minted = post_token(live_server.url, api_key, officer=" LC.An ")
    assert minted.status_code == 201, minted.text
    assert minted.json()["officer"] == "lc.an"
    code = minted.json()["token"]
    with app.app_context():
        token = db.session.scalar(sa.select(ReceiptToken).where(ReceiptToken.code == code))
        assert token.served_by_id == _officer_id(app, "lc.an")

    # Asked again for the same dossier (the slip reprinted by another officer).
    again = post_token(live_server.url, api_key, officer="lc.binh")
    assert again.status_code == 200 and again.json()["token"] == code
    assert again.json()["officer"] == "lc.binh"
    # Asked again without naming anyone: the officer stays.
    assert post_token(live_server.url, api_key).json()["officer"] == "lc.binh"

    citizen = requests.Session()
    page = citizen.get(f"{live_server.url}/s/LC-01?t={code}", timeout=10)
    sent = citizen.post(
        f"{live_server.url}/s/LC-01",
        data={**hidden_fields(page.text), **VALID_ANSWERS},
        allow_redirects=False,
        timeout=10,
    )
    assert sent.status_code == 303, sent.text
    with app.app_context():
        response = db.session.scalar(sa.select(SurveyResponse))
        assert response.receipt_token_id is not None and response.channel == "receipt"
        assert response.served_by_id == _officer_id(app, "lc.binh")
        assert not response.flagged


@pytest.mark.parametrize(
    "officer, status, error",
    [
        ("ca.dung", 422, "invalid_officer"),  # an officer of another commune
        ("camgiang", 422, "invalid_officer"),  # the district's officer
        ("nobody.here", 422, "invalid_officer"),  # no such officer: the same answer
        ("lc.disabled", 422, "invalid_officer"),  # no longer active
        (17, 422, "invalid_fields"),
        ("", 422, "invalid_fields"),
        ("x" * 65, 422, "invalid_fields"),
    ],
)
def test_the_api_refuses_an_officer_not_of_the_desks_commune(
    app, live_server, api_key, officer, status, error
):
    with app.app_context():
        lai_cach = db.session.scalar(sa.select(Unit).where(Unit.code == "HD-CG-LC"))
        db.session.add(
            Officer(
                username="lc.disabled",
                full_name="Đã nghỉ",
                role="commune",
                unit_id=lai_cach.id,
                active=False,
                password_hash=hash_password(PASSWORD),
            )
        )
        db.session.commit()
    reply = post_token(live_server.url, api_key, officer=officer)
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert body["error"] == error
    assert "officer" in body["fields"]
    if error == "invalid_officer":
        assert "not an active officer of the unit of desk LC-01" in body["detail"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ReceiptToken.id))) == 0


# -- who sees what ------------------------------------------------------------------


def test_a_commune_officer_sees_only_their_own_figures(app, live_server, staff):
    add_served(app, "lc.an", same("5", 3))
    add_served(app, "lc.binh", same("2", 3))
    base, period = live_server.url, this_month(app)
    an = http_sign_in(base, "lc.an")

    own = an.get(f"{base}/units/HD-CG-LC/officers/lc.an?period={period}", timeout=10)
    assert own.status_code == 200
    assert "Nguyễn Văn An" in own.text
    for path in (
        "officers/lc.binh",
        "officers/LC.BINH",
        "officers/lc.chutich",
        "officers/funnel.svg",
    ):
        refused = an.get(f"{base}/units/HD-CG-LC/{path}?period={period}", timeout=10)
        assert refused.status_code == 403, path
        assert "Trần Thị Bình" not in refused.text
    # A name that does not exist is refused the same way: no colleague's name is confirmed.
    assert an.get(f"{base}/units/HD-CG-LC/officers/ai.do", timeout=10).status_code == 403
    # The list sends them to their own page.
    listed = an.get(f"{base}/units/HD-CG-LC/officers?period={period}", timeout=10)
    assert listed.url.endswith(f"/units/HD-CG-LC/officers/lc.an?period={period}")
    assert "Trần Thị Bình" not in listed.text
    # Another commune's officer cannot even see the unit; never public.
    dung = http_sign_in(base, "ca.dung")
    assert dung.get(f"{base}/units/HD-CG-LC/officers/lc.an", timeout=10).status_code == 404
    anonymous = requests.get(f"{base}/units/HD-CG-LC/officers/lc.an", timeout=10)
    assert "/login" in anonymous.url and "Nguyễn Văn An" not in anonymous.text
    # Looking at one's own figures is not an audited view of someone else's.
    assert views_of(app, "lc.an") == []


@pytest.mark.parametrize("viewer", ["lc.chutich", "camgiang", "quantri"])
def test_the_leader_and_the_district_see_everyone_and_each_view_is_audited(
    app, live_server, staff, viewer
):
    add_served(app, "lc.an", same("5", 30))
    add_served(app, "lc.binh", same("4", 2))
    base, period = live_server.url, this_month(app)
    password = {"camgiang": "demo-camgiang", "quantri": "quantri-pass"}.get(viewer, PASSWORD)
    browser = http_sign_in(base, viewer, password)

    listed = browser.get(f"{base}/units/HD-CG-LC/officers?period={period}", timeout=10)
    assert listed.status_code == 200
    for name in ("Nguyễn Văn An", "Trần Thị Bình", "Phạm Văn Chủ"):
        assert name in listed.text
    seen = views_of(app, viewer)
    shown = {d.split()[0] for d in seen}
    assert {"lc.an", "lc.binh"} <= shown
    assert viewer not in shown  # the leader's own row is not someone else's
    assert all(d.endswith(f"{period} list") for d in seen)

    one = browser.get(f"{base}/units/HD-CG-LC/officers/lc.binh?period={period}", timeout=10)
    assert one.status_code == 200 and "Trần Thị Bình" in one.text
    assert views_of(app, viewer)[-1] == f"lc.binh {period} page"

    chart = browser.get(f"{base}/units/HD-CG-LC/officers/funnel.svg?period={period}", timeout=10)
    assert chart.status_code == 200 and chart.headers["Content-Type"].startswith("image/svg")
    assert "Nguyễn Văn An" in chart.text  # the legend names each point
    assert "Trần Thị Bình" not in chart.text  # two ratings: not on the plot
    # Only the officers on the plot are recorded as seen there.
    assert [d for d in views_of(app, viewer) if d.endswith("chart")] == [f"lc.an {period} chart"]


def test_a_leader_of_another_commune_sees_nothing_here(app, live_server, staff):
    with app.app_context():
        dung = db.session.scalar(sa.select(Officer).where(Officer.username == "ca.dung"))
        dung.is_leader = True
        db.session.commit()
    browser = http_sign_in(live_server.url, "ca.dung")
    reply = browser.get(f"{live_server.url}/units/HD-CG-LC/officers", timeout=10)
    assert reply.status_code == 404


# -- the fairness rule and the hand count -----------------------------------------


def test_below_the_minimum_no_rate_appears(app, live_server, staff):
    add_served(app, "lc.an", same("5", 29))
    add_served(app, "lc.binh", same("5", 30))
    # Flagged ratings never count, even towards the minimum.
    add_served(app, "lc.an", same("5", 5), flagged=True)
    base, period = live_server.url, this_month(app)
    leader = http_sign_in(base, "lc.chutich")

    listed = leader.get(f"{base}/units/HD-CG-LC/officers?period={period}", timeout=10).text
    an = section(listed, "officer-lc.an")
    assert "chưa đủ số đánh giá" in an
    assert "%" not in an and "verdict met" not in an and "not-met" not in an
    binh = section(listed, "officer-lc.binh")
    assert "chưa đủ số đánh giá" not in binh and "%" in binh

    page = leader.get(f"{base}/units/HD-CG-LC/officers/lc.an?period={period}", timeout=10).text
    assert "%" not in section(page, "overall")
    elements = section(page, "elements")
    assert elements.count("chưa đủ số đánh giá") == 5 and "%" not in elements
    assert "funnel.svg" not in page
    chart = leader.get(
        f"{base}/units/HD-CG-LC/officers/lc.an/funnel.svg?period={period}", timeout=10
    )
    assert chart.status_code == 404
    # The officer's own view obeys the same rule.
    own = http_sign_in(base, "lc.an").get(
        f"{base}/units/HD-CG-LC/officers/lc.an?period={period}", timeout=10
    )
    assert "chưa đủ số đánh giá" in own.text and "%" not in section(own.text, "overall")


def test_rates_equal_a_hand_count(app, live_server, staff):
    app.config["SURVEY_OFFICER_MIN_RATINGS"] = 10
    answers = (
        same("5", 15)
        + same("4", 12)
        + same("3", 5)
        + same("1", 3)
        # No opinion on the overall question: a rating, not a valid answer.
        + [{**{q: "4" for q in ELEMENTS}, "overall": "na"} for _ in range(2)]
    )
    # The civil-servant element differs: 10 of the 15 "very satisfied" said neutral.
    for a in answers[:10]:
        a["official"] = "3"
    add_served(app, "lc.an", answers, comment="Cán bộ hướng dẫn tận tình.")
    # None of these may count for lc.an: flagged, another officer, another period,
    # no officer named.
    add_served(app, "lc.an", same("1", 7), flagged=True, comment="Bị gắn cờ")
    add_served(app, "lc.binh", same("1", 11))
    add_served(app, "lc.an", same("1", 9), when=utcnow() - timedelta(days=70))
    add_served(app, "lc.an", same("1", 4), desk="CA-01")
    base, period = live_server.url, this_month(app)
    own = http_sign_in(base, "lc.an")
    page = own.get(f"{base}/units/HD-CG-LC/officers/lc.an?period={period}&lang=en", timeout=10).text

    # Overall: satisfied 15 + 12 = 27 of 15 + 12 + 5 + 3 = 35 valid; 37 ratings.
    overall = section(page, "overall")
    assert "77.1%" in overall
    assert "27 satisfied of 35 valid answers; 37 forms" in overall
    assert "Target 90% not met" in overall
    # The exact (Clopper–Pearson) interval, from the beta quantiles by hand.
    low, high = beta.ppf(0.025, 27, 35 - 27 + 1), beta.ppf(0.975, 27 + 1, 35 - 27)
    assert f"95% CI: {low:.1%} – {high:.1%}" in overall
    rows = dict(
        re.findall(
            r"<tr><td>([^<]+)</td>\s*<td class=\"num\">([^<]+)</td>", section(page, "elements")
        )
    )
    # Every element but the civil servant: 15 + 12 + 2 = 29 satisfied of 37 valid.
    assert rows["Access to the service"] == "78.4%"
    # The civil servant: 5 + 12 + 2 = 19 of 37.
    assert rows["Civil servant"] == "51.4%"
    comments = section(page, "comments")
    assert comments.count("Cán bộ hướng dẫn tận tình.") == 37
    assert "Bị gắn cờ" not in comments
    # The leader's list agrees with the officer's own page.
    leader = http_sign_in(base, "lc.chutich")
    listed = leader.get(f"{base}/units/HD-CG-LC/officers?period={period}&lang=en", timeout=10).text
    assert "77.1%" in section(listed, "officer-lc.an")
    assert "0 satisfied of 11 valid answers; 11 forms" in section(listed, "officer-lc.binh")


def test_a_bad_period_is_explained_on_the_officers_page(app, live_server, staff):
    leader = http_sign_in(live_server.url, "lc.chutich")
    reply = leader.get(f"{live_server.url}/units/HD-CG-LC/officers?period=13/2026", timeout=10)
    assert reply.status_code == 400
    assert 'action="/units/HD-CG-LC/officers"' in reply.text


# -- the leader flag --------------------------------------------------------------


def test_set_leader_from_the_command_line(app, runner, staff):
    done = runner.invoke(args=["survey", "set-leader", "lc.an"])
    assert done.exit_code == 0, done.output
    with app.app_context():
        an = db.session.scalar(sa.select(Officer).where(Officer.username == "lc.an"))
        assert an.is_leader
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "leader_set"))
        assert entry.detail == "lc.an"
    off = runner.invoke(args=["survey", "set-leader", "lc.an", "--off"])
    assert off.exit_code == 0, off.output
    refused = runner.invoke(args=["survey", "set-leader", "camgiang"])
    assert refused.exit_code != 0 and "only a commune officer" in refused.output
    with app.app_context():
        an = db.session.scalar(sa.select(Officer).where(Officer.username == "lc.an"))
        assert not an.is_leader
        assert not db.session.scalar(
            sa.select(Officer.is_leader).where(Officer.username == "camgiang")
        )


def _leader_form(browser, base, username, leader):
    page = browser.get(f"{base}/units/HD-CG-LC/officers", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    return browser.post(
        f"{base}/units/HD-CG-LC/officers/leader",
        data={
            "csrf_token": token.group(1) if token else "",
            "username": username,
            "leader": "1" if leader else "0",
        },
        allow_redirects=False,
        timeout=10,
    )


def test_the_district_names_the_leader_on_the_page_and_no_commune_officer_can(
    app, live_server, staff
):
    base = live_server.url
    district = http_sign_in(base, "camgiang", "demo-camgiang")
    named = _leader_form(district, base, "lc.an", True)
    assert named.status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(Officer.is_leader).where(Officer.username == "lc.an"))
        entry = db.session.scalar(
            sa.select(AuditEntry)
            .where(AuditEntry.action == "leader_set")
            .order_by(AuditEntry.id.desc())
        )
        assert entry.detail == "lc.an" and entry.officer_id == _officer_id(app, "camgiang")
    # Named, lc.an now sees a colleague's figures.
    an = http_sign_in(base, "lc.an")
    assert an.get(f"{base}/units/HD-CG-LC/officers/lc.binh", timeout=10).status_code == 200
    # Not an officer of the commune: nothing changes.
    assert _leader_form(district, base, "ca.dung", True).status_code == 404
    # A leader cannot name another (nor unname themselves): the district decides.
    leader = http_sign_in(base, "lc.chutich")
    assert _leader_form(leader, base, "lc.binh", True).status_code == 403
    assert _leader_form(leader, base, "lc.chutich", False).status_code == 403
    unnamed = _leader_form(district, base, "lc.an", False)
    assert unnamed.status_code == 303
    with app.app_context():
        flags = dict(db.session.execute(sa.select(Officer.username, Officer.is_leader)).all())
    assert not flags["lc.an"] and not flags["lc.binh"] and not flags["ca.dung"]
    assert flags["lc.chutich"]
    assert an.get(f"{base}/units/HD-CG-LC/officers/lc.binh", timeout=10).status_code == 403


# -- on a phone -------------------------------------------------------------------


@pytest.mark.browser
def test_the_officers_pages_read_without_sideways_scrolling_at_360px(
    app, live_server, staff, phone, artifacts
):
    add_served(app, "lc.an", same("5", 28) + same("3", 4))
    add_served(
        app, "lc.binh", same("4", 3), comment="Chờ hơi lâu nhưng cán bộ rất nhiệt tình, cảm ơn."
    )
    base, period = live_server.url, this_month(app)
    phone.goto(f"{base}/login")
    phone.fill("#username", "lc.chutich")
    phone.fill("#password", PASSWORD)
    phone.click("button[type=submit]")
    phone.wait_for_load_state()
    for path, shot in (
        (f"/units/HD-CG-LC/officers?period={period}", "officers-360.png"),
        (f"/units/HD-CG-LC/officers/lc.an?period={period}", "officer-360.png"),
        (f"/units/HD-CG-LC/officers/lc.binh?period={period}", "officer-few-360.png"),
    ):
        phone.goto(base + path)
        phone.wait_for_load_state("load")
        assert phone.locator("h1").inner_text() == "Thị trấn Lai Cách"
        width = phone.evaluate("document.documentElement.scrollWidth")
        viewport = phone.evaluate("window.innerWidth")
        phone.screenshot(path=str(artifacts / shot), full_page=True)
        assert width <= viewport, f"{path}: {width}px wide in a {viewport}px screen"
    # The funnel image loaded (the page asks for it; the leader may see it).
    phone.goto(base + f"/units/HD-CG-LC/officers?period={period}")
    loaded = phone.evaluate(
        "() => { const i = document.querySelector('#funnel img');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )
    assert loaded


@pytest.mark.browser
def test_the_officers_pages_have_no_serious_accessibility_violation(
    app, live_server, staff, browser
):
    from tests.conftest import skip_or_fail
    from tests.web.test_axe_browser import AXE
    from tests.web.test_axe_browser import _violations

    if not AXE.exists():
        skip_or_fail("axe-core is not installed (npm ci)")
    add_served(app, "lc.an", same("5", 28) + same("3", 4), comment="Nhanh gọn.")
    add_served(app, "lc.binh", same("4", 3))
    base, period = live_server.url, this_month(app)
    # The pages' CSP allows no inline script; the test's own injected axe is let through.
    context = browser.new_context(viewport={"width": 360, "height": 740}, bypass_csp=True)
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("#username", "lc.chutich")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    found = {}
    for path in (
        f"/units/HD-CG-LC/officers?period={period}",
        f"/units/HD-CG-LC/officers/lc.an?period={period}",
        f"/units/HD-CG-LC/officers/lc.binh?period={period}",
        "/units/HD-CG-LC/officers?period=13/2026",
    ):
        page.goto(base + path)
        found[path] = _violations(page)
    context.close()
    assert {p: v for p, v in found.items() if v} == {}
