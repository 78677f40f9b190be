"""Abuse controls on the open QR form: honeypot, fill time, rate limits, scans,
flagged responses out of the statistics and back, purge, and the limits holding
across two gunicorn workers."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from survey.data.models import AuditEntry
from survey.data.models import DeskScanDay
from survey.data.models import RateEvent
from survey.data.models import SurveyResponse
from survey.data.models import utcnow
from survey.extensions import db
from tests.conftest import VALID_ANSWERS
from tests.conftest import add_responses
from tests.conftest import csrf_of
from tests.conftest import hidden_fields
from tests.conftest import sign_in

ROOT = Path(__file__).resolve().parents[2]


def stored(app) -> list[SurveyResponse]:
    with app.app_context():
        rows = db.session.scalars(sa.select(SurveyResponse).order_by(SurveyResponse.id)).all()
        return [(r.flag_reason, r.flagged, r.receipt_token_id) for r in rows]


@pytest.fixture
def slow_ok(app):
    """No minimum fill time, so quick test posts are not flagged."""
    app.config["SURVEY_MIN_FILL_SECONDS"] = 0
    return app


def test_form_carries_a_signed_stamp_and_a_hidden_honeypot(client, demo_units):
    html = client.get("/s/LC-01").get_data(as_text=True)
    fields = hidden_fields(html)
    assert fields["issued"] and "." in fields["issued"]
    assert 'name="website"' in html and 'class="hp"' in html and 'tabindex="-1"' in html
    assert "<script" not in html
    cookies = " ".join(client.get("/s/LC-02").headers.getlist("Set-Cookie"))
    assert "seen=" in cookies


def test_honeypot_and_fast_or_unsigned_forms_are_kept_but_flagged(app, client, form_post):
    app.config["SURVEY_MIN_FILL_SECONDS"] = 3600  # any post is "too fast"
    assert client.post("/s/LC-01", data=form_post()).status_code == 303
    app.config["SURVEY_MIN_FILL_SECONDS"] = 0
    assert client.post("/s/LC-01", data=form_post(website="http://spam")).status_code == 303
    assert client.post("/s/LC-01", data=form_post(issued="forged.stamp")).status_code == 303
    other = form_post()
    other["issued"] = form_post()["issued"]  # a stamp of another served form
    assert client.post("/s/LC-01", data=other).status_code == 303
    assert client.post("/s/LC-01", data=form_post()).status_code == 303
    assert stored(app) == [
        ("too_fast", True, None),
        ("honeypot", True, None),
        ("unsigned", True, None),
        ("unsigned", True, None),
        (None, False, None),
    ]


def test_device_limit_answers_429_politely(app, client, slow_ok, form_post):
    app.config["SURVEY_LIMIT_DEVICE_PER_DAY"] = 3
    replies = [client.post("/s/LC-01", data=form_post()).status_code for _ in range(4)]
    assert replies == [303, 303, 303, 429]
    last = client.post("/s/LC-01", data=form_post())
    html = last.get_data(as_text=True)
    assert last.status_code == 429
    assert "Điện thoại này đã gửi 3 phiếu đánh giá cho bàn này trong 24 giờ qua" in html
    assert last.headers["Retry-After"] == "86400"
    assert len(stored(app)) == 3
    # Another desk has its own count; a double tap is not counted twice.
    data = form_post("LC-02")
    assert client.post("/s/LC-02", data=data).status_code == 303
    assert client.post("/s/LC-02", data=data).status_code == 303
    assert len(stored(app)) == 4
    with app.app_context():
        # Refused attempts leave no rows behind: only the stored ones count.
        assert db.session.scalar(sa.select(sa.func.count(RateEvent.id))) == 8
        hashes = db.session.scalars(sa.select(RateEvent.key_hash)).all()
        assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes)
        assert "127.0.0.1" not in " ".join(hashes)


def test_ip_limit_counts_every_phone_behind_one_address(app, slow_ok, form_post):
    """Beyond the per-address limit ratings are kept but flagged as a burst (an attacker
    sharing the desk's Wi-Fi cannot lock honest citizens out); only a flood beyond
    the hard limit is refused."""
    app.config.update(SURVEY_LIMIT_IP_PER_HOUR=2, SURVEY_LIMIT_IP_HARD_PER_HOUR=4)
    codes = []
    for _ in range(5):
        phone = app.test_client()  # a new phone: no device cookie yet
        page = phone.get("/s/LC-01")
        data = {**hidden_fields(page.get_data(as_text=True)), **VALID_ANSWERS}
        codes.append(phone.post("/s/LC-01", data=data).status_code)
    assert codes == [303, 303, 303, 303, 429]
    assert stored(app) == [(None, False, None)] * 2 + [("burst", True, None)] * 2


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("hops, expected", [(0, "10.0.0.1"), (1, "203.0.113.7")])
def test_proxy_fix_setting_decides_which_address_is_limited(database_url, hops, expected):
    from flask import request

    from survey import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SURVEY_PROXY_FIX_X_FOR": hops})
    seen = {}

    @app.get("/_addr")
    def _addr():
        seen["addr"] = request.remote_addr
        return "ok"

    app.test_client().get(
        "/_addr",
        headers={"X-Forwarded-For": "203.0.113.7"},
        environ_base={"REMOTE_ADDR": "10.0.0.1"},
    )
    assert seen["addr"] == expected


def test_scans_count_first_view_per_device_per_day(app, officers):
    phone = app.test_client()
    for _ in range(3):
        phone.get("/s/LC-01")
    phone.get("/s/LC-02")
    app.test_client().get("/s/LC-01")
    with app.app_context():
        rows = {(r.desk_id, r.scans) for r in db.session.scalars(sa.select(DeskScanDay)).all()}
        assert sorted(n for _, n in rows) == [1, 2]
    officer = app.test_client()
    sign_in(officer, "laicach")
    data = officer.get("/api/v1/units/HD-CG-LC/desks").get_json()
    by_code = {d["code"]: d for d in data["desks"]}
    assert by_code["LC-01"]["scans"] == 2 and by_code["LC-02"]["scans"] == 1
    assert by_code["LC-01"]["submitted"] == 0
    page = officer.get("/units/HD-CG-LC/desks").get_data(as_text=True)
    assert 'id="desk-LC-01"' in page and "Lượt quét" in page


def _summary(client):
    return client.get("/api/v1/units/HD-CG-LC/summary").get_json()


def test_flagged_responses_are_left_out_then_reinstated(app, officers):
    now = utcnow()
    add_responses(officers, "LC-01", now, {"5": 9})
    citizen = app.test_client()
    page = citizen.get("/s/LC-01")
    data = {**hidden_fields(page.get_data(as_text=True)), **VALID_ANSWERS, "q_overall": "1"}
    data["website"] = "bot"
    assert citizen.post("/s/LC-01", data=data).status_code == 303

    district = app.test_client()
    sign_in(district, "camgiang")
    before = _summary(district)
    assert (before["responses"], before["satisfied"], before["valid"]) == (9, 9, 9)
    assert before["sources"]["flagged_excluded"] == 1
    assert before["sources"]["open"]["responses"] == 9
    listing = district.get("/units/HD-CG-LC/flagged").get_data(as_text=True)
    assert "Ô ẩn chống máy tự động bị điền" in listing
    with app.app_context():
        flagged_id = db.session.scalar(sa.select(SurveyResponse.id).where(SurveyResponse.flagged))

    # A commune officer sees the list but may not reinstate its own responses.
    commune = app.test_client()
    sign_in(commune, "laicach")
    assert "Chỉ cán bộ cấp huyện" in commune.get("/units/HD-CG-LC/flagged").get_data(as_text=True)
    token = csrf_of(commune, "/units/HD-CG-LC/flagged")
    refused = commune.post(
        f"/units/HD-CG-LC/flagged/{flagged_id}", data={"csrf_token": token, "action": "reinstate"}
    )
    assert refused.status_code == 403
    assert _summary(commune)["responses"] == 9

    token = csrf_of(district, "/units/HD-CG-LC/flagged")
    done = district.post(
        f"/units/HD-CG-LC/flagged/{flagged_id}", data={"csrf_token": token, "action": "reinstate"}
    )
    assert done.status_code == 303
    after = _summary(district)
    assert (after["responses"], after["satisfied"], after["valid"]) == (10, 9, 10)
    assert after["rate"] == pytest.approx(0.9)
    assert after["sources"]["flagged_excluded"] == 0
    district_view = district.get("/api/v1/units/HD-CG/summary").get_json()
    assert district_view["responses"] == 10
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "reinstate"))
        assert entry.response_id == flagged_id and entry.officer.username == "camgiang"

    # And out again.
    district.post(
        f"/units/HD-CG-LC/flagged/{flagged_id}", data={"csrf_token": token, "action": "exclude"}
    )
    assert _summary(district)["responses"] == 9


def test_flagged_of_an_invisible_unit_is_404(app, officers):
    outsider = app.test_client()
    sign_in(outsider, "binhgiang")
    assert outsider.get("/units/HD-CG-LC/flagged").status_code == 404


def test_purge_deletes_old_hashes_and_closed_contacts(app, runner, officers):
    old = utcnow() - timedelta(days=200)
    with app.app_context():
        from survey.data.models import Desk

        desk = db.session.scalar(sa.select(Desk).where(Desk.code == "LC-01"))
        db.session.add_all(
            [
                RateEvent(desk_id=desk.id, kind="ip", key_hash="a" * 64, at=old),
                RateEvent(desk_id=desk.id, kind="ip", key_hash="b" * 64, at=utcnow()),
            ]
        )
        db.session.commit()
    add_responses(officers, "LC-01", old, {"4": 3}, comment="Chậm")
    with app.app_context():
        rows = db.session.scalars(sa.select(SurveyResponse).order_by(SurveyResponse.id)).all()
        for r, (status, updated) in zip(
            rows,
            [("answered", old), ("answered", utcnow()), ("in_progress", old)],
            strict=True,
        ):
            r.contact, r.contact_consent = "0912345678", True
            r.feedback_status, r.feedback_updated_at = status, updated
        db.session.commit()
    result = runner.invoke(args=["survey", "purge"])
    assert result.exit_code == 0, result.output
    assert (
        "Deleted 1 rate-limit records and 0 old failed sign-ins; cleared 1 contact details."
        in result.output
    )
    with app.app_context():
        contacts = db.session.scalars(
            sa.select(SurveyResponse.contact).order_by(SurveyResponse.id)
        ).all()
        assert contacts == [None, "0912345678", "0912345678"]
        assert db.session.scalar(sa.select(sa.func.count(RateEvent.id))) == 1


def test_the_last_slot_goes_to_one_of_many_simultaneous_posts(app, client, slow_ok, form_post):
    """Eight posts from one phone at the same moment, with three slots left: exactly
    three are stored, on both databases (PostgreSQL's read-committed counts need the
    advisory lock; SQLite's write lock serialises them), and the refused ones leave no
    rate-limit record behind."""
    import threading

    from survey.integrity.guard import DEVICE_COOKIE

    app.config["SURVEY_LIMIT_DEVICE_PER_DAY"] = 4
    assert client.post("/s/LC-01", data=form_post()).status_code == 303
    posts = [form_post() for _ in range(8)]
    # The same phone: its device cookie, and the session its forms' CSRF tokens belong to.
    cookies = {
        name: client.get_cookie(name).value
        for name in (DEVICE_COOKIE, app.config["SESSION_COOKIE_NAME"])
    }
    start = threading.Barrier(len(posts))

    def send(data):
        phone = app.test_client()
        for name, value in cookies.items():
            phone.set_cookie(name, value)
        start.wait()
        return phone.post("/s/LC-01", data=data).status_code

    with ThreadPoolExecutor(len(posts)) as pool:
        codes = list(pool.map(send, posts))
    assert sorted(codes) == [303] * 3 + [429] * 5
    assert len(stored(app)) == 4
    with app.app_context():
        kinds = db.session.execute(
            sa.select(RateEvent.kind, sa.func.count()).group_by(RateEvent.kind)
        ).all()
    assert dict(kinds) == {"device": 4, "ip": 4}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_rate_limits_hold_across_two_gunicorn_workers(tmp_path):
    """Two workers, one SQLite file: the per-device and per-IP limits are shared."""
    import requests

    gunicorn = Path(sys.executable).with_name("gunicorn")
    assert gunicorn.exists()
    db_path = tmp_path / "survey.db"
    env = {
        **os.environ,
        "FLASK_APP": "wsgi",
        "DATABASE_URL": f"sqlite:///{db_path}",
        "SURVEY_ENV": "testing",
        "SURVEY_DEMO": "1",
        "SURVEY_MIN_FILL_SECONDS": "0",
        "SURVEY_LIMIT_DEVICE_PER_DAY": "4",
        "SURVEY_LIMIT_IP_PER_HOUR": "10",
        "SURVEY_LIMIT_IP_HARD_PER_HOUR": "12",
        "SURVEY_DESK_MAX_PER_HOUR": "-1",
    }
    flask = [sys.executable, "-m", "flask"]
    for args in (["db", "upgrade"], ["survey", "demo-data", "--no-responses"]):
        subprocess.run(flask + args, cwd=ROOT, env=env, check=True, capture_output=True)
    port = _free_port()
    log = tmp_path / "access.log"
    server = subprocess.Popen(
        [
            str(gunicorn),
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--access-logfile",
            str(log),
            "--access-logformat",
            "%(p)s %(m)s %(U)s %(s)s",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)

        def submit(session, desk="LC-01"):
            page = session.get(f"{base}/s/{desk}", timeout=10)
            data = {**hidden_fields(page.text), **VALID_ANSWERS}
            reply = session.post(f"{base}/s/{desk}", data=data, allow_redirects=False, timeout=20)
            return reply.status_code

        # One phone (one device cookie), 8 submissions, 4 at a time.
        phone = requests.Session()
        submit(phone)  # gets the device cookie first
        with ThreadPoolExecutor(4) as pool:
            codes = [1] + list(pool.map(lambda _: submit(phone), range(7)))
        assert codes.count(429) >= 4
        # Many phones behind one address at another desk: the per-IP limit (10)
        # flags the rest, the hard limit (12) refuses beyond it.
        with ThreadPoolExecutor(4) as pool:
            ip_codes = list(pool.map(lambda _: submit(requests.Session(), "LC-02"), range(16)))
        assert ip_codes.count(303) <= 12 and ip_codes.count(429) >= 4
    finally:
        server.terminate()
        server.wait(timeout=20)

    engine = sa.create_engine(f"sqlite:///{db_path}")
    with engine.connect() as conn:
        per_desk = dict(
            conn.execute(
                sa.text(
                    "SELECT desk.code, count(response.id) FROM response "
                    "JOIN desk ON desk.id = response.desk_id GROUP BY desk.code"
                )
            ).all()
        )
        counted = conn.scalar(
            sa.text(
                "SELECT count(*) FROM response JOIN desk ON desk.id = response.desk_id "
                "WHERE desk.code = 'LC-02' AND NOT response.flagged"
            )
        )
    engine.dispose()
    assert per_desk["LC-01"] == 4  # never more than the device limit
    assert per_desk["LC-02"] == ip_codes.count(303) <= 12
    assert counted <= 10  # never more counted than the per-IP limit
    # Both workers answered form posts.
    pids = {
        line.split()[0]
        for line in log.read_text().splitlines()
        if line.split()[1:3] == ["POST", "/s/LC-02"]
    }
    assert len(pids) == 2, pids
