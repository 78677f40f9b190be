"""``flask survey worker``, ``send-due``, ``outbox``, ``check-channels``,
``set-officer-email`` and ``set-alert-rule``: alerts and their delivery."""

from __future__ import annotations

import signal
import socket
import threading
from urllib.parse import urlsplit

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from survey.data import counting
from survey.data.models import Officer
from survey.data.queries import find_unit
from survey.domain.alerts import RuleError
from survey.extensions import db
from survey.notify import channels
from survey.notify import rules as alert_rules
from survey.notify import worker
from survey.officers.accounts import ProfileError
from survey.officers.accounts import update_contact


def _print(report: worker.Report) -> None:
    click.echo(
        f"Runs and cases found: {report.raised}; messages queued: {report.queued}; "
        f"sent: {report.sent}; failed: {report.failed} (given up: {report.dead}); "
        f"invitation contacts deleted: {report.forgotten}."
    )
    for error in report.errors[:20]:
        click.echo(f"  {error}", err=True)


def _check_invitation_channels(config) -> int:
    """The SMS gateway answers on its port (nothing is sent: a test would be a real
    SMS), and the Zalo bridge takes a signed ``ping``; returns the problems found."""
    problems = 0
    url = config["SURVEY_SMS_GATEWAY_URL"]
    if url:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            socket.create_connection((parts.hostname, port), timeout=10).close()
            click.echo(f"SMS gateway: {parts.hostname}:{port} answers (no SMS sent).")
        except OSError as exc:
            click.echo(f"SMS gateway: cannot connect to {parts.hostname}:{port}: {exc}", err=True)
            problems += 1
    zalo = config["SURVEY_ZALO_WEBHOOK_URL"]
    if zalo:
        try:
            channels.post_webhook(
                zalo,
                config["SURVEY_ZALO_WEBHOOK_SECRET"] or config["SURVEY_WEBHOOK_SECRET"],
                "ping",
                {"id": "ping", "type": "ping"},
                config["SURVEY_WEBHOOK_TIMEOUT"],
            )
            click.echo("Zalo bridge: OK.")
        except channels.SendError as exc:
            click.echo(f"Zalo bridge: {exc}", err=True)
            problems += 1
    return problems


def register(group: AppGroup) -> None:
    @group.command("worker")
    @click.option(
        "--interval",
        type=float,
        default=None,
        help="Seconds between passes (SURVEY_WORKER_INTERVAL).",
    )
    def worker_command(interval: float | None) -> None:
        """Send alerts and messages until stopped (SIGTERM or Ctrl-C finish the message
        in flight, then stop)."""
        stop = threading.Event()

        def request_stop(signum, frame) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        # The rollup's counting too, in a thread of this process: web workers then
        # need not count (SURVEY_ROLLUP_BACKGROUND=0), and their requests never
        # wait for it (survey/data/counting.py).
        app = current_app._get_current_object()

        def count_rollup() -> None:
            with app.app_context():
                counting.run(app.config["SURVEY_ROLLUP_COUNT_DELAY_SECONDS"], stop)

        counter = threading.Thread(target=count_rollup, name="rollup-counter", daemon=True)
        counter.start()
        worker.run(interval or current_app.config["SURVEY_WORKER_INTERVAL"], stop)
        counter.join(timeout=30)

    @group.command("send-due")
    def send_due_command() -> None:
        """One pass of the worker, for cron or a systemd timer: find runs, queue due
        alerts, send due messages, then exit."""
        worker.relax_sqlite_sync()
        _print(worker.tick())

    @group.command("outbox")
    @click.option("--retry", is_flag=True, help="Queue again the messages given up on.")
    def outbox_command(retry: bool) -> None:
        """How many messages wait, were sent and were given up on."""
        if retry:
            click.echo(f"Queued again: {worker.retry_dead()}")
        counts = worker.outbox_counts()
        for status in ("pending", "sent", "dead"):
            click.echo(f"{status}\t{counts.get(status, 0)}")

    @group.command("cases")
    def cases_command() -> None:
        """Cases (harassment reports, low ratings with a comment) by state."""
        from survey.notify.cases import overdue_counts

        for state, count in overdue_counts().items():
            click.echo(f"{state}\t{count}")

    @group.command("check-channels")
    def check_channels() -> None:
        """Connect to the SMTP server (STARTTLS, sign-in) and the webhook, sending nothing
        but a signed ping to the webhook; say what is wrong."""
        config = current_app.config
        problems = 0
        if config["SURVEY_SMTP_HOST"]:
            if not config["SURVEY_MAIL_FROM"]:
                click.echo("E-mail: SURVEY_MAIL_FROM is not set.", err=True)
                problems += 1
            try:
                channels.check_smtp(channels.SmtpSettings.from_config(config))
                click.echo(f"E-mail: {config['SURVEY_SMTP_HOST']}:{config['SURVEY_SMTP_PORT']} OK.")
            except channels.SendError as exc:
                click.echo(f"E-mail: {exc}", err=True)
                problems += 1
        else:
            click.echo("E-mail: SURVEY_SMTP_HOST is not set; e-mails wait in the outbox.")
        if config["SURVEY_WEBHOOK_URL"]:
            if not config["SURVEY_WEBHOOK_SECRET"]:
                click.echo("Webhook: SURVEY_WEBHOOK_SECRET is not set.", err=True)
                problems += 1
            try:
                channels.post_webhook(
                    config["SURVEY_WEBHOOK_URL"],
                    config["SURVEY_WEBHOOK_SECRET"],
                    "ping",
                    {"id": "ping", "type": "ping"},
                    config["SURVEY_WEBHOOK_TIMEOUT"],
                )
                click.echo("Webhook: OK.")
            except channels.SendError as exc:
                click.echo(f"Webhook: {exc}", err=True)
                problems += 1
        problems += _check_invitation_channels(config)
        if problems:
            raise click.exceptions.Exit(1)

    @group.command("set-officer-email")
    @click.argument("username")
    @click.argument("email")
    def set_officer_email(username: str, email: str) -> None:
        """Set (or, with "", remove) the e-mail address an officer receives alerts at."""
        officer = db.session.scalar(sa.select(Officer).where(Officer.username == username))
        if officer is None:
            raise click.ClickException(f"No officer {username}.")
        try:
            update_contact(officer, email=email)
        except ProfileError:
            raise click.ClickException(
                f"{email!r} is not a valid e-mail address (name@domain.vn)."
            ) from None
        click.echo(f"{username}: {officer.email or 'no e-mail address'}.")

    @group.command("set-alert-rule")
    @click.argument("unit_code")
    @click.option("--harassment/--no-harassment", default=None)
    @click.option("--min-responses", type=int, help="Responses at one desk within the window.")
    @click.option("--negative-percent", type=int, help="Share of them negative, in %.")
    @click.option("--window", type=int, help="Minutes.")
    @click.option("--comments/--no-comments", default=None)
    @click.option("--comment-hour", type=int, help="Hour of the daily digest of comments.")
    @click.option(
        "--group-minutes", type=int, help="Minutes that later alerts wait and go together."
    )
    def set_alert_rule(unit_code: str, **options) -> None:
        """Set a unit's alert rules (the units below it inherit them)."""
        unit = find_unit(unit_code)
        if unit is None:
            raise click.ClickException(f"No unit with code {unit_code}.")
        try:
            rules = alert_rules.set_rules(
                unit,
                harassment=options["harassment"],
                run_min_responses=options["min_responses"],
                run_negative_percent=options["negative_percent"],
                run_window_minutes=options["window"],
                comments=options["comments"],
                comment_hour=options["comment_hour"],
                group_minutes=options["group_minutes"],
            )
        except RuleError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"{unit.code}: {rules}")
