"""Invitations to rate dossiers filed online: the use cases.

Most citizens now file online and never stand at the desk; the one-stop
software gives their phone number or e-mail address with the dossier's token
request (``POST /api/v1/tokens``), and the service sends them the token's
link. An invitation is an outbox message (survey/notify): sent by the worker,
retried with back-off, marked sent only once the gateway accepted it, and sent
again with the same key after a lost answer.

Privacy: the contact is kept in clear only while a message may still have to
go. Its keyed hash (per dossier, so it links nothing across dossiers) stays for
de-duplication; the clear contact leaves the invitation and its outbox rows
after the last send (:func:`note_sent`, in the worker's confirming
transaction), with the rating (:func:`forget_for_rating`, in the response's
transaction), or when the token expires (:func:`forget_contacts`, each worker
pass and the daily purge).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from survey.citizen.links import token_url
from survey.data.models import Invitation
from survey.data.models import OutboxMessage
from survey.data.models import OutboxStatus
from survey.data.models import ReceiptToken
from survey.data.models import Unit
from survey.data.models import utcnow
from survey.domain.channels import Channel
from survey.domain.contacts import ContactError
from survey.domain.contacts import ContactKind
from survey.domain.contacts import normalise_email
from survey.domain.contacts import normalise_phone
from survey.domain.periods import Period
from survey.extensions import db
from survey.integrity.guard import keyed_hash
from survey.invitations import messages
from survey.reach.services import Sent
from survey.reach.services import register_sent_counter

#: Different contacts one dossier may be invited at (the same one is sent once).
MAX_PER_DOSSIER = 3
VIAS = ("sms", "zalo", "email")


# -- reading the request ----------------------------------------------------


@dataclass(frozen=True)
class ContactRequest:
    kind: ContactKind
    contact: str  # normalised: +84xxxxxxxxx or the address
    via: str  # "sms", "zalo" or "email"


class ContactInvalid(Exception):
    """The contact fields of a token request cannot be used; nothing was stored.

    ``fields``: stable English reasons for the integrator; ``messages``: the
    same in the request's language (Vietnamese unless asked otherwise), for
    the clerk who typed the contact.
    """

    def __init__(self, fields: dict[str, str], messages: dict[str, str]) -> None:
        super().__init__(", ".join(fields))
        self.fields = fields
        self.messages = messages


def _configured(via: str) -> bool:
    config = current_app.config
    if via == "sms":
        return bool(config["SURVEY_SMS_GATEWAY_URL"])
    if via == "zalo":
        return bool(config["SURVEY_ZALO_WEBHOOK_URL"])
    return bool(config["SURVEY_SMTP_HOST"] and config["SURVEY_MAIL_FROM"])


def read_contact(body: dict) -> ContactRequest | None:
    """The contact a token request asks to invite (``phone`` or ``email``, and
    ``send_via`` ``sms``/``zalo`` for a phone), or ``None`` when it names none.

    :raise ContactInvalid: a malformed number or address, both given, or a
        channel this service has not been set up for.
    """
    phone, email, via = body.get("phone"), body.get("email"), body.get("send_via")
    phone = None if phone in (None, "") else phone
    email = None if email in (None, "") else email
    fields: dict[str, str] = {}
    texts: dict[str, str] = {}
    if phone is None and email is None:
        if via is not None:
            fields["send_via"] = "needs a phone or an email"
            texts["send_via"] = _("Give a phone number or an e-mail address to send to.")
            raise ContactInvalid(fields, texts)
        return None
    if phone is not None and email is not None:
        fields["email"] = "give either a phone or an email, not both"
        texts["email"] = _("Give either a phone number or an e-mail address, not both.")
        raise ContactInvalid(fields, texts)
    if phone is not None:
        if via is None:
            via = "sms"
        if via not in ("sms", "zalo"):
            fields["send_via"] = "sms or zalo for a phone number"
            texts["send_via"] = _("A phone number is sent to by SMS or Zalo.")
        try:
            contact = normalise_phone(phone)
        except ContactError as exc:
            contact = ""
            if exc.reason == "not_mobile":
                fields["phone"] = "a landline: give a mobile number (03, 05, 07, 08, 09)"
                texts["phone"] = _(
                    "This is a landline number; give a mobile number "
                    "(starting with 03, 05, 07, 08 or 09)."
                )
            else:
                fields["phone"] = "a Vietnamese mobile number: 0xxxxxxxxx or +84xxxxxxxxx"
                texts["phone"] = _(
                    "Not a Vietnamese mobile number: write 10 digits starting with 0 "
                    "(0912 345 678) or +84 and 9 digits (+84 912 345 678)."
                )
        kind = ContactKind.PHONE
    else:
        if via not in (None, "email"):
            fields["send_via"] = "an e-mail address is sent by email"
            texts["send_via"] = _("An e-mail address is sent to by e-mail.")
        via = "email"
        try:
            contact = normalise_email(email)
        except ContactError:
            contact = ""
            fields["email"] = "an e-mail address such as name@example.vn"
            texts["email"] = _(
                "Not a valid e-mail address: write it as name@example.vn, without spaces."
            )
        kind = ContactKind.EMAIL
    if not fields and not _configured(via):
        fields["send_via"] = f"{via} is not set up on this service"
        texts["send_via"] = _(
            "This service cannot send by %(channel)s yet: ask its administrator.",
            channel={"sms": "SMS", "zalo": "Zalo", "email": "e-mail"}[via],
        )
    if fields:
        raise ContactInvalid(fields, texts)
    return ContactRequest(kind, contact, via)


# -- inviting ---------------------------------------------------------------


class InvitationRefused(Exception):
    """The dossier has been invited at as many contacts as allowed."""


@dataclass(frozen=True)
class Invited:
    invitation: Invitation
    created: bool  # False: this contact was invited for this dossier already


def contact_hash(token: ReceiptToken, contact: str) -> str:
    """Keyed per dossier: the same number gives unrelated hashes on two dossiers, so
    the kept hashes link no citizen's dossiers together."""
    return keyed_hash("invitation", f"{token.id}:{contact}")


def _text(invitation: Invitation, token: ReceiptToken, reminder: bool) -> messages.InvitationText:
    return messages.InvitationText(
        unit_code=token.unit.code,
        unit_name=token.unit.name,
        link=token_url(token),
        token=token.code,
        expires_at=token.expires_at,
        reminder=reminder,
    )


def _message(invitation: Invitation, token: ReceiptToken, reminder: bool, now: datetime):
    key = f"invitation-{invitation.id}-{'reminder' if reminder else 'first'}"
    text = _text(invitation, token, reminder)
    return OutboxMessage(
        key=key,
        channel=invitation.via,
        recipient=invitation.contact,
        kind="reminder" if reminder else "invitation",
        unit_id=invitation.unit_id,
        subject=messages.subject(text),
        body=messages.sms(text) if invitation.via == "sms" else messages.body(text),
        payload=messages.payload(text, key) if invitation.via == "zalo" else {},
        next_attempt_at=now,
        invitation_id=invitation.id,
    )


def invite(token: ReceiptToken, request: ContactRequest, now: datetime | None = None) -> Invited:
    """Queue the invitation to rate ``token``'s dossier, in one transaction with its
    outbox message. The same contact again for the same dossier queues nothing.

    :raise InvitationRefused: ``MAX_PER_DOSSIER`` other contacts were invited.
    """
    now = now or utcnow()
    digest = contact_hash(token, request.contact)
    existing = db.session.scalar(
        sa.select(Invitation).where(
            Invitation.token_id == token.id, Invitation.contact_hash == digest
        )
    )
    if existing is not None:
        db.session.rollback()
        return Invited(existing, created=False)
    others = db.session.scalar(
        sa.select(sa.func.count(Invitation.id)).where(Invitation.token_id == token.id)
    )
    if others >= MAX_PER_DOSSIER:
        db.session.rollback()
        raise InvitationRefused(token.code)
    days = current_app.config["SURVEY_INVITATION_REMINDER_DAYS"]
    reminder_at = now + timedelta(days=days) if days > 0 else None
    if reminder_at is not None and reminder_at >= token.expires_at:
        reminder_at = None  # the link would be dead before the reminder
    invitation = Invitation(
        token_id=token.id,
        unit_id=token.unit_id,
        via=request.via,
        contact_hash=digest,
        contact=request.contact,
        created_at=now,
        expires_at=token.expires_at,
        reminder_due_at=reminder_at,
    )
    db.session.add(invitation)
    try:
        db.session.flush()
        db.session.add(_message(invitation, token, reminder=False, now=now))
        db.session.commit()
    except sa.exc.IntegrityError:
        # The same contact sent twice at once (a retried request): one wins.
        db.session.rollback()
        existing = db.session.scalar(
            sa.select(Invitation).where(
                Invitation.token_id == token.id, Invitation.contact_hash == digest
            )
        )
        if existing is None:
            raise
        return Invited(existing, created=False)
    return Invited(invitation, created=True)


# -- the worker's pass and the contact's deletion ---------------------------


@dataclass
class PassReport:
    reminders: int = 0
    forgotten: int = 0
    cancelled: int = 0
    errors: list[str] = field(default_factory=list)


_I = Invitation.__table__
_O = OutboxMessage.__table__
_T = ReceiptToken.__table__


def forget(invitation_ids: list[int], reason: str, now: datetime) -> tuple[int, int]:
    """Delete the clear contact of these invitations, in the caller's transaction:
    from the invitation (no reminder left either) and from every outbox row that
    carried it; their unsent messages are given up with ``reason``. Returns how
    many contacts were deleted and how many messages cancelled."""
    if not invitation_ids:
        return 0, 0
    forgotten = cancelled = 0
    for start in range(0, len(invitation_ids), 500):
        ids = invitation_ids[start : start + 500]
        cancelled += db.session.execute(
            sa.update(_O)
            .where(_O.c.invitation_id.in_(ids), _O.c.status == OutboxStatus.PENDING.value)
            .values(status=OutboxStatus.DEAD.value, lease_until=None, last_error=reason)
        ).rowcount
        db.session.execute(sa.update(_O).where(_O.c.invitation_id.in_(ids)).values(recipient=""))
        forgotten += db.session.execute(
            sa.update(_I)
            .where(_I.c.id.in_(ids), _I.c.contact_deleted_at.is_(None))
            .values(contact=None, contact_deleted_at=now, reminder_due_at=None)
        ).rowcount
    return forgotten, cancelled


def forget_for_rating(token_id: int, now: datetime) -> None:
    """The dossier is being rated: its invitations' contacts go in the same
    transaction as the response (and their unsent messages are cancelled)."""
    ids = list(
        db.session.scalars(
            sa.select(_I.c.id).where(_I.c.token_id == token_id, _I.c.contact_deleted_at.is_(None))
        )
    )
    forget(ids, "not sent: the dossier was rated", now)


def note_sent(invitation_id: int, kind: str, now: datetime) -> None:
    """One of the invitation's messages was accepted (in the worker's confirming
    transaction). After the last send the contact is deleted at once; after a
    first message that was held up by a failing gateway, the reminder is moved
    to a full delay after it, so the two never arrive together."""
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.contact_deleted_at is not None:
        return
    if kind == "invitation" and invitation.reminder_due_at is not None:
        days = current_app.config["SURVEY_INVITATION_REMINDER_DAYS"]
        earliest = now + timedelta(days=days)
        if days > 0 and earliest < invitation.expires_at:
            if invitation.reminder_due_at < earliest:
                invitation.reminder_due_at = earliest
            return
    forget([invitation_id], "not needed", now)


def queue_reminders(now: datetime) -> int:
    """Queue the one reminder of each invitation due one, if its dossier is still
    unrated and its first message went out; one commit each.

    Reads a range of the ``reminder_due_at`` index: the column is cleared once
    the reminder is queued or can never go.
    """
    first_sent = sa.exists().where(
        _O.c.invitation_id == _I.c.id,
        _O.c.kind == "invitation",
        _O.c.status == OutboxStatus.SENT.value,
    )
    first_dead = sa.exists().where(
        _O.c.invitation_id == _I.c.id,
        _O.c.kind == "invitation",
        _O.c.status == OutboxStatus.DEAD.value,
    )
    due = db.session.execute(
        sa.select(
            _I.c.id,
            first_sent.label("first_sent"),
            first_dead.label("first_dead"),
            _T.c.used_at,
            _T.c.expires_at,
        )
        .join(_T, _T.c.id == _I.c.token_id)
        # A deleted contact's reminder_due_at is cleared with it.
        .where(_I.c.reminder_due_at <= now)
        .order_by(_I.c.id)
    ).all()
    db.session.rollback()
    queued = 0
    for row in due:
        usable = row.used_at is None and row.expires_at > now
        if not row.first_sent and not row.first_dead and usable:
            continue  # the first message is still being retried
        values = {"reminder_due_at": None}
        if row.first_sent and usable:
            values["reminded_at"] = now
        marked = db.session.execute(
            sa.update(_I)
            .where(_I.c.id == row.id, _I.c.reminder_due_at.is_not(None))
            .values(**values)
        ).rowcount
        if marked != 1:  # another worker took it
            db.session.rollback()
            continue
        if "reminded_at" in values:
            invitation = db.session.get(Invitation, row.id)
            db.session.add(_message(invitation, invitation.token, reminder=True, now=now))
        try:
            db.session.commit()
        except sa.exc.IntegrityError:
            db.session.rollback()
            continue
        queued += "reminded_at" in values
    return queued


def forget_contacts(now: datetime) -> tuple[int, int]:
    """Delete the contacts of invitations whose link has expired (unsent messages
    are given up: the link would not work); one commit. Returns how many contacts
    were deleted and how many messages cancelled.

    The other deletions happen when they become due: after the last send
    (:func:`note_sent`) and with the rating (:func:`forget_for_rating`).
    """
    ids = list(
        db.session.scalars(
            sa.select(_I.c.id)
            .where(_I.c.contact_deleted_at.is_(None), _I.c.expires_at <= now)
            .order_by(_I.c.id)
        )
    )
    result = forget(ids, "not sent: expired", now)
    db.session.commit()
    return result


def run_due(now: datetime | None = None) -> PassReport:
    """The worker's part for invitations before it sends: contacts of expired links,
    then the reminders due."""
    now = now or utcnow()
    report = PassReport()
    report.forgotten, report.cancelled = forget_contacts(now)
    report.reminders = queue_reminders(now)
    return report


# -- sent and answered ------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    invited: int = 0  # invitations made in the period
    sent: int = 0  # of those, the first or the reminder accepted by the gateway/server
    answered: int = 0  # of those sent, the dossier rated (through the link)
    waiting: int = 0  # not sent yet (queued, or being retried)
    failed: int = 0  # given up (refused for good or out of attempts)

    @property
    def rate(self) -> float | None:
        return self.answered / self.sent if self.sent else None


def _counts_by_unit(unit_ids: list[int], period: Period) -> dict[int, Counts]:
    """Per unit: invitations made in the period, by the state of their first
    message (each invitation has exactly one), and the dossiers rated."""
    start, end = period.utc_bounds()
    sent = _O.c.status == OutboxStatus.SENT.value
    one = sa.literal(1)
    rows = db.session.execute(
        sa.select(
            _I.c.unit_id,
            sa.func.count(),
            sa.func.sum(sa.case((sent, one), else_=0)),
            sa.func.sum(sa.case((sa.and_(sent, _T.c.used_at.is_not(None)), one), else_=0)),
            sa.func.sum(sa.case((_O.c.status == OutboxStatus.PENDING.value, one), else_=0)),
        )
        .join(_T, _T.c.id == _I.c.token_id)
        .join(_O, sa.and_(_O.c.invitation_id == _I.c.id, _O.c.kind == "invitation"))
        .where(_I.c.unit_id.in_(unit_ids), _I.c.created_at >= start, _I.c.created_at < end)
        .group_by(_I.c.unit_id)
    ).all()
    out = {}
    for unit_id, invited, n_sent, n_answered, n_waiting in rows:
        n_sent, n_answered, n_waiting = int(n_sent or 0), int(n_answered or 0), int(n_waiting or 0)
        out[unit_id] = Counts(
            invited=invited,
            sent=n_sent,
            answered=n_answered,
            waiting=n_waiting,
            failed=invited - n_sent - n_waiting,
        )
    return out


def _add(a: Counts, b: Counts) -> Counts:
    return Counts(
        a.invited + b.invited,
        a.sent + b.sent,
        a.answered + b.answered,
        a.waiting + b.waiting,
        a.failed + b.failed,
    )


def counts(unit: Unit, period: Period) -> Counts:
    """Invitations of the unit and the units below it made in the period."""
    total = Counts()
    for part in _counts_by_unit(unit.subtree_ids(), period).values():
        total = _add(total, part)
    return total


def sent_answered(unit: Unit, period: Period) -> tuple[int, int]:
    """``(sent, answered)``: invitations made in the period (unit and units below)
    that reached the citizen, and how many of those dossiers were rated."""
    c = counts(unit, period)
    return c.sent, c.answered


@dataclass(frozen=True)
class UnitRow:
    unit: Unit
    counts: Counts


def rows_by_child(unit: Unit, period: Period) -> list[UnitRow]:
    """One row per unit directly below ``unit`` (each with its own subtree), for the
    district's table; a commune has none."""
    if not unit.children:
        return []
    by_unit = _counts_by_unit(unit.subtree_ids(), period)
    rows = []
    for child in sorted(unit.children, key=lambda u: u.name):
        total = Counts()
        for unit_id in child.subtree_ids():
            total = _add(total, by_unit.get(unit_id, Counts()))
        rows.append(UnitRow(child, total))
    return rows


def reach_counter(unit: Unit, period: Period) -> Sent:
    """Invitations sent and answered, for the response-rate page (``/units/<unit>/reach``)."""
    c = counts(unit, period)
    return Sent(handed_out=c.sent, answered=c.answered)


def init_app(app) -> None:
    """Count invitations on the response-rate page beside receipt links and ballots."""
    register_sent_counter(Channel.INVITATION, reach_counter)
