"""One-time receipt tokens: one dossier, one rating.

The one-stop software asks for a token when it returns a dossier
(``POST /api/v1/tokens``) and prints its short code and QR code on the receipt
slip. ``/s/<desk_code>?t=<code>`` then links the rating to that dossier. The
dossier number is stored only as a keyed hash, a dossier has at most one token,
and a token is used at most once: the claim is a single conditional UPDATE in
the transaction that stores the response, so two simultaneous submissions
cannot both win.
"""

from __future__ import annotations

import enum
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from survey.data.audit import record
from survey.data.models import ApiKey
from survey.data.models import Desk
from survey.data.models import Officer
from survey.data.models import ReceiptToken
from survey.data.models import Unit
from survey.data.models import utcnow
from survey.data.queries import find_desk
from survey.extensions import db
from survey.integrity.guard import keyed_hash

#: No 0/O, 1/I: a code is read off paper and typed on a phone.
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 8
MAX_TOKEN_DAYS = 365
API_KEY_PREFIX = "sk_"
_SEPARATORS = re.compile(r"[\s\-_.]")
_DOSSIER = re.compile(r"^[0-9A-Za-z.\-_/ ]{1,64}$")


class TokenProblem(enum.StrEnum):
    MALFORMED = "malformed"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"
    FOREIGN = "foreign"


class DossierAlreadyRated(Exception):
    """The dossier's token has been used: it may not be rated again."""

    def __init__(self, token: ReceiptToken):
        super().__init__(token.code)
        self.token = token


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str | None) -> str | None:
    """The code in canonical form (upper case, no separators), or ``None`` if malformed."""
    if not text:
        return None
    code = _SEPARATORS.sub("", text).upper()
    if len(code) != CODE_LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def normalise_dossier(number: str) -> str:
    return " ".join(number.split()).upper()


def valid_dossier(number: object) -> bool:
    return isinstance(number, str) and bool(_DOSSIER.match(number.strip()))


def dossier_hash(number: str) -> str:
    return keyed_hash("dossier", normalise_dossier(number))


# -- API keys ---------------------------------------------------------------


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def create_api_key(unit: Unit, label: str | None = None) -> tuple[str, ApiKey]:
    """A new key for ``unit`` in the session (the caller commits): the key, shown
    once, and its row."""
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(unit_id=unit.id, key_hash=_sha256(key), prefix=key[:10], label=label)
    db.session.add(row)
    return key, row


def issue_api_key(unit: Unit, label: str | None = None) -> str:
    """Create a key for ``unit`` and its audit entry in one transaction; return the key."""
    key, row = create_api_key(unit, label)
    db.session.flush()  # the row's prefix is set; the entry names it
    record("api_key", unit=unit, detail=f"created {row.prefix}… {label or ''}".strip())
    db.session.commit()
    return key


def api_key_for(authorization: str | None) -> ApiKey | None:
    """The active key sent as ``Authorization: Bearer <key>``, or ``None``."""
    if not authorization:
        return None
    scheme, _sep, key = authorization.partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key.startswith(API_KEY_PREFIX) or len(key) > 200:
        return None
    row = db.session.scalar(sa.select(ApiKey).where(ApiKey.key_hash == _sha256(key)))
    if row is None or row.revoked_at is not None:
        return None
    return row


# -- minting ----------------------------------------------------------------


@dataclass(frozen=True)
class Minted:
    token: ReceiptToken
    created: bool


def mint(
    desk: Desk,
    dossier_number: str,
    days: int,
    api_key: ApiKey | None = None,
    served_by: Officer | None = None,
) -> Minted:
    """The dossier's token, minted on first request.

    Asking again for the same dossier returns its unused token (its expiry
    extended if it had lapsed) rather than a second one; naming an officer then
    records them as the one who handled it (the latest request knows best, e.g.
    the officer who returned the result), and naming none leaves it as it was.

    :raise DossierAlreadyRated: the dossier's token has been used.
    """
    digest = dossier_hash(dossier_number)
    expires = utcnow() + timedelta(days=days)
    for _attempt in range(5):
        if api_key is not None:  # committed with the token (again after a rollback)
            api_key.last_used_at = utcnow()
        existing = db.session.scalar(
            sa.select(ReceiptToken).where(
                ReceiptToken.unit_id == desk.unit_id, ReceiptToken.dossier_hash == digest
            )
        )
        if existing is not None:
            if existing.used_at is not None:
                raise DossierAlreadyRated(existing)
            if existing.expires_at < expires:
                existing.expires_at = expires
            if served_by is not None:
                existing.served_by_id = served_by.id
            db.session.commit()
            return Minted(existing, created=False)
        token = ReceiptToken(
            code=new_code(),
            unit_id=desk.unit_id,
            desk_id=desk.id,
            dossier_hash=digest,
            api_key_id=api_key.id if api_key else None,
            expires_at=expires,
            served_by_id=served_by.id if served_by is not None else None,
        )
        db.session.add(token)
        try:
            db.session.commit()
        except sa.exc.IntegrityError:
            # The same dossier minted by a concurrent call, or (rarely) a code
            # already taken: look again.
            db.session.rollback()
            continue
        return Minted(token, created=True)
    raise RuntimeError("could not mint a receipt token")


class DeskRefused(Exception):
    """The desk named in a token request cannot take tokens from this key."""

    def __init__(self, status: int, code: str, detail: str, **extra) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.extra = status, code, detail, extra


class OfficerRefused(DeskRefused):
    """The officer named as having handled the dossier is not an active officer of
    the desk's commune (or no officer at all): nothing is stored."""


def handling_officer(desk: Desk, username: str) -> Officer:
    """The active officer of ``desk``'s unit with this username.

    Unknown, disabled and other units' officers get the same answer, so the API
    does not tell a unit's software which usernames exist elsewhere.

    :raise OfficerRefused: no such officer of the desk's unit.
    """
    name = username.strip().lower()
    officer = db.session.scalar(sa.select(Officer).where(Officer.username == name))
    if officer is None or not officer.active or officer.unit_id != desk.unit_id:
        raise OfficerRefused(
            422,
            "invalid_officer",
            f"{username.strip()} is not an active officer of the unit of desk {desk.code}.",
            fields={"officer": "not an active officer of the desk's unit"},
        )
    return officer


def issue(
    api_key: ApiKey,
    desk_code: str,
    dossier_number: str,
    days: int,
    officer: str | None = None,
) -> Minted:
    """The use case behind ``POST /api/v1/tokens``: one transaction that mints the
    dossier's token (with the officer who handled the dossier, if named) and
    records when the key was last used.

    :raise DeskRefused: the desk is unknown, another unit's, or retired.
    :raise OfficerRefused: ``officer`` is not an active officer of the desk's unit.
    :raise DossierAlreadyRated: the dossier's token has been used.
    """
    desk = find_desk(desk_code)
    if desk is None:
        raise DeskRefused(
            404, "unknown_desk", f"There is no desk with the code {desk_code.strip()}."
        )
    if desk.unit_id not in api_key.unit.subtree_ids():
        raise DeskRefused(403, "foreign_desk", f"Desk {desk.code} does not belong to your unit.")
    if not desk.active:
        raise DeskRefused(
            422,
            "retired_desk",
            f"Desk {desk.code} is retired; ask for tokens for the desk that replaced it.",
            fields={"desk_code": "retired"},
        )
    served_by = handling_officer(desk, officer) if officer is not None else None
    return mint(desk, dossier_number, days, api_key, served_by)


def find_token(text: str) -> ReceiptToken | None:
    """The token with this code, however the citizen typed it."""
    normal = normalise_code(text)
    if not normal:
        return None
    return db.session.scalar(sa.select(ReceiptToken).where(ReceiptToken.code == normal))


# -- checking and claiming --------------------------------------------------


@dataclass(frozen=True)
class TokenCheck:
    code: str
    token: ReceiptToken | None
    problem: TokenProblem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def check(text: str, desk: Desk) -> TokenCheck:
    """Whether the code ``text`` may verify a rating of ``desk`` now, and if not, why."""
    code = normalise_code(text)
    shown = (text or "").strip()[:20]
    if code is None:
        return TokenCheck(shown, None, TokenProblem.MALFORMED)
    token = db.session.scalar(sa.select(ReceiptToken).where(ReceiptToken.code == code))
    if token is None:
        return TokenCheck(code, None, TokenProblem.UNKNOWN)
    if token.unit_id != desk.unit_id:
        return TokenCheck(code, token, TokenProblem.FOREIGN)
    if token.used_at is not None:
        return TokenCheck(code, token, TokenProblem.USED)
    if token.expires_at <= utcnow():
        return TokenCheck(code, token, TokenProblem.EXPIRED)
    return TokenCheck(code, token, None)


def claim(token_id: int) -> bool:
    """Mark the token used, in the caller's transaction; ``False`` if it is no longer usable.

    One conditional UPDATE: under concurrency exactly one transaction sees a
    row count of 1 (PostgreSQL re-checks the condition after the winner
    commits; SQLite serialises writers).
    """
    now = utcnow()
    result = db.session.execute(
        sa.update(ReceiptToken)
        .where(
            ReceiptToken.id == token_id,
            ReceiptToken.used_at.is_(None),
            ReceiptToken.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
