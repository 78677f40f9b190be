"""Command-line tools: ``flask --app wsgi survey <command>``."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import Flask
from flask import current_app
from flask.cli import AppGroup

from . import demo
from .extensions import db
from .models import Desk
from .models import Unit
from .models import UnitLevel
from .services import ensure_questionnaire
from .views.public import public_form_url


survey_cli = AppGroup("survey", help="Manage units, desks, questionnaires and demo data.")


@survey_cli.command("demo-data")
@click.option("--responses/--no-responses", default=True, help="Also add a year of synthetic responses.")
def demo_data(responses: bool) -> None:
    """Load the demo district (Cẩm Giàng) idempotently."""
    if not current_app.config["SURVEY_DEMO"]:
        raise click.ClickException("Demo data is refused outside demo mode (SURVEY_DEMO=1).")
    ensure_questionnaire()
    demo.load_units_and_desks()
    click.echo("Units and desks: ready.")
    if responses:
        with click.progressbar(length=6 * 12 * 60, label="Synthetic responses") as bar:
            last = 0

            def advance(total: int) -> None:
                nonlocal last
                bar.update(total - last)
                last = total

            added = demo.load_responses(progress=advance)
        click.echo(f"Synthetic responses added: {added}" if added else "Responses exist: none added.")


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
    if db.session.scalar(sa.select(Unit).where(Unit.code == code)):
        raise click.ClickException(f"A unit with code {code} exists already.")
    parent = None
    if parent_code:
        parent = db.session.scalar(sa.select(Unit).where(Unit.code == parent_code.strip().upper()))
        if parent is None:
            raise click.ClickException(f"No parent unit with code {parent_code}.")
    elif level != "province":
        raise click.ClickException("A district or commune needs --parent.")
    db.session.add(Unit(code=code, name=name.strip(), level=level, parent=parent))
    db.session.commit()
    click.echo(f"Added {level} {code} {name}.")


@survey_cli.command("add-desk")
@click.argument("code")
@click.argument("name")
@click.option("--unit", "unit_code", required=True, help="Code of the unit the desk belongs to.")
def add_desk(code: str, name: str, unit_code: str) -> None:
    """Add a desk; its code becomes part of the QR URL and must never change."""
    code = code.strip().upper()
    if not code.replace("-", "").isalnum() or len(code) > 32:
        raise click.ClickException("A desk code has letters, digits and dashes, at most 32.")
    unit = db.session.scalar(sa.select(Unit).where(Unit.code == unit_code.strip().upper()))
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


def init_app(app: Flask) -> None:
    app.cli.add_command(survey_cli)
