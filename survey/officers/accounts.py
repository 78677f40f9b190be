"""Officers' accounts: password hashes, sign-in with throttling, and the
use cases the CLI runs (create an officer, reset a password).

Failed attempts are stored in the database (not in a worker's memory), so the
limit holds however many gunicorn workers serve the site.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from survey.data.audit import record
from survey.data.models import LoginFailure
from survey.data.models import Officer
from survey.data.models import Unit
from survey.data.models import utcnow
from survey.extensions import db

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
# Checked against when the username is unknown, so a wrong username takes as
# long as a wrong password and does not reveal which accounts exist.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def hash_password(password: str) -> str:
    """A salted scrypt hash (werkzeug's KDF), at the cost set by ``SURVEY_PASSWORD_HASH``.

    Production keeps werkzeug's default cost; the test suite sets a cheap one,
    since it creates hundreds of officers and the cost buys nothing there.
    """
    return generate_password_hash(password, method=current_app.config["SURVEY_PASSWORD_HASH"])


def check_password_strength(password: str) -> str | None:
    """An error message for a password too weak to accept, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"The password must have at least {MIN_PASSWORD_LENGTH} characters."
    if password.isdigit() or password.lower() == password.lower()[0] * len(password):
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


def _recent_failures(username: str) -> int:
    since = utcnow() - FAILURE_WINDOW
    return db.session.scalar(
        sa.select(sa.func.count(LoginFailure.id)).where(
            LoginFailure.username == username, LoginFailure.at >= since
        )
    )


def sign_in(username: str, password: str, *, allow_demo: bool) -> SignInResult:
    """Check a sign-in and record it (or the failure) in one transaction."""
    if _recent_failures(username) >= MAX_FAILURES:
        return SignInResult(SignIn.THROTTLED)
    officer = db.session.scalar(sa.select(Officer).where(Officer.username == username))
    password_ok = check_password_hash(officer.password_hash if officer else _DUMMY_HASH, password)
    if officer and password_ok and officer.active:
        if officer.is_demo and not allow_demo:
            return SignInResult(SignIn.DEMO_DISABLED)
        db.session.execute(sa.delete(LoginFailure).where(LoginFailure.username == username))
        officer.last_login_at = utcnow()
        record("login", officer=officer)
        db.session.commit()
        return SignInResult(SignIn.OK, officer)
    db.session.add(LoginFailure(username=username))
    db.session.commit()
    return SignInResult(SignIn.WRONG)


def record_sign_out(officer: Officer) -> None:
    record("logout", officer=officer)
    db.session.commit()


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
