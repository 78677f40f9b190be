"""Paper ballots' use cases: print a batch, enter a ballot, re-key a sample, decide.

A batch of numbered ballots is printed for a desk; each ballot, once filled in
by a citizen, is entered once by an officer and stored as a response of the
paper channel through ``citizen/services.store_response`` (the one way a
response is stored: counted in the rollup, alerts recorded). A share of the
entered ballots (``SURVEY_PAPER_RECHECK_SHARE``, or a whole batch) is re-keyed
by a second officer; a re-key stores no response, and where the two readings
differ the district decides which stands.

Every function here that changes something is one use case and commits it.
"""

from __future__ import annotations

import enum
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field

import sqlalchemy as sa
from flask import current_app
from flask import has_request_context
from flask import request
from flask_babel import force_locale
from flask_babel import gettext as _

from survey.citizen.services import store_response
from survey.data.audit import record
from survey.data.models import Answer
from survey.data.models import Desk
from survey.data.models import Officer
from survey.data.models import PaperBallot
from survey.data.models import PaperBatch
from survey.data.models import PaperLayout
from survey.data.models import PaperRecheck
from survey.data.models import Role
from survey.data.models import SurveyResponse
from survey.data.models import Unit
from survey.data.models import utcnow
from survey.data.queries import current_questionnaire
from survey.data.queries import definition_of
from survey.domain import ballots
from survey.domain.channels import Channel
from survey.domain.periods import Period
from survey.extensions import db
from survey.reach.services import Sent
from survey.reach.services import register_sent_counter
from survey.render import ballots as ballot_pdf

# --- Printing ------------------------------------------------------------------------------


class BatchRefused(Exception):
    """A batch that cannot be printed; ``reason`` is ``"full"`` (the desk's numbers are
    used up) or ``"busy"`` (another officer printed for the desk at the same moment)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def paper_desks(unit: Unit) -> list[Desk]:
    """The active desks of the unit and the units below it that ballots may be printed for."""
    return list(
        db.session.scalars(
            sa.select(Desk)
            .join(Unit, Unit.id == Desk.unit_id)
            .where(Desk.unit_id.in_(unit.subtree_ids()), Desk.active.is_(True))
            .order_by(Unit.name, Desk.code)
        )
    )


def create_batch(
    officer: Officer, desk: Desk, count: int, layout: PaperLayout, *, recheck_all: bool = False
) -> PaperBatch:
    """Number ``count`` new ballots for ``desk`` (after its last printed one), audited.

    Two officers printing for one desk at once cannot get the same numbers: the
    (desk, sequence) pair is unique, and the second is told to try again.

    :raise BatchRefused: the desk's numbers are used up, or a simultaneous batch won.
    """
    questionnaire = current_questionnaire()
    last = db.session.scalar(
        sa.select(sa.func.max(PaperBallot.seq)).where(PaperBallot.desk_id == desk.id)
    )
    # The next numbers, leaving out the few that have no letter or digit to check them.
    seqs: list[int] = []
    seq = last or 0
    while len(seqs) < count:
        seq += 1
        if seq > ballots.MAX_SEQ:
            raise BatchRefused("full")
        if ballots.usable(ballots.serial_body(desk.code, seq)):
            seqs.append(seq)
    batch = PaperBatch(
        unit_id=desk.unit_id,
        desk_id=desk.id,
        questionnaire_id=questionnaire.id,
        first_seq=seqs[0],
        count=count,
        layout=PaperLayout(layout).value,
        recheck_all=recheck_all,
        created_by_id=officer.id,
    )
    db.session.add(batch)
    try:
        db.session.flush()
        rows = []
        for seq in seqs:
            serial = ballots.make_serial(desk.code, seq)
            rows.append(
                {
                    "batch_id": batch.id,
                    "desk_id": desk.id,
                    "unit_id": desk.unit_id,
                    "seq": seq,
                    "serial": serial,
                    "serial_key": ballots.key_of(serial),
                    "recheck": False,
                }
            )
        db.session.execute(sa.insert(PaperBallot), rows)
    except sa.exc.IntegrityError:
        # Another batch for the desk took these numbers first (unique desk and number).
        db.session.rollback()
        raise BatchRefused("busy") from None
    record(
        "paper_print",
        officer=officer,
        unit=desk.unit,
        detail=f"{desk.code}: {count} ({seqs[0]}–{seqs[-1]}), {batch.layout}",
    )
    db.session.commit()
    return batch


def find_batch(unit: Unit, batch_id: int) -> PaperBatch | None:
    """The batch, if it was printed for a desk of ``unit`` or of a unit below it."""
    batch = db.session.get(PaperBatch, batch_id)
    if batch is None or batch.unit_id not in unit.subtree_ids():
        return None
    return batch


@dataclass(frozen=True)
class BatchRow:
    batch: PaperBatch
    first: str
    last: str
    entered: int


def recent_batches(unit: Unit, limit: int = 20) -> list[BatchRow]:
    """The unit's latest batches, newest first: first and last serial, how many entered."""
    entered = (
        sa.select(sa.func.count(PaperBallot.id))
        .where(PaperBallot.batch_id == PaperBatch.id, PaperBallot.entered_at.is_not(None))
        .scalar_subquery()
    )
    last = (
        sa.select(sa.func.max(PaperBallot.seq))
        .where(PaperBallot.batch_id == PaperBatch.id)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(PaperBatch, entered, last)
        .where(PaperBatch.unit_id.in_(unit.subtree_ids()))
        .order_by(PaperBatch.created_at.desc(), PaperBatch.id.desc())
        .limit(limit)
    ).all()
    return [
        BatchRow(
            batch,
            ballots.make_serial(batch.desk.code, batch.first_seq),
            ballots.make_serial(batch.desk.code, last_seq),
            int(n),
        )
        for batch, n, last_seq in rows
    ]


def ballot_url(serial: str) -> str:
    """The address a ballot's QR code encodes (``/p/<serial>``)."""
    base = current_app.config.get("SURVEY_PUBLIC_BASE_URL")
    if not base:
        base = request.host_url.rstrip("/") if has_request_context() else "http://127.0.0.1:8000"
    return f"{base}/p/{serial}"


def batch_sheet(batch: PaperBatch) -> ballot_pdf.BallotSheet:
    """What the batch's ballots say, in Vietnamese (ballots are handed out in Vietnamese
    offices), with the questions of the questionnaire they were printed with."""
    definition = definition_of(batch.questionnaire)
    questions = []
    for number, q in enumerate(ballots.ballot_questions(definition), start=1):
        labels = {o.value: o.label.get("vi", o.value) for o in q.options}
        if q.no_opinion is not None:
            labels[q.no_opinion.value] = q.no_opinion.label.get("vi", q.no_opinion.value)
        boxes = tuple((key, labels[value]) for key, value in ballots.printed_numbers(q))
        questions.append(
            ballot_pdf.BallotQuestion(number, q.text["vi"], boxes, grid=q.type == "scale")
        )
    prompt = next((q.prompt for q in definition.scale_questions if q.prompt), None) or {}
    comment = definition.comment_question
    with force_locale("vi"):
        return ballot_pdf.BallotSheet(
            title=definition.title.get("vi", ""),
            unit_name=batch.desk.unit.name,
            desk_name=batch.desk.name,
            intro=definition.intro.get("vi", ""),
            instruction=_("Tick one box (✗) for each question."),
            serial_label=_("Ballot no."),
            scale_prompt=prompt.get("vi", ""),
            questions=tuple(questions),
            comment_label=comment.text["vi"] if comment else "",
            footer=_(
                "Anonymous. Please hand the ballot back at the one-stop desk or put it in "
                "the ballot box. Desk code %(code)s.",
                code=batch.desk.code,
            ),
        )


def batch_ballots(batch: PaperBatch) -> list[ballot_pdf.Ballot]:
    """The batch's ballots in serial order, each with the address of its QR code."""
    serials = db.session.scalars(
        sa.select(PaperBallot.serial)
        .where(PaperBallot.batch_id == batch.id)
        .order_by(PaperBallot.seq)
    )
    return [ballot_pdf.Ballot(serial, ballot_url(serial)) for serial in serials]


# --- Printed against entered ---------------------------------------------------------------


@dataclass(frozen=True)
class DeskCount:
    desk: Desk
    printed: int
    entered: int


def ballots_printed_entered(unit: Unit, period: Period) -> tuple[int, int]:
    """(printed, entered) paper ballots of ``unit`` and the units below it for ``period``.

    ``printed``: ballots of the batches printed in the period; ``entered``: how many
    of those have been entered so far (whenever that was), so ``entered ≤ printed``
    and their ratio is the paper channel's return rate for the period's ballots.
    """
    rows = desk_counts(unit, period)
    return sum(r.printed for r in rows), sum(r.entered for r in rows)


def paper_sent(unit: Unit, period: Period) -> Sent:
    """Ballots printed in the period against those of them entered, for the response
    rates page (``survey/reach``)."""
    printed, entered = ballots_printed_entered(unit, period)
    return Sent(handed_out=printed, answered=entered)


# The response rates page lists what each channel handed out against what came back.
register_sent_counter(Channel.PAPER, paper_sent)


def desk_counts(unit: Unit, period: Period) -> list[DeskCount]:
    """Printed and entered ballots per desk (see :func:`ballots_printed_entered`);
    desks without a ballot printed in the period are left out."""
    start, end = period.utc_bounds()
    in_period = (
        PaperBatch.unit_id.in_(unit.subtree_ids()),
        PaperBatch.created_at >= start,
        PaperBatch.created_at < end,
    )
    printed = dict(
        db.session.execute(
            sa.select(PaperBatch.desk_id, sa.func.sum(PaperBatch.count))
            .where(*in_period)
            .group_by(PaperBatch.desk_id)
        ).all()
    )
    entered = dict(
        db.session.execute(
            sa.select(PaperBatch.desk_id, sa.func.count(PaperBallot.id))
            .join(PaperBallot, PaperBallot.batch_id == PaperBatch.id)
            .where(*in_period, PaperBallot.entered_at.is_not(None))
            .group_by(PaperBatch.desk_id)
        ).all()
    )
    if not printed:
        return []
    desks = db.session.scalars(
        sa.select(Desk)
        .join(Unit, Unit.id == Desk.unit_id)
        .where(Desk.id.in_(list(printed)))
        .order_by(Unit.name, Desk.code)
    )
    return [DeskCount(d, int(printed[d.id]), int(entered.get(d.id, 0))) for d in desks]


# --- Entry ---------------------------------------------------------------------------------


class Refusal(enum.Enum):
    """Why a typed ballot was not stored; :attr:`status` is the HTTP status answered."""

    EMPTY = "empty"
    SHORT = "short"
    CHECK = "check"  # the check character does not match: a typing mistake
    UNKNOWN = "unknown"  # no ballot with this serial was printed
    OTHER_UNIT = "other_unit"  # printed for a desk of another commune
    ANSWERS = "answers"  # a required answer missing, or a key the question does not have
    ALREADY = "already"  # entered before (or re-keyed before)
    NOT_ENTERED = "not_entered"  # re-keying a ballot nobody entered yet
    NOT_CHOSEN = "not_chosen"  # re-keying a ballot not chosen for a second reading
    SAME_OFFICER = "same_officer"  # the second reading must be another officer's

    @property
    def status(self) -> int:
        return _STATUS[self]


_STATUS = {
    Refusal.EMPTY: 422,
    Refusal.SHORT: 422,
    Refusal.CHECK: 422,
    Refusal.UNKNOWN: 404,
    Refusal.OTHER_UNIT: 403,
    Refusal.ANSWERS: 422,
    Refusal.ALREADY: 409,
    Refusal.NOT_ENTERED: 409,
    Refusal.NOT_CHOSEN: 409,
    Refusal.SAME_OFFICER: 403,
}


@dataclass(frozen=True)
class EntryResult:
    """What became of one typed ballot."""

    refusal: Refusal | None = None
    serial: str = ""
    problems: list[ballots.EntryProblem] = field(default_factory=list)
    #: The stored response (entry) — or, for a re-key, whether the readings agree.
    response_id: int | None = None
    agrees: bool | None = None
    recheck_wanted: bool = False

    @property
    def ok(self) -> bool:
        return self.refusal is None


def _find(unit: Unit, typed_serial: str) -> tuple[PaperBallot | None, EntryResult | None]:
    """The ballot a typed serial names, or the refusal to answer."""
    try:
        key = ballots.parse_typed(typed_serial)
    except ballots.SerialError as exc:
        refusal = {"empty": Refusal.EMPTY, "short": Refusal.SHORT}.get(exc.reason, Refusal.CHECK)
        return None, EntryResult(refusal, serial=(typed_serial or "").strip()[:60])
    ballot = db.session.scalar(sa.select(PaperBallot).where(PaperBallot.serial_key == key))
    if ballot is None:
        return None, EntryResult(Refusal.UNKNOWN, serial=(typed_serial or "").strip()[:60])
    if ballot.unit_id not in unit.subtree_ids():
        return None, EntryResult(Refusal.OTHER_UNIT, serial=ballot.serial)
    return ballot, None


def _chosen_for_recheck(batch: PaperBatch) -> bool:
    if batch.recheck_all:
        return True
    share = current_app.config.get("SURVEY_PAPER_RECHECK_SHARE", 0.0)
    return share > 0 and secrets.randbelow(1_000_000) < share * 1_000_000


def enter_ballot(
    officer: Officer, unit: Unit, typed_serial: str, typed: Mapping[str, str], comment: str | None
) -> EntryResult:
    """Store one paper ballot as a response of the paper channel, exactly once.

    Refused, with nothing stored: a serial with a wrong check character, one never
    printed, one of another commune's desk, one entered before, or answers missing
    or impossible. The ballot is claimed (entered by, at) in the transaction that
    stores its response: a second entry of the serial, even at the same moment,
    finds it claimed.
    """
    ballot, refused = _find(unit, typed_serial)
    if refused is not None:
        return refused
    if ballot.entered_at is not None:
        return EntryResult(Refusal.ALREADY, serial=ballot.serial)
    batch = ballot.batch
    definition = definition_of(batch.questionnaire)
    answers, problems = ballots.read_answers(definition, typed)
    if problems:
        return EntryResult(Refusal.ANSWERS, serial=ballot.serial, problems=problems)
    recheck = _chosen_for_recheck(batch)
    claimed = db.session.execute(
        sa.update(PaperBallot)
        .where(PaperBallot.id == ballot.id, PaperBallot.entered_at.is_(None))
        .values(entered_at=utcnow(), entered_by_id=officer.id, recheck=recheck)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        return EntryResult(Refusal.ALREADY, serial=ballot.serial)
    comment = (comment or "").strip() or None
    # Commits the claim with the response, its answers and their counts.
    stored = store_response(
        desk=ballot.desk,
        questionnaire=batch.questionnaire,
        submission_id=ballots.submission_id(ballot.serial_key),
        answers=answers,
        comment=comment[:2000] if comment else None,
        contact=None,
        contact_consent=False,
        language="vi",
        channel=Channel.PAPER,
    )
    if not stored.created:
        return EntryResult(Refusal.ALREADY, serial=ballot.serial)
    # The link from the ballot to its response: a second, small commit. Should it be
    # lost, response_of() finds the response by the ballot's submission id.
    db.session.execute(
        sa.update(PaperBallot)
        .where(PaperBallot.id == ballot.id)
        .values(response_id=stored.response_id)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return EntryResult(serial=ballot.serial, response_id=stored.response_id, recheck_wanted=recheck)


def find_ballot(typed_serial: str) -> PaperBallot | None:
    """The printed ballot a serial (or a scanned ballot URL) names, if any."""
    try:
        key = ballots.parse_typed(typed_serial)
    except ballots.SerialError:
        return None
    return db.session.scalar(sa.select(PaperBallot).where(PaperBallot.serial_key == key))


def response_of(ballot: PaperBallot) -> SurveyResponse | None:
    """The response an entered ballot was stored as."""
    if ballot.response_id is not None:
        return db.session.get(SurveyResponse, ballot.response_id)
    return db.session.scalar(
        sa.select(SurveyResponse).where(
            SurveyResponse.submission_id == ballots.submission_id(ballot.serial_key)
        )
    )


# --- Double entry --------------------------------------------------------------------------


def recheck_ballot(
    officer: Officer, unit: Unit, typed_serial: str, typed: Mapping[str, str]
) -> EntryResult:
    """A second officer's reading of an entered ballot chosen for re-keying.

    Stores the reading beside the first (never a second response) and says whether
    the two agree; a disagreement waits for the district's decision.
    """
    ballot, refused = _find(unit, typed_serial)
    if refused is not None:
        return refused
    if ballot.entered_at is None:
        return EntryResult(Refusal.NOT_ENTERED, serial=ballot.serial)
    if not ballot.recheck:
        return EntryResult(Refusal.NOT_CHOSEN, serial=ballot.serial)
    done = db.session.scalar(sa.select(PaperRecheck.id).where(PaperRecheck.ballot_id == ballot.id))
    if done is not None:
        return EntryResult(Refusal.ALREADY, serial=ballot.serial)
    if ballot.entered_by_id == officer.id:
        return EntryResult(Refusal.SAME_OFFICER, serial=ballot.serial)
    definition = definition_of(ballot.batch.questionnaire)
    answers, problems = ballots.read_answers(definition, typed)
    if problems:
        return EntryResult(Refusal.ANSWERS, serial=ballot.serial, problems=problems)
    response = response_of(ballot)
    first = response.answer_map() if response is not None else {}
    coded = {q.id for q in ballots.ballot_questions(definition)}
    first = {k: v for k, v in first.items() if k in coded}
    agrees = first == answers
    db.session.add(
        PaperRecheck(
            ballot_id=ballot.id,
            officer_id=officer.id,
            answers=answers,
            first_answers=first,
            agrees=agrees,
        )
    )
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        return EntryResult(Refusal.ALREADY, serial=ballot.serial)
    return EntryResult(serial=ballot.serial, agrees=agrees)


def recheck_queue(unit: Unit, limit: int = 50) -> list[PaperBallot]:
    """Entered ballots chosen for a second reading that nobody re-keyed yet, oldest first."""
    return list(
        db.session.scalars(
            sa.select(PaperBallot)
            .outerjoin(PaperRecheck, PaperRecheck.ballot_id == PaperBallot.id)
            .where(
                PaperBallot.unit_id.in_(unit.subtree_ids()),
                PaperBallot.recheck.is_(True),
                PaperBallot.entered_at.is_not(None),
                PaperRecheck.id.is_(None),
            )
            .order_by(PaperBallot.entered_at, PaperBallot.id)
            .limit(limit)
        )
    )


def recheck_counts(unit: Unit) -> tuple[int, int, int]:
    """(re-keyed, agreeing, waiting for a decision) second readings of the unit."""
    rows = db.session.execute(
        sa.select(PaperRecheck.agrees, PaperRecheck.decision, sa.func.count(PaperRecheck.id))
        .join(PaperBallot, PaperBallot.id == PaperRecheck.ballot_id)
        .where(PaperBallot.unit_id.in_(unit.subtree_ids()))
        .group_by(PaperRecheck.agrees, PaperRecheck.decision)
    ).all()
    total = sum(n for _, _, n in rows)
    agreeing = sum(n for agrees, _, n in rows if agrees)
    waiting = sum(n for agrees, decision, n in rows if not agrees and decision is None)
    return total, agreeing, waiting


def disagreements(unit: Unit, limit: int = 100) -> list[PaperRecheck]:
    """Second readings that differ from the first, undecided first, then the latest decided."""
    return list(
        db.session.scalars(
            sa.select(PaperRecheck)
            .join(PaperBallot, PaperBallot.id == PaperRecheck.ballot_id)
            .where(PaperBallot.unit_id.in_(unit.subtree_ids()), PaperRecheck.agrees.is_(False))
            .order_by(PaperRecheck.decision.is_not(None), PaperRecheck.at.desc())
            .limit(limit)
        )
    )


def find_recheck(unit: Unit, recheck_id: int) -> PaperRecheck | None:
    recheck = db.session.get(PaperRecheck, recheck_id)
    if recheck is None or recheck.ballot.unit_id not in unit.subtree_ids():
        return None
    return recheck


def may_decide(officer: Officer, unit: Unit) -> bool:
    """District officers and administrators decide; a commune never judges its own entry."""
    return officer.role in (Role.DISTRICT, Role.ADMIN) and officer.can_see(unit)


class DecisionRefused(Exception):
    """The reading was decided before (by someone else, a moment ago)."""


def decide(officer: Officer, recheck: PaperRecheck, reading: str) -> None:
    """Which reading of a ballot stands: ``"first"`` keeps the stored answers, ``"second"``
    corrects the response to the second officer's reading. Audited; one transaction.

    :raise DecisionRefused: already decided.
    """
    if reading not in ("first", "second"):
        raise ValueError(reading)
    if recheck.decision is not None or recheck.agrees:
        raise DecisionRefused(recheck.id)
    ballot = recheck.ballot
    response = response_of(ballot)
    changes = ""
    if reading == "second" and response is not None:
        changes = correct_answers(response, recheck.answers)
    # Decided in the statement that checks nobody decided it meanwhile.
    done = db.session.execute(
        sa.update(PaperRecheck)
        .where(PaperRecheck.id == recheck.id, PaperRecheck.decision.is_(None))
        .values(decision=reading, decided_by_id=officer.id, decided_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if done != 1:
        db.session.rollback()
        raise DecisionRefused(recheck.id)
    record(
        "paper_decide",
        officer=officer,
        unit=ballot.unit,
        response=response,
        detail=f"{ballot.serial}: {reading}" + (f" ({changes})" if changes else ""),
    )
    db.session.commit()
    db.session.expire(recheck)


def correct_answers(response: SurveyResponse, answers: Mapping[str, str]) -> str:
    """Set the response's coded answers to ``answers``, in the caller's transaction,
    keeping the rollup right. Returns the changes, e.g. ``"overall 4→5"``.

    The rollup's flush events count a response out and in when its watched
    columns change, reading its answers at that moment; a change of answers alone
    is not seen. So a counted response is first held out (flagged, one flush:
    counted out with its old answers), then its answers are changed and it is
    counted in again (unflagged, a second flush: counted in with the new ones).
    A response already held out of the figures counts no answers: its answers
    change and it stays out.
    """
    definition = definition_of(response.questionnaire)
    current = {a.question_id: a for a in response.answers}
    changed = []
    for question in ballots.ballot_questions(definition):
        old = current[question.id].value if question.id in current else None
        new = answers.get(question.id)
        if old != new:
            changed.append((question.id, old, new))
    if not changed:
        return ""
    counted = not response.flagged
    if counted:
        response.flagged = True
        response.flag_reason = "correcting"
        db.session.flush()
    for question_id, _old, new in changed:
        if new is None:
            response.answers.remove(current[question_id])
        elif question_id in current:
            current[question_id].value = new
        else:
            response.answers.append(Answer(question_id=question_id, value=new))
    field_question = definition.by_role("procedure_field")
    if field_question is not None:
        response.procedure_field = answers.get(field_question.id)
    if counted:
        response.flagged = False
        response.flag_reason = None
    db.session.flush()
    return ", ".join(f"{q} {old or '–'}→{new or '–'}" for q, old, new in changed)
