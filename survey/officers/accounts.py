"""Officers' accounts: password hashes, sign-in with throttling, server-side
sessions, and the use cases the CLI runs (create an officer, reset a password).

Failed attempts and sessions are stored in the database (not in a worker's
memory), so the limits and a sign-out hold however many gunicorn workers serve
the site.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from survey.data.audit import record
from survey.data.models import LoginFailure
from survey.data.models import Officer
from survey.data.models import OfficerSession
from survey.data.models import Role
from survey.data.models import Unit
from survey.data.models import utcnow
from survey.extensions import db

#: Failed sign-ins allowed per account and client (an address, or a device that
#: signed in to the account before) within the window.
MAX_FAILURES = 5
#: Failed sign-ins allowed per account from every unknown client together: the
#: ceiling on guesses spread over many addresses. The officer's known devices are
#: not held back by it, so strangers reaching it cannot lock the officer out.
MAX_STRANGER_FAILURES = 20
FAILURE_WINDOW = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
# Checked against when the username is unknown, so a wrong username takes as
# long as a wrong password and does not reveal which accounts exist.
_DUMMY_HASH = generate_password_hash("not-a-real-password")
_COMMON_PASSWORDS = Path(__file__).with_name("common_passwords.txt")


def hash_password(password: str) -> str:
    """A salted scrypt hash (werkzeug's KDF), at the cost set by ``SURVEY_PASSWORD_HASH``.

    Production keeps werkzeug's default cost; the test suite sets a cheap one,
    since it creates hundreds of officers and the cost buys nothing there.
    """
    return generate_password_hash(password, method=current_app.config["SURVEY_PASSWORD_HASH"])


@functools.cache
def common_passwords() -> frozenset[str]:
    """The bundled list of passwords guessed first (lower case, one a line)."""
    lines = _COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip())


def check_password_strength(password: str, username: str = "") -> str | None:
    """An error message for a password too weak to accept, or None.

    Long enough, not on the list of common passwords (nor one of them with
    digits or symbols added at either end, as in ``password123``), not the
    username, and not made of one or two characters repeated.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"The password must have at least {MIN_PASSWORD_LENGTH} characters."
    lowered = password.lower()
    core = lowered.strip("0123456789!@#$%^&*()-_=+.?~ ")
    listed = common_passwords()
    if lowered in listed or core in listed or (len(core) < 4):
        return "The password is too common: choose one that is not on a list of usual passwords."
    if username and username.lower() in lowered:
        return "The password must not contain the username."
    if password.isdigit() or len(set(lowered)) < 4:
        return "The password is too easy to guess."
    return None


class SignIn(enum.Enum):
    OK = "ok"
    WRONG = "wrong"
    THROTTLED = "throttled"
    DEMO_DISABLED = "demo_disabled"


@dataclass(frozen=True)
class SignInResult:
    outcome: SignIn
    officer: Officer | None = None
    #: The new session's id (for the session cookie) when the sign-in succeeded.
    session_token: str | None = None


def _lock(username: str) -> None:
    """Serialise the count-and-record of one account's attempts.

    On SQLite the insert that follows takes the database's write lock until
    commit; on PostgreSQL a transaction-scoped advisory lock per account does
    the same, so two parallel guesses cannot both see room under the limit.
    """
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        digest = hashlib.sha256(f"sign-in:{username}".encode()).digest()
        key = int.from_bytes(digest[:8], "big", signed=True)
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))


def _claim_attempt(username: str, client: str, known: bool) -> LoginFailure | None:
    """Record this attempt as a failure (until the password proves right) and commit;
    ``None`` (nothing recorded) when the client or account is over its limit."""
    _lock(username)
    attempt = LoginFailure(username=username, client=client, at=utcnow())
    db.session.add(attempt)
    db.session.flush()
    since = utcnow() - FAILURE_WINDOW
    recent = sa.and_(LoginFailure.username == username, LoginFailure.at >= since)
    own = db.session.scalar(
        sa.select(sa.func.count(LoginFailure.id)).where(recent, LoginFailure.client == client)
    )
    over = own > MAX_FAILURES
    if not known and not over:
        strangers = db.session.scalar(
            sa.select(sa.func.count(LoginFailure.id)).where(
                recent, sa.not_(LoginFailure.client.startswith("d:"))
            )
        )
        over = strangers > MAX_STRANGER_FAILURES
    if over:
        db.session.rollback()
        return None
    db.session.commit()
    return attempt


def sign_in(
    username: str, password: str, *, allow_demo: bool, client: str, known: bool = False
) -> SignInResult:
    """Check a sign-in, counted atomically against the limits, and open a session.

    ``client`` names who tries (see :class:`LoginFailure`); ``known`` says it is a
    device that signed in to this account before, held only to its own limit.
    The attempt is recorded (and committed) as a failure before the password is
    checked, so parallel guesses cannot slip past the count; a right password
    deletes it again with the client's earlier failures.
    """
    attempt = _claim_attempt(username, client, known)
    if attempt is None:
        return SignInResult(SignIn.THROTTLED)
    officer = db.session.scalar(sa.select(Officer).where(Officer.username == username))
    password_ok = check_password_hash(officer.password_hash if officer else _DUMMY_HASH, password)
    if officer and password_ok and officer.active:
        if officer.is_demo and not allow_demo:
            return SignInResult(SignIn.DEMO_DISABLED)
        db.session.execute(
            sa.delete(LoginFailure).where(
                LoginFailure.username == username, LoginFailure.client == client
            )
        )
        officer.last_login_at = utcnow()
        token = secrets.token_urlsafe(32)
        db.session.add(OfficerSession(officer_id=officer.id, token_hash=_token_hash(token)))
        record("login", officer=officer)
        db.session.commit()
        return SignInResult(SignIn.OK, officer, token)
    return SignInResult(SignIn.WRONG)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def live_officer(officer_id: int, token: object) -> Officer | None:
    """The officer whose session ``token`` names, if that session has not ended."""
    if not isinstance(token, str) or not token or len(token) > 100:
        return None
    # The session is checked on the primary (``db.engine``) even when this request
    # reads its figures from a replica: a sign-in a moment ago, or a sign-out, may
    # not have reached the replica yet.
    with db.engine.connect() as primary:
        live = primary.scalar(
            sa.select(OfficerSession.id).where(
                OfficerSession.officer_id == officer_id,
                OfficerSession.token_hash == _token_hash(token),
            )
        )
    return db.session.get(Officer, officer_id) if live is not None else None


def record_sign_out(officer: Officer, token: object) -> None:
    """End this session (its cookie, wherever copied, opens nothing any more)."""
    if isinstance(token, str):
        db.session.execute(
            sa.delete(OfficerSession).where(
                OfficerSession.officer_id == officer.id,
                OfficerSession.token_hash == _token_hash(token),
            )
        )
    record("logout", officer=officer)
    db.session.commit()


def end_all_sessions(officer: Officer) -> None:
    """End every session of ``officer`` in the caller's transaction."""
    db.session.execute(sa.delete(OfficerSession).where(OfficerSession.officer_id == officer.id))


def purge_failures(now) -> int:
    """Delete failed sign-ins older than the window (they no longer count)."""
    result = db.session.execute(
        sa.delete(LoginFailure).where(LoginFailure.at < now - FAILURE_WINDOW)
    )
    return result.rowcount or 0


def top_units() -> list[Unit]:
    """The units at the top of the tree (what an administrator starts from)."""
    return list(
        db.session.scalars(sa.select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.name))
    )


class ProfileError(ValueError):
    """A contact detail that cannot be used; the message names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def update_contact(
    officer: Officer,
    *,
    email: str | None,
    wants_alerts: bool | None = None,
    wants_comments: bool | None = None,
    wants_reports: bool | None = None,
    quiet_start: str | None = None,
    quiet_end: str | None = None,
    by: Officer | None = None,
) -> Officer:
    """Store an officer's e-mail address and what they want to receive, with an
    audit entry, in one transaction. ``None`` leaves a preference as it is; an
    empty e-mail removes the address (no more messages).

    :raise ProfileError: an address that is not one, or quiet hours that are not
        times of day; nothing is stored.
    """
    from survey.domain.alerts import check_email
    from survey.domain.alerts import parse_clock

    if email is not None:
        email = email.strip()
        if email:
            try:
                email = check_email(email)
            except ValueError:
                raise ProfileError("email", "invalid_email") from None
        officer.email = email or None
    for name, value in (("quiet_start", quiet_start), ("quiet_end", quiet_end)):
        if value is None:
            continue
        try:
            clock = parse_clock(value)
        except ValueError:
            raise ProfileError(name, "invalid_time") from None
        setattr(officer, name, clock.strftime("%H:%M") if clock else None)
    for name, value in (
        ("wants_alerts", wants_alerts),
        ("wants_comments", wants_comments),
        ("wants_reports", wants_reports),
    ):
        if value is not None:
            setattr(officer, name, value)
    record(
        "contact_changed",
        officer=by or officer,
        detail=(
            f"{officer.username}: e-mail {'set' if officer.email else 'none'}, "
            f"alerts={officer.wants_alerts}, comments={officer.wants_comments}, "
            f"reports={officer.wants_reports}, quiet={officer.quiet_start}-{officer.quiet_end}"
        ),
    )
    db.session.commit()
    return officer


class NotACommuneOfficer(ValueError):
    """Only a commune officer can be (or stop being) the commune's leader."""


def set_leader(officer: Officer, leader: bool, *, by: Officer | None = None) -> Officer:
    """Make ``officer`` the leader of their commune (or no longer), with an audit
    entry, in one transaction.

    The leader sees every officer's figures of the commune (``/units/<unit>/officers``);
    a commune may have more than one (the chairman and a vice-chairman).

    :raise NotACommuneOfficer: a district officer or an administrator (they see
        the officers' figures of the communes below them anyway).
    """
    if officer.role != Role.COMMUNE:
        raise NotACommuneOfficer(officer.username)
    officer.is_leader = leader
    record(
        "leader_set" if leader else "leader_unset",
        officer=by,
        unit=officer.unit,
        detail=officer.username,
    )
    db.session.commit()
    return officer
