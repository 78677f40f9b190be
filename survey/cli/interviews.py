"""``flask survey create-interviewer``, ``assign-interviewer`` and ``list-interviewers``:
the district's field interviewers from the command line (the same use cases as the
district's page, ``survey/interviews/services.py``)."""

from __future__ import annotations

import sys

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from survey.data.models import Officer
from survey.data.models import Role
from survey.data.queries import find_unit
from survey.domain.fieldwork import parse_day
from survey.extensions import db
from survey.interviews import services

_MESSAGES = {
    "bad_username": "A username has 3 to 64 lower-case letters, digits, '.', '_' or '-'.",
    "taken": "The username {username} is taken.",
    "no_name": "Give the interviewer's full name (--name).",
    "weak_password": "The password is too weak: at least 10 characters, not a common password, "
    "not containing the username.",
    "not_a_district": "{unit} has no communes: interviewers belong to a district or province.",
    "unknown_commune": "{code} is not a commune of {unit}: nothing was saved.",
    "bad_dates": "Give both days as dd/mm/yyyy (or yyyy-mm-dd), the last not before the first.",
    "too_long": "An assignment lasts at most {days} days.",
}


def _fail(exc: services.AccountError) -> click.ClickException:
    return click.ClickException(_MESSAGES[str(exc)].format(**exc.params))


def _district(code: str):
    unit = find_unit(code)
    if unit is None:
        raise click.ClickException(f"No unit with code {code}.")
    return unit


def _acting(username: str | None, unit) -> Officer | None:
    """The district officer the audit log names; they must manage ``unit``."""
    if not username:
        return None
    officer = db.session.scalar(
        sa.select(Officer).where(Officer.username == username.strip().lower())
    )
    if officer is None or not services.manages(officer, unit):
        raise click.ClickException(f"{username} is not an officer of {unit.name} or above it.")
    return officer


def register(group: AppGroup) -> None:
    @group.command("create-interviewer")
    @click.argument("username")
    @click.option("--name", "full_name", required=True, help="Full name.")
    @click.option("--unit", "unit_code", required=True, help="The district that manages them.")
    @click.option("--by", "by", help="The district officer creating the account (audit log).")
    @click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
    def create_interviewer(
        username: str, full_name: str, unit_code: str, by: str | None, password_stdin: bool
    ) -> None:
        """Create an interviewer account managed by a district (or province)."""
        unit = _district(unit_code)
        officer = _acting(by, unit)
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        try:
            created = services.create_interviewer(officer, unit, username, full_name, password)
        except services.AccountError as exc:
            raise _fail(exc) from None
        click.echo(f"Created interviewer {created.username} for {unit.name}.")

    @group.command("assign-interviewer")
    @click.argument("username")
    @click.argument("commune_code")
    @click.option("--from", "starts", required=True, help="First day (dd/mm/yyyy).")
    @click.option("--to", "ends", required=True, help="Last day (dd/mm/yyyy), included.")
    @click.option("--by", "by", help="The district officer assigning (audit log).")
    def assign_interviewer(
        username: str, commune_code: str, starts: str, ends: str, by: str | None
    ) -> None:
        """Assign an interviewer to a commune of their district for a range of dates."""
        interviewer = db.session.scalar(
            sa.select(Officer).where(
                Officer.username == username.strip().lower(), Officer.role == Role.INTERVIEWER
            )
        )
        if interviewer is None:
            raise click.ClickException(f"No interviewer named {username}.")
        unit = interviewer.unit
        officer = _acting(by, unit)
        try:
            services.assign(
                officer, unit, interviewer, commune_code, parse_day(starts), parse_day(ends)
            )
        except services.AccountError as exc:
            raise _fail(exc) from None
        click.echo(f"{interviewer.username} assigned to {commune_code.upper()}: {starts} – {ends}.")

    @group.command("list-interviewers")
    @click.argument("unit_code")
    def list_interviewers(unit_code: str) -> None:
        """The interviewers of a district with their assignments."""
        unit = _district(unit_code)
        found = services.interviewers_of(unit)
        for officer, rows in services.assignments_of(found).items():
            person = next(o for o in found if o.id == officer)
            spans = ", ".join(
                f"{a.unit.code} {a.starts_on:%d/%m/%Y}–{a.ends_on:%d/%m/%Y}" for a in rows
            )
            click.echo(f"{person.username}\t{person.full_name}\t{spans or '-'}")
