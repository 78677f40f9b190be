"""Glue between the database and the pure modules (questionnaire, stats)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import make_transient_to_detached

from . import bulk
from . import rollup
from .extensions import db
from .models import Answer
from .models import Desk
from .models import Questionnaire
from .models import Response
from .models import utcnow
from .questionnaire import Questionnaire as QuestionnaireDefinition
from .questionnaire import latest_bundled
from .questionnaire import parse
from .tokens import claim


@lru_cache(maxsize=32)
def _parse_cached(version: int, definition_json: str) -> QuestionnaireDefinition:
    return parse(json.loads(definition_json))


def definition_of(row: Questionnaire) -> QuestionnaireDefinition:
    """The parsed definition of a stored questionnaire (stored versions never change).

    Kept on the row object too: a form post asks for it several times, and
    serialising the definition for the cache key is the costly part.
    """
    parsed = row.__dict__.get("_parsed_definition")
    if parsed is None:
        parsed = _parse_cached(row.version, json.dumps(row.definition, sort_keys=True))
        row.__dict__["_parsed_definition"] = parsed
    return parsed


def ensure_questionnaire(definition: dict | None = None) -> Questionnaire:
    """Store a questionnaire version if it is not stored yet, and return its row.

    Safe when two workers race: the loser of the insert reads the winner's row.
    """
    if definition is None:
        definition = latest_bundled()  # shipped with the code and checked by its tests
    else:
        parse(definition)  # refuse a malformed definition before storing it
    version = definition["version"]
    row = db.session.scalar(sa.select(Questionnaire).where(Questionnaire.version == version))
    if row is not None:
        return row
    try:
        row = Questionnaire(version=version, definition=definition)
        db.session.add(row)
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        row = db.session.scalar(sa.select(Questionnaire).where(Questionnaire.version == version))
    return row


def current_questionnaire() -> Questionnaire:
    """The questionnaire new forms are served with: the newest shipped version.

    Looked up once per app and shipped version: a stored version never changes,
    so later calls put a copy of the row into the session without a query
    (``merge(load=False)``).
    """
    cached = current_app.extensions.get(_CURRENT)
    if cached is None or cached[0] != latest_bundled()["version"]:  # a new one is shipped
        row = ensure_questionnaire()
        cached = (row.version, row.id, row.definition, definition_of(row))
        current_app.extensions[_CURRENT] = cached
    version, row_id, definition, parsed = cached
    detached = Questionnaire(id=row_id, version=version, definition=definition)
    make_transient_to_detached(detached)
    # Returns the session's own instance when it already has one.
    row = db.session.merge(detached, load=False)
    row.__dict__.setdefault("_parsed_definition", parsed)
    return row


_CURRENT = "survey.current_questionnaire"


def questionnaire_by_version(version: int) -> Questionnaire | None:
    return db.session.scalar(sa.select(Questionnaire).where(Questionnaire.version == version))


def find_desk(code: str) -> Desk | None:
    """The desk with this public code (codes are matched case-insensitively)."""
    return db.session.scalar(sa.select(Desk).where(Desk.code == code.strip().upper()))


@dataclass(frozen=True)
class StoredResponse:
    response_id: int
    created: bool


class TokenClaimFailed(Exception):
    """The receipt token was used (or expired) before this response could claim it."""


def existing_response_id(submission_id: str) -> int | None:
    """The id of the response stored with this submission id, if any (a Core query:
    it runs on every form post)."""
    return db.session.connection().scalar(_EXISTING, {"submission_id": submission_id})


_EXISTING = sa.select(Response.__table__.c.id).where(
    Response.__table__.c.submission_id == sa.bindparam("submission_id")
)


def store_response(
    *,
    desk: Desk,
    questionnaire: Questionnaire,
    submission_id: str,
    answers: dict[str, str],
    comment: str | None,
    contact: str | None,
    contact_consent: bool,
    language: str,
    receipt_token_id: int | None = None,
    flag_reason: str | None = None,
) -> StoredResponse:
    """Commit one response with its answers, exactly once per ``submission_id``.

    The commit happens before this returns, so the caller may acknowledge it;
    whatever the caller wrote before in the same transaction (its rate-limit
    events) is committed or rolled back with it. A second call with the same
    ``submission_id`` (a double tap, a retried post) stores nothing, rolls the
    transaction back and reports ``created=False``: the unique submission id
    decides, so two racing workers cannot both store it.

    With ``receipt_token_id`` the token is claimed in the same transaction, so
    it verifies exactly one response. A response with a ``flag_reason`` is
    stored but left out of the statistics.

    This is the hot path of the service (one call per citizen), so it writes
    with Core statements, the answers in one executemany, and counts the
    response in the rollup itself (ORM flush events do that for other writes).

    :raise TokenClaimFailed: the token was used by another response meanwhile.
    """
    if receipt_token_id is not None and not claim(receipt_token_id):
        db.session.rollback()
        existing = existing_response_id(submission_id)
        if existing is not None:  # our own double tap won the token
            return StoredResponse(existing, created=False)
        raise TokenClaimFailed(receipt_token_id)
    definition = definition_of(questionnaire)
    field_question = definition.by_role("procedure_field")
    values = {
        "submission_id": submission_id,
        "unit_id": desk.unit_id,
        "desk_id": desk.id,
        "questionnaire_id": questionnaire.id,
        "submitted_at": utcnow(),
        "procedure_field": answers.get(field_question.id) if field_question else None,
        "comment": comment,
        "contact": contact if contact_consent else None,
        "contact_consent": bool(contact and contact_consent),
        "language": language,
        "feedback_status": "new",
        "receipt_token_id": receipt_token_id,
        "flag_reason": flag_reason,
        "flagged": flag_reason is not None,
    }
    connection = db.session.connection()
    try:
        response_id = connection.execute(_INSERT_RESPONSE, values).scalar_one()
    except sa.exc.IntegrityError:
        # Another request with the same submission id won the race.
        db.session.rollback()
        existing = existing_response_id(submission_id)
        if existing is None:
            if receipt_token_id is not None:
                raise TokenClaimFailed(receipt_token_id) from None
            raise
        return StoredResponse(existing, created=False)
    if answers:
        rows = [
            {"response_id": response_id, "question_id": q, "value": v} for q, v in answers.items()
        ]
        bulk.insert_rows(connection, Answer.__table__, rows)
    rollup.count_inserted(connection, values, answers.items())
    db.session.commit()
    return StoredResponse(response_id, created=True)


_INSERT_RESPONSE = Response.__table__.insert().returning(Response.__table__.c.id)
