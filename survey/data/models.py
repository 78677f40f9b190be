"""Database models (SQLAlchemy 2.0, typed).

Raw answers are stored one row per question so that every rate can be
recomputed for any questionnaire version.
"""

from __future__ import annotations

import enum
from datetime import UTC
from datetime import date
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from survey.domain.channels import Channel
from survey.domain.feedback import FeedbackStatus
from survey.domain.questionnaire import Questionnaire as QuestionnaireDefinition
from survey.domain.questionnaire import parse
from survey.extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """A timezone-aware UTC timestamp on every backend.

    SQLite drops the offset, so values are normalised to UTC on the way in and
    marked as UTC on the way out; naive datetimes are refused rather than guessed.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime ({value!r}): store timestamps with a timezone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class UnitLevel(enum.StrEnum):
    PROVINCE = "province"
    DISTRICT = "district"
    COMMUNE = "commune"


class Unit(db.Model):
    """An administrative unit: province, district or commune.

    Communes hang under a district (before 1/7/2025) or directly under a
    province (two-tier government since then); both shapes are allowed.
    """

    __tablename__ = "unit"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(32), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    level: so.Mapped[str] = so.mapped_column(sa.String(16))
    parent_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("unit.id"), index=True)
    # First day of a reporting month: 1 for calendar months, 15 for units whose
    # plan counts from the 15th to the 14th (e.g. Lai Cách).
    report_cutoff_day: so.Mapped[int] = so.mapped_column(default=1, server_default="1")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    parent: so.Mapped[Unit | None] = so.relationship(remote_side=[id], back_populates="children")
    children: so.Mapped[list[Unit]] = so.relationship(back_populates="parent")
    desks: so.Mapped[list[Desk]] = so.relationship(back_populates="unit")

    __table_args__ = (
        sa.CheckConstraint("level IN ('province', 'district', 'commune')", name="level"),
        sa.CheckConstraint("report_cutoff_day BETWEEN 1 AND 28", name="report_cutoff_day"),
    )

    def __repr__(self) -> str:
        return f"<Unit {self.code} {self.name}>"

    def ancestors(self) -> list[Unit]:
        """The units above this one, nearest first."""
        chain, unit = [], self.parent
        while unit is not None:
            chain.append(unit)
            unit = unit.parent
        return chain

    def _subtree_rows(self) -> list[tuple[int, int | None, int]]:
        """(id, parent_id, top) of this unit and every unit below it (see :func:`rows_below`)."""
        session = so.object_session(self) or db.session
        return [(self.id, self.parent_id, self.id), *rows_below(session, self.id)]

    def subtree(self) -> list[Unit]:
        """This unit and every unit below it."""
        ids = self.subtree_ids()
        session = so.object_session(self) or db.session
        by_id = {u.id: u for u in session.scalars(sa.select(Unit).where(Unit.id.in_(ids)))}
        return [by_id[i] for i in ids]

    def subtree_ids(self) -> list[int]:
        """This unit's id and those of every unit below it."""
        return [row[0] for row in self._subtree_rows()]

    def descendants_by_child(self) -> dict[int, int]:
        """{unit id: id of this unit's child it belongs under} for every unit below this one."""
        return {uid: top for uid, _, top in self._subtree_rows()[1:]}

    def leaf_ids_by_child(self) -> dict[int, list[int]]:
        """For each child of this unit, the ids of the units at the bottom of its tree."""
        rows = self._subtree_rows()[1:]
        parents = {parent for _, parent, _ in rows}
        found: dict[int, list[int]] = {}
        for uid, _, top in rows:
            if uid not in parents:
                found.setdefault(top, []).append(uid)
        return found

    def leaves(self) -> list[Unit]:
        """The units at the bottom of this unit's tree (its communes), by name."""
        rows = self._subtree_rows()
        parents = {parent for _, parent, _ in rows}
        units = self.subtree()
        return sorted((u for u in units if u.id not in parents), key=lambda u: u.name)


def rows_below(executor, unit_id: int) -> list[tuple[int, int | None, int]]:
    """(id, parent_id, top) of every unit below ``unit_id``, in one query.

    ``top`` is the child of ``unit_id`` the row descends from. A recursive
    query, so a province with thousands of communes costs one round trip, not
    one per unit. ``executor`` is a Session or a Connection (inside a flush).
    """
    tree = (
        sa.select(Unit.id, Unit.parent_id, Unit.id.label("top"))
        .where(Unit.parent_id == unit_id)
        .cte("tree", recursive=True)
    )
    below = so.aliased(Unit)
    tree = tree.union_all(
        sa.select(below.id, below.parent_id, tree.c.top).where(below.parent_id == tree.c.id)
    )
    return [tuple(r) for r in executor.execute(sa.select(tree.c.id, tree.c.parent_id, tree.c.top))]


class Desk(db.Model):
    """A service point (one-stop desk) with the public code printed on its QR poster.

    The code appears in the form URL ``/s/<code>`` and must never change.
    """

    __tablename__ = "desk"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(32), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    unit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("unit.id"), index=True)
    active: so.Mapped[bool] = so.mapped_column(default=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    # A retired desk's old posters forward to this desk (``flask survey retire-desk``).
    replaced_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("desk.id"))

    unit: so.Mapped[Unit] = so.relationship(back_populates="desks")
    replaced_by: so.Mapped[Desk | None] = so.relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<Desk {self.code}>"


class QuestionnaireVersion(db.Model):
    """One version of the questionnaire, stored whole as its JSON definition."""

    __tablename__ = "questionnaire"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    version: so.Mapped[int] = so.mapped_column(unique=True)
    definition: so.Mapped[dict] = so.mapped_column(sa.JSON)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    def parsed(self) -> QuestionnaireDefinition:
        return parse(self.definition)


class SurveyResponse(db.Model):
    """One citizen's submitted form.

    ``submission_id`` is generated when the form is served and travels with it,
    so a double tap or a retry on a flaky network is stored once.
    """

    __tablename__ = "response"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    submission_id: so.Mapped[str] = so.mapped_column(sa.String(36), unique=True)
    unit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("unit.id"), active_history=True)
    desk_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("desk.id"))
    questionnaire_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("questionnaire.id"))
    submitted_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, active_history=True
    )
    procedure_field: so.Mapped[str | None] = so.mapped_column(sa.String(40), active_history=True)
    comment: so.Mapped[str | None] = so.mapped_column(sa.Text, active_history=True)
    contact: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    contact_consent: so.Mapped[bool] = so.mapped_column(default=False)
    language: so.Mapped[str] = so.mapped_column(sa.String(5), default="vi")
    # Handling of the comment (phản ánh, kiến nghị): mới → đang xử lý → đã phản hồi.
    feedback_status: so.Mapped[str] = so.mapped_column(
        sa.String(16),
        default=FeedbackStatus.NEW.value,
        server_default=FeedbackStatus.NEW.value,
        active_history=True,
    )
    feedback_reply: so.Mapped[str | None] = so.mapped_column(sa.Text)
    feedback_updated_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    # Set when the rating came with a one-time receipt token (a verified rating).
    receipt_token_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("receipt_token.id"), unique=True, active_history=True
    )
    # Why the response looks automated or gamed (``honeypot``, ``too_fast``,
    # ``unsigned``, ``burst``) or was replaced by the same phone (``replaced``);
    # kept with the reason, and left out of the statistics while ``flagged`` is
    # true. A district officer may reinstate it.
    flag_reason: so.Mapped[str | None] = so.mapped_column(sa.String(20), active_history=True)
    flagged: so.Mapped[bool] = so.mapped_column(
        default=False, server_default=sa.false(), active_history=True
    )
    # Keyed hash of the phone's device cookie (open QR only), so a second rating
    # of the same desk from the same phone within SURVEY_REPLACE_MINUTES replaces
    # the first; cleared by ``flask survey purge`` after SURVEY_HASH_RETENTION_DAYS.
    device_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    # How the rating reached the service (survey.domain.channels): QR code, receipt
    # link, kiosk, paper, interview or invitation. Kept in the rollup, so every
    # figure can be split by it.
    channel: so.Mapped[str] = so.mapped_column(
        sa.String(12),
        default=Channel.QR.value,
        server_default=Channel.QR.value,
        active_history=True,
    )
    # The officer who served the citizen at the desk (kiosk shift, receipt-token
    # API), or the interviewer of an interview.
    served_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("officer.id"))
    # Whether the rollup (survey/data/rollup.py) holds this response's counts. A
    # form post stores its response uncounted, so that SQLite's write lock covers
    # two inserts and not some forty counter upserts; the counting job counts the
    # uncounted ones in batches, and every read of the rollup adds the responses
    # still uncounted. Responses written through the ORM are counted in their flush.
    counted: so.Mapped[bool] = so.mapped_column(default=True, server_default=sa.true())

    desk: so.Mapped[Desk] = so.relationship()
    unit: so.Mapped[Unit] = so.relationship()
    questionnaire: so.Mapped[QuestionnaireVersion] = so.relationship()
    answers: so.Mapped[list[Answer]] = so.relationship(
        back_populates="response", cascade="all, delete-orphan"
    )

    # Every index is written by every form post it holds a row for (a page of
    # SQLite's log at each commit): no index on a column of a few values (flagged,
    # procedure_field), none a longer one already starts with (desk_id), and
    # served_by_id's holds only the ratings that name an officer.
    __table_args__ = (
        sa.Index("ix_response_unit_id_submitted_at", "unit_id", "submitted_at"),
        # The desk's ceiling counts its ratings of the last day on every open-QR
        # post; it also serves every lookup by desk alone.
        sa.Index("ix_response_desk_id_submitted_at", "desk_id", "submitted_at"),
        sa.Index("ix_response_device_hash", "device_hash"),
        sa.Index(
            "ix_response_served_by_id",
            "served_by_id",
            sqlite_where=sa.text("served_by_id IS NOT NULL"),
            postgresql_where=sa.text("served_by_id IS NOT NULL"),
        ),
        # The counting job's queue: only the few uncounted responses are in it.
        sa.Index(
            "ix_response_uncounted",
            "id",
            sqlite_where=sa.text("counted = 0"),
            postgresql_where=sa.text("NOT counted"),
        ),
        # Contact details exist only with the citizen's explicit consent.
        sa.CheckConstraint("contact IS NULL OR contact_consent", name="contact_consent"),
        sa.CheckConstraint(
            "feedback_status IN ({})".format(", ".join(f"'{s}'" for s in FeedbackStatus)),
            name="feedback_status",
        ),
        sa.CheckConstraint(
            "channel IN ({})".format(", ".join(f"'{c}'" for c in Channel)),
            name="channel",
        ),
    )

    def answer_map(self) -> dict[str, str]:
        return {a.question_id: a.value for a in self.answers}


class Answer(db.Model):
    """The coded answer to one question of one response (e.g. ``"4"`` or ``"na"``)."""

    __tablename__ = "answer"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    response_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("response.id", ondelete="CASCADE"))
    question_id: so.Mapped[str] = so.mapped_column(sa.String(40))
    value: so.Mapped[str] = so.mapped_column(sa.String(20))

    response: so.Mapped[SurveyResponse] = so.relationship(back_populates="answers")

    __table_args__ = (
        sa.UniqueConstraint("response_id", "question_id", name="uq_answer_response_question"),
    )


class Tally(db.Model):
    """The rollup: how many counted answers of each value, per unit, reporting month,
    procedure field, channel and question.

    Every report is computed from these counts, so its cost depends on the number
    of units and months shown, not on the number of responses stored. Kept in
    step with the responses in the same transaction (see :mod:`survey.data.rollup`);
    ``flask survey rollup-check`` compares it with a full recount.

    ``month`` is the code of the unit's own reporting month (its cut-off day).
    Besides the questions' answers, three reserved rows per key count responses
    (``~responses``), comments by handling status (``~comments``) and flagged
    responses by reason (``~flagged``; a flagged response counts nowhere else).
    Every count is kept twice: split by field and channel, and in a total row
    (``procedure_field`` and ``channel`` ``"*"``, see ``rollup.TOTAL``); sum one
    kind, never both.
    """

    __tablename__ = "tally"

    unit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("unit.id"), primary_key=True)
    month: so.Mapped[str] = so.mapped_column(sa.String(7), primary_key=True)
    question_id: so.Mapped[str] = so.mapped_column(sa.String(40), primary_key=True)
    procedure_field: so.Mapped[str] = so.mapped_column(sa.String(40), primary_key=True)
    channel: so.Mapped[str] = so.mapped_column(sa.String(12), primary_key=True)
    value: so.Mapped[str] = so.mapped_column(sa.String(20), primary_key=True)
    count: so.Mapped[int]

    # On SQLite the rows are stored in key order (migration 0006): a report's rows sit
    # together with their counts instead of behind a second index lookup each.
    __table_args__ = (sa.CheckConstraint("count >= 0", name="count"), {"sqlite_with_rowid": False})


class Role(enum.StrEnum):
    COMMUNE = "commune"
    DISTRICT = "district"
    ADMIN = "admin"
    # A field interviewer (điều tra viên), created by a district: signs in only to
    # record interviews in the communes and dates assigned (survey/interviews).
    INTERVIEWER = "interviewer"


class Officer(db.Model):
    """A signed-in user: a commune or district officer, or an administrator.

    Commune and district officers see their own unit and the units below it;
    administrators see everything.
    """

    __tablename__ = "officer"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    username: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    full_name: so.Mapped[str] = so.mapped_column(sa.String(200))
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(256))
    role: so.Mapped[str] = so.mapped_column(sa.String(16))
    unit_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("unit.id"))
    active: so.Mapped[bool] = so.mapped_column(default=True)
    # Demo accounts have published passwords: they work only in demo mode.
    is_demo: so.Mapped[bool] = so.mapped_column(default=False)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    # Where alerts and scheduled reports go (survey/notify), and which of them
    # the officer wants. Quiet hours (Vietnam time, "HH:MM") hold e-mails until
    # they end; nothing is dropped. A start after the end spans midnight.
    email: so.Mapped[str | None] = so.mapped_column(sa.String(254))
    wants_alerts: so.Mapped[bool] = so.mapped_column(default=True, server_default=sa.true())
    wants_comments: so.Mapped[bool] = so.mapped_column(default=True, server_default=sa.true())
    wants_reports: so.Mapped[bool] = so.mapped_column(default=True, server_default=sa.true())
    quiet_start: so.Mapped[str | None] = so.mapped_column(sa.String(5))
    quiet_end: so.Mapped[str | None] = so.mapped_column(sa.String(5))
    # The commune's leader (lãnh đạo UBND xã, or whoever heads its one-stop desk):
    # a commune officer who may see every officer's figures of the commune. Set by
    # ``flask survey set-leader`` (recorded in the audit log).
    is_leader: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())

    unit: so.Mapped[Unit | None] = so.relationship()

    __table_args__ = (
        sa.CheckConstraint("role IN ('commune', 'district', 'admin', 'interviewer')", name="role"),
        sa.CheckConstraint("role = 'admin' OR unit_id IS NOT NULL", name="unit_required"),
    )

    # Flask-Login's user interface.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    def can_see(self, unit: Unit) -> bool:
        """Whether this officer may see ``unit``'s data: own unit, or one below it.

        An interviewer sees no unit's data: their unit is the district that
        manages them, not a dashboard they may read.
        """
        if self.role == Role.ADMIN:
            return True
        if self.role == Role.INTERVIEWER:
            return False
        return self.unit_id == unit.id or any(a.id == self.unit_id for a in unit.ancestors())

    def may_set_volumes(self, unit: Unit) -> bool:
        """Whether this officer may enter ``unit``'s dossier volumes (the weights of the
        district figure): a district officer for the communes below it, or an
        administrator. A commune sees its volumes but never sets its own weight."""
        if self.role == Role.ADMIN:
            return True
        return self.role == Role.DISTRICT and self.unit_id != unit.id and self.can_see(unit)

    def may_see_officers_of(self, unit: Unit) -> bool:
        """Whether this officer may see the figures of every officer of ``unit``:
        the commune's leader for their own commune, a district officer for the
        communes below, or an administrator. Any officer may see their own."""
        if self.role == Role.ADMIN:
            return True
        if self.role == Role.COMMUNE:
            return self.is_leader and self.unit_id == unit.id
        return self.role == Role.DISTRICT and self.can_see(unit)

    def may_set_leader(self, unit: Unit) -> bool:
        """Whether this officer may name (or unname) the leader of the commune ``unit``:
        a district officer for the communes below, or an administrator; never a
        commune officer, not even the leader."""
        if self.role == Role.ADMIN:
            return True
        return self.role == Role.DISTRICT and self.unit_id != unit.id and self.can_see(unit)

    def may_loosen_target(self, unit: Unit) -> bool:
        """Whether this officer may set ``unit`` a target below the one it inherits.

        Administrators may; district officers may for the communes below them.
        Everyone else (a commune for itself) may only tighten what it inherits.
        """
        if self.role == Role.ADMIN:
            return True
        return self.role == Role.DISTRICT and self.unit_id != unit.id and self.can_see(unit)


class LoginFailure(db.Model):
    """One sign-in attempt not (yet) known to be right, kept in the database so
    throttling holds across workers.

    ``client`` says who tried: ``d:<hash>`` a device that signed in to this account
    before (its signed cookie), ``i:<hash>`` an address (keyed hash, never in clear).
    A stranger's failures then count against the stranger, not the officer's devices.
    """

    __tablename__ = "login_failure"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    username: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    client: so.Mapped[str] = so.mapped_column(sa.String(72), default="", server_default="")
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow, index=True)


class OfficerSession(db.Model):
    """One signed-in session, held server-side so that it can be ended.

    The session cookie carries a random id; only its SHA-256 is stored. Signing
    out deletes the row (a copied cookie then opens nothing); a password reset,
    a role or unit change or disabling the account deletes every row of the
    officer (see :func:`end_sessions_on_change`).
    """

    __tablename__ = "officer_session"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    officer_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("officer.id", ondelete="CASCADE"), index=True
    )
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)


#: Officer attributes whose change ends every session of the officer.
SESSION_ENDING_CHANGES = ("password_hash", "role", "unit_id", "active", "is_demo")


@sa.event.listens_for(so.Session, "before_flush")
def end_sessions_on_change(session, _flush_context, _instances) -> None:
    """Delete the sessions of every officer whose password, role, unit or status
    changes, in the same flush: whatever path changes it (CLI, a page, a script),
    an old cookie stops working with the change."""
    ended = [
        officer.id
        for officer in session.dirty
        if isinstance(officer, Officer)
        and officer.id is not None
        and any(
            so.attributes.get_history(officer, name).has_changes()
            for name in SESSION_ENDING_CHANGES
        )
    ]
    if ended:
        session.execute(sa.delete(OfficerSession).where(OfficerSession.officer_id.in_(ended)))


class Target(db.Model):
    """A satisfaction target of a unit for a year, overall or for one procedure field.

    Targets are inherited down the unit tree; the nearest unit's target wins.
    """

    __tablename__ = "target"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    unit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("unit.id"))
    year: so.Mapped[int]
    # Empty string means "overall" (NULL would not take part in the unique key).
    procedure_field: so.Mapped[str] = so.mapped_column(sa.String(40), default="")
    rate: so.Mapped[float]
    updated_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("officer.id"))
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    unit: so.Mapped[Unit] = so.relationship()

    __table_args__ = (
        sa.UniqueConstraint("unit_id", "year", "procedure_field", name="uq_target_unit_year_field"),
        sa.CheckConstraint("rate > 0 AND rate <= 1", name="rate"),
    )


class AuditEntry(db.Model):
    """Who did what when: sign-ins, target changes, feedback handling."""

    __tablename__ = "audit_entry"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow, index=True)
    officer_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("officer.id"))
    action: so.Mapped[str] = so.mapped_column(sa.String(40))
    unit_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("unit.id"))
    response_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("response.id"))
    detail: so.Mapped[str | None] = so.mapped_column(sa.Text)

    officer: so.Mapped[Officer | None] = so.relationship()


class DossierVolume(db.Model):
    """Dossiers (hồ sơ) a unit handled in a month, overall or for one procedure field.

    These are the N_h that weight each commune in the district's stratified
    estimate. ``month`` is the reporting-period code ``YYYY-MM`` of the unit.
    """

    __tablename__ = "dossier_volume"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    unit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("unit.id"))
    month: so.Mapped[str] = so.mapped_column(sa.String(7))
    # Empty string: all fields together (NULL would not take part in the unique key).
    procedure_field: so.Mapped[str] = so.mapped_column(sa.String(40), default="")
    dossiers: so.Mapped[int]
    source: so.Mapped[str] = so.mapped_column(sa.String(16), default="form")
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    unit: so.Mapped[Unit] = so.relationship()

    __table_args__ = (
        sa.UniqueConstraint(
            "unit_id", "month", "procedure_field", name="uq_dossier_volume_unit_month_field"
        ),
        sa.CheckConstraint("dossiers >= 0", name="dossiers"),
    )


class ReportSettings(db.Model):
    """How a unit's reports are issued as an administrative document (Nghị định
    30/2020/NĐ-CP): issuing body, number symbol, place, signer and recipients.

    At most one row per unit; a unit without one gets defaults made from its
    name and its parent's (``reports/official.py``). Edited by the unit's officers.
    """

    __tablename__ = "report_settings"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    unit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("unit.id"), unique=True)
    # "Tên cơ quan, tổ chức chủ quản" above the issuing body, e.g. "UBND HUYỆN CẨM GIÀNG".
    parent_body: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    # "Tên cơ quan, tổ chức ban hành văn bản", e.g. "UBND THỊ TRẤN LAI CÁCH".
    issuing_body: so.Mapped[str] = so.mapped_column(sa.String(200))
    # The symbol after the number: "Số: …/BC-UBND".
    number_symbol: so.Mapped[str] = so.mapped_column(sa.String(60))
    place: so.Mapped[str] = so.mapped_column(sa.String(100))
    signer_title: so.Mapped[str] = so.mapped_column(sa.String(200))
    signer_name: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    # "Nơi nhận", one recipient a line.
    recipients: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    unit: so.Mapped[Unit] = so.relationship()


class ApiKey(db.Model):
    """A key the one-stop software of a unit uses to ask for receipt tokens.

    Only the SHA-256 of the key is stored; the key is shown once, when created.
    """

    __tablename__ = "api_key"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    unit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("unit.id"), index=True)
    key_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    # The first characters of the key, to tell keys apart in lists and logs.
    prefix: so.Mapped[str] = so.mapped_column(sa.String(12))
    label: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    unit: so.Mapped[Unit] = so.relationship()


class ReceiptToken(db.Model):
    """A one-time code printed on a dossier's receipt slip, linking one rating to it.

    The dossier number is kept only as a keyed hash (HMAC), never in clear. A
    dossier has at most one token row, so it can be rated at most once.
    """

    __tablename__ = "receipt_token"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(16), unique=True)
    unit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("unit.id"))
    desk_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("desk.id"))
    dossier_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    api_key_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("api_key.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    expires_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    # The officer who handled the dossier, as the one-stop software names them: the
    # rating made with the token is stored with this officer (``served_by_id``).
    served_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("officer.id"))

    unit: so.Mapped[Unit] = so.relationship()
    desk: so.Mapped[Desk] = so.relationship()
    served_by: so.Mapped[Officer | None] = so.relationship()

    __table_args__ = (
        sa.UniqueConstraint("unit_id", "dossier_hash", name="uq_receipt_token_unit_dossier"),
    )


class RateEvent(db.Model):
    """One open-QR submission, by keyed hash of the device or of the IP address.

    Counted to enforce the rate limits across every worker; deleted by
    ``flask survey purge`` after the retention period.
    """

    __tablename__ = "rate_event"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    desk_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("desk.id"))
    kind: so.Mapped[str] = so.mapped_column(sa.String(8))
    key_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    # No index of its own: only the daily purge looks events up by time alone, and
    # a week of them is read faster than an index is written at every post.
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        sa.Index("ix_rate_event_lookup", "desk_id", "kind", "key_hash", "at"),
        sa.CheckConstraint("kind IN ('device', 'ip')", name="kind"),
    )


class DeskScanDay(db.Model):
    """How many phones opened a desk's form on a day (first view per device per day)."""

    __tablename__ = "desk_scan_day"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    desk_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("desk.id"))
    day: so.Mapped[date] = so.mapped_column(sa.Date)
    scans: so.Mapped[int] = so.mapped_column(default=0)

    __table_args__ = (sa.UniqueConstraint("desk_id", "day", name="uq_desk_scan_day_desk_day"),)


class AlertRule(db.Model):
    """A unit's alert rules, inherited down the tree (the nearest unit's row wins).

    Without any row the defaults of :mod:`survey.domain.alerts` apply: a
    harassment report at once; 4 or more responses at one desk within 15
    minutes with at least half negative; consented comments in a daily digest.
    """

    __tablename__ = "alert_rule"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    unit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("unit.id"), unique=True)
    harassment: so.Mapped[bool] = so.mapped_column(default=True)
    run_min_responses: so.Mapped[int] = so.mapped_column(default=4)
    run_negative_percent: so.Mapped[int] = so.mapped_column(default=50)
    run_window_minutes: so.Mapped[int] = so.mapped_column(default=15)
    comments: so.Mapped[bool] = so.mapped_column(default=True)
    # Hour (Vietnam time) of the working day's digest of consented comments.
    comment_hour: so.Mapped[int] = so.mapped_column(default=15)
    # After a message, more alerts of the same kind and unit wait this long and
    # go together: a bad morning sends one message, not forty.
    group_minutes: so.Mapped[int] = so.mapped_column(default=60)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("run_min_responses BETWEEN 1 AND 1000", name="run_min_responses"),
        sa.CheckConstraint("run_negative_percent BETWEEN 1 AND 100", name="run_negative_percent"),
        sa.CheckConstraint("run_window_minutes BETWEEN 1 AND 1440", name="run_window_minutes"),
        sa.CheckConstraint("comment_hour BETWEEN 0 AND 23", name="comment_hour"),
        sa.CheckConstraint("group_minutes BETWEEN 0 AND 1440", name="group_minutes"),
    )


class Alert(db.Model):
    """Something an officer must hear about: written in the transaction of its cause.

    A harassment report or a consented comment adds its row with the response
    (one insert, only then); the worker adds negative runs it finds. The worker
    turns due alerts into outbox messages, several alerts into one message.
    ``dedupe_key`` (unique) keeps two workers from raising the same run twice.
    """

    __tablename__ = "alert"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(20))
    unit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("unit.id"))
    desk_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("desk.id"))
    response_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("response.id"))
    dedupe_key: so.Mapped[str | None] = so.mapped_column(sa.String(80), unique=True)
    detail: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    due_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    dispatched_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    __table_args__ = (
        sa.Index("ix_alert_pending", "dispatched_at", "due_at"),
        sa.Index("ix_alert_unit_kind", "unit_id", "kind", "dispatched_at"),
        sa.CheckConstraint("kind IN ('harassment', 'negative_run', 'comment')", name="kind"),
    )


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    # Refused for good (a bad address) or out of attempts: kept, listed by
    # ``flask survey outbox``, and requeued by ``flask survey outbox --retry``.
    DEAD = "dead"


class OutboxMessage(db.Model):
    """One message to one recipient over one channel, sent at least once and
    recognisable when sent twice: ``key`` is its Message-ID (e-mail) or its
    ``Idempotency-Key`` (webhook).

    A worker claims a row by setting ``lease_until`` in one statement (with
    ``FOR UPDATE SKIP LOCKED`` on PostgreSQL); if the worker dies before it
    confirms, the lease runs out and another claim sends the row again with the
    same key.
    """

    __tablename__ = "outbox"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    key: so.Mapped[str] = so.mapped_column(sa.String(100), unique=True)
    channel: so.Mapped[str] = so.mapped_column(sa.String(10))
    recipient: so.Mapped[str] = so.mapped_column(sa.String(500))
    kind: so.Mapped[str] = so.mapped_column(sa.String(20))
    unit_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("unit.id"))
    subject: so.Mapped[str] = so.mapped_column(sa.String(300))
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    payload: so.Mapped[dict] = so.mapped_column(sa.JSON)
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default=OutboxStatus.PENDING.value)
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    next_attempt_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    lease_until: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    claimed_by: so.Mapped[str | None] = so.mapped_column(sa.String(80))
    sent_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    last_error: so.Mapped[str | None] = so.mapped_column(sa.Text)
    # The citizen's invitation this message carries (survey/invitations): its
    # clear recipient is blanked once no more sends are needed.
    invitation_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("invitation.id"), index=True
    )

    __table_args__ = (
        sa.Index("ix_outbox_due", "status", "next_attempt_at"),
        sa.CheckConstraint("channel IN ('email', 'webhook', 'sms', 'zalo')", name="channel"),
        sa.CheckConstraint("status IN ('pending', 'sent', 'dead')", name="status"),
    )


class Invitation(db.Model):
    """An invitation to rate a dossier filed online: its receipt token's link sent
    to the citizen by SMS, e-mail or Zalo, and one reminder if it is not rated.

    The contact is kept in clear only while a message may still have to go
    (``contact``, deleted after the last send, when the dossier is rated or when
    the token expires); its keyed hash stays, so the same contact is never
    invited twice for the same dossier.
    """

    __tablename__ = "invitation"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    token_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("receipt_token.id"))
    unit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("unit.id"))
    # "sms", "email" or "zalo": the outbox channel of its messages.
    via: so.Mapped[str] = so.mapped_column(sa.String(8))
    contact_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    contact: so.Mapped[str | None] = so.mapped_column(sa.String(254))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    # The token's expiry when invited: the contact is deleted then at the latest.
    expires_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    # When the reminder is to go if the dossier is still unrated; None once it
    # is queued or will never go, so the worker's range scan stays small.
    reminder_due_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime(), index=True)
    reminded_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    contact_deleted_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    token: so.Mapped[ReceiptToken] = so.relationship()
    unit: so.Mapped[Unit] = so.relationship()

    __table_args__ = (
        sa.UniqueConstraint("token_id", "contact_hash", name="uq_invitation_token_contact"),
        sa.Index("ix_invitation_unit_created", "unit_id", "created_at"),
        # The worker finds the expired invitations still holding a contact by a
        # range of this index, however many old ones there are.
        sa.Index("ix_invitation_held_expiry", "contact_deleted_at", "expires_at"),
        sa.CheckConstraint("via IN ('sms', 'email', 'zalo')", name="via"),
    )


class ScanMark(db.Model):
    """How far the worker has read the responses when looking for negative runs.

    One row per pass; a pass reads the responses after the mark of a pass at
    least one window ago (a primary-key range, however large the table).
    """

    __tablename__ = "scan_mark"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    # "runs" (negative runs) or "cases" (opening cases): each scan keeps its own marks.
    kind: so.Mapped[str] = so.mapped_column(sa.String(8), default="runs")
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow, index=True)
    last_response_id: so.Mapped[int]


class FeedbackCase(db.Model):
    """A response someone must act on: a harassment report, or a low rating with a
    comment. Opened by the worker, with a deadline in working days; while its
    response's feedback is not answered, it escalates at the deadline to the
    unit's officers and, ``SURVEY_CASE_DISTRICT_DAYS`` working days later, to the
    officers of the units above.
    """

    __tablename__ = "feedback_case"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    response_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("response.id"), unique=True)
    unit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("unit.id"))
    desk_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("desk.id"))
    reason: so.Mapped[str] = so.mapped_column(sa.String(12))
    opened_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    deadline_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    district_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    # 0: within its deadline; 1: overdue, the unit told; 2: the units above told.
    escalation_level: so.Mapped[int] = so.mapped_column(default=0)
    escalated_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    # An officer's appeal of a rating they consider unfair; only the district
    # decides. Upheld: the response is flagged "appeal" and left out of the figures.
    appeal_status: so.Mapped[str | None] = so.mapped_column(sa.String(10))
    appeal_reason: so.Mapped[str | None] = so.mapped_column(sa.Text)
    appealed_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("officer.id"))
    appealed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    decided_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("officer.id"))
    decided_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    __table_args__ = (
        sa.Index("ix_feedback_case_open", "escalation_level", "deadline_at"),
        sa.CheckConstraint(
            "appeal_status IS NULL OR appeal_status IN ('pending', 'upheld', 'rejected')",
            name="appeal_status",
        ),
        sa.CheckConstraint("reason IN ('harassment', 'low_rating')", name="reason"),
        sa.CheckConstraint("escalation_level BETWEEN 0 AND 2", name="escalation_level"),
    )


class PaperLayout(enum.StrEnum):
    #: Two A5 ballots side by side on an A4 sheet (landscape), cut in the middle.
    A4X2 = "a4x2"
    #: One ballot per A5 page.
    A5 = "a5"


class PaperBatch(db.Model):
    """Paper ballots printed at once for one desk: ``count`` ballots numbered from
    ``first_seq`` (survey/paper). Kept so that printed and entered can be compared."""

    __tablename__ = "paper_batch"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    unit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("unit.id"), index=True)
    desk_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("desk.id"))
    # The questions printed: entry reads the ballot with this version, whatever is current.
    questionnaire_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("questionnaire.id"))
    first_seq: so.Mapped[int]
    count: so.Mapped[int]
    layout: so.Mapped[str] = so.mapped_column(sa.String(8))
    # Every ballot of the batch is re-keyed by a second officer, not only a sample.
    recheck_all: so.Mapped[bool] = so.mapped_column(default=False)
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("officer.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    desk: so.Mapped[Desk] = so.relationship()
    unit: so.Mapped[Unit] = so.relationship()
    questionnaire: so.Mapped[QuestionnaireVersion] = so.relationship()
    created_by: so.Mapped[Officer | None] = so.relationship()

    __table_args__ = (
        sa.CheckConstraint("count BETWEEN 1 AND 10000", name="count"),
        sa.CheckConstraint("first_seq >= 1", name="first_seq"),
        sa.CheckConstraint(
            "layout IN ({})".format(", ".join(f"'{v}'" for v in PaperLayout)), name="layout"
        ),
    )


class PaperBallot(db.Model):
    """One printed ballot: its serial, and once entered, who entered it and its response.

    ``serial_key`` is the serial's letters and digits (``domain/ballots.key_of``):
    what the entry screen looks up, however the officer typed the hyphens.
    """

    __tablename__ = "paper_ballot"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    batch_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("paper_batch.id"), index=True)
    desk_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("desk.id"))
    unit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("unit.id"))
    seq: so.Mapped[int]
    serial: so.Mapped[str] = so.mapped_column(sa.String(48), unique=True)
    serial_key: so.Mapped[str] = so.mapped_column(sa.String(48), unique=True)
    # Chosen for re-keying by a second officer (SURVEY_PAPER_RECHECK_SHARE, or the
    # batch's recheck_all) when first entered.
    recheck: so.Mapped[bool] = so.mapped_column(default=False)
    entered_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    entered_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("officer.id"))
    response_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("response.id"), unique=True)

    batch: so.Mapped[PaperBatch] = so.relationship()
    desk: so.Mapped[Desk] = so.relationship()
    unit: so.Mapped[Unit] = so.relationship()
    entered_by: so.Mapped[Officer | None] = so.relationship()
    response: so.Mapped[SurveyResponse | None] = so.relationship()

    __table_args__ = (sa.UniqueConstraint("desk_id", "seq", name="uq_paper_ballot_desk_seq"),)


class PaperRecheck(db.Model):
    """A second officer's reading of an entered ballot (double entry).

    ``first_answers`` are the stored answers when it was re-keyed; when the two
    readings differ, the district decides which stands (``decision``: ``first``
    keeps the stored answers, ``second`` corrects the response to this reading).
    """

    __tablename__ = "paper_recheck"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    ballot_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("paper_ballot.id"), unique=True)
    officer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("officer.id"))
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    answers: so.Mapped[dict] = so.mapped_column(sa.JSON)
    first_answers: so.Mapped[dict] = so.mapped_column(sa.JSON)
    agrees: so.Mapped[bool]
    decision: so.Mapped[str | None] = so.mapped_column(sa.String(8))
    decided_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("officer.id"))
    decided_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    ballot: so.Mapped[PaperBallot] = so.relationship()
    officer: so.Mapped[Officer] = so.relationship(foreign_keys=[officer_id])
    decided_by: so.Mapped[Officer | None] = so.relationship(foreign_keys=[decided_by_id])

    __table_args__ = (
        sa.CheckConstraint("decision IS NULL OR decision IN ('first', 'second')", name="decision"),
    )


class Kiosk(db.Model):
    """A rating tablet at a desk (issue 21), paired with a one-time code.

    An officer creates the row with a pairing code (only its keyed hash is kept,
    valid ``SURVEY_KIOSK_CODE_MINUTES``); the tablet that types the code gets a
    long-lived credential in a cookie, of which only the keyed hash is stored. A
    revoked kiosk's credential still names the row, so ratings it queued offline
    before it learnt of the revocation are stored (flagged) rather than lost.
    """

    __tablename__ = "kiosk"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    desk_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("desk.id"), index=True)
    code_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    code_expires_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    credential_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64), unique=True)
    paired_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("officer.id"))
    revoked_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("officer.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    # When the kiosk's latest accepted rating was made: the minimum gap between
    # two ratings of one kiosk is measured from it.
    last_made_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    desk: so.Mapped[Desk] = so.relationship()
    created_by: so.Mapped[Officer | None] = so.relationship(foreign_keys=[created_by_id])


class KioskShift(db.Model):
    """An officer on duty at a desk, from ``started_at`` until ``ended_at``.

    A kiosk rating made during the shift carries the officer (``served_by_id``).
    One shift is open per desk at a time: a new one ends the previous one.
    """

    __tablename__ = "kiosk_shift"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    desk_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("desk.id"))
    officer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("officer.id"), index=True)
    started_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    ended_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    # "pin" (typed on the kiosk) or "phone" (the officer's own signed-in phone).
    started_via: so.Mapped[str] = so.mapped_column(sa.String(8))

    desk: so.Mapped[Desk] = so.relationship()
    officer: so.Mapped[Officer] = so.relationship()

    __table_args__ = (
        sa.Index("ix_kiosk_shift_desk_id_started_at", "desk_id", "started_at"),
        sa.CheckConstraint("started_via IN ('pin', 'phone')", name="started_via"),
    )


class OfficerPin(db.Model):
    """An officer's short PIN for starting a shift on a kiosk, stored hashed.

    ``failures`` wrong PINs in a row lock it until ``locked_until``, so the few
    thousand possible PINs cannot be tried at the counter.
    """

    __tablename__ = "officer_pin"

    officer_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("officer.id", ondelete="CASCADE"), primary_key=True
    )
    pin_hash: so.Mapped[str] = so.mapped_column(sa.String(256))
    failures: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    locked_until: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)


class InterviewAssignment(db.Model):
    """An interviewer's assignment: one commune, from one date to another (Vietnam
    dates, both included). Set by an officer of the district above the commune."""

    __tablename__ = "interview_assignment"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    interviewer_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("officer.id", ondelete="CASCADE"), index=True
    )
    unit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("unit.id"), index=True)
    starts_on: so.Mapped[date] = so.mapped_column(sa.Date)
    ends_on: so.Mapped[date] = so.mapped_column(sa.Date)
    created_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("officer.id", ondelete="SET NULL")
    )
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    interviewer: so.Mapped[Officer] = so.relationship(foreign_keys=[interviewer_id])
    unit: so.Mapped[Unit] = so.relationship()

    __table_args__ = (sa.CheckConstraint("ends_on >= starts_on", name="dates"),)

    def covers(self, unit_id: int, day: date) -> bool:
        return self.unit_id == unit_id and self.starts_on <= day <= self.ends_on


class Interview(db.Model):
    """When an interviewer's interview started and how long it took.

    Keyed by the response's ``submission_id`` rather than its id: the row is
    written before ``citizen.services.store_response`` inserts the response and
    commits both at once (the response's id is not known until then). The
    foreign key is checked at commit for that reason (deferred).
    """

    __tablename__ = "interview"

    submission_id: so.Mapped[str] = so.mapped_column(
        sa.String(36),
        sa.ForeignKey(
            "response.submission_id", ondelete="CASCADE", deferrable=True, initially="DEFERRED"
        ),
        primary_key=True,
    )
    interviewer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("officer.id"))
    started_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    duration_seconds: so.Mapped[int]

    __table_args__ = (
        sa.CheckConstraint("duration_seconds >= 0", name="duration"),
        sa.Index("ix_interview_interviewer_id_started_at", "interviewer_id", "started_at"),
    )
