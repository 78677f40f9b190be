"""Field interviewers over real HTTP: the district creates and assigns them, they record
interviews (once each, by the interview's start time), and the district reads the
quality checks. An interviewer's account opens nothing else."""

from __future__ import annotations

import re
import uuid
from datetime import UTC
from datetime import datetime
from datetime import time
from datetime import timedelta

import pytest
import requests
import sqlalchemy as sa
from werkzeug.routing import AnyConverter

from survey.data.models import AuditEntry
from survey.data.models import Interview
from survey.data.models import InterviewAssignment
from survey.data.models import Officer
from survey.data.models import SurveyResponse
from survey.domain.periods import LOCAL_TZ
from survey.domain.periods import period_containing
from survey.domain.periods import today_in_vietnam
from survey.extensions import db
from tests.conftest import PASSWORDS
from tests.conftest import VALID_ANSWERS

INTERVIEWER_PASSWORD = "Dieu-tra-vien-2026"
_CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def _csrf(session: requests.Session, url: str) -> str:
    page = session.get(url, timeout=30)
    match = _CSRF.search(page.text)
    assert match, (url, page.status_code)
    return match.group(1)


def http_sign_in(base: str, username: str, password: str | None = None) -> requests.Session:
    session = requests.Session()
    session.headers["Accept-Language"] = "vi"
    token = _csrf(session, f"{base}/login")
    reply = session.post(
        f"{base}/login",
        data={
            "csrf_token": token,
            "username": username,
            "password": password or PASSWORDS.get(username, INTERVIEWER_PASSWORD),
        },
        timeout=30,
    )
    assert reply.status_code == 200, reply.status_code  # after the redirect
    return session


def _day(d) -> str:
    return d.strftime("%d/%m/%Y")


def create_and_assign(base, username="dtv.lan", commune="HD-CG-LC", start=None, end=None):
    """The district officer creates an interviewer and assigns them; returns their id."""
    district = http_sign_in(base, "camgiang")
    page = f"{base}/units/HD-CG/interviewers"
    reply = district.post(
        page,
        data={
            "csrf_token": _csrf(district, page),
            "username": username,
            "full_name": "Nguyễn Thị Lan",
            "password": INTERVIEWER_PASSWORD,
        },
        allow_redirects=False,
        timeout=30,
    )
    assert reply.status_code == 303, reply.text
    listing = district.get(page, timeout=30).text
    officer_id = int(
        re.search(
            rf'id="interviewer-{re.escape(username)}".*?/interviewers/(\d+)/assignments',
            listing,
            re.S,
        ).group(1)
    )
    today = today_in_vietnam()
    reply = district.post(
        f"{page}/{officer_id}/assignments",
        data={
            "csrf_token": _csrf(district, page),
            "commune": commune,
            "starts_on": _day(start or today - timedelta(days=2)),
            "ends_on": _day(end or today + timedelta(days=5)),
        },
        allow_redirects=False,
        timeout=30,
    )
    assert reply.status_code == 303, reply.text
    return officer_id


def interview_data(session, base, desk="LC-01", started=None, duration=480, sid=None, **changes):
    token = session.get(f"{base}/interview/token", timeout=30).json()["csrf_token"]
    started = started or datetime.now(UTC) - timedelta(seconds=duration + 5)
    data = {
        **VALID_ANSWERS,
        "csrf_token": token,
        "submission_id": sid or str(uuid.uuid4()),
        "questionnaire_version": "1",
        "desk": desk,
        "started_at": str(int(started.timestamp() * 1000)),
        "duration_seconds": str(duration),
    }
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def send(session, base, data):
    return session.post(f"{base}/interview/interviews", data=data, timeout=30)


def count_interviews(app) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count())
            .select_from(SurveyResponse)
            .where(SurveyResponse.channel == "interview")
        )


def test_district_creates_an_interviewer_who_lands_on_the_interview_screen(
    app, officers, live_server
):
    base = live_server.url
    officer_id = create_and_assign(base)
    with app.app_context():
        officer = db.session.get(Officer, officer_id)
        assert officer.role == "interviewer"
        assignment = db.session.scalar(sa.select(InterviewAssignment))
        assert assignment.unit.code == "HD-CG-LC"
        assert assignment.created_by_id is not None
        actions = set(db.session.scalars(sa.select(AuditEntry.action)))
        assert {"interviewer_created", "interviewer_assigned"} <= actions
    interviewer = http_sign_in(base, "dtv.lan")
    home = interviewer.get(f"{base}/officer", timeout=30)
    assert home.url == f"{base}/interview/"
    assert "Thị trấn Lai Cách" in home.text and "LC-01" in home.text
    # Only the assigned commune's desks are offered.
    assert "CH-01" not in home.text


def test_a_district_cannot_assign_a_unit_outside_it(app, officers, live_server):
    base = live_server.url
    officer_id = create_and_assign(base)
    district = http_sign_in(base, "camgiang")
    page = f"{base}/units/HD-CG/interviewers"
    reply = district.post(
        f"{page}/{officer_id}/assignments",
        data={
            "csrf_token": _csrf(district, page),
            "commune": "HD-BG-KS",  # another district's commune, typed into a forged form
            "starts_on": _day(today_in_vietnam()),
            "ends_on": _day(today_in_vietnam()),
        },
        timeout=30,
    )
    assert reply.status_code == 422
    assert "HD-BG-KS không phải là xã của Huyện Cẩm Giàng" in reply.text
    bad_dates = district.post(
        f"{page}/{officer_id}/assignments",
        data={
            "csrf_token": _csrf(district, page),
            "commune": "HD-CG-CH",
            "starts_on": "31/02/2026",
            "ends_on": "01/03/2026",
        },
        timeout=30,
    )
    assert bad_dates.status_code == 422
    with app.app_context():
        units = [a.unit.code for a in db.session.scalars(sa.select(InterviewAssignment))]
        assert units == ["HD-CG-LC"]
    # Another district's officer cannot see, nor assign, Cẩm Giàng's interviewer.
    other = http_sign_in(base, "binhgiang")
    own = f"{base}/units/HD-BG/interviewers"
    reply = other.post(
        f"{own}/{officer_id}/assignments",
        data={
            "csrf_token": _csrf(other, own),
            "commune": "HD-BG-KS",
            "starts_on": _day(today_in_vietnam()),
            "ends_on": _day(today_in_vietnam()),
        },
        timeout=30,
    )
    assert reply.status_code == 404
    assert other.get(page, timeout=30).status_code == 404
    # A commune officer does not manage interviewers.
    commune = http_sign_in(base, "laicach")
    assert commune.get(f"{base}/units/HD-CG-LC/interviewers", timeout=30).status_code == 403


def test_a_weak_password_or_taken_username_is_refused_with_the_reason(app, officers, live_server):
    base = live_server.url
    district = http_sign_in(base, "camgiang")
    page = f"{base}/units/HD-CG/interviewers"
    weak = district.post(
        page,
        data={
            "csrf_token": _csrf(district, page),
            "username": "dtv.hoa",
            "full_name": "Hoa",
            "password": "12345678",
        },
        timeout=30,
    )
    assert weak.status_code == 422
    assert "Mật khẩu quá yếu" in weak.text
    taken = district.post(
        page,
        data={
            "csrf_token": _csrf(district, page),
            "username": "laicach",
            "full_name": "Hoa",
            "password": INTERVIEWER_PASSWORD,
        },
        timeout=30,
    )
    assert taken.status_code == 422
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(Officer).where(Officer.role == "interviewer")
            )
            == 0
        )


# Every endpoint an interviewer may use: their screen, signing in and out, public pages.
OPEN = {"static", "auth.login", "auth.logout"}
OPEN_BLUEPRINTS = {"public", "site", "receipts", "interview"}
SAMPLE_ARGS = {
    "unit_code": "HD-CG-LC",
    "period": "2025-03",
    "response_id": 1,
    "assignment_id": 1,
    "officer_id": 1,
    # Paper ballots (survey/paper): a batch, a second reading, a ballot's serial.
    "batch_id": 1,
    "recheck_id": 1,
    "serial": "LC-01-00001-9",
    # Kiosks (survey/kiosk) and officers' figures (survey/staff).
    "desk_code": "LC-01",
    "kiosk_id": 1,
    "username": "laicach",
    "code": "K7M2QX9P",
    "filename": "app.css",
}


def test_every_officer_endpoint_refuses_an_interviewer(app, officers, live_server):
    base = live_server.url
    create_and_assign(base)
    interviewer = http_sign_in(base, "dtv.lan")
    token = interviewer.get(f"{base}/interview/token", timeout=30).json()["csrf_token"]
    checked = []
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.rsplit(".", 1)[0] if "." in rule.endpoint else None
        if rule.endpoint in OPEN or blueprint in OPEN_BLUEPRINTS:
            continue
        values = {}
        for name in rule.arguments:
            converter = rule._converters.get(name)
            if isinstance(converter, AnyConverter):
                values[name] = sorted(converter.items)[0]
            else:
                values[name] = SAMPLE_ARGS[name]
        path = adapter.build(rule.endpoint, values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            reply = interviewer.request(
                method,
                f"{base}{path}",
                data={"csrf_token": token},
                allow_redirects=False,
                timeout=30,
            )
            checked.append((method, path, reply.status_code))
            if rule.endpoint == "auth.home":
                assert reply.status_code == 302 and reply.headers["Location"].endswith(
                    "/interview/"
                )
            else:
                assert reply.status_code == 403, (method, path, reply.status_code)
    # The dashboards, downloads, API, flagged, volumes and the interviewers' pages.
    paths = {path for _, path, _ in checked}
    assert {"/units/HD-CG-LC", "/api/v1/units/HD-CG-LC/summary", "/officer/profile"} <= paths
    assert len(checked) > 25


def test_an_interview_is_stored_once_with_its_interviewer_and_timing(app, officers, live_server):
    base = live_server.url
    officer_id = create_and_assign(base)
    interviewer = http_sign_in(base, "dtv.lan")
    data = interview_data(interviewer, base, duration=480)
    first = send(interviewer, base, data)
    assert first.status_code == 201, first.text
    again = send(interviewer, base, data)  # the answer was lost: sent again
    assert again.status_code == 200 and again.json()["status"] == "already"
    with app.app_context():
        response = db.session.scalar(sa.select(SurveyResponse))
        assert response.channel == "interview"
        assert response.served_by_id == officer_id
        assert response.desk.code == "LC-01"
        assert response.answer_map()["overall"] == "4"
        interview = db.session.get(Interview, response.submission_id)
        assert interview.interviewer_id == officer_id
        assert interview.duration_seconds == 480
        assert abs(interview.started_at.timestamp() * 1000 - int(data["started_at"])) < 1
    assert count_interviews(app) == 1


def test_missing_answers_and_an_expired_token_store_nothing(app, officers, live_server):
    base = live_server.url
    create_and_assign(base)
    interviewer = http_sign_in(base, "dtv.lan")
    missing = send(interviewer, base, interview_data(interviewer, base, q_overall=None))
    assert missing.status_code == 422
    assert "overall" in missing.json()["fields"]
    expired = send(interviewer, base, interview_data(interviewer, base, csrf_token="stale"))
    assert expired.status_code == 400 and expired.json()["error"] == "csrf"
    unknown = send(interviewer, base, interview_data(interviewer, base, desk="XX-99"))
    assert unknown.status_code == 422
    signed_out = requests.post(
        f"{base}/interview/interviews", data=interview_data(interviewer, base), timeout=30
    )
    assert signed_out.status_code == 401
    assert count_interviews(app) == 0


def test_an_interviewer_outside_the_assignment_is_refused_and_nothing_stored(
    app, officers, live_server
):
    base = live_server.url
    today = today_in_vietnam()
    # Ended the day before yesterday: far enough that the clock margin around midnight
    # never lets "now" in, whatever the hour the test runs.
    create_and_assign(base, start=today - timedelta(days=10), end=today - timedelta(days=2))
    interviewer = http_sign_in(base, "dtv.lan")
    # The assignment has ended: an interview started now is refused ...
    today_reply = send(interviewer, base, interview_data(interviewer, base))
    assert today_reply.status_code == 403
    body = today_reply.json()
    assert body["problem"] == "outside_dates"
    assert "không bao gồm ngày" in body["message"] and "Thị trấn Lai Cách" in body["message"]
    # ... so is one in a commune never assigned (Cẩm Hưng's desk) ...
    noon_yesterday = datetime.combine(today - timedelta(days=2), time(12), LOCAL_TZ)
    other = send(
        interviewer, base, interview_data(interviewer, base, desk="CH-01", started=noon_yesterday)
    )
    assert other.status_code == 403 and other.json()["problem"] == "not_assigned"
    # ... and one claiming to start in the future (a wrong clock).
    future = send(
        interviewer,
        base,
        interview_data(interviewer, base, started=datetime.now(UTC) + timedelta(hours=2)),
    )
    assert future.status_code == 403 and future.json()["problem"] == "future"
    endless = send(interviewer, base, interview_data(interviewer, base, duration=5 * 3600))
    assert endless.status_code == 422 and endless.json()["problem"] == "bad_duration"
    assert count_interviews(app) == 0
    # Made on the assignment's last day, queued offline, sent today: accepted.
    late = send(interviewer, base, interview_data(interviewer, base, started=noon_yesterday))
    assert late.status_code == 201, late.text
    # Older than SURVEY_INTERVIEW_SEND_DAYS (7): refused.
    old = datetime.combine(today - timedelta(days=9), time(9), LOCAL_TZ)
    stale = send(interviewer, base, interview_data(interviewer, base, started=old))
    assert stale.status_code == 403 and stale.json()["problem"] == "too_old"
    assert count_interviews(app) == 1


def _period_holding(first, last):
    for kind in ("month", "quarter", "half", "year"):
        period = period_containing(first, kind, 15)
        if period.start <= last <= period.end:
            return period
    return None


def test_the_district_reads_the_quality_checks(app, officers, live_server):
    base = live_server.url
    today = today_in_vietnam()
    officer_id = create_and_assign(base, start=today - timedelta(days=3), end=today)
    interviewer = http_sign_in(base, "dtv.lan")
    # Two days in a row inside one reporting period (Cẩm Giàng counts from the 15th).
    first_day = today - timedelta(days=2)
    period = _period_holding(first_day, first_day + timedelta(days=1))
    if period is None:
        first_day -= timedelta(days=1)
        period = _period_holding(first_day, first_day + timedelta(days=1))
    start = datetime.combine(first_day, time(8), LOCAL_TZ)
    # Six interviews with the very same answers, two of them 30 seconds long.
    for n in range(6):
        data = interview_data(
            interviewer, base, started=start + timedelta(hours=n), duration=30 if n < 2 else 400
        )
        assert send(interviewer, base, data).status_code == 201
    other = interview_data(interviewer, base, started=start + timedelta(days=1), q_overall="5")
    assert send(interviewer, base, other).status_code == 201
    # The district shortens the assignment afterwards: the first day's interviews fall outside.
    with app.app_context():
        assignment = db.session.scalar(sa.select(InterviewAssignment))
        assignment.starts_on = first_day + timedelta(days=1)
        db.session.commit()
    district = http_sign_in(base, "camgiang")
    page = district.get(f"{base}/units/HD-CG/interviewers/quality?period={period.code}", timeout=30)
    assert page.status_code == 200
    text = page.text
    row = re.search(r'<tr id="row-dtv.lan">(.*?)</tr>', text, re.S).group(1)
    cells = [
        re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    ]
    assert cells[1:4] == ["7", "2", "6"]  # interviews, days, most in a day
    assert cells[5] == "2"  # shorter than 120 s
    assert "6 trên 7" in cells[6]
    assert "cần xem" in cells[6]
    outside = re.search(r'<section class="card" id="outside">(.*?)</section>', text, re.S).group(1)
    assert outside.count("<tr>") == 1 + 6  # the header and the first day's six
    assert officer_id

    # The district leaves a too-short interview out of the figures, from this page.
    short = re.search(r'<section class="card" id="too-short">(.*?)</section>', text, re.S).group(1)
    action = re.search(r'action="([^"]+/exclude[^"]*)"', short).group(1).replace("&amp;", "&")
    response_id = int(re.search(r"/responses/(\d+)/exclude", action).group(1))
    token = _csrf(district, f"{base}/units/HD-CG/interviewers/quality?period={period.code}")
    left_out = district.post(f"{base}{action}", data={"csrf_token": token}, timeout=30)
    assert left_out.status_code == 200  # back on the quality page, which says so
    assert f"Cuộc phỏng vấn {response_id} đã được loại khỏi số liệu" in left_out.text
    with app.app_context():
        response = db.session.get(SurveyResponse, response_id)
        assert (response.flagged, response.flag_reason) == (True, "interview")
    flagged = district.get(f"{base}/units/HD-CG-LC/flagged", timeout=30).text
    assert "Phỏng vấn bị huyện loại sau khi kiểm tra chất lượng" in flagged
    check = app.test_cli_runner().invoke(args=["survey", "rollup-check"])
    assert check.exit_code == 0, check.output
    # Another district cannot touch it.
    other = http_sign_in(base, "binhgiang")
    own = f"{base}/units/HD-BG/interviewers/quality"
    refused = other.post(
        f"{base}/units/HD-BG/interviewers/responses/{response_id + 1}/exclude",
        data={"csrf_token": _csrf(other, own)},
        timeout=30,
    )
    assert refused.status_code == 404


def test_cli_creates_and_assigns_an_interviewer(app, officers, runner):
    result = runner.invoke(
        args=[
            "survey",
            "create-interviewer",
            "dtv.minh",
            "--name",
            "Trần Minh",
            "--unit",
            "HD-CG",
            "--by",
            "camgiang",
            "--password-stdin",
        ],
        input=INTERVIEWER_PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    today = today_in_vietnam()
    outside = runner.invoke(
        args=[
            "survey",
            "assign-interviewer",
            "dtv.minh",
            "HD-BG-KS",
            "--from",
            _day(today),
            "--to",
            _day(today),
        ],
    )
    assert outside.exit_code != 0
    assert "HD-BG-KS is not a commune of Huyện Cẩm Giàng" in outside.output
    ok = runner.invoke(
        args=[
            "survey",
            "assign-interviewer",
            "dtv.minh",
            "HD-CG-CH",
            "--from",
            _day(today),
            "--to",
            _day(today + timedelta(days=30)),
            "--by",
            "camgiang",
        ],
    )
    assert ok.exit_code == 0, ok.output
    listing = runner.invoke(args=["survey", "list-interviewers", "HD-CG"])
    assert "dtv.minh" in listing.output and "HD-CG-CH" in listing.output
    not_theirs = runner.invoke(
        args=[
            "survey",
            "create-interviewer",
            "dtv.x",
            "--name",
            "X",
            "--unit",
            "HD-CG",
            "--by",
            "binhgiang",
            "--password-stdin",
        ],
        input=INTERVIEWER_PASSWORD + "\n",
    )
    assert not_theirs.exit_code != 0
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(InterviewAssignment)) == 1


@pytest.mark.parametrize("role", ["interviewer"])
def test_create_officer_does_not_make_interviewers(runner, officers, role):
    result = runner.invoke(
        args=[
            "survey",
            "create-officer",
            "x.y",
            "--name",
            "X",
            "--role",
            role,
            "--unit",
            "HD-CG",
            "--password-stdin",
        ],
        input=INTERVIEWER_PASSWORD + "\n",
    )
    assert result.exit_code != 0


def test_an_interviewer_is_created_with_its_audit_entry_or_not_at_all(app, officers, runner):
    from tests.test_transactions import refuse_audit

    refuse_audit(app)
    result = runner.invoke(
        args=[
            "survey",
            "create-interviewer",
            "dtv.minh",
            "--name",
            "Trần Minh",
            "--unit",
            "HD-CG",
            "--by",
            "camgiang",
            "--password-stdin",
        ],
        input=INTERVIEWER_PASSWORD + "\n",
    )
    assert result.exit_code != 0
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(Officer).where(Officer.role == "interviewer")
            )
            == 0
        )


def test_the_same_interview_sent_at_once_from_several_connections_is_stored_once(
    app, officers, live_server
):
    from concurrent.futures import ThreadPoolExecutor

    base = live_server.url
    create_and_assign(base)
    interviewer = http_sign_in(base, "dtv.lan")
    data = interview_data(interviewer, base)
    cookies = interviewer.cookies.get_dict()

    def post(_):
        with requests.Session() as session:
            session.cookies.update(cookies)
            return send(session, base, data).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = sorted(pool.map(post, range(6)))
    assert statuses == [200] * 5 + [201], statuses
    assert count_interviews(app) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Interview)) == 1
