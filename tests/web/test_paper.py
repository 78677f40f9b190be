"""Paper ballots through the app: print a batch, enter each ballot once, re-key a
sample, the district decides; and the bad input officers will type."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from survey.data import rollup
from survey.data.models import AuditEntry
from survey.data.models import Officer
from survey.data.models import PaperBallot
from survey.data.models import PaperBatch
from survey.data.models import PaperRecheck
from survey.data.models import SurveyResponse
from survey.data.models import Unit
from survey.domain import ballots
from survey.domain.periods import period_containing
from survey.domain.periods import today_in_vietnam
from survey.extensions import db
from survey.officers.accounts import hash_password
from tests.conftest import csrf_of
from tests.conftest import sign_in

COMMUNE = "HD-CG-LC"
# One key per question of the bundled questionnaire, as printed beside the ticked boxes:
# field 3 (Đất đai), the five elements and overall, wait 2, visits 1, trouble 1 (no).
KEYS = {
    "field": "3",
    "access": "4",
    "procedure": "5",
    "official": "5",
    "result": "3",
    "feedback": "0",
    "overall": "4",
    "wait": "2",
    "visits": "1",
    "trouble": "1",
}
STORED = {
    "field": "dat_dai",
    "access": "4",
    "procedure": "5",
    "official": "5",
    "result": "3",
    "feedback": "na",
    "overall": "4",
    "wait": "15to30",
    "visits": "1",
    "trouble": "no",
}


def print_batch(client, desk="LC-01", count=3, unit=COMMUNE, **extra):
    data = {
        "csrf_token": csrf_of(client, f"/units/{unit}/paper"),
        "desk": desk,
        "count": str(count),
        "layout": "a4x2",
        **extra,
    }
    return client.post(f"/units/{unit}/paper/batches", data=data)


def serials(app, desk_code="LC-01") -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(PaperBallot.serial)
                .join(PaperBatch, PaperBatch.id == PaperBallot.batch_id)
                .where(PaperBallot.serial.startswith(desk_code + "-"))
                .order_by(PaperBallot.seq)
            )
        )


def enter(client, serial, keys=None, *, unit=COMMUNE, comment="", recheck=False, json=False):
    path = f"/units/{unit}/paper/{'recheck' if recheck else 'entry'}"
    data = {"csrf_token": csrf_of(client, path), "serial": serial, "comment": comment}
    data.update({f"a_{q}": k for q, k in (KEYS if keys is None else keys).items()})
    headers = {"Accept": "application/json"} if json else {}
    return client.post(path, data=data, headers=headers)


def sign_out(client) -> None:
    done = client.post("/logout", data={"csrf_token": csrf_of(client, "/officer/profile")})
    assert done.status_code in (302, 303)


def paper_responses(app) -> list[SurveyResponse]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(SurveyResponse).where(SurveyResponse.channel == "paper")
        ).all()
        for r in rows:
            r.answer_map()  # loaded while the session is open
        return rows


def rollup_is_exact(app) -> None:
    with app.app_context():
        for code in (COMMUNE, "HD-CG", "HD"):
            unit = db.session.scalar(sa.select(Unit).where(Unit.code == code))
            assert rollup.differences(unit) == {}, code


@pytest.fixture
def second_officer(officers):
    """Another officer of Lai Cách, for the second readings."""
    with officers.app_context():
        unit = db.session.scalar(sa.select(Unit).where(Unit.code == COMMUNE))
        db.session.add(
            Officer(
                username="laicach2",
                full_name="Cán bộ Một cửa (Lai Cách)",
                role="commune",
                unit_id=unit.id,
                password_hash=hash_password("laicach2-pass"),
            )
        )
        db.session.commit()
    return officers


def test_a_batch_numbers_ballots_after_the_last_and_renders_them(officers, client):
    sign_in(client, "laicach")
    page = client.get(f"/units/{COMMUNE}/paper")
    assert page.status_code == 200
    assert "In phiếu" in page.get_data(as_text=True)
    done = print_batch(client, count=3)
    assert done.status_code == 303
    assert print_batch(client, count=2, layout="a5").status_code == 303
    numbers = serials(officers)
    assert numbers == [ballots.make_serial("LC-01", n) for n in range(1, 6)]
    assert all(ballots.is_valid_key(ballots.key_of(s)) for s in numbers)
    with officers.app_context():
        batches = db.session.scalars(sa.select(PaperBatch).order_by(PaperBatch.id)).all()
        assert [(b.first_seq, b.count, b.layout) for b in batches] == [
            (1, 3, "a4x2"),
            (4, 2, "a5"),
        ]
        audit = db.session.scalars(
            sa.select(AuditEntry.detail).where(AuditEntry.action == "paper_print")
        ).all()
        assert audit == ["LC-01: 3 (1–3), a4x2", "LC-01: 2 (4–5), a5"]
        ids = [b.id for b in batches]
    # Three ballots two to a sheet: two pages; two A5 ballots: two pages.
    for batch_id, pages in zip(ids, (2, 2), strict=True):
        pdf = client.get(f"/units/{COMMUNE}/paper/batches/{batch_id}.pdf")
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
        assert pdf.data.startswith(b"%PDF")
        assert len(re.findall(rb"/Type /Page\b", pdf.data)) == pages
    listing = client.get(f"/units/{COMMUNE}/paper").get_data(as_text=True)
    assert f"/units/{COMMUNE}/paper/batches/{ids[0]}.pdf" in listing


def test_numbers_without_a_check_character_are_skipped(officers, client):
    sign_in(client, "laicach")
    assert print_batch(client, count=10).status_code == 303
    with officers.app_context():
        seqs = db.session.scalars(sa.select(PaperBallot.seq).order_by(PaperBallot.seq)).all()
    skipped = [n for n in range(1, 13) if not ballots.usable(ballots.serial_body("LC-01", n))]
    assert skipped == [8]
    assert seqs == [n for n in range(1, 12) if n != 8]
    page = client.get(f"/units/{COMMUNE}/paper").get_data(as_text=True)
    assert ballots.make_serial("LC-01", 11) in page


@pytest.mark.parametrize(
    "count, desk, message",
    [
        ("0", "LC-01", "Hãy in từ 1 đến 500 phiếu mỗi lần."),
        ("501", "LC-01", "Hãy in từ 1 đến 500 phiếu mỗi lần."),
        ("nhiều", "LC-01", "Hãy nhập một số nguyên, ví dụ 50."),
        ("5", "CH-01", "Vui lòng chọn một mục trong danh sách."),  # another commune's desk
    ],
)
def test_a_batch_that_cannot_be_printed_says_why(officers, client, count, desk, message):
    sign_in(client, "laicach")
    refused = print_batch(client, desk=desk, count=count)
    assert refused.status_code == 422
    assert message in refused.get_data(as_text=True)
    with officers.app_context():
        assert db.session.scalar(sa.select(sa.func.count(PaperBallot.id))) == 0


def test_a_batch_of_another_units_pdf_is_not_found(officers, client):
    sign_in(client, "camgiang")
    print_batch(client, desk="CH-01", unit="HD-CG", count=1)
    with officers.app_context():
        batch_id = db.session.scalar(sa.select(PaperBatch.id))
    sign_out(client)
    sign_in(client, "laicach")
    assert client.get(f"/units/{COMMUNE}/paper/batches/{batch_id}.pdf").status_code == 404
    assert client.get(f"/units/HD-CG-CH/paper/batches/{batch_id}.pdf").status_code == 404


def test_an_entered_ballot_is_a_paper_response_of_its_desk(officers, client):
    sign_in(client, "laicach")
    print_batch(client, count=2)
    first, second = serials(officers)
    # Typed without hyphens and in lower case: the same serial.
    done = enter(client, ballots.key_of(first).lower(), comment="Phiếu viết tay: cần thêm ghế.")
    assert done.status_code == 303
    follow = client.get(done.headers["Location"]).get_data(as_text=True)
    assert f"Đã lưu phiếu {first}." in follow
    stored = enter(client, second, json=True)
    assert stored.status_code == 200
    assert stored.json["ok"] is True and stored.json["serial"] == second
    responses = paper_responses(officers)
    assert len(responses) == 2
    assert [r.answer_map() for r in responses] == [STORED, STORED]
    assert responses[0].comment == "Phiếu viết tay: cần thêm ghế."
    assert {r.procedure_field for r in responses} == {"dat_dai"}
    with officers.app_context():
        laicach = db.session.scalar(sa.select(Officer.id).where(Officer.username == "laicach"))
        rows = db.session.scalars(sa.select(PaperBallot).order_by(PaperBallot.seq)).all()
        assert [b.response_id for b in rows] == [r.id for r in responses]
        assert all(b.entered_by_id == laicach and b.entered_at is not None for b in rows)
        desk_ids = {r.desk_id for r in responses}
        assert desk_ids == {rows[0].desk_id}
    rollup_is_exact(officers)
    # Counted in the figures, as the paper channel.
    with officers.app_context():
        unit = db.session.scalar(sa.select(Unit).where(Unit.code == COMMUNE))
        period = period_containing(today_in_vietnam(), "month", unit.report_cutoff_day)
        months = [period]
        by_channel = dict(
            (channel, n)
            for _q, channel, n in rollup.counts(
                unit.id, months, ("question_id", "channel"), question_ids=["~responses"]
            )
        )
        assert by_channel == {"paper": 2}


def test_a_serial_entered_twice_is_stored_once(officers, client):
    sign_in(client, "laicach")
    print_batch(client, count=1)
    (serial,) = serials(officers)
    assert enter(client, serial).status_code == 303
    again = enter(client, serial, {**KEYS, "overall": "1"})
    assert again.status_code == 409
    assert f"Phiếu {serial} đã được nhập" in again.get_data(as_text=True)
    as_json = enter(client, serial, json=True)
    assert as_json.status_code == 409 and as_json.json["ok"] is False
    assert as_json.json["field"] == "serial"
    responses = paper_responses(officers)
    assert len(responses) == 1 and responses[0].answer_map()["overall"] == "4"
    rollup_is_exact(officers)


def test_another_communes_ballot_is_refused_and_left_for_its_commune(officers, client):
    sign_in(client, "camgiang")
    print_batch(client, desk="CH-01", unit="HD-CG", count=1)
    (serial,) = serials(officers, "CH-01")
    sign_out(client)
    sign_in(client, "laicach")
    refused = enter(client, serial)
    assert refused.status_code == 403
    assert "phiếu in cho bàn của xã khác" in refused.get_data(as_text=True).lower() or (
        "xã khác" in refused.get_data(as_text=True)
    )
    assert paper_responses(officers) == []
    with officers.app_context():
        ballot = db.session.scalar(sa.select(PaperBallot))
        assert ballot.entered_at is None and ballot.response_id is None
    # Its own commune's screen (here the district's, which covers it) takes it.
    sign_out(client)
    sign_in(client, "camgiang")
    assert enter(client, serial, unit="HD-CG-CH").status_code == 303
    (response,) = paper_responses(officers)
    with officers.app_context():
        assert db.session.get(Unit, response.unit_id).code == "HD-CG-CH"


def test_a_wrong_check_character_or_an_unprinted_serial_is_refused(officers, client):
    sign_in(client, "laicach")
    print_batch(client, count=1)
    (serial,) = serials(officers)
    key = ballots.key_of(serial)
    wrong = key[:-1] + ("0" if key[-1] != "0" else "1")
    typo = enter(client, wrong)
    assert typo.status_code == 422
    assert "ký tự cuối không khớp" in typo.get_data(as_text=True)
    i = next(i for i in range(len(key) - 1) if key[i] != key[i + 1])
    swapped = key[:i] + key[i + 1] + key[i] + key[i + 2 :]  # two neighbours swapped
    assert enter(client, swapped).status_code == 422
    unprinted = ballots.make_serial("LC-01", 77)
    missing = enter(client, unprinted)
    assert missing.status_code == 404
    assert f"Không có phiếu nào số {unprinted}" in missing.get_data(as_text=True)
    assert enter(client, "").status_code == 422
    assert paper_responses(officers) == []
    english = enter(client, wrong, json=True)
    assert english.status_code == 422
    client.get(f"/units/{COMMUNE}/paper?lang=en")
    english = enter(client, wrong, json=True)
    assert "its last character does not match" in english.json["message"]


def test_a_missing_or_impossible_answer_is_refused_and_the_ballot_stays_to_enter(officers, client):
    sign_in(client, "laicach")
    print_batch(client, count=1)
    (serial,) = serials(officers)
    without = {k: v for k, v in KEYS.items() if k != "official"}
    refused = enter(client, serial, without)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "Câu 4: chưa nhập câu trả lời" in page
    assert 'value="4"' in page  # what was typed is kept on the screen
    impossible = enter(client, serial, {**KEYS, "overall": "7"}, json=True)
    assert impossible.status_code == 422
    assert impossible.json["field"] == "a_overall"
    assert "7 không phải là một ô của câu này" in impossible.json["problems"][0]["message"]
    # "0" where the question has no "no opinion" box.
    assert enter(client, serial, {**KEYS, "visits": "0"}).status_code == 422
    assert paper_responses(officers) == []
    with officers.app_context():
        assert db.session.scalar(sa.select(PaperBallot.entered_at)) is None
    assert enter(client, serial).status_code == 303
    assert len(paper_responses(officers)) == 1


def test_entry_needs_the_csrf_token(officers, client):
    sign_in(client, "laicach")
    print_batch(client, count=1)
    (serial,) = serials(officers)
    data = {"serial": serial, **{f"a_{q}": k for q, k in KEYS.items()}}
    assert client.post(f"/units/{COMMUNE}/paper/entry", data=data).status_code == 400
    assert paper_responses(officers) == []


def test_second_readings_are_compared_and_the_district_decides(second_officer, client, app):
    officers = second_officer
    app.config["SURVEY_PAPER_RECHECK_SHARE"] = 0.0
    sign_in(client, "laicach")
    print_batch(client, count=2, recheck_all="y")
    print_batch(client, count=1)  # not re-keyed: no share, not the whole batch
    agree, differ, plain = serials(officers)
    for serial in (agree, differ, plain):
        assert enter(client, serial).status_code == 303
    # The officer who entered a ballot cannot give its second reading.
    mine = enter(client, agree, recheck=True)
    assert mine.status_code == 403
    assert "lần nhập thứ hai phải do công chức khác" in mine.get_data(as_text=True)
    sign_out(client)
    sign_in(client, "laicach2", "laicach2-pass")
    queue = client.get(f"/units/{COMMUNE}/paper").get_data(as_text=True)
    assert agree in queue and differ in queue
    assert enter(client, agree, recheck=True).status_code == 303
    other = {**KEYS, "overall": "2", "wait": "3"}
    read = enter(client, differ, other, recheck=True, json=True)
    assert read.status_code == 200 and read.json["agrees"] is False
    not_chosen = enter(client, plain, recheck=True)
    assert not_chosen.status_code == 409
    twice = enter(client, agree, recheck=True)
    assert twice.status_code == 409
    # A second reading stores no response.
    assert len(paper_responses(officers)) == 3
    with officers.app_context():
        rechecks = db.session.scalars(sa.select(PaperRecheck).order_by(PaperRecheck.id)).all()
        assert [r.agrees for r in rechecks] == [True, False]
        differing_id = rechecks[1].id
    # The commune sees the disagreement, and cannot decide it.
    page = client.get(f"/units/{COMMUNE}/paper").get_data(as_text=True)
    assert f'id="recheck-{differing_id}"' in page
    # The two readings side by side, as the boxes are printed.
    assert "4 – Hài lòng" in page and "2 – Không hài lòng" in page
    assert "2 – 15–30 phút" in page and "3 – 30–60 phút" in page
    token = csrf_of(client, f"/units/{COMMUNE}/paper")
    decide_path = f"/units/{COMMUNE}/paper/rechecks/{differing_id}"
    refused = client.post(decide_path, data={"csrf_token": token, "reading": "second"})
    assert refused.status_code == 403
    sign_out(client)
    sign_in(client, "camgiang")
    district_page = client.get("/units/HD-CG/paper").get_data(as_text=True)
    assert f'id="recheck-{differing_id}"' in district_page
    token = csrf_of(client, "/units/HD-CG/paper")
    decided = client.post(
        f"/units/HD-CG/paper/rechecks/{differing_id}",
        data={"csrf_token": token, "reading": "second"},
    )
    assert decided.status_code == 303
    corrected = {r.id: r.answer_map() for r in paper_responses(officers)}
    with officers.app_context():
        ballot = db.session.scalar(sa.select(PaperBallot).where(PaperBallot.serial == differ))
        assert corrected[ballot.response_id] == {**STORED, "overall": "2", "wait": "30to60"}
        decision = db.session.get(PaperRecheck, differing_id)
        assert decision.decision == "second" and decision.decided_by.username == "camgiang"
        audit = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "paper_decide"))
        assert audit.response_id == ballot.response_id
        assert audit.detail == f"{differ}: second (overall 4→2, wait 15to30→30to60)"
        # Back in the figures with the corrected answers, not held out.
        response = db.session.get(SurveyResponse, ballot.response_id)
        assert response.flagged is False and response.flag_reason is None
    rollup_is_exact(officers)
    again = client.post(
        f"/units/HD-CG/paper/rechecks/{differing_id}",
        data={"csrf_token": token, "reading": "first"},
    )
    assert again.status_code == 303
    assert "đã được quyết định trước đó" in client.get(again.headers["Location"]).get_data(
        as_text=True
    )
    assert len(paper_responses(officers)) == 3


def test_keeping_the_first_reading_changes_no_answer(second_officer, client, app):
    app.config["SURVEY_PAPER_RECHECK_SHARE"] = 1.0  # every ballot chosen
    sign_in(client, "laicach")
    print_batch(client, count=1)
    (serial,) = serials(second_officer)
    saved = enter(client, serial, json=True)
    assert "được chọn để công chức khác nhập lần hai" in saved.json["message"]
    sign_out(client)
    sign_in(client, "laicach2", "laicach2-pass")
    enter(client, serial, {**KEYS, "field": "1"}, recheck=True)
    sign_out(client)
    sign_in(client, "camgiang")
    with second_officer.app_context():
        recheck_id = db.session.scalar(sa.select(PaperRecheck.id))
    token = csrf_of(client, "/units/HD-CG/paper")
    client.post(
        f"/units/HD-CG/paper/rechecks/{recheck_id}",
        data={"csrf_token": token, "reading": "first"},
    )
    (response,) = paper_responses(second_officer)
    assert response.answer_map() == STORED and response.procedure_field == "dat_dai"
    rollup_is_exact(second_officer)


def test_printed_against_entered_per_unit_and_period(officers, client):
    from survey.paper.services import ballots_printed_entered

    sign_in(client, "laicach")
    print_batch(client, count=4)
    print_batch(client, desk="LC-02", count=2)
    for serial in serials(officers)[:3]:
        enter(client, serial)
    with officers.app_context():
        for code in (COMMUNE, "HD-CG", "HD"):
            unit = db.session.scalar(sa.select(Unit).where(Unit.code == code))
            period = period_containing(today_in_vietnam(), "month", unit.report_cutoff_day)
            assert ballots_printed_entered(unit, period) == (6, 3), code
            year = period_containing(today_in_vietnam(), "year", unit.report_cutoff_day)
            assert ballots_printed_entered(unit, year) == (6, 3)
        other = db.session.scalar(sa.select(Unit).where(Unit.code == "HD-CG-CH"))
        period = period_containing(today_in_vietnam(), "month", other.report_cutoff_day)
        assert ballots_printed_entered(other, period) == (0, 0)
    page = client.get(f"/units/{COMMUNE}/paper").get_data(as_text=True)
    assert re.search(r'id="printed-total">6<', page) and re.search(r'id="entered-total">3<', page)
    assert 'id="paper-desk-LC-02"' in page


def test_the_ballot_qr_code_leads_an_officer_to_the_entry_screen(officers, client):
    sign_in(client, "laicach")
    print_batch(client, count=1)
    (serial,) = serials(officers)
    led = client.get(f"/p/{serial}")
    assert led.status_code == 303
    assert led.headers["Location"].endswith(f"/units/{COMMUNE}/paper/entry?serial={serial}")
    screen = client.get(led.headers["Location"]).get_data(as_text=True)
    assert f'value="{serial}"' in screen
    sign_out(client)
    public = client.get(f"/p/{serial}")
    assert public.status_code == 200
    assert "phiếu giấy" in public.get_data(as_text=True)
    # A scanner types the whole address into the serial box: the serial is read from it.
    sign_in(client, "laicach")
    assert enter(client, f"https://khaosat.example.vn/p/{serial}").status_code == 303
    assert len(paper_responses(officers)) == 1


def test_pages_need_a_signed_in_officer_who_may_see_the_unit(officers, client):
    assert client.get(f"/units/{COMMUNE}/paper").status_code == 302
    sign_in(client, "binhgiang")
    assert client.get(f"/units/{COMMUNE}/paper").status_code == 404
    assert client.get(f"/units/{COMMUNE}/paper/entry").status_code == 404


def test_a_batch_without_its_audit_entry_is_not_numbered(officers, client):
    from tests.test_transactions import refuse_audit

    officers.config["PROPAGATE_EXCEPTIONS"] = False  # the 500 a user would see
    sign_in(client, "laicach")
    refuse_audit(officers)
    assert print_batch(client, count=3).status_code == 500
    with officers.app_context():
        assert db.session.scalar(sa.select(sa.func.count(PaperBatch.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(PaperBallot.id))) == 0


def test_a_decision_without_its_audit_entry_changes_nothing(second_officer, client, app):
    from tests.test_transactions import refuse_audit

    app.config["SURVEY_PAPER_RECHECK_SHARE"] = 1.0
    app.config["PROPAGATE_EXCEPTIONS"] = False
    sign_in(client, "laicach")
    print_batch(client, count=1)
    (serial,) = serials(second_officer)
    enter(client, serial)
    sign_out(client)
    sign_in(client, "laicach2", "laicach2-pass")
    enter(client, serial, {**KEYS, "overall": "1"}, recheck=True)
    sign_out(client)
    sign_in(client, "camgiang")
    with second_officer.app_context():
        recheck_id = db.session.scalar(sa.select(PaperRecheck.id))
    token = csrf_of(client, "/units/HD-CG/paper")
    refuse_audit(second_officer)
    refused = client.post(
        f"/units/HD-CG/paper/rechecks/{recheck_id}",
        data={"csrf_token": token, "reading": "second"},
    )
    assert refused.status_code == 500
    (response,) = paper_responses(second_officer)
    assert response.answer_map() == STORED and response.flagged is False
    with second_officer.app_context():
        assert db.session.get(PaperRecheck, recheck_id).decision is None
    rollup_is_exact(second_officer)


def test_two_officers_entering_one_ballot_at_the_same_moment_store_it_once(second_officer):
    import threading

    app = second_officer
    first, second = app.test_client(), app.test_client()
    sign_in(first, "laicach")
    sign_in(second, "laicach2", "laicach2-pass")
    print_batch(first, count=3)
    statuses: list[int] = []
    for serial in serials(app):
        # Both screens loaded and filled before either is sent.
        posts = []
        for client in (first, second):
            path = f"/units/{COMMUNE}/paper/entry"
            data = {"csrf_token": csrf_of(client, path), "serial": serial}
            data.update({f"a_{q}": k for q, k in KEYS.items()})
            posts.append((client, path, data))
        barrier = threading.Barrier(2)

        def send(client, path, data, barrier=barrier):
            barrier.wait()
            statuses.append(client.post(path, data=data).status_code)

        threads = [threading.Thread(target=send, args=post) for post in posts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert sorted(statuses) == [303] * 3 + [409] * 3
    responses = paper_responses(app)
    assert len(responses) == 3
    with app.app_context():
        linked = db.session.scalars(sa.select(PaperBallot.response_id)).all()
    assert sorted(linked) == sorted(r.id for r in responses)
    rollup_is_exact(app)


def test_the_response_rates_page_shows_ballots_printed_against_entered(officers, client):
    sign_in(client, "laicach")
    print_batch(client, count=4)
    for serial in serials(officers)[:3]:
        assert enter(client, serial).status_code == 303
    sign_out(client)
    sign_in(client, "camgiang")
    page = client.get("/units/HD-CG/reach").get_data(as_text=True)
    for code in ("HD-CG", "HD-CG-LC"):
        row = re.search(rf'<tr id="sent-{code}-paper">(.*?)</tr>', page, re.S)
        assert row, code
        cells = re.findall(r'<td class="num">([^<]*)</td>', row.group(1))
        assert cells[:2] == ["4", "3"], code
    assert 'id="sent-HD-CG-CH-paper"' not in page  # nothing printed there
