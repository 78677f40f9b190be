"""Stuffing that does not pay: a script cannot skip the limits by dropping the device
cookie or rotating addresses, each desk has a ceiling of counted open-QR ratings,
and what passes it is stored but held for review ("burst"), not refused."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from survey.data.models import Desk
from survey.data.models import DossierVolume
from survey.data.models import SurveyResponse
from survey.data.models import Unit
from survey.extensions import db
from survey.integrity import guard
from tests.conftest import VALID_ANSWERS
from tests.conftest import csrf_of
from tests.conftest import hidden_fields
from tests.conftest import sign_in
from tests.conftest import statements_during


def _flags(app, desk="LC-01") -> list[str | None]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(SurveyResponse.flag_reason)
                .join(Desk, Desk.id == SurveyResponse.desk_id)
                .where(Desk.code == desk)
                .order_by(SurveyResponse.id)
            )
        )


def _post_without_cookies(app, address: str, desk: str = "LC-01") -> int:
    """A script: a fresh session for each form (its CSRF token needs one), the device
    cookie dropped before posting the answers."""
    script = app.test_client()
    page = script.get(f"/s/{desk}", environ_base={"REMOTE_ADDR": address})
    data = {**hidden_fields(page.get_data(as_text=True)), **VALID_ANSWERS}
    script.delete_cookie(guard.DEVICE_COOKIE)
    assert script.get_cookie(guard.DEVICE_COOKIE) is None
    reply = script.post(f"/s/{desk}", data=data, environ_base={"REMOTE_ADDR": address})
    return reply.status_code


def test_dropping_the_device_cookie_buys_nothing(app, demo_units):
    app.config.update(
        SURVEY_MIN_FILL_SECONDS=0, SURVEY_LIMIT_DEVICE_PER_DAY=3, SURVEY_DESK_MAX_PER_HOUR=-1
    )
    codes = [_post_without_cookies(app, "10.7.0.1") for _ in range(4)]
    assert codes == [303, 303, 303, 429]
    # Another address has its own count.
    assert _post_without_cookies(app, "10.7.0.2") == 303


def test_the_ceiling_is_derived_from_the_desks_dossiers(app, demo_units):
    with app.app_context():
        unit = db.session.scalar(sa.select(Unit).where(Unit.code == "HD-CG-LC"))
        desk = db.session.scalar(sa.select(Desk).where(Desk.code == "LC-01"))
        without = guard.desk_ceiling(desk)
        assert (without.per_hour, without.per_day, without.derived_from_volumes) == (20, 60, False)
        desks = len([d for d in unit.desks if d.active])
        # About 20 dossiers a working day at each desk.
        db.session.add(
            DossierVolume(unit_id=unit.id, month="2025-02", dossiers=20 * 22 * desks + 5)
        )
        db.session.add(DossierVolume(unit_id=unit.id, month="2025-03", dossiers=20 * 22 * desks))
        db.session.commit()
        ceiling = guard.desk_ceiling(desk)
        assert ceiling.derived_from_volumes
        assert (ceiling.per_day, ceiling.per_hour) == (30, 10)
        assert ceiling.per_hour < 60


def test_the_derived_ceiling_is_read_once_and_follows_new_volumes(app, demo_units, monkeypatch):
    """The volumes behind a desk's ceiling are read once, not on every post; volumes
    saved through this process apply at once, those another process saved within
    ``CEILING_KEPT_SECONDS``."""
    with app.app_context():
        unit = db.session.scalar(sa.select(Unit).where(Unit.code == "HD-CG-LC"))
        desk = db.session.scalar(sa.select(Desk).where(Desk.code == "LC-01"))
        desks = len([d for d in unit.desks if d.active])
        db.session.add(DossierVolume(unit_id=unit.id, month="2025-03", dossiers=20 * 22 * desks))
        db.session.commit()
        assert guard.desk_ceiling(desk).per_day == 30
        again = statements_during(app, lambda: guard.desk_ceiling(desk))
        assert again == []
        # Saved here (an officer's import through this worker): at once.
        db.session.add(DossierVolume(unit_id=unit.id, month="2025-04", dossiers=40 * 22 * desks))
        db.session.commit()
        assert guard.desk_ceiling(desk).per_day == 60
        # Saved by another process: kept a while, then read again.
        other = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
        with other.begin() as conn:
            conn.execute(
                sa.insert(DossierVolume).values(
                    unit_id=unit.id, month="2025-05", dossiers=60 * 22 * desks, source="other"
                )
            )
        other.dispose()
        assert guard.desk_ceiling(desk).per_day == 60
        later = guard._clock() + guard.CEILING_KEPT_SECONDS
        monkeypatch.setattr(guard, "_clock", lambda: later)
        assert guard.desk_ceiling(desk).per_day == 90


def test_beyond_the_desks_ceiling_ratings_are_stored_but_held(app, officers):
    app.config.update(
        SURVEY_MIN_FILL_SECONDS=0, SURVEY_DESK_MAX_PER_HOUR=3, SURVEY_DESK_MAX_PER_DAY=5
    )
    # Twelve addresses, no cookies: nobody is refused, three count.
    codes = [_post_without_cookies(app, f"10.8.0.{n}") for n in range(6)]
    assert codes == [303] * 6
    assert _flags(app) == [None] * 3 + ["burst"] * 3
    # An honest phone afterwards is not refused either (its rating waits for review).
    phone = app.test_client()
    page = phone.get("/s/LC-01")
    data = {**hidden_fields(page.get_data(as_text=True)), **VALID_ANSWERS}
    assert phone.post("/s/LC-01", data=data).status_code == 303
    # Another desk is not affected.
    assert _post_without_cookies(app, "10.8.1.1", "LC-02") == 303
    assert _flags(app, "LC-02") == [None]
    # The district sees them on the flagged page, with the reason, and may reinstate one.
    district = app.test_client()
    sign_in(district, "camgiang")
    html = district.get("/units/HD-CG-LC/flagged").get_data(as_text=True)
    assert "Nhiều phiếu hơn mức bàn hoặc mạng này có thể gửi (dồn dập)" in html
    with app.app_context():
        held = db.session.scalar(
            sa.select(SurveyResponse.id).where(SurveyResponse.flag_reason == "burst").limit(1)
        )
    token = csrf_of(district, "/units/HD-CG-LC/flagged")
    reply = district.post(
        f"/units/HD-CG-LC/flagged/{held}", data={"csrf_token": token, "action": "reinstate"}
    )
    assert reply.status_code in (302, 303)
    with app.app_context():
        assert not db.session.get(SurveyResponse, held).flagged


def _stuff(app, counts: dict[str, int]) -> dict[str, Desk]:
    """``counts[code]`` counted open-QR ratings of the last ten hours at each desk, each
    from a phone of its own; the desks of the demo units by code."""
    from survey.data.models import utcnow
    from survey.data.queries import ensure_questionnaire

    questionnaire = ensure_questionnaire()
    desks = {
        desk.code: desk for desk in db.session.scalars(sa.select(Desk).where(Desk.code.in_(counts)))
    }
    now = utcnow()
    for code, count in counts.items():
        desk = desks[code]
        rows = [
            {
                "submission_id": str(uuid.uuid4()),
                "unit_id": desk.unit_id,
                "desk_id": desk.id,
                "questionnaire_id": questionnaire.id,
                "submitted_at": now - timedelta(minutes=1 + n % 600),
                "device_hash": uuid.uuid4().hex * 2,
            }
            for n in range(count)
        ]
        if rows:
            db.session.execute(sa.insert(SurveyResponse), rows)
    db.session.commit()
    return desks


def _instructions(action) -> tuple[object, int]:
    """What ``action()`` returns, and the instructions (in tens) SQLite's virtual
    machine ran for it on the session's connection: work done, not time taken."""
    steps = [0]
    raw = db.session.connection().connection.dbapi_connection

    def tick() -> int:
        steps[0] += 1
        return 0

    raw.set_progress_handler(tick, 10)
    try:
        result = action()
    finally:
        raw.set_progress_handler(None, 10)
    return result, steps[0]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_stuffed_desk_costs_a_post_no_more_than_its_ceilings_worth_of_rows(app, demo_units):
    """The ceiling's count stops at the ceiling and reads only its desk's ratings:
    SQLite's virtual machine runs about as many instructions for a desk holding 4 000
    counted ratings of the day as for one holding 40 (counted to the end, 100 times
    as many), and next to none for a desk without ratings beside them (read through
    another index, every open-QR rating of every desk)."""
    ceiling = guard.Ceiling(per_hour=10, per_day=30, derived_from_volumes=False)
    with app.app_context():
        desks = _stuff(app, {"LC-01": 40, "LC-02": 4000, "CH-01": 0})

        def over(code: str):
            return _instructions(lambda: guard.over_desk_ceiling(desks[code], ceiling))

        over("LC-01")  # statement compiled and prepared once
        small, stuffed, quiet = over("LC-01"), over("LC-02"), over("CH-01")
    assert small[0] and stuffed[0]  # both past their ceiling
    assert stuffed[1] < 2 * small[1]
    assert not quiet[0] and quiet[1] <= small[1]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_phones_earlier_rating_is_looked_for_among_its_own_ratings_only(app, demo_units):
    """One rating per phone: the look for the phone's earlier rating of the desk reads
    that phone's ratings, not the desk's 4 000 of the last half hour nor every
    open-QR rating: as many instructions as before another desk got 4 000."""
    from survey.citizen import services

    app.config["SURVEY_REPLACE_MINUTES"] = 30
    with app.app_context():
        desks = _stuff(app, {"LC-01": 4, "LC-02": 0})
        phone = "ab" * 32

        def look(code: str):
            found = _instructions(lambda: services._replace_earlier(desks[code], phone))
            db.session.rollback()
            return found

        look("LC-01")
        before = look("LC-01")
        _stuff(app, {"LC-02": 4000})
        beside, stuffed = look("LC-01"), look("LC-02")
    assert before[0] is False and beside[0] is False and stuffed[0] is False  # never rated
    assert beside[1] <= before[1] + 5
    assert stuffed[1] <= before[1] + 5
