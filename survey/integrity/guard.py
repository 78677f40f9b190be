"""Honest numbers by default: keyed hashes, rate limits, honeypot, fill time, scans.

Nothing here stores an IP address, a device identifier or a dossier number in
clear: each is replaced by an HMAC-SHA256 under ``SURVEY_HASH_KEY`` (derived
from the secret key unless set), and the rate-limit rows are deleted after
``SURVEY_HASH_RETENTION_DAYS`` by ``flask survey purge``.

Open-QR submissions are limited per desk, per device (a long-lived random
cookie) and per IP address; the counts live in the database so that the
limits hold across every gunicorn worker. Submissions that look automated
(the honeypot field filled, the form sent faster than a person can read it)
are kept with the reason and left out of the statistics until an officer
reinstates them.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import itertools
import math
import secrets
import time
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask import g
from flask import request
from itsdangerous import BadSignature
from itsdangerous import URLSafeTimedSerializer

from survey.data import bulk
from survey.data.models import Desk
from survey.data.models import DeskScanDay
from survey.data.models import DossierVolume
from survey.data.models import RateEvent
from survey.data.models import SurveyResponse
from survey.data.models import utcnow
from survey.domain.feedback import FeedbackStatus
from survey.domain.params import DB_INT_MAX
from survey.domain.params import bounded_int
from survey.domain.periods import today_in_vietnam
from survey.extensions import db

DEVICE_COOKIE = "dev"
SCAN_COOKIE = "seen"
DEVICE_COOKIE_AGE = 2 * 365 * 24 * 3600
HONEYPOT_FIELD = "website"

#: Why a response was flagged; shown to officers (labels in integrity/views.py).
#: ``burst``: beyond the desk's ceiling of open-QR ratings, or beyond what one
#: network address may send in an hour.
#: ``replaced``: a later rating of the same desk from the same phone took its place.
#: ``revoked_kiosk``: sent by a kiosk whose pairing was revoked (queued offline before).
#: ``kiosk_gap``: queued offline by a kiosk within its minimum gap (survey/kiosk).
FLAG_REASONS = (
    "honeypot",
    "too_fast",
    "unsigned",
    "burst",
    "replaced",
    "revoked_kiosk",
    "kiosk_gap",
)


def hash_key() -> bytes:
    """The HMAC key: ``SURVEY_HASH_KEY``, or one derived from the secret key."""
    configured = current_app.config.get("SURVEY_HASH_KEY")
    if configured:
        return configured.encode()
    return _derived_key(str(current_app.config["SECRET_KEY"]))


@functools.lru_cache(maxsize=8)
def _derived_key(secret: str) -> bytes:
    # Derived once per secret: a form post hashes three keys with it.
    return hmac.new(secret.encode(), b"sipas-survey keyed hashes", hashlib.sha256).digest()


def keyed_hash(kind: str, value: str) -> str:
    """Hex HMAC-SHA256 of ``value``; ``kind`` keeps hashes of different things apart."""
    return hmac.new(hash_key(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


# -- device cookie ----------------------------------------------------------


def device_id() -> str | None:
    """The phone's random device id from its cookie (``None`` before the first visit)."""
    value = request.cookies.get(DEVICE_COOKIE, "")
    return value if len(value) == 32 and value.isalnum() else None


def device_hash() -> str | None:
    """The keyed hash of this phone's device cookie, stored with an open-QR rating."""
    device = device_id()
    return keyed_hash("device", device) if device else None


def ensure_device_cookie() -> str:
    """The device id, creating one (set on the response) on a first visit."""
    value = device_id() or g.get("new_device_id")
    if value is None:
        value = g.new_device_id = secrets.token_hex(16)
    return value


def _set_cookies(response):
    new = g.get("new_device_id")
    secure = current_app.config.get("SESSION_COOKIE_SECURE", False)
    if new:
        response.set_cookie(
            DEVICE_COOKIE,
            new,
            max_age=DEVICE_COOKIE_AGE,
            httponly=True,
            samesite="Lax",
            secure=secure,
        )
    seen = g.get("scan_cookie")
    if seen:
        response.set_cookie(
            SCAN_COOKIE, seen, max_age=36 * 3600, httponly=True, samesite="Lax", secure=secure
        )
    return response


# -- fill time --------------------------------------------------------------


def _stamp_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="form-issued")


def issue_stamp(submission_id: str) -> str:
    """A signed, timestamped token tying the served form to its submission id."""
    return _stamp_serializer().dumps(submission_id)


def fill_seconds(stamp: str | None, submission_id: str | None) -> float | None:
    """Seconds since the form was served, or ``None`` if the stamp is missing or forged."""
    if not stamp or not submission_id:
        return None
    try:
        value, issued = _stamp_serializer().loads(stamp, return_timestamp=True)
    except BadSignature:
        return None
    if value != submission_id:
        return None
    return (utcnow() - issued).total_seconds()


def flag_reason(form_data, submission_id: str | None) -> str | None:
    """Why this submission looks automated, or ``None``.

    The honeypot is a text field hidden from people; the fill time is measured
    from the signed stamp the form was served with.
    """
    if form_data.get(HONEYPOT_FIELD, "").strip():
        return "honeypot"
    seconds = fill_seconds(form_data.get("issued"), submission_id)
    if seconds is None:
        return "unsigned"
    if seconds < current_app.config["SURVEY_MIN_FILL_SECONDS"]:
        return "too_fast"
    return None


# -- rate limits ------------------------------------------------------------


@dataclass(frozen=True)
class Limit:
    kind: str  # "device" or "ip"
    key_hash: str
    limit: int
    window: timedelta
    #: True: beyond the limit the rating is stored but flagged ("burst"), not
    #: refused, so an attacker sharing a network cannot lock honest citizens out.
    flag_only: bool = False


def limits_for_request() -> list[Limit]:
    """The limits that apply to an open-QR submission from this phone and address.

    A post without a device cookie (a script that drops it; every phone got one
    with the form) is held to the per-device limit under its address, so dropping
    the cookie buys nothing. The per-address limit flags what passes it; only a
    flood far beyond it (``SURVEY_LIMIT_IP_HARD_PER_HOUR``) is refused.
    """
    config = current_app.config
    limits = []
    device = device_id()
    address = request.remote_addr or "-"
    per_device = config["SURVEY_LIMIT_DEVICE_PER_DAY"]
    if per_device > 0:
        key = keyed_hash("device", device) if device else keyed_hash("cookieless", address)
        limits.append(Limit("device", key, per_device, timedelta(days=1)))
    ip_key = keyed_hash("ip", address)
    per_ip = config["SURVEY_LIMIT_IP_PER_HOUR"]
    hard = config["SURVEY_LIMIT_IP_HARD_PER_HOUR"]
    if per_ip > 0:
        if hard > per_ip:
            limits.append(Limit("ip", ip_key, hard, timedelta(hours=1)))
        limits.append(Limit("ip", ip_key, per_ip, timedelta(hours=1), flag_only=True))
    return limits


@dataclass(frozen=True)
class SlotClaim:
    #: The first limit that refuses this submission (the transaction was rolled back).
    refused: Limit | None = None
    #: A flag-only limit was passed: store the rating, flagged as a burst.
    burst: bool = False


def claim_submission_slot(desk_id: int, limits: list[Limit]) -> SlotClaim:
    """Record one submission against each limit, in the caller's transaction; say which
    limit refuses it (after rolling the transaction back) or whether it is a burst.

    The caller stores the response in the same transaction and commits once, so a
    response and its events are kept or lost together: a double tap that loses
    the unique-id race rolls its events back, and so does a refused attempt, which
    therefore does not lengthen the wait.

    Two workers racing for the last slot must not both be accepted. Each counts
    after its own insert while holding a lock the other needs: on SQLite the
    insert takes the database's write lock until commit; on PostgreSQL a
    transaction-scoped advisory lock per (desk, kind, key) is taken first, so the
    second count runs after the first transaction ended and sees its event.
    """
    if not limits:
        return SlotClaim()
    connection = db.session.connection()
    distinct = list({(x.kind, x.key_hash): x for x in limits}.values())
    if connection.dialect.name == "postgresql":
        # Sorted, so two submissions sharing both keys lock them in the same order
        # (one statement: its select list is evaluated left to right).
        keys = sorted({_lock_key(desk_id, lim) for lim in distinct})
        connection.execute(sa.select(*(sa.func.pg_advisory_xact_lock(key) for key in keys)))
    now = utcnow()
    rows = [
        {"desk_id": desk_id, "kind": x.kind, "key_hash": x.key_hash, "at": now} for x in distinct
    ]
    params = {"desk_id": desk_id}
    for n, lim in enumerate(limits):
        params.update(
            {f"kind_{n}": lim.kind, f"key_{n}": lim.key_hash, f"since_{n}": now - lim.window}
        )
    if connection.dialect.name == "postgresql":
        # The events written and counted in one round trip, after the lock above.
        params.update(bulk.parameters("postgresql", rows, _EVENT_COLUMNS))
        counts = connection.execute(_add_and_count_events(len(limits)), params).one()
    else:
        bulk.insert_rows(connection, RateEvent.__table__, rows)
        counts = connection.execute(_count_events(len(limits)), params).one()
    burst = False
    for lim, used in zip(limits, counts, strict=True):
        if used > lim.limit:
            if lim.flag_only:
                burst = True
                continue
            db.session.rollback()
            return SlotClaim(refused=lim)
    return SlotClaim(burst=burst)


# -- the desk's ceiling -------------------------------------------------------

#: Working days in a month, to turn a month's dossiers into a day's.
WORKING_DAYS = 22
#: Without volumes: a busy desk's day (the ceilings then only stop gross stuffing).
FALLBACK_PER_DAY = 60


@dataclass(frozen=True)
class Ceiling:
    per_hour: int
    per_day: int
    derived_from_volumes: bool


def desk_ceiling(desk) -> Ceiling:
    """How many open-QR ratings of ``desk`` count in an hour and in 24 hours.

    ``SURVEY_DESK_MAX_PER_HOUR`` / ``SURVEY_DESK_MAX_PER_DAY`` when set (> 0);
    otherwise derived from the unit's latest monthly dossier volume shared among
    its active desks: a desk cannot plausibly be rated more often than it serves
    people. Per day: one and a half times the desk's dossiers a working day (at
    least 10); per hour: a third of that (at least 5). A desk of Lai Cách's size
    (about 20 dossiers a working day) gets 30 a day and 10 an hour.
    """
    config = current_app.config
    hour, day = config["SURVEY_DESK_MAX_PER_HOUR"], config["SURVEY_DESK_MAX_PER_DAY"]
    if hour < 0 or day < 0:  # the ceiling switched off (load tests)
        return Ceiling(DB_INT_MAX, DB_INT_MAX, False)
    derived = False
    if hour <= 0 or day <= 0:
        per_day, derived = _derived_per_day(desk.unit_id)
        day = day if day > 0 else per_day
        hour = hour if hour > 0 else max(5, math.ceil(per_day / 3))
    return Ceiling(hour, day, derived)


#: A unit's ceiling derived from its volumes is kept per app for CEILING_KEPT_SECONDS:
#: reading it is three queries, on every open-QR post, for figures that change
#: once a month. Volumes and desks changed through this process apply at once
#: (:func:`_note_ceiling_changes`); changed by another worker, within the minute.
CEILING_KEPT_SECONDS = 60.0
_CEILINGS = "survey.desk_ceilings"
_CEILINGS_KEPT = 10_000
#: Bumped when this process commits a change to volumes or desks.
_ceiling_generation = [0]
_clock = time.monotonic


def _derived_per_day(unit_id: int) -> tuple[int, bool]:
    """The day's ceiling of each of the unit's desks, and whether it came from its volumes."""
    kept = current_app.extensions.setdefault(_CEILINGS, {})
    now = _clock()
    entry = kept.get(unit_id)
    if entry is not None and entry[0] == _ceiling_generation[0] and now < entry[1]:
        return entry[2]
    generation = _ceiling_generation[0]
    dossiers = _latest_month_dossiers(unit_id)
    if dossiers is None:
        derived = (FALLBACK_PER_DAY, False)
    else:
        desks = db.session.scalar(
            sa.select(sa.func.count(Desk.id)).where(Desk.unit_id == unit_id, Desk.active.is_(True))
        )
        share = dossiers / max(1, desks or 1) / WORKING_DAYS
        derived = (max(10, math.ceil(1.5 * share)), True)
    if len(kept) >= _CEILINGS_KEPT:
        kept.clear()  # a bound, not a policy: units are few
    kept[unit_id] = (generation, now + CEILING_KEPT_SECONDS, derived)
    return derived


def _note_ceiling_changes(session, flush_context, instances) -> None:
    if any(
        isinstance(obj, (DossierVolume, Desk))
        for obj in itertools.chain(session.new, session.dirty, session.deleted)
    ):
        session.info[_CEILINGS] = True


def _ceilings_committed(session) -> None:
    # Bumped after the commit: a post reading the volumes before it would keep
    # the old figures under the new generation.
    if session.info.pop(_CEILINGS, False):
        _ceiling_generation[0] += 1


def _ceilings_rolled_back(session) -> None:
    session.info.pop(_CEILINGS, None)


def _latest_month_dossiers(unit_id: int) -> int | None:
    """Dossiers of the unit's latest month with volumes (overall, or its fields summed)."""
    month = db.session.scalar(
        sa.select(sa.func.max(DossierVolume.month)).where(DossierVolume.unit_id == unit_id)
    )
    if month is None:
        return None
    rows = dict(
        db.session.execute(
            sa.select(DossierVolume.procedure_field, DossierVolume.dossiers).where(
                DossierVolume.unit_id == unit_id, DossierVolume.month == month
            )
        ).all()
    )
    return rows[""] if "" in rows else sum(rows.values())


def over_desk_ceiling(desk, ceiling: Ceiling | None = None) -> bool:
    """Whether the desk's counted open-QR ratings already fill its hour or its day.

    ``ceiling``: the desk's :func:`desk_ceiling`, read by the caller before its
    transaction's first write (it reads the dossier volumes: no need to hold
    SQLite's write lock for that); read here when not given.

    Counted in the caller's transaction, which stores the rating: on PostgreSQL an
    advisory lock per desk makes racing submissions count one after the other; on
    SQLite the rate-limit events written before hold the database's write lock.
    """
    ceiling = ceiling if ceiling is not None else desk_ceiling(desk)
    if ceiling.per_hour >= DB_INT_MAX:
        return False
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        digest = hashlib.sha256(f"desk-ceiling:{desk.id}".encode()).digest()
        key = int.from_bytes(digest[:8], "big", signed=True)
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))
    now = utcnow()
    last_hour, last_day = connection.execute(
        _desk_counts(),
        {
            "desk_id": desk.id,
            "hour_ago": now - timedelta(hours=1),
            "day_ago": now - timedelta(days=1),
            "per_hour": ceiling.per_hour,
            "per_day": ceiling.per_day,
        },
    ).one()
    return last_hour >= ceiling.per_hour or last_day >= ceiling.per_day


@functools.cache
def _desk_counts() -> sa.Select:
    """SELECT a desk's counted open-QR ratings of the last hour and of the last day, each
    counted up to its ceiling only: a desk stuffed with thousands of ratings costs a
    post no more than its ceiling's worth of rows. Built once (its compiled form is
    then cached by SQLAlchemy)."""
    table = SurveyResponse.__table__.c
    at = table.submitted_at.type

    def counted(since: str, ceiling: str):
        rows = (
            sa.select(table.id)
            .where(
                table.desk_id == sa.bindparam("desk_id"),
                table.submitted_at > sa.bindparam(since, type_=at),
                # Through the desk's index only: SQLite's planner has no statistics,
                # and took receipt_token_id's unique index, whose NULLs are every
                # open-QR rating of every desk. Compared as an expression, which no
                # index serves.
                (table.receipt_token_id + 0).is_(None),
                table.flagged.is_(False),
            )
            .limit(sa.bindparam(ceiling, type_=sa.Integer))
            .subquery()
        )
        return sa.select(sa.func.count()).select_from(rows).scalar_subquery()

    return sa.select(counted("hour_ago", "per_hour"), counted("day_ago", "per_day"))


@functools.cache
def _count_events(limits: int) -> sa.Select:
    """SELECT the event counts of ``limits`` limits in one statement, built once (its
    compiled form is then cached by SQLAlchemy)."""
    events = RateEvent.__table__
    return sa.select(
        *(
            sa.select(sa.func.count())
            .where(
                events.c.desk_id == sa.bindparam("desk_id"),
                events.c.kind == sa.bindparam(f"kind_{n}"),
                events.c.key_hash == sa.bindparam(f"key_{n}"),
                events.c.at > sa.bindparam(f"since_{n}", type_=events.c.at.type),
            )
            .scalar_subquery()
            for n in range(limits)
        )
    )


_EVENT_COLUMNS = ("desk_id", "kind", "key_hash", "at")


@functools.cache
def _add_and_count_events(limits: int) -> sa.Select:
    """PostgreSQL: insert this submission's events and SELECT the counts of ``limits``
    limits, these events included, in one statement.

    A statement does not see the rows its own ``WITH … INSERT`` adds, so each count
    is the events stored before plus those just added under the same key. The
    statement's snapshot is taken after the advisory locks (an earlier statement),
    so it sees every event a racing submission committed before letting go of them.
    """
    events = RateEvent.__table__
    added = (
        bulk.arrays_insert(events, _EVENT_COLUMNS)
        .returning(events.c.kind, events.c.key_hash)
        .cte("added")
    )
    stored = _count_events(limits).selected_columns
    return sa.select(
        *(
            stored[n]
            + sa.select(sa.func.count())
            .select_from(added)
            .where(
                added.c.kind == sa.bindparam(f"kind_{n}"),
                added.c.key_hash == sa.bindparam(f"key_{n}"),
            )
            .scalar_subquery()
            for n in range(limits)
        )
    )


def _lock_key(desk_id: int, limit: Limit) -> int:
    """A signed 64-bit advisory-lock key for one desk and limit key (collisions only
    make two unrelated submissions wait for each other, never both pass)."""
    digest = hashlib.sha256(f"{desk_id}:{limit.kind}:{limit.key_hash}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


# -- scans ------------------------------------------------------------------


def count_scan(desk_id: int) -> bool:
    """Count a view of a desk's form, once per device per desk per day.

    The desks already seen today are remembered in a small cookie, so reloads
    are not counted and nothing about the device is stored.
    """
    today = today_in_vietnam().isoformat()
    raw = request.cookies.get(SCAN_COOKIE, "")
    day, _sep, ids = raw.partition(":")
    seen = {i for i in ids.split(",") if bounded_int(i, 1, DB_INT_MAX)} if day == today else set()
    if str(desk_id) in seen:
        return False
    seen.add(str(desk_id))
    g.scan_cookie = f"{today}:{','.join(sorted(seen, key=int)[-50:])}"
    _increment_scans(desk_id, today_in_vietnam())
    return True


def _increment_scans(desk_id: int, day: date) -> None:
    dialect = db.engine.dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise RuntimeError(f"unsupported database {dialect}")
    statement = insert(DeskScanDay).values(desk_id=desk_id, day=day, scans=1)
    statement = statement.on_conflict_do_update(
        index_elements=["desk_id", "day"], set_={"scans": DeskScanDay.scans + 1}
    )
    db.session.execute(statement)
    db.session.commit()


# -- retention --------------------------------------------------------------


@dataclass(frozen=True)
class PurgeResult:
    rate_events: int
    contacts: int


def purge(now: datetime | None = None) -> PurgeResult:
    """Delete expired rate-limit hashes and the contacts of closed complaints."""
    now = now or utcnow()
    config = current_app.config
    hashes_before = now - timedelta(days=config["SURVEY_HASH_RETENTION_DAYS"])
    events = db.session.execute(sa.delete(RateEvent).where(RateEvent.at < hashes_before))
    # The device hashes kept with ratings go with the rate-limit records.
    db.session.execute(
        sa.update(SurveyResponse)
        .where(SurveyResponse.device_hash.is_not(None), SurveyResponse.submitted_at < hashes_before)
        .values(device_hash=None)
    )
    contacts_before = now - timedelta(days=config["SURVEY_CONTACT_RETENTION_DAYS"])
    contacts = db.session.execute(
        sa.update(SurveyResponse)
        .where(
            SurveyResponse.contact.is_not(None),
            SurveyResponse.feedback_status == FeedbackStatus.ANSWERED,
            SurveyResponse.feedback_updated_at < contacts_before,
        )
        .values(contact=None)
    )
    db.session.commit()
    return PurgeResult(events.rowcount or 0, contacts.rowcount or 0)


def init_app(app) -> None:
    app.after_request(_set_cookies)
    for name, hook in (
        ("before_flush", _note_ceiling_changes),
        ("after_commit", _ceilings_committed),
        ("after_rollback", _ceilings_rolled_back),
    ):
        if not sa.event.contains(so.Session, name, hook):
            sa.event.listen(so.Session, name, hook)
