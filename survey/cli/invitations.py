"""``flask survey invitations``: invitations sent and answered, for an operator or a
script that has no browser."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from survey.data.queries import find_unit
from survey.domain.periods import PeriodError
from survey.domain.periods import parse_typed_period
from survey.domain.periods import period_containing
from survey.domain.periods import today_in_vietnam
from survey.invitations import services


def register(group: AppGroup) -> None:
    @group.command("invitations")
    @click.argument("unit_code")
    @click.option("--period", help="2026-11, Q3/2026, 2026 … (default: the current month).")
    def invitations_command(unit_code: str, period: str | None) -> None:
        """Invitations to rate made in a period: sent, answered, waiting, not delivered
        (the unit and the units below it; a district also per unit below it)."""
        unit = find_unit(unit_code)
        if unit is None:
            raise click.ClickException(f"No unit with code {unit_code}.")
        try:
            chosen = (
                parse_typed_period(period, unit.report_cutoff_day)
                if period
                else period_containing(today_in_vietnam(), "month", unit.report_cutoff_day)
            )
        except PeriodError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"{unit.code}\t{chosen.code}\t{chosen.start:%d/%m/%Y}–{chosen.end:%d/%m/%Y}")
        click.echo("unit\tinvited\tsent\tanswered\twaiting\tnot_delivered")
        rows = [(r.unit.code, r.counts) for r in services.rows_by_child(unit, chosen)]
        rows.append(("total" if rows else unit.code, services.counts(unit, chosen)))
        for code, c in rows:
            click.echo(f"{code}\t{c.invited}\t{c.sent}\t{c.answered}\t{c.waiting}\t{c.failed}")
