"""Kiosk mode through real HTTP (issue 21): pairing a tablet with a desk, its
ratings (once each, with the officer on duty), the gap between ratings, a revoked
tablet, shifts by PIN or phone, and the one more question after a low rating."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from survey.data.models import Answer
from survey.data.models import AuditEntry
from survey.data.models import Kiosk
from survey.data.models import KioskShift
from survey.data.models import Officer
from survey.data.models import OfficerPin
from survey.data.models import RateEvent
from survey.data.models import SurveyResponse
from survey.data.models import Unit
from survey.data.models import utcnow
from survey.extensions import db
from survey.officers.accounts import hash_password
from tests.conftest import VALID_ANSWERS
from tests.conftest import csrf_of
from tests.conftest import sign_in

ANSWERS = {k[2:]: v for k, v in VALID_ANSWERS.items() if k != "q_comment"}


@pytest.fixture
def officer(client, officers):
    """The test client signed in as the commune officer of Lai Cách (desks LC-01, LC-02)."""
    assert sign_in(client, "laicach").status_code == 302
    return client


def issue_code(officer_client, desk="LC-01") -> str:
    token = csrf_of(officer_client, "/units/HD-CG-LC/desks")
    page = officer_client.post(f"/kiosk/desks/{desk}/code", data={"csrf_token": token})
    assert page.status_code == 201
    html = page.get_data(as_text=True)
    return re.search(r'id="pairing-code">([A-Z0-9-]+)<', html).group(1)


def pair(tablet, code: str):
    token = csrf_of(tablet, "/kiosk")
    return tablet.post("/kiosk/pair", data={"csrf_token": token, "code": code})


@pytest.fixture
def tablet(app, officer):
    """A second client, paired with desk LC-01."""
    tablet = app.test_client()
    assert pair(tablet, issue_code(officer)).status_code == 303
    return tablet


def rating(**changes) -> dict:
    body = {
        "submission_id": str(uuid.uuid4()),
        "questionnaire_version": 1,
        "answers": dict(ANSWERS),
        "language": "vi",
    }
    body.update(changes)
    return body


def responses(app) -> list[SurveyResponse]:
    with app.app_context():
        rows = db.session.scalars(sa.select(SurveyResponse).order_by(SurveyResponse.id)).all()
        for r in rows:
            r.answer_map()  # loaded before the session closes
        db.session.expunge_all()
        return rows


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))


def officer_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Officer.id).where(Officer.username == username))


def set_pin(client, pin: str):
    token = csrf_of(client, "/kiosk/me")
    return client.post("/kiosk/me/pin", data={"csrf_token": token, "pin": pin})


# -- pairing ------------------------------------------------------------------------


def test_a_code_from_the_desks_page_pairs_one_tablet_once_for_months(app, officer):
    desks = officer.get("/units/HD-CG-LC/desks").get_data(as_text=True)
    assert 'id="kiosks"' in desks and 'id="pair-LC-01"' in desks
    code = issue_code(officer)
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", code)

    tablet = app.test_client()
    first = tablet.get("/kiosk")
    assert first.status_code == 200 and 'name="code"' in first.get_data(as_text=True)
    # Typed in lower case without the dash: still the code.
    paired = pair(tablet, code.replace("-", " ").lower())
    assert paired.status_code == 303 and paired.headers["Location"] == "/kiosk"
    cookie = paired.headers["Set-Cookie"]
    assert cookie.startswith("kiosk=") and "HttpOnly" in cookie and "Path=/kiosk" in cookie
    max_age = int(re.search(r"Max-Age=(\d+)", cookie).group(1))
    assert max_age >= 90 * 24 * 3600  # months, not a session
    page = tablet.get("/kiosk")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="kf"' in html and "Bàn 1" in html
    # Only hashes are kept: neither the code nor the credential in clear.
    with app.app_context():
        kiosk = db.session.scalar(sa.select(Kiosk))
        assert kiosk.paired_at is not None and kiosk.credential_hash
        assert code.replace("-", "") not in (kiosk.code_hash, kiosk.credential_hash)
        assert tablet.get_cookie("kiosk", path="/kiosk").value not in kiosk.credential_hash

    # The same code on another tablet: refused, clearly, and nothing paired.
    other = app.test_client()
    again = pair(other, code)
    assert again.status_code == 409
    assert "đã được dùng" in again.get_data(as_text=True)
    assert other.get_cookie("kiosk", path="/kiosk") is None
    assert audit_actions(app)[-2:] == ["kiosk_code", "kiosk_paired"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Kiosk.id))) == 1


def test_expired_unknown_and_malformed_codes_each_say_what_is_wrong(app, officer):
    code = issue_code(officer)
    with app.app_context():
        db.session.execute(sa.update(Kiosk).values(code_expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    tablet = app.test_client()
    expired = pair(tablet, code)
    assert expired.status_code == 410
    assert "đã hết hạn" in expired.get_data(as_text=True)
    unknown = pair(tablet, "ABCD-2345" if code != "ABCD-2345" else "ABCD-2346")
    assert unknown.status_code == 404 and "Không tìm thấy" in unknown.get_data(as_text=True)
    malformed = pair(tablet, "12")
    assert malformed.status_code == 422 and "ABCD-2345" in malformed.get_data(as_text=True)
    tablet.set_cookie("lang", "en")
    english = pair(tablet, code)
    assert english.status_code == 410 and "has expired" in english.get_data(as_text=True)
    assert tablet.get_cookie("kiosk", path="/kiosk") is None
    with app.app_context():
        assert db.session.scalar(sa.select(Kiosk.paired_at)) is None


def test_only_an_officer_who_sees_the_desk_gets_a_code(app, client, officers):
    sign_in(client, "binhgiang")  # another district
    token = csrf_of(client, "/officer/profile")
    assert client.post("/kiosk/desks/LC-01/code", data={"csrf_token": token}).status_code == 404
    anonymous = app.test_client()
    assert anonymous.post("/kiosk/desks/LC-01/code").status_code in (302, 400, 401)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Kiosk.id))) == 0


# -- ratings ------------------------------------------------------------------------


def test_a_rating_is_stored_once_without_a_per_phone_limit(app, tablet):
    app.config["SURVEY_KIOSK_MIN_GAP_SECONDS"] = 0
    body = rating()
    first = tablet.post("/kiosk/ratings", json=body)
    assert first.status_code == 201 and first.json["stored"] is True
    again = tablet.post("/kiosk/ratings", json=body)  # a resend after a lost answer
    assert again.status_code == 200
    # Far past the phone's five a day: the tablet is shared by everyone at the desk.
    for _ in range(7):
        assert tablet.post("/kiosk/ratings", json=rating()).status_code == 201
    stored = responses(app)
    assert len(stored) == 8
    assert {r.submission_id for r in stored} >= {body["submission_id"]}
    assert all(not r.flagged and r.channel == "kiosk" and r.contact is None for r in stored)
    assert stored[0].answer_map() == ANSWERS
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(RateEvent.id))) == 0


def test_ratings_within_the_gap_are_refused_live_and_flagged_when_queued(app, tablet):
    app.config["SURVEY_KIOSK_MIN_GAP_SECONDS"] = 60
    assert tablet.post("/kiosk/ratings", json=rating()).status_code == 201
    too_soon = tablet.post("/kiosk/ratings", json=rating())
    assert too_soon.status_code == 429
    assert 0 < int(too_soon.headers["Retry-After"]) <= 60
    assert "đợi" in too_soon.json["message"]
    assert len(responses(app)) == 1  # nothing stored for the refused one
    # Queued offline and made right after the first: kept, but not counted.
    now_ms = utcnow().timestamp() * 1000
    queued = tablet.post("/kiosk/ratings", json=rating(offline=True, made_at=now_ms))
    assert queued.status_code == 201
    assert [r.flag_reason for r in responses(app)] == [None, "kiosk_gap"]


def test_the_desks_burst_rule_holds_for_the_kiosk(app, tablet):
    app.config.update(
        SURVEY_KIOSK_MIN_GAP_SECONDS=0, SURVEY_DESK_MAX_PER_HOUR=2, SURVEY_DESK_MAX_PER_DAY=2
    )
    for _ in range(3):
        assert tablet.post("/kiosk/ratings", json=rating()).status_code == 201
    assert [r.flag_reason for r in responses(app)] == [None, None, "burst"]


def test_bad_ratings_store_nothing(app, tablet):
    app.config["SURVEY_KIOSK_MIN_GAP_SECONDS"] = 0
    missing = dict(ANSWERS)
    del missing["overall"]
    cases = [
        (rating(answers=missing), 422),
        (rating(answers={**ANSWERS, "overall": "9"}), 422),
        (rating(answers={**ANSWERS, "nonsense": "1"}), 422),
        (rating(submission_id="not-a-uuid"), 422),
        (rating(questionnaire_version=99), 422),
        (rating(answers="4"), 422),
        (rating(kiosk=999999), 409),  # queued under another pairing of the browser
    ]
    for body, status in cases:
        answer = tablet.post("/kiosk/ratings", json=body)
        assert answer.status_code == status, body
        assert answer.json["message"]
    assert tablet.post("/kiosk/ratings", data={"x": "1"}).status_code == 400
    unpaired = app.test_client().post("/kiosk/ratings", json=rating())
    assert unpaired.status_code == 401 and unpaired.json["paired"] is False
    assert responses(app) == []


def test_a_poor_overall_rating_keeps_the_one_more_answer(app, tablet):
    app.config["SURVEY_KIOSK_MIN_GAP_SECONDS"] = 0
    page = tablet.get("/kiosk").get_data(as_text=True)
    assert 'id="fu"' in page and 'data-low="1 2"' in page and "Phải chờ lâu" in page
    low = rating(
        answers={**ANSWERS, "overall": "2"},
        reason="wait_long",
        reason_text="Chờ hơn một tiếng",
        comment="Cần thêm ghế",
    )
    assert tablet.post("/kiosk/ratings", json=low).status_code == 201
    # After a good rating a stale choice from the tablet is not kept.
    good = rating(answers={**ANSWERS, "overall": "5"}, reason="attitude", reason_text="x")
    assert tablet.post("/kiosk/ratings", json=good).status_code == 201
    bad = rating(answers={**ANSWERS, "overall": "1"}, reason="not_a_choice")
    assert tablet.post("/kiosk/ratings", json=bad).status_code == 422
    first, second = responses(app)
    assert first.answer_map()["low_reason"] == "wait_long"
    assert first.comment == "Chờ hơn một tiếng\n\nCần thêm ghế"
    assert "low_reason" not in second.answer_map() and second.comment is None


# -- revoking ------------------------------------------------------------------------


def test_a_revoked_tablet_is_told_and_its_queued_ratings_kept_for_review(app, officer, tablet):
    with app.app_context():
        kiosk_id = db.session.scalar(sa.select(Kiosk.id))
    desks = officer.get("/units/HD-CG-LC/desks").get_data(as_text=True)
    assert f'id="kiosk-{kiosk_id}"' in desks
    token = csrf_of(officer, "/units/HD-CG-LC/desks")
    revoked = officer.post(f"/kiosk/{kiosk_id}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 303
    assert audit_actions(app)[-1] == "kiosk_revoke"

    page = tablet.get("/kiosk")
    assert page.status_code == 403 and "thu hồi" in page.get_data(as_text=True)
    queued = rating(offline=True, made_at=utcnow().timestamp() * 1000 - 60_000)
    answer = tablet.post("/kiosk/ratings", json=queued)
    assert answer.status_code == 202 and answer.json["revoked"] is True
    again = tablet.post("/kiosk/ratings", json=queued)
    assert again.status_code == 200  # once
    (stored,) = responses(app)
    assert stored.flagged and stored.flag_reason == "revoked_kiosk"
    assert tablet.get("/kiosk/state").status_code == 403
    shift = tablet.post("/kiosk/shift", json={"officer": officer_id(app, "laicach"), "pin": "2580"})
    assert shift.status_code == 403
    flagged = officer.get("/units/HD-CG-LC/flagged").get_data(as_text=True)
    assert "thu hồi" in flagged


# -- shifts ------------------------------------------------------------------------


def test_a_shift_by_pin_puts_the_officer_on_the_kiosk_and_on_its_ratings(app, officer, tablet):
    app.config["SURVEY_KIOSK_MIN_GAP_SECONDS"] = 0
    assert set_pin(officer, "1234").status_code == 422  # too easy
    assert set_pin(officer, "12a4").status_code == 422
    assert set_pin(officer, "2580").status_code == 303
    with app.app_context():
        assert "2580" not in db.session.scalar(sa.select(OfficerPin.pin_hash))
    me = officer_id(app, "laicach")
    state = tablet.get("/kiosk/state").json
    assert state["serving"] is None and [o["id"] for o in state["officers"]] == [me]

    started = tablet.post("/kiosk/shift", json={"officer": me, "pin": "2580"})
    assert started.status_code == 201 and started.json["serving"]
    page = tablet.get("/kiosk").get_data(as_text=True)
    assert "Đang phục vụ: Công chức Văn phòng – Thống kê (Lai Cách)" in page
    desks = officer.get("/units/HD-CG-LC/desks").get_data(as_text=True)
    assert "Đang phục vụ: Công chức Văn phòng – Thống kê (Lai Cách)" in desks
    assert tablet.post("/kiosk/ratings", json=rating()).status_code == 201

    ended = tablet.post("/kiosk/shift/end", json={})
    assert ended.status_code == 200 and ended.json["serving"] is None
    assert tablet.post("/kiosk/ratings", json=rating()).status_code == 201
    served = [r.served_by_id for r in responses(app)]
    assert served == [me, None]
    assert audit_actions(app)[-2:] == ["shift_start", "shift_end"]


def test_a_shift_from_the_officers_phone(app, officer, tablet):
    app.config["SURVEY_KIOSK_MIN_GAP_SECONDS"] = 0
    page = officer.get("/kiosk/me").get_data(as_text=True)
    assert 'id="start-LC-01"' in page and 'id="start-LC-02"' in page
    token = csrf_of(officer, "/kiosk/me")
    started = officer.post("/kiosk/me/shift", data={"csrf_token": token, "desk": "LC-01"})
    assert started.status_code == 303
    assert "Bàn 1" in officer.get("/kiosk/me").get_data(as_text=True)
    assert tablet.get("/kiosk/state").json["serving"].startswith("Công chức")
    assert tablet.post("/kiosk/ratings", json=rating()).status_code == 201
    # A shift at the other desk ends this one: one officer, one counter.
    started = officer.post("/kiosk/me/shift", data={"csrf_token": token, "desk": "LC-02"})
    assert started.status_code == 303
    assert tablet.get("/kiosk/state").json["serving"] is None
    assert responses(app)[0].served_by_id == officer_id(app, "laicach")
    assert officer.post("/kiosk/me/shift/end", data={"csrf_token": token}).status_code == 303
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count(KioskShift.id)).where(KioskShift.ended_at.is_(None))
            )
            == 0
        )


def test_too_many_wrong_pins_lock_the_pin_for_a_while(app, officer, tablet):
    app.config.update(SURVEY_KIOSK_PIN_ATTEMPTS=3, SURVEY_KIOSK_PIN_LOCK_MINUTES=15)
    set_pin(officer, "2580")
    me = officer_id(app, "laicach")
    statuses = [
        tablet.post("/kiosk/shift", json={"officer": me, "pin": "0000"}).status_code
        for _ in range(3)
    ]
    assert statuses == [403, 403, 429]
    locked = tablet.post("/kiosk/shift", json={"officer": me, "pin": "2580"})  # right, but locked
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0 and "15" in locked.json["message"]
    assert audit_actions(app).count("kiosk_pin_locked") == 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(KioskShift.id))) == 0
        db.session.execute(
            sa.update(OfficerPin).values(locked_until=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    assert tablet.post("/kiosk/shift", json={"officer": me, "pin": "2580"}).status_code == 201


def test_an_officer_not_of_the_commune_cannot_start_a_shift_there(app, officer, tablet, client):
    with app.app_context():
        other = db.session.scalar(sa.select(Unit).where(Unit.code == "HD-CG-CH"))
        stranger = Officer(
            username="camhung",
            full_name="Công chức Cẩm Hưng",
            role="commune",
            unit_id=other.id,
            password_hash=hash_password("camhung-pass-1"),
        )
        db.session.add(stranger)
        db.session.flush()
        db.session.add(OfficerPin(officer_id=stranger.id, pin_hash=hash_password("2580")))
        db.session.commit()
        stranger_id = stranger.id
    assert stranger_id not in [o["id"] for o in tablet.get("/kiosk/state").json["officers"]]
    refused = tablet.post("/kiosk/shift", json={"officer": stranger_id, "pin": "2580"})
    assert refused.status_code == 403 and "Thị trấn Lai Cách" in refused.json["message"]

    district = app.test_client()
    sign_in(district, "camgiang")
    assert "start-LC-01" not in district.get("/kiosk/me").get_data(as_text=True)
    token = csrf_of(district, "/kiosk/me")
    phone = district.post("/kiosk/me/shift", data={"csrf_token": token, "desk": "LC-01"})
    assert phone.status_code == 403 and "Thị trấn Lai Cách" in phone.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(KioskShift.id))) == 0


# -- weight ------------------------------------------------------------------------


def test_the_kiosk_page_with_its_script_and_style_weighs_at_most_40_kb(app, tablet):
    page = tablet.get("/kiosk")
    html = page.get_data()
    assets = re.findall(rb'(?:href|src)="(/static/kiosk\.(?:css|js)\?v=\w+)"', html)
    assert len(assets) == 2
    total = len(html) + sum(len(tablet.get(a.decode()).get_data()) for a in assets)
    assert total <= 40 * 1024, total
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Answer.id))) == 0


def test_pairing_revoking_and_shifts_are_not_kept_without_their_audit_entry(app, officer, tablet):
    """Both or neither: with the audit log refusing entries, nothing changes."""
    from tests.test_transactions import refuse_audit

    app.config["PROPAGATE_EXCEPTIONS"] = False  # the 500 a user would see
    set_pin(officer, "2580")
    with app.app_context():
        kiosk_id = db.session.scalar(sa.select(Kiosk.id))
    refuse_audit(app)
    token = csrf_of(officer, "/units/HD-CG-LC/desks")
    assert officer.post("/kiosk/desks/LC-02/code", data={"csrf_token": token}).status_code == 500
    assert officer.post(f"/kiosk/{kiosk_id}/revoke", data={"csrf_token": token}).status_code == 500
    me = officer_id(app, "laicach")
    assert tablet.post("/kiosk/shift", json={"officer": me, "pin": "2580"}).status_code == 500
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Kiosk.id))) == 1
        assert db.session.scalar(sa.select(Kiosk.revoked_at)) is None
        assert db.session.scalar(sa.select(sa.func.count(KioskShift.id))) == 0
    assert tablet.get("/kiosk").status_code == 200


def test_a_rating_queued_under_an_earlier_pairing_goes_to_its_own_desk_or_nowhere(
    app, officer, tablet
):
    """A browser paired again keeps what it queued before: stored as made under the
    earlier pairing if that was at the same desk, refused if at another desk."""
    app.config["SURVEY_KIOSK_MIN_GAP_SECONDS"] = 0
    with app.app_context():
        first = db.session.scalar(sa.select(Kiosk.id))
    token = csrf_of(officer, "/units/HD-CG-LC/desks")
    assert officer.post(f"/kiosk/{first}/revoke", data={"csrf_token": token}).status_code == 303
    assert pair(tablet, issue_code(officer, "LC-01")).status_code == 303  # paired again
    other = app.test_client()
    assert pair(other, issue_code(officer, "LC-02")).status_code == 303
    with app.app_context():
        elsewhere = db.session.scalar(sa.select(Kiosk.id).order_by(Kiosk.id.desc()))
    # Made by the revoked pairing: kept, for review, at its desk.
    same_desk = tablet.post("/kiosk/ratings", json=rating(kiosk=first))
    assert same_desk.status_code == 202
    other_desk = tablet.post("/kiosk/ratings", json=rating(kiosk=elsewhere))
    assert other_desk.status_code == 409 and other_desk.json["message"]
    (row,) = responses(app)
    assert row.flag_reason == "revoked_kiosk"
    with app.app_context():
        assert db.session.get(SurveyResponse, row.id).desk.code == "LC-01"
    assert tablet.post("/kiosk/ratings", json=rating()).status_code == 201  # the new pairing
