"""The rollup: answer counts per unit, reporting month, field, source and question.

Every statistic in the reports needs only counts, so reports read the
:class:`~survey.models.Tally` table instead of the responses. Its size grows
with units × months × questions, never with the number of responses, so a
report costs the same with ten thousand or ten million responses stored.

The counts change in the same transaction (the same flush) as the change they
reflect, for every write through the ORM (see :func:`install`): a stored
response is counted in; a flagged, reinstated or re-filed one is counted out
with its old state and in with its new one.

:func:`rebuild` recounts from the responses (idempotent: run it as often as you
like) and :func:`differences` compares the table with a full recount; both are
behind ``flask survey rollup-rebuild`` and ``rollup-check``. A unit's rows are
keyed by *its own* reporting months (its cut-off day); changing a unit's
``report_cutoff_day`` through the ORM recounts its rows in the same flush.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite

from .extensions import db
from .models import Answer
from .models import Response
from .models import Tally
from .models import Unit
from .periods import Period
from .periods import month_code

#: Reserved question ids (real question ids are lower-case words, see questionnaire.py).
RESPONSES = "~responses"
COMMENTS = "~comments"
FLAGGED = "~flagged"

#: (month, question_id, procedure_field, verified, value) of one count, within a unit.
Key = tuple[str, str, str, bool, str]
KEY_NAMES = ("month", "question_id", "procedure_field", "verified", "value")


@dataclass(frozen=True)
class ResponseFacts:
    """What the rollup needs to know about one response."""

    month: str
    procedure_field: str
    verified: bool
    answers: tuple[tuple[str, str], ...]
    has_comment: bool
    feedback_status: str
    flagged: bool
    flag_reason: str | None

    def keys(self) -> Counter[Key]:
        """The counts this response adds: its answers, or only ``~flagged`` when flagged."""

        def key(question: str, value: str) -> Key:
            return (self.month, question, self.procedure_field, self.verified, value)

        if self.flagged:
            return Counter([key(FLAGGED, self.flag_reason or "")])
        found = Counter(key(q, v) for q, v in self.answers)
        found[key(RESPONSES, "")] += 1
        if self.has_comment:
            found[key(COMMENTS, self.feedback_status)] += 1
        return found


def add(unit_id: int, deltas: Counter[Key], *, connection=None) -> None:
    """Add ``deltas`` (negative to subtract) to the unit's counts, in the current transaction.

    Increments are one upsert; decrements are updates of rows that must exist
    (the table refuses a count below zero). Keys are sorted so that two
    transactions touching the same rows lock them in the same order (no
    deadlock on PostgreSQL).
    """
    items = sorted((key, n) for key, n in deltas.items() if n)
    if not items:
        return
    connection = connection if connection is not None else db.session.connection()
    table = Tally.__table__
    names = KEY_NAMES
    increments = [
        {"unit_id": unit_id, **dict(zip(names, key, strict=True)), "count": n}
        for key, n in items
        if n > 0
    ]
    decrements = [
        {"k_unit_id": unit_id, **{f"k_{c}": v for c, v in zip(names, key, strict=True)}, "n": -n}
        for key, n in items
        if n < 0
    ]
    if increments:
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(table).values(increments)
        connection.execute(
            insert.on_conflict_do_update(
                index_elements=[c.name for c in table.primary_key],
                set_={"count": table.c.count + insert.excluded["count"]},
            )
        )
    if decrements:
        connection.execute(
            sa.update(table)
            .where(*(table.c[c] == sa.bindparam(f"k_{c}") for c in ("unit_id", *names)))
            .values(count=table.c.count - sa.bindparam("n")),
            decrements,
        )


#: The response columns the counts depend on. Loaded before a change
#: (``active_history``) so that the old state can be counted out.
WATCHED = (
    "unit_id",
    "submitted_at",
    "procedure_field",
    "receipt_token_id",
    "comment",
    "feedback_status",
    "flagged",
    "flag_reason",
)


def _facts(response: Response, cutoff_day: int, values: dict) -> ResponseFacts:
    return ResponseFacts(
        month=month_code(values["submitted_at"], cutoff_day),
        procedure_field=values["procedure_field"] or "",
        verified=values["receipt_token_id"] is not None,
        answers=tuple(sorted((a.question_id, a.value) for a in response.answers)),
        has_comment=values["comment"] is not None,
        feedback_status=values["feedback_status"] or "new",
        flagged=bool(values["flagged"]),
        flag_reason=values["flag_reason"],
    )


def _current(response: Response) -> dict:
    return {name: getattr(response, name) for name in WATCHED}


def _previous(response: Response) -> dict:
    """The watched values as they were loaded, before this flush's changes."""
    values = {}
    state = sa.inspect(response)
    for name in WATCHED:
        history = state.attrs[name].history
        old = history.deleted or history.unchanged
        values[name] = old[0] if old else getattr(response, name)
    return values


class _Pending:
    """Count changes gathered during one flush, per unit id."""

    def __init__(self, connection) -> None:
        self.connection = connection
        self.deltas: dict[int, Counter[Key]] = {}
        self._cutoffs: dict[int, int] = {}

    def cutoff(self, unit_id: int) -> int:
        if unit_id not in self._cutoffs:
            self._cutoffs[unit_id] = self.connection.scalar(
                sa.select(Unit.report_cutoff_day).where(Unit.id == unit_id)
            )
        return self._cutoffs[unit_id]

    def count(self, response: Response, values: dict, sign: int) -> None:
        unit_id = values["unit_id"]
        keys = _facts(response, self.cutoff(unit_id), values).keys()
        delta = self.deltas.setdefault(unit_id, Counter())
        for key, n in keys.items():
            delta[key] += sign * n


def _before_flush(session, flush_context, instances) -> None:
    # Deleted responses are counted out now, while their answers can still be read.
    pending = _Pending(session.connection())
    for obj in session.deleted:
        if isinstance(obj, Response) and obj.id is not None:
            pending.count(obj, _previous(obj), -1)
    session.info["rollup_deleted"] = pending.deltas


def _after_flush(session, flush_context) -> None:
    pending = _Pending(session.connection())
    pending.deltas = session.info.pop("rollup_deleted", {})
    for obj in session.new:
        if isinstance(obj, Response):
            pending.count(obj, _current(obj), +1)
    for obj in session.dirty:
        if not isinstance(obj, Response) or obj in session.deleted:
            continue
        state = sa.inspect(obj)
        if any(state.attrs[name].history.has_changes() for name in WATCHED):
            pending.count(obj, _previous(obj), -1)
            pending.count(obj, _current(obj), +1)
    recounted = set()
    for obj in session.dirty:
        if isinstance(obj, Unit) and sa.inspect(obj).attrs.report_cutoff_day.history.has_changes():
            # Its rows are keyed by its months: count them again under the new cut-off day.
            connection = pending.connection
            connection.execute(sa.delete(Tally.__table__).where(Tally.unit_id == obj.id))
            keys = _count_directly([obj.id], obj.report_cutoff_day, connection=connection)
            add(obj.id, Counter({key: n for _, key, n in keys}), connection=connection)
            recounted.add(obj.id)
    for unit_id, deltas in pending.deltas.items():
        if unit_id not in recounted:  # a recount already includes this flush's responses
            add(unit_id, deltas, connection=pending.connection)


def install() -> None:
    """Keep the rollup in step with every ORM write of a response (idempotent).

    A new response is counted in the flush that inserts it; a changed one is
    counted out with its old values and in with its new ones; a deleted one is
    counted out. Answers are never changed after a response is stored.
    Writes that bypass the ORM (bulk loads) must be followed by :func:`rebuild`.
    """
    if not sa.event.contains(so.Session, "after_flush", _after_flush):
        sa.event.listen(so.Session, "before_flush", _before_flush)
        sa.event.listen(so.Session, "after_flush", _after_flush)


# --- Reading -------------------------------------------------------------------------------


def counts(
    unit_ids: Iterable[int],
    months: list[Period],
    group_by: tuple[str, ...],
    *,
    question_ids: Iterable[str] | None = None,
) -> list[tuple]:
    """Summed counts over the units and the month periods, grouped by Tally columns.

    Returns rows of ``(*group, n)``. The month periods are those of the unit
    asking (its cut-off day). A unit below it whose own cut-off day differs
    (a commune counting from the 15th in a district counting calendar months)
    has rows that do not line up with those months; its responses in the
    dates asked are counted directly, with the same rules, so every figure
    covers exactly the dates it is labelled with.
    """
    unit_ids = list(unit_ids)
    question_ids = None if question_ids is None else list(question_ids)
    cutoff = months[0].cutoff_day
    misaligned = list(
        db.session.scalars(
            sa.select(Unit.id).where(Unit.id.in_(unit_ids), Unit.report_cutoff_day != cutoff)
        )
    )
    aligned = sorted(set(unit_ids) - set(misaligned))
    columns = [getattr(Tally, name) for name in group_by]
    query = (
        sa.select(*columns, sa.func.sum(Tally.count))
        .where(Tally.unit_id.in_(aligned), Tally.month.in_([m.code for m in months]))
        .group_by(*columns)
    )
    if question_ids is not None:
        query = query.where(Tally.question_id.in_(question_ids))
    rows = [tuple(row) for row in db.session.execute(query)] if aligned else []
    if misaligned:
        found: Counter[tuple] = Counter({row[:-1]: row[-1] for row in rows})
        start, _ = months[0].utc_bounds()
        _, end = months[-1].utc_bounds()
        for unit_id, key, n in _count_directly(misaligned, cutoff, start, end):
            if question_ids is not None and key[1] not in question_ids:
                continue
            values = dict(zip(KEY_NAMES, key, strict=True))
            values["unit_id"] = unit_id
            found[tuple(values[name] for name in group_by)] += n
        rows = [(*group, n) for group, n in found.items()]
    return rows


# --- Recounting ----------------------------------------------------------------------------


def _count_directly(
    unit_ids: list[int], cutoff_day: int, start=None, end=None, *, connection=None
) -> Iterator[tuple[int, Key, int]]:
    """(unit id, key, count) recomputed from the stored responses, months by ``cutoff_day``.

    Only responses submitted in [start, end) when given.
    """
    connection = connection if connection is not None else db.session.connection()
    where = [Response.unit_id.in_(unit_ids)]
    if start is not None:
        where += [Response.submitted_at >= start, Response.submitted_at < end]
    answers: dict[int, list[tuple[str, str]]] = {}
    for response_id, question, value in connection.execute(
        sa.select(Answer.response_id, Answer.question_id, Answer.value)
        .join(Response, Response.id == Answer.response_id)
        .where(*where)
    ):
        answers.setdefault(response_id, []).append((question, value))
    found: dict[int, Counter[Key]] = {}
    rows = connection.execute(
        sa.select(
            Response.id,
            Response.unit_id,
            Response.submitted_at,
            Response.procedure_field,
            Response.receipt_token_id.is_not(None),
            Response.comment.is_not(None),
            Response.feedback_status,
            Response.flagged,
            Response.flag_reason,
        ).where(*where)
    )
    for rid, unit_id, at, field, verified, has_comment, status, flagged, reason in rows:
        facts = ResponseFacts(
            month=month_code(at, cutoff_day),
            procedure_field=field or "",
            verified=bool(verified),
            answers=tuple(answers.get(rid, ())),
            has_comment=bool(has_comment),
            feedback_status=status,
            flagged=bool(flagged),
            flag_reason=reason,
        )
        found.setdefault(unit_id, Counter()).update(facts.keys())
    for unit_id, keys in found.items():
        for key, n in keys.items():
            yield unit_id, key, n


def recount(unit: Unit) -> Counter[Key]:
    """The unit's counts recomputed from its stored responses (its own rows only)."""
    return Counter({key: n for _, key, n in _count_directly([unit.id], unit.report_cutoff_day)})


def stored(unit: Unit) -> Counter[Key]:
    """The unit's counts as the rollup holds them (rows with a zero count left out)."""
    rows = db.session.execute(
        sa.select(
            Tally.month,
            Tally.question_id,
            Tally.procedure_field,
            Tally.verified,
            Tally.value,
            Tally.count,
        ).where(Tally.unit_id == unit.id, Tally.count != 0)
    )
    return Counter({(m, q, f, bool(v), val): n for m, q, f, v, val, n in rows})


def _lock_for_rebuild(unit: Unit) -> None:
    """Hold off concurrent count changes of the unit while it is recounted.

    PostgreSQL: lock the tally table against writers (submissions wait a few
    milliseconds). SQLite: the DELETE below takes the database's write lock first.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("LOCK TABLE tally IN SHARE ROW EXCLUSIVE MODE"))


def rebuild(units: Iterable[Unit], progress=None) -> int:
    """Recount each unit's rows from its responses, one transaction per unit.

    Idempotent; safe while the service runs (see :func:`_lock_for_rebuild`).
    Returns the number of units recounted.
    """
    done = 0
    for unit in units:
        _lock_for_rebuild(unit)
        db.session.execute(sa.delete(Tally).where(Tally.unit_id == unit.id))
        add(unit.id, recount(unit))
        db.session.commit()
        done += 1
        if progress is not None:
            progress(unit)
    return done


def differences(unit: Unit) -> dict[Key, tuple[int, int]]:
    """Keys where the rollup differs from a recount: {key: (stored, recounted)}."""
    held, fresh = stored(unit), recount(unit)
    return {
        key: (held.get(key, 0), fresh.get(key, 0))
        for key in held.keys() | fresh.keys()
        if held.get(key, 0) != fresh.get(key, 0)
    }
