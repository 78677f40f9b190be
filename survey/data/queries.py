"""Lookups shared by several features: desks, units, questionnaire versions, and
how counts from the rollup become statistics."""

from __future__ import annotations

import json
from functools import lru_cache

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import make_transient_to_detached

from survey.data.models import Desk
from survey.data.models import QuestionnaireVersion
from survey.data.models import Unit
from survey.domain.questionnaire import Questionnaire as QuestionnaireDefinition
from survey.domain.questionnaire import latest_bundled
from survey.domain.questionnaire import parse
from survey.extensions import db
from survey.stats import QuestionCounts


@lru_cache(maxsize=32)
def _parse_cached(version: int, definition_json: str) -> QuestionnaireDefinition:
    return parse(json.loads(definition_json))


def definition_of(row: QuestionnaireVersion) -> QuestionnaireDefinition:
    """The parsed definition of a stored questionnaire (stored versions never change).

    Kept on the row object too: a form post asks for it several times, and
    serialising the definition for the cache key is the costly part.
    """
    parsed = row.__dict__.get("_parsed_definition")
    if parsed is None:
        parsed = _parse_cached(row.version, json.dumps(row.definition, sort_keys=True))
        row.__dict__["_parsed_definition"] = parsed
    return parsed


def ensure_questionnaire(definition: dict | None = None) -> QuestionnaireVersion:
    """Store a questionnaire version if it is not stored yet, and return its row.

    Safe when two workers race: the loser of the insert reads the winner's row.
    """
    if definition is None:
        definition = latest_bundled()  # shipped with the code and checked by its tests
    else:
        parse(definition)  # refuse a malformed definition before storing it
    version = definition["version"]
    row = db.session.scalar(
        sa.select(QuestionnaireVersion).where(QuestionnaireVersion.version == version)
    )
    if row is not None:
        return row
    try:
        row = QuestionnaireVersion(version=version, definition=definition)
        db.session.add(row)
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        row = db.session.scalar(
            sa.select(QuestionnaireVersion).where(QuestionnaireVersion.version == version)
        )
    return row


def current_questionnaire() -> QuestionnaireVersion:
    """The questionnaire new forms are served with: the newest shipped version.

    Looked up once per app and shipped version: a stored version never changes,
    so later calls put a copy of the row into the session without a query
    (``merge(load=False)``).
    """
    kept = current_questionnaire_kept()
    # Returns the session's own instance when it already has one.
    row = db.session.merge(kept, load=False)
    row.__dict__.setdefault("_parsed_definition", definition_of(kept))
    return row


def current_questionnaire_kept() -> QuestionnaireVersion:
    """:func:`current_questionnaire` as one detached row per app, in no session.

    For the form post, which reads only the row's columns and definition: it
    is spared putting a row into its session and having it expired at its
    commit. Never attach it (requests share it): :func:`current_questionnaire`
    gives a row of the request's own.
    """
    kept = current_app.extensions.get(_CURRENT)
    if kept is None or kept.version != latest_bundled()["version"]:  # a new one is shipped
        row = ensure_questionnaire()
        kept = QuestionnaireVersion(id=row.id, version=row.version, definition=row.definition)
        make_transient_to_detached(kept)
        kept.__dict__["_parsed_definition"] = definition_of(row)
        current_app.extensions[_CURRENT] = kept
    return kept


_CURRENT = "survey.current_questionnaire"


def questionnaire_by_version(version: int) -> QuestionnaireVersion | None:
    return db.session.scalar(
        sa.select(QuestionnaireVersion).where(QuestionnaireVersion.version == version)
    )


def find_desk(code: str) -> Desk | None:
    """The desk with this public code (codes are matched case-insensitively)."""
    return db.session.scalar(sa.select(Desk).where(Desk.code == code.strip().upper()))


def find_desk_remembered(code: str) -> Desk | None:
    """:func:`find_desk`, without a query for an active desk this process has seen.

    For the form post only, whose write stores the response only if the desk is
    still active in the same unit (``survey/citizen/services.py``): a desk
    retired or moved since is looked up again (:func:`forget_desk`). The desk is
    kept per app (tests run several apps on several databases) as one detached
    object, its columns loaded, in no session: requests share it, so it is
    never attached, and a page that shows the desk takes :func:`attached`.
    """
    key = code.strip().upper()
    remembered = current_app.extensions.setdefault(_DESKS, {})
    kept = remembered.get(key)
    if kept is not None:
        return kept
    desk = find_desk(key)
    if desk is not None and desk.active:
        if len(remembered) >= _DESKS_KEPT:
            remembered.clear()  # a bound, not a policy: desks are few
        kept = Desk(**{name: getattr(desk, name) for name in _DESK_COLUMNS})
        make_transient_to_detached(kept)
        remembered[key] = kept
    return desk


def attached(desk: Desk) -> Desk:
    """``desk`` in this request's session, so that its relationships load: a
    remembered desk (:func:`find_desk_remembered`) is copied in without a query."""
    if sa.inspect(desk).detached:
        return db.session.merge(desk, load=False)
    return desk


def forget_desk(code: str) -> None:
    """Drop what :func:`find_desk_remembered` kept of this desk in this process."""
    current_app.extensions.get(_DESKS, {}).pop(code.strip().upper(), None)


_DESKS = "survey.desks_remembered"
_DESKS_KEPT = 10_000
_DESK_COLUMNS = tuple(attr.key for attr in Desk.__mapper__.column_attrs)


def interval_method() -> str:
    """The interval behind every rate and verdict (setting ``SURVEY_CI_METHOD``).

    Clopper–Pearson ("exact") by default: a target is declared met or missed
    only on clear evidence, even for a commune with a handful of responses.
    """
    return current_app.config.get("SURVEY_CI_METHOD", "exact")


def scale_counts(raw: dict[str, int]) -> QuestionCounts:
    known = {k: v for k, v in raw.items() if k in {"1", "2", "3", "4", "5", "na"}}
    return QuestionCounts.from_mapping(known)


def find_unit(code: str) -> Unit | None:
    """The unit with this code (codes are matched case-insensitively)."""
    return db.session.scalar(sa.select(Unit).where(Unit.code == code.strip().upper()))


def procedure_field_codes() -> set[str]:
    """The procedure-field answer codes of the current questionnaire."""
    field_q = definition_of(current_questionnaire()).by_role("procedure_field")
    return {o.value for o in field_q.options} if field_q else set()
