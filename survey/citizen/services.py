"""The citizen's use case: send a rating, stored exactly once, within the limits
that keep ballot stuffing out."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import replace
from datetime import timedelta
from functools import lru_cache

import sqlalchemy as sa
from flask import current_app

from survey.data import bulk
from survey.data import counting
from survey.data.models import Answer
from survey.data.models import Desk
from survey.data.models import Invitation
from survey.data.models import QuestionnaireVersion
from survey.data.models import SurveyResponse
from survey.data.models import utcnow
from survey.data.queries import definition_of
from survey.data.write_turns import write_turn
from survey.domain.channels import Channel
from survey.domain.feedback import FeedbackStatus
from survey.extensions import db
from survey.integrity import guard
from survey.integrity import tokens
from survey.integrity.tokens import claim
from survey.invitations.services import forget_for_rating
from survey.notify.events import record_response_alerts


@dataclass(frozen=True)
class StoredResponse:
    response_id: int
    created: bool


class TokenClaimFailed(Exception):
    """The receipt token was used (or expired) before this response could claim it."""


class DeskChanged(Exception):
    """The desk was retired, or moved to another unit, after the request looked it
    up: nothing was stored, and the caller looks the desk up again."""


def existing_response_id(submission_id: str) -> int | None:
    """The id of the response stored with this submission id, if any (a Core query:
    it runs on every form post)."""
    return db.session.connection().scalar(_EXISTING, {"submission_id": submission_id})


_EXISTING = sa.select(SurveyResponse.__table__.c.id).where(
    SurveyResponse.__table__.c.submission_id == sa.bindparam("submission_id")
)


def store_response(
    *,
    desk: Desk,
    questionnaire: QuestionnaireVersion,
    submission_id: str,
    answers: dict[str, str],
    comment: str | None,
    contact: str | None,
    contact_consent: bool,
    language: str,
    receipt_token_id: int | None = None,
    flag_reason: str | None = None,
    device_hash: str | None = None,
    channel: Channel | None = None,
    served_by_id: int | None = None,
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
    stored but left out of the statistics. ``channel`` says how the rating came
    (by default the receipt link with a token, else the open QR code);
    ``served_by_id`` is the officer who served the citizen, or the interviewer.

    This is the hot path of the service (one call per citizen), so it writes
    with Core statements, the answers in one executemany, and stores the
    response uncounted: the rollup's counting job (survey/data/counting.py)
    counts it within a second or so, and every read of the rollup meanwhile
    adds it (survey/data/rollup.py). ORM writes are counted in their flush.

    :raise TokenClaimFailed: the token was used by another response meanwhile.
    """
    prepared = _prepare(
        desk=desk,
        questionnaire=questionnaire,
        submission_id=submission_id,
        answers=answers,
        comment=comment,
        contact=contact,
        contact_consent=contact_consent,
        language=language,
        receipt_token_id=receipt_token_id,
        flag_reason=flag_reason,
        device_hash=device_hash,
        channel=channel,
        served_by_id=served_by_id,
    )
    return _write(prepared)


@dataclass
class _Prepared:
    """A response ready to be written: every row computed, no statement run.

    Built before the transaction's first write, so that on SQLite the write lock
    (taken by that first write, held until the commit) covers only the
    statements that must be in the transaction, not the Python that builds them.
    """

    values: dict
    answer_rows: list[dict]
    answers: dict[str, str]
    trouble_id: str | None


def _prepare(
    *,
    desk: Desk,
    questionnaire: QuestionnaireVersion,
    submission_id: str,
    answers: dict[str, str],
    comment: str | None,
    contact: str | None,
    contact_consent: bool,
    language: str,
    receipt_token_id: int | None,
    flag_reason: str | None,
    device_hash: str | None,
    channel: Channel | None,
    served_by_id: int | None,
) -> _Prepared:
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
        "feedback_status": FeedbackStatus.NEW.value,
        "receipt_token_id": receipt_token_id,
        "flag_reason": flag_reason,
        "flagged": flag_reason is not None,
        "device_hash": device_hash,
        "channel": (channel or (Channel.RECEIPT if receipt_token_id else Channel.QR)).value,
        "served_by_id": served_by_id,
        # Counted by the counting job, not under this transaction's write lock.
        "counted": False,
    }
    trouble = definition.by_role("integrity")
    return _Prepared(
        values=values,
        # The response's id is filled in once inserted.
        answer_rows=[
            {"response_id": None, "question_id": q, "value": v} for q, v in answers.items()
        ],
        answers=answers,
        trouble_id=trouble.id if trouble else None,
    )


def _flagged_as(prepared: _Prepared, flag_reason: str | None) -> _Prepared:
    """The same response with another flag (decided under the limits' lock)."""
    if prepared.values["flag_reason"] == flag_reason:
        return prepared
    values = {**prepared.values, "flag_reason": flag_reason, "flagged": flag_reason is not None}
    return replace(prepared, values=values)


def _write(prepared: _Prepared, *, desk_checked: bool = False) -> StoredResponse:
    """Store a prepared response and commit (see :func:`store_response`).

    ``desk_checked``: store it only if its desk is still active in its unit,
    checked by the insert itself, so a desk looked up from a worker's memory
    (``find_desk_remembered``) is as good as one read in this transaction.

    :raise DeskChanged: it is not (the transaction was rolled back).
    """
    values = prepared.values
    submission_id, receipt_token_id = values["submission_id"], values["receipt_token_id"]
    if receipt_token_id is not None and not claim(receipt_token_id):
        db.session.rollback()
        existing = existing_response_id(submission_id)
        if existing is not None:  # our own double tap won the token
            return StoredResponse(existing, created=False)
        raise TokenClaimFailed(receipt_token_id)
    connection = db.session.connection()
    # PostgreSQL: the answers go with the response, in one round trip.
    together = connection.dialect.name == "postgresql" and bool(prepared.answer_rows)
    if together:
        insert = _insert_with_answers(tuple(values), desk_checked)
        params = {**values, **bulk.parameters("postgresql", prepared.answer_rows, _ANSWERED)}
    else:
        insert = _insert_if_desk_active(tuple(values)) if desk_checked else _INSERT_RESPONSE
        params = values
    try:
        response_id = connection.execute(insert, params).scalar_one_or_none()
    except sa.exc.IntegrityError:
        # Another request with the same submission id won the race.
        db.session.rollback()
        existing = existing_response_id(submission_id)
        if existing is None:
            if receipt_token_id is not None:
                raise TokenClaimFailed(receipt_token_id) from None
            raise
        return StoredResponse(existing, created=False)
    if response_id is None:
        db.session.rollback()
        raise DeskChanged(values["desk_id"])
    if prepared.answer_rows and not together:
        for row in prepared.answer_rows:
            row["response_id"] = response_id
        bulk.insert_rows(connection, Answer.__table__, prepared.answer_rows)
    if not values["flagged"]:
        # A harassment report or a comment to call back about: its alert is
        # committed with the response (one insert, only when one is due).
        record_response_alerts(
            connection,
            response_id=response_id,
            unit_id=values["unit_id"],
            desk_id=values["desk_id"],
            at=values["submitted_at"],
            answers=prepared.answers,
            trouble_id=prepared.trouble_id,
            comment=values["comment"],
            consent=values["contact_consent"],
        )
    db.session.commit()
    counting.nudge()
    return StoredResponse(response_id, created=True)


_INSERT_RESPONSE = SurveyResponse.__table__.insert().returning(SurveyResponse.__table__.c.id)


@lru_cache(maxsize=8)
def _insert_if_desk_active(names: tuple[str, ...]) -> sa.Insert:
    """``INSERT INTO response (names…) SELECT :names… WHERE`` the desk is active in
    its unit ``RETURNING id``: one statement, no row when the desk changed. Built
    from the names :func:`_prepare` fills, so it never leaves one out."""
    table, desk = SurveyResponse.__table__, Desk.__table__
    params = {name: sa.bindparam(name, type_=table.c[name].type) for name in names}
    still_there = sa.exists().where(
        desk.c.id == params["desk_id"],
        desk.c.unit_id == params["unit_id"],
        desk.c.active == sa.true(),
    )
    rows = sa.select(*params.values()).where(still_there)
    return table.insert().from_select(list(params), rows).returning(table.c.id)


#: The answer columns :func:`_insert_with_answers` takes as arrays.
_ANSWERED = ("question_id", "value")


@lru_cache(maxsize=8)
def _insert_with_answers(names: tuple[str, ...], desk_checked: bool) -> sa.Select:
    """PostgreSQL: the response's insert (``names``, with the desk's check if
    ``desk_checked``) and its answers' (given as arrays, see survey/data/bulk.py)
    in one statement, ``SELECT``-ing the response's id: no row when the desk
    changed, and then no answers either (they are inserted for each response
    stored)."""
    table = SurveyResponse.__table__
    if desk_checked:
        response = _insert_if_desk_active(names)
    else:
        params = {name: sa.bindparam(name, type_=table.c[name].type) for name in names}
        response = table.insert().values(params).returning(table.c.id)
    stored = response.cte("stored")
    given = bulk.unnested(Answer.__table__, _ANSWERED)
    rows = (
        sa.select(stored.c.id, *(given.c[name] for name in _ANSWERED))
        .select_from(stored)
        .join(given, sa.true())
        .order_by(given.c.position)
    )
    answered = (
        sa.insert(Answer.__table__).from_select(["response_id", *_ANSWERED], rows).cte("answered")
    )
    return sa.select(stored.c.id).add_cte(answered)


class Outcome(enum.Enum):
    STORED = "stored"
    ALREADY = "already"  # a double tap or a retry: stored by the first one
    UPDATED = "updated"  # stored in place of the phone's earlier rating of the desk
    KEPT_FIRST = "kept_first"  # the same form sent again with other answers: first kept
    TOKEN_PROBLEM = "token_problem"
    TOO_MANY = "too_many"


@dataclass(frozen=True)
class Submission:
    """What the citizen sent, read from a valid form."""

    submission_id: str
    answers: dict[str, str]
    comment: str | None
    contact: str | None
    contact_consent: bool
    language: str
    receipt: str | None
    flag_reason: str | None
    #: Keyed hash of the phone's device cookie (None without one).
    device_hash: str | None = None


@dataclass(frozen=True)
class SubmitResult:
    outcome: Outcome
    check: tokens.TokenCheck | None = None
    limit: guard.Limit | None = None


def submit(
    desk: Desk,
    questionnaire: QuestionnaireVersion,
    submission: Submission,
    limits: Callable[[], list[guard.Limit]],
) -> SubmitResult:
    """Store a citizen's rating once, in one transaction with its rate-limit events.

    A rating with a valid receipt code is linked to it and not rate-limited (the
    code itself allows one rating); without one, ``limits()`` says how many the
    phone and the network may still send.

    :raise DeskChanged: the desk was retired or moved since it was looked up.
    """
    # A form sent twice (a double tap, a resend after a lost answer) is found by
    # its submission id only where the first send leaves a trace: a used receipt
    # code, a limit its events reached, the unique id the insert meets. Every post
    # is spared a lookup that nearly always finds nothing.
    token = None
    flag_reason = submission.flag_reason
    if submission.receipt:
        checked = tokens.check(submission.receipt, desk)
        if not checked.ok:
            resent = _resent(submission)  # the first send used the code
            return resent or SubmitResult(Outcome.TOKEN_PROBLEM, check=checked)
        token = checked.token
    channel = _token_channel(token)
    # Everything that needs no lock first: the rows, the limits' keys and the
    # desk's ceiling. The transaction's first write (the rate-limit events, or the
    # token's claim) takes SQLite's write lock until the commit, so only the
    # statements that must be in it run after it.
    prepared = _prepare(
        desk=desk,
        questionnaire=questionnaire,
        submission_id=submission.submission_id,
        answers=submission.answers,
        comment=submission.comment,
        contact=submission.contact,
        contact_consent=submission.contact_consent,
        language=submission.language,
        receipt_token_id=token.id if token is not None else None,
        flag_reason=flag_reason,
        device_hash=submission.device_hash if token is None else None,
        channel=channel,
        # The officer the one-stop software named when it asked for the token.
        served_by_id=token.served_by_id if token is not None else None,
    )
    applied = limits() if token is None else None
    ceiling = guard.desk_ceiling(desk) if token is None else None
    # Posts take turns for SQLite's write lock (survey/data/write_turns.py); the
    # connection is taken from the pool first, so that work is not done in turn.
    db.session.connection()
    with write_turn():
        result, replaced = _store(desk, submission, prepared, token, applied, ceiling)
    if result.outcome in (Outcome.ALREADY, Outcome.TOO_MANY):
        # Stored by an earlier send (whose events may be the ones over the limit).
        return _resent(submission) or result
    if result.outcome == Outcome.TOKEN_PROBLEM:  # checked again after the turn: reads only
        return SubmitResult(Outcome.TOKEN_PROBLEM, check=tokens.check(token.code, desk))
    if result.outcome == Outcome.STORED and replaced:
        return SubmitResult(Outcome.UPDATED)
    return result


def _store(desk, submission, prepared, token, applied, ceiling) -> tuple[SubmitResult, bool]:
    """The writes of :func:`submit`, from the transaction's first to its commit or
    rollback; returns the result (a token problem without its check) and whether
    the phone's earlier rating was replaced."""
    replaced = False
    flag_reason = prepared.values["flag_reason"]
    if token is None:
        # Recorded in the transaction that stores the response (committed with it).
        claim = guard.claim_submission_slot(desk.id, applied)
        if claim.refused is not None:
            return SubmitResult(Outcome.TOO_MANY, limit=claim.refused), False
        # Beyond what one address or the desk plausibly sends: stored, but held
        # out of the statistics until the district reinstates it. Nobody is
        # refused, so stuffing one desk cannot lock its honest citizens out.
        if flag_reason is None and (claim.burst or guard.over_desk_ceiling(desk, ceiling)):
            flag_reason = "burst"
        if flag_reason in (None, "burst", "too_fast"):
            replaced = _replace_earlier(desk, submission.device_hash)
        prepared = _flagged_as(prepared, flag_reason)
    elif prepared.values["channel"] == Channel.INVITATION.value:
        # The dossier is rated: its invitation's contact goes with this commit
        # (rolled back with it if the token is lost to another response).
        forget_for_rating(token.id, utcnow())
    try:
        stored = _write(prepared, desk_checked=True)
    except TokenClaimFailed:
        return SubmitResult(Outcome.TOKEN_PROBLEM), False
    if not stored.created:
        return SubmitResult(Outcome.ALREADY), False
    return SubmitResult(Outcome.STORED), replaced


def _token_channel(token) -> Channel | None:
    """A token whose link was sent to the citizen (survey/invitations) makes an
    invitation's rating; another token's is the receipt slip's (the default)."""
    if token is None:
        return None
    invited = db.session.scalar(sa.select(sa.exists().where(Invitation.token_id == token.id)))
    return Channel.INVITATION if invited else None


def _replace_earlier(desk: Desk, device_hash: str | None) -> bool:
    """Hold out the phone's counted rating of this desk from the last
    ``SURVEY_REPLACE_MINUTES`` (flagged "replaced", kept), in the caller's transaction.

    One phone, one desk, one rating at a time: Back then Send, or a second
    thought a few minutes later, updates the rating instead of adding one. The
    change goes through the ORM, so the rollup counts the old rating out in the
    same flush (or, still waiting for the counting job, marks it counted with its
    new flag: survey/data/rollup.py ``_claim_waiting``); if the new rating is not
    stored after all, the rollback restores it.
    """
    minutes = current_app.config["SURVEY_REPLACE_MINUTES"]
    if not device_hash or minutes <= 0:
        return False
    # Most posts replace nothing: a prepared Core query says so, and only the
    # ratings it finds are loaded through the ORM.
    ids = (
        db.session.connection()
        .scalars(
            _EARLIER_RATINGS,
            {
                "device_hash": device_hash,
                "desk_id": desk.id,
                "since": utcnow() - timedelta(minutes=minutes),
            },
        )
        .all()
    )
    if not ids:
        return False
    earlier = db.session.scalars(
        sa.select(SurveyResponse).where(SurveyResponse.id.in_(ids)).order_by(SurveyResponse.id)
    ).all()
    for response in earlier:
        response.flagged = True
        response.flag_reason = "replaced"
    db.session.flush()
    return bool(earlier)


#: The phone's counted open-QR ratings of the desk since a time, read through the
#: device's index (one phone's few ratings). SQLite's planner has no statistics:
#: left to itself it took receipt_token_id's unique index (its NULLs are every
#: open-QR rating there is) or the desk's (every rating of a busy desk). Those
#: columns are compared as expressions ("+ 0"), which no index serves.
_EARLIER_RATINGS = sa.select(SurveyResponse.id).where(
    SurveyResponse.device_hash == sa.bindparam("device_hash"),
    SurveyResponse.desk_id + 0 == sa.bindparam("desk_id"),
    SurveyResponse.submitted_at
    > sa.bindparam("since", type_=SurveyResponse.__table__.c.submitted_at.type),
    SurveyResponse.flagged.is_(False),
    (SurveyResponse.receipt_token_id + 0).is_(None),
)


def _resent(submission: Submission) -> SubmitResult | None:
    """What to tell a citizen whose form was already stored by an earlier send:
    thanks, or that the first answers were kept if this send changed them (a
    resend is not applied); None if it was not stored."""
    existing = existing_response_id(submission.submission_id)
    if existing is None:
        return None
    if _differs(existing, submission):
        return SubmitResult(Outcome.KEPT_FIRST)
    return SubmitResult(Outcome.ALREADY)


def _differs(response_id: int, submission: Submission) -> bool:
    """Whether the stored response holds other answers or another comment."""
    stored = dict(
        db.session.execute(
            sa.select(Answer.question_id, Answer.value).where(Answer.response_id == response_id)
        ).all()
    )
    comment = db.session.scalar(
        sa.select(SurveyResponse.comment).where(SurveyResponse.id == response_id)
    )
    return stored != submission.answers or (comment or None) != (submission.comment or None)
