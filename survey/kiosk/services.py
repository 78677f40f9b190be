"""Kiosk use cases: pairing a tablet with a desk, its ratings, and the officers on duty.

Each function that changes something is one transaction and commits it, with
its audit entry. Nothing here stores a pairing code, a tablet's credential or a
PIN in clear: codes and credentials as keyed hashes (``guard.keyed_hash``), PINs
as password hashes.
"""

from __future__ import annotations

import enum
import hmac
import math
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature
from itsdangerous import URLSafeSerializer
from werkzeug.security import check_password_hash

from survey.citizen.services import existing_response_id
from survey.citizen.services import store_response
from survey.data.audit import record
from survey.data.models import Desk
from survey.data.models import Kiosk
from survey.data.models import KioskShift
from survey.data.models import Officer
from survey.data.models import OfficerPin
from survey.data.models import QuestionnaireVersion
from survey.data.models import Role
from survey.data.models import Unit
from survey.data.models import utcnow
from survey.data.queries import definition_of
from survey.domain.channels import Channel
from survey.extensions import db
from survey.forms.response import clean_text
from survey.integrity import guard
from survey.kiosk.followup import follow_up_of
from survey.officers.accounts import hash_password

# -- pairing ------------------------------------------------------------------

#: Letters and digits that cannot be mistaken for each other when read aloud or
#: typed on a tablet (no I/1, O/0): 32⁸ ≈ 10¹² codes, each valid for minutes.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
CREDENTIAL_COOKIE = "kiosk"


class PairProblem(enum.Enum):
    MALFORMED = "malformed"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"
    CANCELLED = "cancelled"
    DESK_RETIRED = "desk_retired"


@dataclass(frozen=True)
class Pairing:
    kiosk: Kiosk | None = None
    credential: str | None = None
    problem: PairProblem | None = None


def format_code(code: str) -> str:
    """``ABCD2345`` as ``ABCD-2345``, easier to read out and to type."""
    return f"{code[:4]}-{code[4:]}"


def normalise_code(text: str | None) -> str | None:
    """The code as typed (any case, spaces or dashes), or None if it cannot be one."""
    code = re.sub(r"[\s\-]", "", text or "").upper()
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        return None
    return code


def _code_hash(code: str) -> str:
    return guard.keyed_hash("kiosk-code", code)


def _credential_hash(token: str) -> str:
    return guard.keyed_hash("kiosk", token)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="kiosk-credential")


def issue_code(officer: Officer, desk: Desk) -> tuple[Kiosk, str]:
    """A new one-time pairing code for a tablet at ``desk``; only its hash is stored."""
    minutes = current_app.config["SURVEY_KIOSK_CODE_MINUTES"]
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    kiosk = Kiosk(
        desk_id=desk.id,
        code_hash=_code_hash(code),
        code_expires_at=utcnow() + timedelta(minutes=minutes),
        created_by_id=officer.id,
    )
    db.session.add(kiosk)
    db.session.flush()
    record(
        "kiosk_code",
        officer=officer,
        unit=desk.unit,
        detail=f"desk {desk.code}, kiosk {kiosk.id}, valid {minutes} min",
    )
    db.session.commit()
    return kiosk, code


def pair(text: str | None) -> Pairing:
    """Pair the tablet that typed ``text``: each code pairs one tablet, once, in time.

    The code is claimed with one conditional update, so two tablets typing the
    same code at once cannot both be paired.
    """
    code = normalise_code(text)
    if code is None:
        return Pairing(problem=PairProblem.MALFORMED)
    kiosk = db.session.scalar(sa.select(Kiosk).where(Kiosk.code_hash == _code_hash(code)))
    if kiosk is None:
        return Pairing(problem=PairProblem.UNKNOWN)
    now = utcnow()
    if kiosk.paired_at is not None:
        return Pairing(kiosk=kiosk, problem=PairProblem.USED)
    if kiosk.revoked_at is not None:
        return Pairing(kiosk=kiosk, problem=PairProblem.CANCELLED)
    if kiosk.code_expires_at <= now:
        return Pairing(kiosk=kiosk, problem=PairProblem.EXPIRED)
    if not kiosk.desk.active:
        return Pairing(kiosk=kiosk, problem=PairProblem.DESK_RETIRED)
    token = secrets.token_urlsafe(32)
    claimed = db.session.execute(
        sa.update(Kiosk)
        .where(Kiosk.id == kiosk.id, Kiosk.paired_at.is_(None), Kiosk.revoked_at.is_(None))
        .values(paired_at=now, credential_hash=_credential_hash(token), last_seen_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        db.session.rollback()
        return Pairing(kiosk=kiosk, problem=PairProblem.USED)
    record(
        "kiosk_paired",
        officer=kiosk.created_by,
        unit=kiosk.desk.unit,
        detail=f"desk {kiosk.desk.code}, kiosk {kiosk.id}",
    )
    db.session.commit()
    db.session.refresh(kiosk)
    return Pairing(kiosk=kiosk, credential=_serializer().dumps([kiosk.id, token]))


def kiosk_of(credential: str | None) -> Kiosk | None:
    """The kiosk a tablet's credential cookie names (revoked ones too), or None."""
    if not credential:
        return None
    try:
        kiosk_id, token = _serializer().loads(credential)
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(kiosk_id, int) or not isinstance(token, str):
        return None
    kiosk = db.session.get(Kiosk, kiosk_id)
    if kiosk is None or kiosk.credential_hash is None:
        return None
    if not hmac.compare_digest(kiosk.credential_hash, _credential_hash(token)):
        return None
    return kiosk


def revoke(officer: Officer, kiosk: Kiosk) -> bool:
    """End a pairing (or cancel a code not used yet); False if it already was."""
    if kiosk.revoked_at is not None:
        return False
    kiosk.revoked_at = utcnow()
    kiosk.revoked_by_id = officer.id
    record(
        "kiosk_revoke",
        officer=officer,
        unit=kiosk.desk.unit,
        detail=f"desk {kiosk.desk.code}, kiosk {kiosk.id}",
    )
    db.session.commit()
    return True


def find_kiosk(kiosk_id: int) -> Kiosk | None:
    return db.session.get(Kiosk, kiosk_id)


def find_desk_by_code(code: str) -> Desk | None:
    return db.session.scalar(sa.select(Desk).where(Desk.code == code))


@dataclass(frozen=True)
class KioskRow:
    kiosk: Kiosk
    state: str  # "waiting" (code not used yet), "paired", "expired", "revoked"
    serving: str | None = None  # the officer on duty at the kiosk's desk


def unit_kiosks(unit: Unit) -> list[KioskRow]:
    """The kiosks of the desks of ``unit`` (and below): paired, waiting for their code,
    and those revoked or expired in the last 30 days, for the desks page."""
    now = utcnow()
    recent = now - timedelta(days=30)
    kiosks = db.session.scalars(
        sa.select(Kiosk)
        .join(Desk, Desk.id == Kiosk.desk_id)
        .where(
            Desk.unit_id.in_(unit.subtree_ids()),
            sa.or_(
                Kiosk.revoked_at.is_(None) & Kiosk.paired_at.is_not(None),
                Kiosk.created_at > recent,
                Kiosk.revoked_at > recent,
            ),
        )
        .order_by(Desk.code, Kiosk.id)
    )
    kiosks = list(kiosks)
    serving = dict(
        db.session.execute(
            sa.select(KioskShift.desk_id, Officer.full_name)
            .join(Officer, Officer.id == KioskShift.officer_id)
            .where(
                KioskShift.desk_id.in_({k.desk_id for k in kiosks}),
                KioskShift.ended_at.is_(None),
            )
            .order_by(KioskShift.started_at)
        ).all()
    )
    rows = []
    for kiosk in kiosks:
        if kiosk.revoked_at is not None:
            state = "revoked"
        elif kiosk.paired_at is not None:
            state = "paired"
        elif kiosk.code_expires_at <= now:
            state = "expired"
        else:
            state = "waiting"
        rows.append(KioskRow(kiosk, state, serving.get(kiosk.desk_id)))
    return rows


# -- ratings ------------------------------------------------------------------


class RatingOutcome(enum.Enum):
    STORED = "stored"
    ALREADY = "already"
    #: Stored, flagged ``revoked_kiosk``: the tablet was revoked before it sent it.
    REVOKED = "revoked"
    TOO_SOON = "too_soon"
    INVALID = "invalid"


@dataclass(frozen=True)
class KioskRating:
    """A rating as the tablet sent it (checked by :func:`submit_rating`)."""

    submission_id: str
    version: int
    answers: dict[str, str]
    comment: str | None = None
    reason: str | None = None
    reason_text: str | None = None
    language: str = "vi"
    #: When the tablet says it was made: trusted only for a rating queued offline.
    made_at: datetime | None = None
    offline: bool = False


@dataclass(frozen=True)
class RatingResult:
    outcome: RatingOutcome
    response_id: int | None = None
    flag_reason: str | None = None
    retry_after: int | None = None
    problem: str | None = None  # what is wrong with an invalid rating (for the log)
    served_by_id: int | None = None


class InvalidRating(ValueError):
    pass


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
#: Kiosk ratings keep no comment longer than this (the phone form's limit).
MAX_COMMENT = 2000


def checked_answers(
    row: QuestionnaireVersion, rating: KioskRating
) -> tuple[dict[str, str], str | None]:
    """The answers and the comment to store, checked against the questionnaire.

    The follow-up answer (a choice and a short text) is kept only after a poor
    overall rating: its choice with the answers, its text before the comment.

    :raise InvalidRating: naming the first problem.
    """
    definition = definition_of(row)
    known = {q.id: q for q in definition.answer_questions}
    unknown = set(rating.answers) - set(known)
    if unknown:
        raise InvalidRating(f"unknown questions {sorted(unknown)}")
    answers: dict[str, str] = {}
    for question in known.values():
        value = rating.answers.get(question.id)
        if value in (None, ""):
            if question.required:
                raise InvalidRating(f"{question.id} is required")
            continue
        if not isinstance(value, str) or value not in question.values():
            raise InvalidRating(f"{question.id}: {value!r} is not an answer")
        answers[question.id] = value
    texts = []
    follow_up = follow_up_of(definition)
    if follow_up is not None and follow_up.asks_after(answers):
        if rating.reason:
            if rating.reason not in follow_up.option_values():
                raise InvalidRating(f"{rating.reason!r} is not a follow-up choice")
            answers[follow_up.id] = rating.reason
        reason_text = clean_text(rating.reason_text)
        if reason_text:
            if len(reason_text) > follow_up.max_length:
                raise InvalidRating("follow-up text too long")
            texts.append(reason_text)
    comment = clean_text(rating.comment)
    if comment:
        if definition.comment_question is None or len(comment) > MAX_COMMENT:
            raise InvalidRating("comment not accepted")
        texts.append(comment)
    return answers, "\n\n".join(texts) or None


def submit_rating(kiosk: Kiosk, row: QuestionnaireVersion, rating: KioskRating) -> RatingResult:
    """Store a kiosk's rating exactly once (by its submission id), with the officer on
    duty when it was made, in one transaction with the kiosk's gap.

    - Only a minimum gap between two ratings of the kiosk limits it (no per-phone
      limit: everyone at the desk shares it). A rating sent at once within the gap
      is refused (``TOO_SOON``, nothing stored); one queued offline is judged by
      when it was made, and within the gap it is stored flagged ``kiosk_gap``.
    - Past the desk's ceiling (``guard.over_desk_ceiling``) it is stored flagged
      ``burst``, as the phone form's ratings are.
    - From a revoked kiosk (queued before the tablet learnt of it) it is stored
      flagged ``revoked_kiosk``, for the district to judge: kept, not counted
      (the gap still applies).
    """
    if not _UUID.fullmatch(rating.submission_id or ""):
        return RatingResult(RatingOutcome.INVALID, problem="submission id")
    existing = existing_response_id(rating.submission_id)
    if existing is not None:
        return RatingResult(RatingOutcome.ALREADY, response_id=existing)
    try:
        answers, comment = checked_answers(row, rating)
    except InvalidRating as exc:
        return RatingResult(RatingOutcome.INVALID, problem=str(exc))
    now = utcnow()
    made = now
    if rating.offline and rating.made_at is not None:
        # Not before the pairing, not in the future: a wrong tablet clock cannot
        # move a rating out of the kiosk's life.
        made = min(max(rating.made_at, kiosk.paired_at or now), now)
    flag = None
    # The update locks the kiosk's row until the commit (PostgreSQL) or takes
    # the database's write lock (SQLite): two posts of one kiosk judge the gap
    # one after the other. The gap holds for a revoked kiosk too, so a lost
    # tablet cannot flood the flagged list.
    db.session.execute(
        sa.update(Kiosk)
        .where(Kiosk.id == kiosk.id)
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )
    last = db.session.scalar(sa.select(Kiosk.last_made_at).where(Kiosk.id == kiosk.id))
    gap = current_app.config["SURVEY_KIOSK_MIN_GAP_SECONDS"]
    if last is not None and abs((made - last).total_seconds()) < gap:
        if not rating.offline:
            db.session.rollback()
            wait = gap - (made - last).total_seconds()
            return RatingResult(RatingOutcome.TOO_SOON, retry_after=max(1, math.ceil(wait)))
        flag = "kiosk_gap"
    db.session.execute(
        sa.update(Kiosk)
        .where(Kiosk.id == kiosk.id)
        .values(last_made_at=made if last is None else max(last, made))
        .execution_options(synchronize_session=False)
    )
    if kiosk.revoked_at is not None:
        flag = "revoked_kiosk"  # kept for review whatever else it is
    elif flag is None and guard.over_desk_ceiling(kiosk.desk):
        flag = "burst"
    served_by = on_duty_at(kiosk.desk_id, made)
    stored = store_response(
        desk=kiosk.desk,
        questionnaire=row,
        submission_id=rating.submission_id,
        answers=answers,
        comment=comment,
        contact=None,
        contact_consent=False,
        language=rating.language if rating.language in ("vi", "en") else "vi",
        flag_reason=flag,
        channel=Channel.KIOSK,
        served_by_id=served_by,
    )
    if not stored.created:
        return RatingResult(RatingOutcome.ALREADY, response_id=stored.response_id)
    outcome = RatingOutcome.REVOKED if flag == "revoked_kiosk" else RatingOutcome.STORED
    return RatingResult(
        outcome, response_id=stored.response_id, flag_reason=flag, served_by_id=served_by
    )


def new_submission_id() -> str:
    return str(uuid.uuid4())


# -- shifts and PINs ----------------------------------------------------------


def on_duty_at(desk_id: int, when: datetime) -> int | None:
    """The officer whose shift at the desk covers ``when`` (the latest started)."""
    return db.session.scalar(
        sa.select(KioskShift.officer_id)
        .where(
            KioskShift.desk_id == desk_id,
            KioskShift.started_at <= when,
            sa.or_(KioskShift.ended_at.is_(None), KioskShift.ended_at > when),
        )
        .order_by(KioskShift.started_at.desc(), KioskShift.id.desc())
        .limit(1)
    )


def current_shift(desk_id: int) -> KioskShift | None:
    return db.session.scalar(
        sa.select(KioskShift)
        .where(KioskShift.desk_id == desk_id, KioskShift.ended_at.is_(None))
        .order_by(KioskShift.started_at.desc(), KioskShift.id.desc())
        .limit(1)
    )


def officer_shift(officer: Officer) -> KioskShift | None:
    """The officer's own open shift, if any."""
    return db.session.scalar(
        sa.select(KioskShift)
        .where(KioskShift.officer_id == officer.id, KioskShift.ended_at.is_(None))
        .order_by(KioskShift.started_at.desc())
        .limit(1)
    )


def may_serve(officer: Officer, desk: Desk) -> bool:
    """Only an active officer of the desk's own commune serves at it."""
    return officer.active and officer.role == Role.COMMUNE and officer.unit_id == desk.unit_id


def officers_with_pin(desk: Desk) -> list[Officer]:
    """The officers who may start a shift at the desk on its kiosk (they set a PIN)."""
    return list(
        db.session.scalars(
            sa.select(Officer)
            .join(OfficerPin, OfficerPin.officer_id == Officer.id)
            .where(
                Officer.unit_id == desk.unit_id,
                Officer.role == Role.COMMUNE,
                Officer.active.is_(True),
            )
            .order_by(Officer.full_name, Officer.id)
        )
    )


def commune_desks(officer: Officer) -> list[Desk]:
    """The active desks where ``officer`` may serve (those of their own commune)."""
    if officer.role != Role.COMMUNE or officer.unit_id is None:
        return []
    return list(
        db.session.scalars(
            sa.select(Desk)
            .where(Desk.unit_id == officer.unit_id, Desk.active.is_(True))
            .order_by(Desk.code)
        )
    )


class ShiftProblem(enum.Enum):
    UNKNOWN_OFFICER = "unknown_officer"
    NOT_OF_COMMUNE = "not_of_commune"
    NO_PIN = "no_pin"
    WRONG_PIN = "wrong_pin"
    LOCKED = "locked"
    DESK_RETIRED = "desk_retired"


@dataclass(frozen=True)
class ShiftResult:
    shift: KioskShift | None = None
    problem: ShiftProblem | None = None
    retry_after: int | None = None
    attempts_left: int | None = None
    officer: Officer | None = None


def _open_shift(desk: Desk, officer: Officer, via: str) -> KioskShift:
    """End the desk's open shift and the officer's elsewhere; open the officer's here."""
    now = utcnow()
    db.session.execute(
        sa.update(KioskShift)
        .where(
            KioskShift.ended_at.is_(None),
            sa.or_(KioskShift.desk_id == desk.id, KioskShift.officer_id == officer.id),
        )
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )
    shift = KioskShift(desk_id=desk.id, officer_id=officer.id, started_at=now, started_via=via)
    db.session.add(shift)
    return shift


def start_shift_with_pin(kiosk: Kiosk, officer_id: int, pin: str) -> ShiftResult:
    """Start ``officer_id``'s shift at the kiosk's desk if the PIN is right.

    Each try is counted before the PIN is checked (one conditional update, so
    parallel guesses are each counted); ``SURVEY_KIOSK_PIN_ATTEMPTS`` wrong PINs
    in a row lock it for ``SURVEY_KIOSK_PIN_LOCK_MINUTES``, in the audit log.
    """
    desk = kiosk.desk
    if not desk.active:
        return ShiftResult(problem=ShiftProblem.DESK_RETIRED)
    officer = db.session.get(Officer, officer_id)
    if officer is None or not officer.active:
        return ShiftResult(problem=ShiftProblem.UNKNOWN_OFFICER)
    if not may_serve(officer, desk):
        return ShiftResult(problem=ShiftProblem.NOT_OF_COMMUNE, officer=officer)
    config = current_app.config
    now = utcnow()
    counted = db.session.execute(
        sa.update(OfficerPin)
        .where(
            OfficerPin.officer_id == officer.id,
            sa.or_(OfficerPin.locked_until.is_(None), OfficerPin.locked_until <= now),
        )
        .values(failures=OfficerPin.failures + 1)
        .execution_options(synchronize_session=False)
    )
    row = db.session.scalar(
        sa.select(OfficerPin)
        .where(OfficerPin.officer_id == officer.id)
        .execution_options(populate_existing=True)
    )
    if row is None:
        db.session.rollback()
        return ShiftResult(problem=ShiftProblem.NO_PIN, officer=officer)
    if counted.rowcount != 1:  # locked
        db.session.rollback()
        wait = (row.locked_until - now).total_seconds()
        return ShiftResult(
            problem=ShiftProblem.LOCKED, retry_after=max(1, math.ceil(wait)), officer=officer
        )
    if not check_password_hash(row.pin_hash, pin or ""):
        attempts = config["SURVEY_KIOSK_PIN_ATTEMPTS"]
        if row.failures >= attempts:
            minutes = config["SURVEY_KIOSK_PIN_LOCK_MINUTES"]
            row.locked_until = now + timedelta(minutes=minutes)
            row.failures = 0
            record(
                "kiosk_pin_locked",
                officer=officer,
                unit=desk.unit,
                detail=f"desk {desk.code}, kiosk {kiosk.id}, {attempts} wrong PINs",
            )
            db.session.commit()
            return ShiftResult(
                problem=ShiftProblem.LOCKED, retry_after=minutes * 60, officer=officer
            )
        left = attempts - row.failures
        db.session.commit()
        return ShiftResult(problem=ShiftProblem.WRONG_PIN, attempts_left=left, officer=officer)
    row.failures = 0
    row.locked_until = None
    shift = _open_shift(desk, officer, "pin")
    record(
        "shift_start",
        officer=officer,
        unit=desk.unit,
        detail=f"desk {desk.code}, PIN on kiosk {kiosk.id}",
    )
    db.session.commit()
    return ShiftResult(shift=shift, officer=officer)


def start_shift_from_phone(officer: Officer, desk: Desk) -> ShiftResult:
    """Start the signed-in officer's shift at a desk of their own commune."""
    if not desk.active:
        return ShiftResult(problem=ShiftProblem.DESK_RETIRED)
    if not may_serve(officer, desk):
        return ShiftResult(problem=ShiftProblem.NOT_OF_COMMUNE, officer=officer)
    shift = _open_shift(desk, officer, "phone")
    record("shift_start", officer=officer, unit=desk.unit, detail=f"desk {desk.code}, phone")
    db.session.commit()
    return ShiftResult(shift=shift, officer=officer)


def end_shift_at(kiosk: Kiosk) -> bool:
    """End the open shift at the kiosk's desk (pressed on the kiosk)."""
    shift = current_shift(kiosk.desk_id)
    if shift is None:
        return False
    shift.ended_at = utcnow()
    record(
        "shift_end",
        officer=shift.officer,
        unit=kiosk.desk.unit,
        detail=f"desk {kiosk.desk.code}, on kiosk {kiosk.id}",
    )
    db.session.commit()
    return True


def end_own_shift(officer: Officer) -> bool:
    """End the signed-in officer's open shift (from their phone)."""
    shift = officer_shift(officer)
    if shift is None:
        return False
    shift.ended_at = utcnow()
    record(
        "shift_end", officer=officer, unit=shift.desk.unit, detail=f"desk {shift.desk.code}, phone"
    )
    db.session.commit()
    return True


PIN_RE = re.compile(r"[0-9]{4,8}")


class PinProblem(enum.Enum):
    FORMAT = "format"
    TOO_SIMPLE = "too_simple"


def pin_problem(pin: str) -> PinProblem | None:
    """Why a PIN cannot be used: not 4 to 8 digits, or one anybody would try first."""
    if not PIN_RE.fullmatch(pin or ""):
        return PinProblem.FORMAT
    if len(set(pin)) == 1 or pin in "0123456789" or pin in "9876543210":
        return PinProblem.TOO_SIMPLE
    return None


def has_pin(officer: Officer) -> bool:
    return db.session.get(OfficerPin, officer.id) is not None


def set_pin(officer: Officer, pin: str) -> PinProblem | None:
    """Set (or change) the officer's kiosk PIN; a new PIN also lifts a lock."""
    problem = pin_problem(pin)
    if problem is not None:
        return problem
    row = db.session.get(OfficerPin, officer.id)
    if row is None:
        row = OfficerPin(officer_id=officer.id)
        db.session.add(row)
    row.pin_hash = hash_password(pin)
    row.failures = 0
    row.locked_until = None
    row.updated_at = utcnow()
    record("pin_set", officer=officer, unit=officer.unit)
    db.session.commit()
    return None
