"""The rollup: answer counts per unit, reporting month, field, channel and question.

Every statistic in the reports needs only counts, so reports read the
:class:`~survey.data.models.Tally` table instead of the responses. Each response is
counted at its own unit and again at every unit above it (district,
province), each in *that* unit's reporting months (its cut-off day). A report
on any unit therefore reads that unit's own rows: its cost depends on the
months shown, not on how many responses or communes lie below.

A citizen's form post stores its response uncounted (``counted`` false), so
that its transaction, and SQLite's write lock, is only the response and its
answers; :func:`count_waiting` (run by a thread in each worker, see
survey/data/counting.py) counts the waiting responses in batches, each
exactly once. Every read adds the responses still waiting (:func:`_with_waiting`),
so a report read right after a post includes it.

Every other change counts in the same transaction (the same flush) as the change
it reflects, for every write through the ORM (see :func:`install`): a response
stored is counted in; a flagged, reinstated or re-filed one is counted out
with its old state and in with its new one (one still waiting is marked
counted with its new state only); a unit whose cut-off day or parent changes
is recounted with the units above it.

:func:`rebuild` recounts from the responses (idempotent: run it as often as you
like) and :func:`differences` compares the table with a full recount; both are
behind ``flask survey rollup-rebuild`` and ``rollup-check``.
"""

from __future__ import annotations

import functools
import logging
from collections import Counter
from collections.abc import Container
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.dialects import sqlite

from survey.data import bulk
from survey.data.models import Answer
from survey.data.models import SurveyResponse
from survey.data.models import Tally
from survey.data.models import Unit
from survey.data.models import rows_below
from survey.domain.channels import Channel
from survey.domain.feedback import FeedbackStatus
from survey.domain.periods import Period
from survey.domain.periods import month_code
from survey.extensions import db

log = logging.getLogger(__name__)

#: Reserved question ids (real question ids are lower-case words, see questionnaire.py).
RESPONSES = "~responses"
COMMENTS = "~comments"
FLAGGED = "~flagged"

#: ``procedure_field`` and ``channel`` of the total rows: every count is kept twice,
#: once split by procedure field and channel, and once in a row for all fields and
#: channels. Most reports need no split; reading the total rows keeps their cost
#: down to a few rows per unit and month however many fields and channels a busy
#: unit's responses spread over. (Answer values are lower-case words, checked by
#: ``questionnaire.parse``, and channels are words: "*" can be neither.)
TOTAL = "*"

#: (month, question_id, procedure_field, channel, value) of one count, within a unit.
Key = tuple[str, str, str, str, str]
KEY_NAMES = ("month", "question_id", "procedure_field", "channel", "value")

#: The Tally columns that only the split rows hold (reading by them reads those rows).
SPLIT_BY = ("procedure_field", "channel")


@dataclass(frozen=True)
class ResponseFacts:
    """What the rollup needs to know about one response."""

    month: str
    procedure_field: str
    channel: str
    answers: tuple[tuple[str, str], ...]
    has_comment: bool
    feedback_status: str
    flagged: bool
    flag_reason: str | None

    def keys(self) -> Counter[Key]:
        """The counts this response adds: its answers, or only ``~flagged`` when flagged;
        each in its field-and-channel row and again in its :data:`TOTAL` row."""
        if self.flagged:
            counted = [(FLAGGED, self.flag_reason or "")]
        else:
            counted = [*self.answers, (RESPONSES, "")]
            if self.has_comment:
                counted.append((COMMENTS, self.feedback_status))
        found: Counter[Key] = Counter()
        for question, value in counted:
            found[(self.month, question, self.procedure_field, self.channel, value)] += 1
            found[(self.month, question, TOTAL, TOTAL, value)] += 1
        return found


#: The columns of a Tally row, in the order :func:`add_many` writes them.
TALLY_COLUMNS = ("unit_id", *KEY_NAMES, "count")


@functools.cache
def _upsert(dialect_name: str):
    """Add the rows' counts to the stored ones: on PostgreSQL all rows in one statement
    (bound as arrays, see survey/bulk.py), elsewhere one statement run per row."""
    table = Tally.__table__
    if dialect_name == "postgresql":
        insert = bulk.arrays_insert(table, TALLY_COLUMNS)
    else:
        insert = sqlite.insert(table)
    return insert.on_conflict_do_update(
        index_elements=[c.name for c in table.primary_key],
        set_={"count": table.c.count + insert.excluded["count"]},
    )


def add(unit_id: int, deltas: Counter[Key], *, connection=None) -> None:
    """Add ``deltas`` (negative to subtract) to the unit's counts, in the current transaction."""
    add_many({unit_id: deltas}, connection=connection)


def add_many(deltas_by_unit: dict[int, Counter[Key]], *, connection=None) -> None:
    """Add each unit's ``deltas`` (negative to subtract), in the current transaction.

    Increments are one upsert for all units; decrements are updates of rows that
    must exist (the table refuses a count below zero). Rows are sorted so that
    two transactions touching the same rows lock them in the same order (no
    deadlock on PostgreSQL).
    """
    items = sorted(
        (unit_id, key, n)
        for unit_id, deltas in deltas_by_unit.items()
        for key, n in deltas.items()
        if n
    )
    if not items:
        return
    connection = connection if connection is not None else db.session.connection()
    table = Tally.__table__
    names = KEY_NAMES
    increments = [
        {"unit_id": unit_id, **dict(zip(names, key, strict=True)), "count": n}
        for unit_id, key, n in items
        if n > 0
    ]
    decrements = [
        {"k_unit_id": unit_id, **{f"k_{c}": v for c, v in zip(names, key, strict=True)}, "n": -n}
        for unit_id, key, n in items
        if n < 0
    ]
    if increments:
        # One statement for many rows, compiled once and cached, where a multi-row
        # VALUES would be compiled anew for each number of rows.
        dialect = connection.dialect.name
        connection.execute(_upsert(dialect), bulk.parameters(dialect, increments, TALLY_COLUMNS))
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
    "channel",
    "comment",
    "feedback_status",
    "flagged",
    "flag_reason",
)


def _facts(answers: tuple[tuple[str, str], ...], cutoff_day: int, values: dict) -> ResponseFacts:
    return ResponseFacts(
        month=month_code(values["submitted_at"], cutoff_day),
        procedure_field=values["procedure_field"] or "",
        channel=values["channel"] or Channel.QR.value,
        answers=answers,
        has_comment=values["comment"] is not None,
        feedback_status=values["feedback_status"] or FeedbackStatus.NEW,
        flagged=bool(values["flagged"]),
        flag_reason=values["flag_reason"],
    )


def _current(response: SurveyResponse) -> dict:
    return {name: getattr(response, name) for name in WATCHED}


def _previous(response: SurveyResponse) -> dict:
    """The watched values as they were loaded, before this flush's changes."""
    values = {}
    state = sa.inspect(response)
    for name in WATCHED:
        history = state.attrs[name].history
        old = history.deleted or history.unchanged
        values[name] = old[0] if old else getattr(response, name)
    return values


def chain_of(connection, unit_id: int) -> list[tuple[int, int]]:
    """(id, cut-off day) of the unit and of every unit above it, nearest first."""
    return [
        (row.id, row.cutoff) for row in connection.execute(_chain_query(), {"unit_id": unit_id})
    ]


@functools.cache
def _chain_query() -> sa.Select:
    # One recursive query up the tree (a form post runs it once), built once.
    unit = Unit.__table__
    chain = (
        sa.select(
            unit.c.id, unit.c.parent_id, unit.c.report_cutoff_day, sa.literal(0).label("depth")
        )
        .where(unit.c.id == sa.bindparam("unit_id"))
        .cte("chain", recursive=True)
    )
    above = unit.alias("above")
    chain = chain.union_all(
        sa.select(
            above.c.id, above.c.parent_id, above.c.report_cutoff_day, chain.c.depth + 1
        ).join_from(above, chain, above.c.id == chain.c.parent_id)
    )
    return sa.select(chain.c.id, chain.c.report_cutoff_day.label("cutoff")).order_by(chain.c.depth)


class _Deltas:
    """Count changes gathered during one flush, per unit id."""

    def __init__(self, connection) -> None:
        self.connection = connection
        self.deltas: dict[int, Counter[Key]] = {}
        self.chains: dict[int, list[tuple[int, int]]] = {}

    def count(self, response: SurveyResponse, values: dict, sign: int) -> None:
        answers = tuple(sorted((a.question_id, a.value) for a in response.answers))
        self.count_values(answers, values, sign)

    def count_values(self, answers: tuple[tuple[str, str], ...], values: dict, sign: int) -> None:
        unit_id = values["unit_id"]
        if unit_id not in self.chains:
            self.chains[unit_id] = chain_of(self.connection, unit_id)
        for counted_at, cutoff in self.chains[unit_id]:
            delta = self.deltas.setdefault(counted_at, Counter())
            for key, n in _facts(answers, cutoff, values).keys().items():
                delta[key] += sign * n

    def write(self, skip: Container[int] = ()) -> None:
        kept = {unit_id: d for unit_id, d in self.deltas.items() if unit_id not in skip}
        add_many(kept, connection=self.connection)


def _claim_waiting(connection, ids: list[int]) -> set[int]:
    """Mark those of ``ids`` still waiting for the counting job as counted, in this
    transaction, and return them: their old state was never counted, so a change
    counts only their new one.

    The update takes the rows' locks (SQLite: the write lock), so the counting job
    cannot count one of them meanwhile: it waits, then finds them counted.
    """
    if not ids:
        return set()
    table = SurveyResponse.__table__
    return set(
        connection.scalars(
            sa.update(table)
            .where(table.c.id.in_(ids), table.c.counted == sa.false())
            .values(counted=True)
            .returning(table.c.id)
        )
    )


def _before_flush(session, flush_context, instances) -> None:
    # Deleted responses are counted out now, while their answers can still be read
    # (those still waiting for the counting job were never counted in).
    deltas = _Deltas(session.connection())
    deleted = [
        obj for obj in session.deleted if isinstance(obj, SurveyResponse) and obj.id is not None
    ]
    waiting = _claim_waiting(deltas.connection, [obj.id for obj in deleted])
    for obj in deleted:
        if obj.id not in waiting:
            deltas.count(obj, _previous(obj), -1)
    session.info["rollup_deleted"] = deltas.deltas


def _units_to_recount(session) -> set[int]:
    """Units whose rows no longer line up: a changed cut-off day, or a moved subtree's
    old and new ancestors."""
    found: set[int] = set()
    for obj in session.dirty:
        if not isinstance(obj, Unit):
            continue
        attrs = sa.inspect(obj).attrs
        if attrs.report_cutoff_day.history.has_changes():
            found.add(obj.id)
        parent = attrs.parent_id.history
        if parent.has_changes():
            for old_or_new in (*parent.deleted, *parent.added):
                if old_or_new is not None:
                    found.update(i for i, _ in chain_of(session.connection(), old_or_new))
    return found


def _after_flush(session, flush_context) -> None:
    deltas = _Deltas(session.connection())
    deltas.deltas = session.info.pop("rollup_deleted", {})
    for obj in session.new:
        if isinstance(obj, SurveyResponse) and obj.counted is not False:
            deltas.count(obj, _current(obj), +1)
    changed = [
        obj
        for obj in session.dirty
        if isinstance(obj, SurveyResponse)
        and obj not in session.deleted
        and obj not in session.new
        and any(sa.inspect(obj).attrs[name].history.has_changes() for name in WATCHED)
    ]
    waiting = _claim_waiting(deltas.connection, [obj.id for obj in changed])
    for obj in changed:
        if obj.id in waiting:
            so.attributes.set_committed_value(obj, "counted", True)
        else:
            deltas.count(obj, _previous(obj), -1)
        deltas.count(obj, _current(obj), +1)
    recounted = _units_to_recount(session)
    for unit_id in recounted:
        _replace_rows(deltas.connection, unit_id)
    deltas.write(skip=recounted)  # a recount already includes this flush's responses


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


# --- Counting the responses stored uncounted ------------------------------------------------

#: Responses counted per transaction by the counting job: a form post stores its
#: response uncounted (``counted`` false), and the job counts the waiting ones in
#: batches, each in one transaction that marks them counted and adds their counts.
#: A batch adds each key's counts once, however many responses share it.
BATCH = 500


def _count_batch(connection, batch: int = BATCH) -> tuple[int, int]:
    """Count up to ``batch`` waiting responses into the rollup, in the connection's
    transaction (not committed). Returns how many were read and how many counted.

    The counts are computed before the transaction's first write, so SQLite's
    write lock covers only three statements. That write marks the responses
    counted, only those still waiting: it takes their row locks (SQLite: the
    write lock), so a change of one of them either committed before (it then
    counted its new state itself, see :func:`_claim_waiting`, and is left out
    here) or waits for this transaction and counts itself as a counted
    response's change. A response still waiting has the values read here: every
    change of a counted column goes through the ORM, which claims it.
    """
    waiting = _read_waiting(connection, limit=batch)
    if not waiting:
        return 0, 0
    sqlite_fast = connection.dialect.name == "sqlite" and not _in_driver_transaction(connection)
    guess = _Deltas(connection)
    if sqlite_fast:
        tree = _unit_tree(connection)
        guess.chains = _chains_from(tree, {w.values["unit_id"] for w in waiting})
    for response in waiting:
        guess.count_values(response.answers, response.values, +1)
    if sqlite_fast and _claim_and_add_on_sqlite(connection, waiting, guess, tree):
        return len(waiting), len(waiting)
    table = SurveyResponse.__table__
    claimed = set(
        connection.scalars(
            sa.update(table)
            .where(table.c.id.in_([w.id for w in waiting]), table.c.counted == sa.false())
            .values(counted=True)
            .returning(table.c.id)
        )
    )
    # The tree as it is now, under the lock, decides (a unit may have moved meanwhile).
    fresh = {unit_id: chain_of(connection, unit_id) for unit_id in guess.chains}
    if len(claimed) == len(waiting) and fresh == guess.chains:
        guess.write()
    else:
        deltas = _Deltas(connection)
        deltas.chains = fresh
        for response in waiting:
            if response.id in claimed:
                deltas.count_values(response.answers, response.values, +1)
        deltas.write()
    return len(waiting), len(claimed)


def _in_driver_transaction(connection) -> bool:
    return connection.connection.dbapi_connection.in_transaction


#: Every unit's parent and cut-off day, as one string: equal strings, same chains.
_UNIT_TREE = (
    "SELECT group_concat(id || ':' || ifnull(parent_id, '') || ':' || report_cutoff_day, ',') "
    "FROM (SELECT id, parent_id, report_cutoff_day FROM unit ORDER BY id)"
)


def _unit_tree(connection) -> str:
    return connection.exec_driver_sql(_UNIT_TREE).scalar() or ""


def _chains_from(tree: str, unit_ids: set[int]) -> dict[int, list[tuple[int, int]]]:
    """Each unit's chain (:func:`chain_of`) computed from a :data:`_UNIT_TREE` reading."""
    units = {}
    for item in tree.split(","):
        if item:
            uid, parent, cutoff = item.split(":")
            units[int(uid)] = (int(parent) if parent else None, int(cutoff))
    chains = {}
    for unit_id in unit_ids:
        chain, at = [], unit_id
        while at is not None and len(chain) <= len(units):
            parent, cutoff = units[at]
            chain.append((at, cutoff))
            at = parent
        chains[unit_id] = chain
    return chains


#: Rows per multi-row upsert: SQLite binds at most 32 766 values a statement.
_ROWS_PER_UPSERT = 4000


def _claim_and_add_on_sqlite(
    connection, waiting: list[_Waiting], guess: _Deltas, tree: str
) -> bool:
    """SQLite: take the write lock; if every response of the batch is still waiting
    and no unit changed its parent or cut-off day since ``tree`` was read, mark
    them counted and add ``guess``, and say True. Otherwise write nothing and say
    False: the caller goes on, under the lock, the general way.

    Why not the general way: SQLite's write lock is the whole database's, and the
    counting thread shares its worker's interpreter lock with the requests. Under
    the write lock every statement, and every row a statement returns, may wait
    for a request's Python to yield (up to a 5 ms slice), while the other workers'
    form posts wait for the lock (and back off, sleeping, as SQLite's busy handler
    does). Here the lock covers five statements built beforehand, each one step.
    """
    response = SurveyResponse.__table__
    ids = [w.id for w in waiting]
    still_waiting = _built(
        connection,
        sa.select(sa.func.count())
        .select_from(response)
        .where(response.c.counted == sa.false(), response.c.id.in_(ids)),
    )
    mark = _built(connection, sa.update(response).where(response.c.id.in_(ids)).values(counted=1))
    rows = sorted(
        (unit_id, *key, n) for unit_id, d in guess.deltas.items() for key, n in d.items() if n
    )
    upserts = [
        _tally_upsert(connection, rows[start : start + _ROWS_PER_UPSERT])
        for start in range(0, len(rows), _ROWS_PER_UPSERT)
    ]
    connection.exec_driver_sql("BEGIN IMMEDIATE")
    if connection.exec_driver_sql(*still_waiting).scalar() != len(waiting):
        return False
    if _unit_tree(connection) != tree:
        return False
    connection.exec_driver_sql(*mark)
    for statement in upserts:
        connection.exec_driver_sql(*statement)
    return True


def _tally_upsert(connection, rows: list[tuple]) -> tuple[str, tuple]:
    """One statement adding ``rows`` (tuples in :data:`TALLY_COLUMNS` order) to the
    tally, as :func:`_built` gives it: SQLAlchemy's one-row upsert with its VALUES
    group repeated, because compiling thousands of parameters took longer than
    the counting itself."""
    sql, order = _one_row_upsert()
    group = "(" + ", ".join("?" * len(order)) + ")"
    position = [TALLY_COLUMNS.index(name) for name in order]
    values = tuple(row[i] for row in rows for i in position)
    return sql.replace(group, ", ".join([group] * len(rows)), 1), values


@functools.cache
def _one_row_upsert() -> tuple[str, tuple[str, ...]]:
    """The SQL of a one-row tally upsert for SQLite's driver (``?`` parameters) and
    its parameters' names in order."""
    table = Tally.__table__
    insert = sqlite.insert(table).values({name: sa.bindparam(name) for name in TALLY_COLUMNS})
    compiled = insert.on_conflict_do_update(
        index_elements=[c.name for c in table.primary_key],
        set_={"count": table.c.count + insert.excluded["count"]},
    ).compile(dialect=sqlite.dialect())
    group = "(" + ", ".join("?" * len(compiled.positiontup)) + ")"
    if compiled.string.count(group) != 1:  # a SQLAlchemy that renders it otherwise
        raise RuntimeError(f"unexpected upsert SQL: {compiled.string}")
    return compiled.string, tuple(compiled.positiontup)


def _built(connection, statement) -> tuple[str, tuple]:
    """``statement`` compiled now, to run later as one call to the driver: its SQL
    and its positional parameters (SQLite's driver takes them as they are)."""
    compiled = statement.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    # ``compiled.params`` builds every parameter at each access: read it once.
    params = compiled.params
    return compiled.string, tuple(params[name] for name in compiled.positiontup)


def count_waiting(batch: int = BATCH) -> int:
    """Count every response waiting for the rollup, one committed transaction per
    ``batch``; returns how many were counted. Idempotent and safe to run in several
    processes at once: each waiting response is counted exactly once."""
    table = SurveyResponse.__table__
    any_waiting = sa.select(table.c.id).where(table.c.counted == sa.false()).limit(1)
    if db.session.execute(any_waiting).first() is None:
        return 0  # without taking the write lock for nothing
    total = 0
    while True:
        read, counted = _count_batch(db.session.connection(), batch)
        db.session.commit()
        total += counted
        if read < batch:
            return total


def count_waiting_on(connection) -> int:
    """:func:`count_waiting` on a bare connection, in its transaction (migrations)."""
    total = 0
    while True:
        read, counted = _count_batch(connection)
        total += counted
        if read < BATCH:
            return total


def waiting_total() -> int:
    """How many responses wait for the counting job."""
    table = SurveyResponse.__table__
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(table).where(table.c.counted == sa.false())
    )


@dataclass(frozen=True)
class _Waiting:
    """A response stored but not yet counted into the rollup."""

    id: int
    values: dict
    answers: tuple[tuple[str, str], ...]

    def keys_at(self, cutoff_day: int) -> Counter[Key]:
        """Its counts at a unit with ``cutoff_day`` (its own or any above it)."""
        return _facts(self.answers, cutoff_day, self.values).keys()


def _read_waiting(connection, limit: int | None = None) -> list[_Waiting]:
    """The responses waiting for the counting job (the first ``limit`` of them)."""
    table = SurveyResponse.__table__
    uncounted = table.c.counted == sa.false()
    rows = connection.execute(
        sa.select(table.c.id, *(table.c[name] for name in WATCHED))
        .where(uncounted)
        .order_by(table.c.id)
        .limit(limit)
    ).all()
    if not rows:
        return []
    answers: dict[int, list[tuple[str, str]]] = {}
    of_them = (
        Answer.response_id.in_([row.id for row in rows])
        if limit is not None
        else sa.and_(table.c.id == Answer.response_id, uncounted)
    )
    for response_id, question, value in connection.execute(
        sa.select(Answer.response_id, Answer.question_id, Answer.value).where(of_them)
    ):
        answers.setdefault(response_id, []).append((question, value))
    return [
        _Waiting(
            id=row.id,
            values={name: getattr(row, name) for name in WATCHED},
            answers=tuple(sorted(answers.get(row.id, ()))),
        )
        for row in rows
    ]


#: How often a read retries when the counting job committed while it read.
_ATTEMPTS = 5


def _with_waiting(read):
    """``(read(), waiting)``: the rollup as ``read`` reads it, and the responses
    waiting to be counted that it does not include; together, every response
    stored before the call, each counted once.

    The waiting responses are read first, the rollup next, then the waiting ones
    again: if all of the first are still waiting, none of them had been counted
    when the rollup was read (a response never goes back to waiting). Otherwise
    the counting job committed in between, and the read is done again. This holds
    whatever the isolation level (each statement may see a newer snapshot).
    """
    connection = db.session.connection()
    for _attempt in range(_ATTEMPTS):
        waiting = _read_waiting(connection)
        result = read()
        if not waiting:
            return result, waiting
        if _still_waiting(connection, waiting):
            # A worker that died before counting leaves responses waiting: have
            # this process count them (imported here: the counter imports this module).
            from survey.data import counting

            counting.nudge()
            return result, waiting
    # The job committed during every attempt: it runs once a second or so per
    # worker, and a read takes milliseconds, so this takes a machine stalled for
    # seconds. The last reading may count a response twice or not at all.
    log.warning(
        "rollup read raced the counting job %d times; figures may be off by a few", _ATTEMPTS
    )
    return result, waiting


def _still_waiting(connection, waiting: list[_Waiting]) -> bool:
    """Whether every one of ``waiting`` is still waiting (none counted meanwhile)."""
    table = SurveyResponse.__table__
    now = set(
        connection.scalars(
            sa.select(table.c.id).where(
                table.c.counted == sa.false(), table.c.id >= min(w.id for w in waiting)
            )
        )
    )
    return all(w.id in now for w in waiting)


# --- Reading -------------------------------------------------------------------------------


def counts(
    unit_id: int,
    months: list[Period],
    group_by: tuple[str, ...],
    *,
    question_ids: Iterable[str] | None = None,
    channels: Iterable[str] | None = None,
) -> list[tuple]:
    """The unit's counts (its whole subtree) over its month periods, grouped by Tally columns.

    Returns rows of ``(*group, n)``. ``months`` are month periods of the unit's
    own cut-off day, which its rows are keyed by. Grouped by field or channel, or
    restricted to some ``channels``, the split rows are read; otherwise the
    :data:`TOTAL` rows (fewer, same sums).
    """
    columns = [getattr(Tally, name) for name in group_by]
    split = channels is not None or any(name in SPLIT_BY for name in group_by)
    query = (
        sa.select(*columns, sa.func.sum(Tally.count))
        .where(
            Tally.unit_id == unit_id,
            Tally.month.in_([m.code for m in months]),
            Tally.procedure_field != TOTAL if split else Tally.procedure_field == TOTAL,
        )
        .group_by(*columns)
    )
    wanted = _Wanted(
        months={m.code for m in months},
        split=split,
        question_ids=None if question_ids is None else set(question_ids),
        channels=None if channels is None else {str(c) for c in channels},
    )
    if wanted.question_ids is not None:
        query = query.where(Tally.question_id.in_(sorted(wanted.question_ids)))
    if wanted.channels is not None:
        query = query.where(Tally.channel.in_(sorted(wanted.channels)))
    rows, waiting = _with_waiting(lambda: [tuple(row) for row in db.session.execute(query)])
    if not waiting or not months:
        return rows
    # The responses not yet counted, each counted here as the job will count it.
    under = {unit_id, *(uid for uid, _, _ in rows_below(db.session, unit_id))}
    places = [KEY_NAMES.index(name) for name in group_by]
    found = Counter({row[:-1]: row[-1] for row in rows})
    for response in waiting:
        if response.values["unit_id"] in under:
            for key, n in response.keys_at(months[0].cutoff_day).items():
                if wanted.admits(key):
                    found[tuple(key[i] for i in places)] += n
    return [(*group, n) for group, n in found.items()]


@dataclass(frozen=True)
class _Wanted:
    """Which rollup keys a read sums: the filters of its query, for the waiting responses."""

    months: set[str]
    split: bool
    question_ids: set[str] | None = None
    channels: set[str] | None = None

    def admits(self, key: Key) -> bool:
        month, question, field, channel, _value = key
        return (
            month in self.months
            and (field != TOTAL) == self.split
            and (self.question_ids is None or question in self.question_ids)
            and (self.channels is None or channel in self.channels)
        )


def children_counts(
    parent: Unit,
    months: list[Period],
    question_ids: Iterable[str],
    *,
    channels: Iterable[str] | None = None,
) -> dict[int, dict[str, dict[str, int]]]:
    """{child id: {question id: {value: count}}} for each child of ``parent`` over the months.

    ``months`` are the parent's. A child whose cut-off day differs (a commune
    counting from the 15th in a district counting calendar months) has rows
    that do not line up with them: its responses in the dates asked are
    counted directly, with the same rules, so that every figure covers
    exactly the dates it is labelled with. With ``channels``, only their responses.
    """
    question_ids = list(question_ids)
    wanted = None if channels is None else {str(c) for c in channels}
    cutoff = months[0].cutoff_day
    children = db.session.execute(
        sa.select(Unit.id, Unit.report_cutoff_day).where(Unit.parent_id == parent.id)
    ).all()
    found: dict[int, dict[str, dict[str, int]]] = {}

    def put(child: int, question: str, value: str, n: int) -> None:
        values = found.setdefault(child, {}).setdefault(question, {})
        values[value] = values.get(value, 0) + n

    aligned = [child for child, child_cutoff in children if child_cutoff == cutoff]
    if aligned:
        query = (
            sa.select(Tally.unit_id, Tally.question_id, Tally.value, sa.func.sum(Tally.count))
            .where(
                Tally.unit_id.in_(aligned),
                Tally.month.in_([m.code for m in months]),
                Tally.question_id.in_(question_ids),
                Tally.procedure_field == TOTAL
                if wanted is None
                else sa.and_(Tally.procedure_field != TOTAL, Tally.channel.in_(wanted)),
            )
            .group_by(Tally.unit_id, Tally.question_id, Tally.value)
        )
        rows, waiting = _with_waiting(lambda: db.session.execute(query).all())
        for child, question, value, n in rows:
            put(child, question, value, n)
        if waiting:
            # Not yet counted: each at the child of ``parent`` it lies under.
            top = {child: child for child in aligned}
            top.update((uid, t) for uid, _, t in rows_below(db.session, parent.id) if t in top)
            admitted = _Wanted(
                months={m.code for m in months},
                split=wanted is not None,
                question_ids=set(question_ids),
                channels=wanted,
            )
            for response in waiting:
                child = top.get(response.values["unit_id"])
                if child is None:
                    continue
                for key, n in response.keys_at(cutoff).items():
                    if admitted.admits(key):
                        put(child, key[1], key[4], n)
    codes = {m.code for m in months}
    start, end = months[0].utc_bounds()[0], months[-1].utc_bounds()[1]
    for child, child_cutoff in children:
        if child_cutoff == cutoff:
            continue
        below = db.session.get(Unit, child).subtree_ids()
        for key, n in _count_directly(below, cutoff, start, end).items():
            if key[0] not in codes or key[1] not in question_ids:
                continue
            if (key[2] == TOTAL) if wanted is None else (key[2] != TOTAL and key[3] in wanted):
                put(child, key[1], key[4], n)
    return found


# --- Recounting ----------------------------------------------------------------------------


def _count_directly(
    unit_ids: list[int],
    cutoff_day: int,
    start=None,
    end=None,
    *,
    connection=None,
    counted_only: bool = False,
) -> Counter[Key]:
    """The counts of the responses of ``unit_ids``, recomputed, in months of ``cutoff_day``.

    Only responses submitted in [start, end) when given; only those the rollup
    holds with ``counted_only``.
    """
    connection = connection if connection is not None else db.session.connection()
    where = [SurveyResponse.unit_id.in_(unit_ids)]
    if counted_only:
        where.append(SurveyResponse.counted == sa.true())
    if start is not None:
        where += [SurveyResponse.submitted_at >= start, SurveyResponse.submitted_at < end]
    answers: dict[int, list[tuple[str, str]]] = {}
    for response_id, question, value in connection.execute(
        sa.select(Answer.response_id, Answer.question_id, Answer.value)
        .join(SurveyResponse, SurveyResponse.id == Answer.response_id)
        .where(*where)
    ):
        answers.setdefault(response_id, []).append((question, value))
    found: Counter[Key] = Counter()
    rows = connection.execute(
        sa.select(
            SurveyResponse.id,
            SurveyResponse.submitted_at,
            SurveyResponse.procedure_field,
            SurveyResponse.channel,
            SurveyResponse.comment.is_not(None),
            SurveyResponse.feedback_status,
            SurveyResponse.flagged,
            SurveyResponse.flag_reason,
        ).where(*where)
    )
    for rid, at, field, channel, has_comment, status, flagged, reason in rows:
        facts = ResponseFacts(
            month=month_code(at, cutoff_day),
            procedure_field=field or "",
            channel=channel,
            answers=tuple(answers.get(rid, ())),
            has_comment=bool(has_comment),
            feedback_status=status,
            flagged=bool(flagged),
            flag_reason=reason,
        )
        found.update(facts.keys())
    return found


def _recount(connection, unit_id: int, *, counted_only: bool = False) -> Counter[Key]:
    """The unit's counts from the stored responses of its whole subtree, in its months
    (with ``counted_only``, only those the rollup holds: not those still waiting)."""
    ids = [unit_id, *(uid for uid, _, _ in rows_below(connection, unit_id))]
    cutoff = connection.scalar(sa.select(Unit.report_cutoff_day).where(Unit.id == unit_id))
    return _count_directly(ids, cutoff, connection=connection, counted_only=counted_only)


def recount(unit: Unit) -> Counter[Key]:
    """The unit's counts recomputed from the stored responses of its whole subtree."""
    return _recount(db.session.connection(), unit.id)


def _replace_rows(connection, unit_id: int) -> None:
    """Replace the unit's rows by a recount of its subtree's responses."""
    connection.execute(sa.delete(Tally.__table__).where(Tally.unit_id == unit_id))
    # The waiting responses stay out: the counting job adds them at every unit above
    # theirs, this one included.
    add(unit_id, _recount(connection, unit_id, counted_only=True), connection=connection)


def stored(unit: Unit) -> Counter[Key]:
    """The unit's counts as the rollup holds them (rows with a zero count left out)."""
    rows = db.session.execute(
        sa.select(
            Tally.month,
            Tally.question_id,
            Tally.procedure_field,
            Tally.channel,
            Tally.value,
            Tally.count,
        ).where(Tally.unit_id == unit.id, Tally.count != 0)
    )
    return Counter({(m, q, f, c, val): n for m, q, f, c, val, n in rows})


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
        _replace_rows(db.session.connection(), unit.id)
        db.session.commit()
        done += 1
        if progress is not None:
            progress(unit)
    return done


def as_read(unit: Unit) -> Counter[Key]:
    """The unit's counts as reports read them: its rows, plus the responses of its
    subtree still waiting for the counting job."""
    held, waiting = _with_waiting(lambda: stored(unit))
    if waiting:
        under = {unit.id, *(uid for uid, _, _ in rows_below(db.session, unit.id))}
        for response in waiting:
            if response.values["unit_id"] in under:
                held.update(response.keys_at(unit.report_cutoff_day))
    return held


def differences(unit: Unit) -> dict[Key, tuple[int, int]]:
    """Keys where the rollup as read (:func:`as_read`) differs from a full recount of
    the stored responses: {key: (read, recounted)}."""
    held, fresh = as_read(unit), recount(unit)
    return {
        key: (held.get(key, 0), fresh.get(key, 0))
        for key in held.keys() | fresh.keys()
        if held.get(key, 0) != fresh.get(key, 0)
    }
