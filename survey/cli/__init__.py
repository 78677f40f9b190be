"""Command-line tools: ``flask --app wsgi survey <command>``."""

from __future__ import annotations

import re
import signal
import sys
import threading

import click
import sqlalchemy as sa
from flask import Flask
from flask import current_app
from flask.cli import AppGroup

from survey.citizen.links import poster_content
from survey.citizen.links import public_form_url
from survey.cli import demo
from survey.data import counting
from survey.data import rollup
from survey.data.audit import record
from survey.data.models import ApiKey
from survey.data.models import Desk
from survey.data.models import LoginFailure
from survey.data.models import Officer
from survey.data.models import Role
from survey.data.models import Unit
from survey.data.models import UnitLevel
from survey.data.models import utcnow
from survey.data.queries import ensure_questionnaire
from survey.data.queries import find_desk
from survey.data.queries import find_unit
from survey.district.calendar import CalendarRefused
from survey.district.calendar import set_calendar
from survey.extensions import db
from survey.integrity.guard import purge
from survey.integrity.services import active_desks
from survey.integrity.tokens import issue_api_key
from survey.invitations.services import forget_contacts
from survey.officers.accounts import NotACommuneOfficer
from survey.officers.accounts import check_password_strength
from survey.officers.accounts import end_all_sessions
from survey.officers.accounts import hash_password
from survey.officers.accounts import purge_failures
from survey.officers.accounts import set_leader
from survey.render import posters

# Codes go into URLs, QR codes, file names and PDFs: plain ASCII only (a Vietnamese
# letter in a code broke every download of its unit).
_CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{0,31}")

survey_cli = AppGroup("survey", help="Manage units, desks, questionnaires and demo data.")


@survey_cli.command("demo-data")
@click.option(
    "--responses/--no-responses", default=True, help="Also add a year of synthetic responses."
)
def demo_data(responses: bool) -> None:
    """Load the demo district (Cẩm Giàng) idempotently."""
    if not current_app.config["SURVEY_DEMO"]:
        raise click.ClickException("Demo data is refused outside demo mode (SURVEY_DEMO=1).")
    ensure_questionnaire()
    demo.load_units_and_desks()
    demo.load_officers()
    click.echo("Units, desks and demo officers: ready.")
    if responses:
        with click.progressbar(length=6 * 12 * 60, label="Synthetic responses") as bar:
            last = 0

            def advance(total: int) -> None:
                nonlocal last
                bar.update(total - last)
                last = total

            added = demo.load_responses(progress=advance)
        click.echo(
            f"Synthetic responses added: {added}" if added else "Responses exist: none added."
        )


@survey_cli.command("sync-questionnaires")
def sync_questionnaires() -> None:
    """Store the newest shipped questionnaire version if it is not stored yet."""
    row = ensure_questionnaire()
    click.echo(f"Questionnaire version {row.version} is current.")


@survey_cli.command("add-unit")
@click.argument("code")
@click.argument("name")
@click.option("--level", type=click.Choice([lvl.value for lvl in UnitLevel]), required=True)
@click.option("--parent", "parent_code", help="Code of the parent unit.")
def add_unit(code: str, name: str, level: str, parent_code: str | None) -> None:
    """Add an administrative unit."""
    code = code.strip().upper()
    if not _CODE.fullmatch(code):
        raise click.ClickException(
            "A unit code has ASCII letters, digits and dashes, at most 32 (e.g. HD-CG-LC)."
        )
    if db.session.scalar(sa.select(Unit).where(Unit.code == code)):
        raise click.ClickException(f"A unit with code {code} exists already.")
    parent = None
    if parent_code:
        parent = find_unit(parent_code)
        if parent is None:
            raise click.ClickException(f"No parent unit with code {parent_code}.")
    elif level != "province":
        raise click.ClickException("A district or commune needs --parent.")
    # A new unit follows the calendar of the unit above it (one calendar per district).
    cutoff = parent.report_cutoff_day if parent is not None else 1
    db.session.add(
        Unit(code=code, name=name.strip(), level=level, parent=parent, report_cutoff_day=cutoff)
    )
    db.session.commit()
    click.echo(f"Added {level} {code} {name}.")


@survey_cli.command("set-calendar")
@click.argument("unit_code")
@click.argument("day", type=int)
@click.option(
    "--recount",
    is_flag=True,
    help="Change it even though responses are stored (past periods change dates).",
)
def set_calendar_command(unit_code: str, day: int, recount: bool) -> None:
    """Set the reporting cut-off day of a district or province and every unit below it."""
    unit = find_unit(unit_code)
    if unit is None:
        raise click.ClickException(f"No unit with code {unit_code}.")
    try:
        changed = set_calendar(unit, day, recount=recount)
    except CalendarRefused as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Cut-off day {day} for {unit.name}: {changed} unit(s) changed.")


@survey_cli.command("add-desk")
@click.argument("code")
@click.argument("name")
@click.option("--unit", "unit_code", required=True, help="Code of the unit the desk belongs to.")
def add_desk(code: str, name: str, unit_code: str) -> None:
    """Add a desk; its code becomes part of the QR URL and must never change."""
    code = code.strip().upper()
    if not _CODE.fullmatch(code):
        raise click.ClickException(
            "A desk code has ASCII letters, digits and dashes, at most 32 (e.g. LC-01)."
        )
    unit = find_unit(unit_code)
    if unit is None:
        raise click.ClickException(f"No unit with code {unit_code}.")
    if db.session.scalar(sa.select(Desk).where(Desk.code == code)):
        raise click.ClickException(f"A desk with code {code} exists already.")
    db.session.add(Desk(code=code, name=name.strip(), unit=unit))
    db.session.commit()
    click.echo(f"Added desk {code}: {public_form_url(code)}")


@survey_cli.command("list-desks")
def list_desks() -> None:
    """Print every desk with its form and QR URLs."""
    for desk in db.session.scalars(sa.select(Desk).order_by(Desk.code)):
        url = public_form_url(desk.code)
        click.echo(f"{desk.code}\t{desk.unit.name}\t{url}\t{url}/qr.png")


def _read_password(password_stdin: bool, username: str) -> str:
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    problem = check_password_strength(password, username)
    if problem:
        raise click.ClickException(problem)
    return password


@survey_cli.command("create-officer")
@click.argument("username")
@click.option("--name", "full_name", required=True, help="Full name shown in the audit log.")
# Interviewers have their own command (create-interviewer): a district manages them.
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role if r != Role.INTERVIEWER]),
    required=True,
)
@click.option("--unit", "unit_code", help="The officer's unit (not for administrators).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option(
    "--leader",
    is_flag=True,
    help="A commune officer who sees every officer's figures of the commune.",
)
def create_officer(
    username: str,
    full_name: str,
    role: str,
    unit_code: str | None,
    password_stdin: bool,
    leader: bool,
) -> None:
    """Create an officer account (commune, district or admin)."""
    username = username.strip().lower()
    if not username.replace(".", "").replace("_", "").replace("-", "").isalnum():
        raise click.ClickException("A username has letters, digits, '.', '_' and '-' only.")
    if db.session.scalar(sa.select(Officer).where(Officer.username == username)):
        raise click.ClickException(f"An officer named {username} exists already.")
    unit = None
    if role != Role.ADMIN:
        if not unit_code:
            raise click.ClickException("A commune or district officer needs --unit.")
        unit = find_unit(unit_code)
        if unit is None:
            raise click.ClickException(f"No unit with code {unit_code}.")
        if (role, unit.level) not in {
            ("commune", "commune"),
            ("district", "district"),
            ("district", "province"),
        }:
            raise click.ClickException(f"A {role} officer cannot belong to a {unit.level}.")
    if leader and role != Role.COMMUNE:
        raise click.ClickException("Only a commune officer can be the commune's leader.")
    password = _read_password(password_stdin, username)
    db.session.add(
        Officer(
            username=username,
            full_name=full_name.strip(),
            role=role,
            unit_id=unit.id if unit else None,
            password_hash=hash_password(password),
            is_leader=leader,
        )
    )
    if leader:
        record("leader_set", unit=unit, detail=f"{username} (created)")
    db.session.commit()
    click.echo(f"Created {role} officer {username}" + (f" for {unit.name}." if unit else "."))


@survey_cli.command("set-leader")
@click.argument("username")
@click.option("--off", is_flag=True, help="No longer the commune's leader.")
def set_leader_command(username: str, off: bool) -> None:
    """Make a commune officer the commune's leader (sees every officer's figures), or not."""
    officer = db.session.scalar(
        sa.select(Officer).where(Officer.username == username.strip().lower())
    )
    if officer is None:
        raise click.ClickException(f"No officer named {username}.")
    try:
        set_leader(officer, not off)
    except NotACommuneOfficer:
        raise click.ClickException(
            f"{officer.username} is a {officer.role} officer: only a commune officer can be "
            "the commune's leader (district officers and administrators see the officers' "
            "figures of the communes below them anyway)."
        ) from None
    state = "no longer the leader" if off else "the leader"
    click.echo(f"{officer.username} is now {state} of {officer.unit.name}.")


@survey_cli.command("reset-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def reset_password(username: str, password_stdin: bool) -> None:
    """Set a new password for an officer, end every session of theirs, lift any sign-in lock."""
    officer = db.session.scalar(
        sa.select(Officer).where(Officer.username == username.strip().lower())
    )
    if officer is None:
        raise click.ClickException(f"No officer named {username}.")
    officer.password_hash = hash_password(_read_password(password_stdin, officer.username))
    officer.is_demo = False
    # A cookie copied before the reset must open nothing afterwards.
    end_all_sessions(officer)
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.username == officer.username))
    record("password_reset", officer=officer, detail="command line")
    db.session.commit()
    click.echo(f"Password of {officer.username} changed.")


@survey_cli.command("posters")
@click.argument("unit_code")
@click.option("--size", type=click.Choice(["A4", "A5"], case_sensitive=False), default="A4")
@click.option("--output", "output", type=click.Path(dir_okay=False), required=True)
def posters_command(unit_code: str, size: str, output: str) -> None:
    """Print every active desk's QR poster of a unit (and the units below it) into one PDF."""
    unit = find_unit(unit_code)
    if unit is None:
        raise click.ClickException(f"No unit with code {unit_code}.")
    desks = active_desks(unit)
    if not desks:
        raise click.ClickException(f"{unit.name} has no active desk.")
    contents = [poster_content(desk) for desk in desks]
    with click.progressbar(length=len(contents), label=f"Posters ({size.upper()})") as bar:
        data = posters.render_posters(contents, size.upper(), progress=bar.update)
    with open(output, "wb") as fh:
        fh.write(data)
    click.echo(f"{len(contents)} posters of {unit.name} written to {output}.")


@survey_cli.command("retire-desk")
@click.argument("code")
@click.option("--replaced-by", "new_code", help="The desk whose form the old code forwards to.")
def retire_desk(code: str, new_code: str | None) -> None:
    """Retire a desk code; its posters then forward to the new desk (or say it is retired)."""
    desk = find_desk(code)
    if desk is None:
        raise click.ClickException(f"No desk with code {code}.")
    new = None
    if new_code:
        new = find_desk(new_code)
        if new is None:
            raise click.ClickException(f"No desk with code {new_code}.")
        if new.id == desk.id or not new.active:
            raise click.ClickException("The replacement must be another, active desk.")
    desk.active = False
    desk.replaced_by = new
    record("retire_desk", unit=desk.unit, detail=f"{desk.code} → {new.code if new else '-'}")
    db.session.commit()
    if new:
        click.echo(f"Desk {desk.code} retired; its URL forwards to {public_form_url(new.code)}.")
    else:
        click.echo(f"Desk {desk.code} retired; its URL now says the code is no longer used.")


@survey_cli.command("create-api-key")
@click.argument("unit_code")
@click.option("--label", help="What the key is for, e.g. the one-stop software's name.")
def create_api_key_command(unit_code: str, label: str | None) -> None:
    """Create an API key for a unit's one-stop software; the key is printed once."""
    unit = find_unit(unit_code)
    if unit is None:
        raise click.ClickException(f"No unit with code {unit_code}.")
    key = issue_api_key(unit, label)
    click.echo(f"API key for {unit.name} (shown only now, store it safely):")
    click.echo(key)


@survey_cli.command("revoke-api-key")
@click.argument("prefix")
def revoke_api_key(prefix: str) -> None:
    """Revoke the API key that starts with PREFIX (the first 10 characters)."""
    rows = list(db.session.scalars(sa.select(ApiKey).where(ApiKey.prefix == prefix[:10])))
    if len(rows) != 1:
        raise click.ClickException(f"No single API key starts with {prefix}.")
    rows[0].revoked_at = utcnow()
    record("api_key", unit=rows[0].unit, detail=f"revoked {rows[0].prefix}…")
    db.session.commit()
    click.echo(f"API key {rows[0].prefix}… revoked.")


@survey_cli.command("purge")
def purge_command() -> None:
    """Delete expired rate-limit hashes, old failed sign-ins and the contacts of long-closed
    complaints (run daily)."""
    result = purge()
    failures = purge_failures(utcnow())
    db.session.commit()
    # The worker deletes invitations' contacts on each pass; the daily purge does
    # it too, so an expired link's contact goes even while no worker runs.
    forgotten, _cancelled = forget_contacts(utcnow())
    click.echo(
        f"Deleted {result.rate_events} rate-limit records and {failures} old failed sign-ins; "
        f"cleared {result.contacts} contact details."
    )
    click.echo(f"Deleted the contacts of {forgotten} invitations that need them no more.")


def _units_from(unit_code: str | None) -> list[Unit]:
    if unit_code is None:
        return list(db.session.scalars(sa.select(Unit).order_by(Unit.id)))
    unit = find_unit(unit_code)
    if unit is None:
        raise click.ClickException(f"No unit with code {unit_code!r}.")
    return unit.subtree()


@survey_cli.command("rollup-rebuild")
@click.option("--unit", "unit_code", help="Only this unit and the units below it.")
def rollup_rebuild(unit_code: str | None) -> None:
    """Recount the report rollup from the stored responses (idempotent, safe while serving).

    Needed after writing responses or a unit's report_cutoff_day without the
    application (bulk SQL loads, manual fixes).
    """
    units = _units_from(unit_code)
    with click.progressbar(length=len(units), label="Recounting units") as bar:
        done = rollup.rebuild(units, progress=lambda _unit: bar.update(1))
    click.echo(f"Rollup recounted for {done} unit(s).")


@survey_cli.command("rollup-count")
@click.option(
    "--every",
    type=click.FloatRange(min=0.05),
    default=None,
    metavar="SECONDS",
    help="Keep counting every SECONDS until stopped (SIGTERM or Ctrl-C).",
)
def rollup_count(every: float | None) -> None:
    """Count the responses waiting for the rollup (idempotent, safe while serving).

    Form posts store their responses uncounted; each web worker's counting thread
    counts them within a second or so. This does the same at once (after a stop,
    or with SURVEY_ROLLUP_BACKGROUND off), or with --every in a process of its own.
    """
    if every is None:
        done = rollup.count_waiting()
        click.echo(f"Counted {done} waiting response(s) into the rollup.")
        return
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    click.echo(f"Counting waiting responses into the rollup every {every:g} s.")
    counting.run(every, stop)


@survey_cli.command("rollup-check")
@click.option("--unit", "unit_code", help="Only this unit and the units below it.")
def rollup_check(unit_code: str | None) -> None:
    """Compare the report rollup with a full recount; exit status 1 if they differ."""
    units = _units_from(unit_code)
    differing = 0
    for unit in units:
        for key, (held, fresh) in sorted(rollup.differences(unit).items()):
            differing += 1
            month, question, field, channel, value = key
            click.echo(
                f"{unit.code} {month} {question}={value!r} field={field!r} "
                f"channel={channel}: rollup {held}, recount {fresh}"
            )
    if differing:
        click.echo(f"{differing} count(s) differ: run `flask survey rollup-rebuild`.", err=True)
        sys.exit(1)
    waiting = rollup.waiting_total()
    click.echo(
        f"Rollup matches a full recount for {len(units)} unit(s) "
        f"({waiting} response(s) waiting to be counted, included)."
    )


def init_app(app: Flask) -> None:
    from survey.cli import interviews
    from survey.cli import invitations
    from survey.cli import notify

    notify.register(survey_cli)
    interviews.register(survey_cli)
    invitations.register(survey_cli)
    app.cli.add_command(survey_cli)
