"""Many rows in one statement (survey/bulk.py) store exactly what an executemany would,
on both databases: every row, in the given order, through the columns' own types."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta
from datetime import timezone

import pytest
import sqlalchemy as sa

from survey.data import bulk
from survey.data.models import Desk
from survey.data.models import RateEvent
from survey.data.models import Unit
from survey.extensions import db

HANOI = timezone(timedelta(hours=7))


@pytest.fixture
def desk_id(app):
    with app.app_context():
        unit = Unit(code="BULK-1", name="Xã Thử", level="commune")
        db.session.add(unit)
        db.session.flush()
        desk = Desk(code="BULK-D1", name="Một cửa", unit_id=unit.id)
        db.session.add(desk)
        db.session.commit()
        return desk.id


def _stored(app) -> list[tuple]:
    events = RateEvent.__table__
    with app.app_context():
        return db.session.execute(
            sa.select(events.c.kind, events.c.key_hash, RateEvent.at).order_by(events.c.id)
        ).all()


def test_rows_are_stored_in_their_order_with_their_types_applied(app, desk_id):
    at = datetime(2026, 1, 2, 10, 0, tzinfo=HANOI)
    rows = [
        {"desk_id": desk_id, "kind": kind, "key_hash": f"h{n:02d}", "at": at + timedelta(minutes=n)}
        for n, kind in enumerate(["ip", "device"] * 6)
    ]
    with app.app_context():
        bulk.insert_rows(db.session.connection(), RateEvent.__table__, rows)
        db.session.commit()
    stored = _stored(app)
    assert [(kind, key) for kind, key, _at in stored] == [
        (row["kind"], row["key_hash"]) for row in rows
    ]
    # UTCDateTime's conversion ran for each element: stored in UTC, read back aware.
    assert [stored_at for *_, stored_at in stored] == [row["at"] for row in rows]
    assert stored[0][2].utcoffset() == timedelta(0)
    assert stored[0][2] == datetime(2026, 1, 2, 3, 0, tzinfo=UTC)


def test_a_bad_row_stores_none_of_the_rows(app, desk_id):
    good = {"desk_id": desk_id, "kind": "ip", "key_hash": "ok", "at": datetime.now(UTC)}
    bad = {**good, "kind": "phone"}  # refused by the table's check constraint
    with app.app_context():
        with pytest.raises(sa.exc.IntegrityError):
            bulk.insert_rows(db.session.connection(), RateEvent.__table__, [good, bad])
        db.session.rollback()
    assert _stored(app) == []


def test_a_naive_timestamp_is_refused_as_in_a_single_insert(app, desk_id):
    naive = {"desk_id": desk_id, "kind": "ip", "key_hash": "x", "at": datetime(2026, 1, 1)}
    with app.app_context():
        with pytest.raises(sa.exc.StatementError, match="naive datetime"):
            bulk.insert_rows(db.session.connection(), RateEvent.__table__, [naive])
        db.session.rollback()


def test_no_rows_is_no_statement(app, desk_id):
    seen = []
    with app.app_context():
        connection = db.session.connection()
        sa.event.listen(connection, "before_cursor_execute", lambda *args: seen.append(args[2]))
        bulk.insert_rows(connection, RateEvent.__table__, [])
        db.session.commit()
    assert seen == []
    assert _stored(app) == []
