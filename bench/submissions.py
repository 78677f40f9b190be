"""Load test of citizen form submissions through gunicorn, against a floor.

Builds a throwaway SQLite database (or fills an empty PostgreSQL one given
with ``--database-url``) with the app's own Alembic migrations and its own CLI
(a province, a commune, optionally a district between them, one desk), then
serves three apps on loopback ports with the same gunicorn settings:

- the real app (``wsgi:app``);
- the *stack floor* (``bench/stack_floor_app.py``): the least a post costs in
  this project's stack, with none of the app's own work: Flask, a Flask-WTF
  form with the questionnaire's fields (CSRF checked), and the response and
  its answers stored with SQLAlchemy Core in one transaction;
- the *floor* (``bench/floor_app.py``): one Flask endpoint that stores the
  posted form with a single raw INSERT, through the driver, into the same
  database.

Simulated phones each open the form once (``GET /s/<desk>``: cookies, CSRF
token, hidden fields), then client threads post real form submissions over
keep-alive connections, each with a fresh ``submission_id``. The same request
bytes go to every target, one target at a time, in rounds ordered app, stack
floor, floor, then backwards, so drift on a shared machine falls on all. Only
``303`` answers count; at the end the database must hold exactly the accepted
submissions (no loss, no doubles) or the script exits with status 1.

The anti-stuffing protections are configured through the app's documented
settings (printed in the output), never patched:

- ``SURVEY_LIMIT_DEVICE_PER_DAY`` / ``SURVEY_LIMIT_IP_PER_HOUR`` are raised to
  1 000 000 (``--limits raised``, the default) so the bookkeeping still runs
  on every post but never refuses; ``--limits off`` sets them to 0 (no
  bookkeeping), ``--limits default`` keeps 5 and 30 (expect 429s);
- ``SURVEY_PROXY_FIX_X_FOR=1``, as behind nginx (docs/OPERATIONS.md): each
  phone sends its own ``X-Forwarded-For`` loopback address, so the per-IP
  counts stay per phone rather than one key for the whole load;
- ``SURVEY_MIN_FILL_SECONDS=0`` and a fresh signed start stamp per submission
  (signed by ``survey.integrity.guard.issue_stamp`` with the bench's secret key, as
  if the phone had just opened a new form), so no response is flagged
  ``too_fast`` or ``unsigned``; the honeypot field is sent empty.

``--checks production`` runs the app's form posts as production does: the
desk's ceiling derived from the commune's dossier volume (a volume so large
that the ceiling is never reached, so nothing is flagged) and the look for the
phone's earlier rating (``SURVEY_REPLACE_MINUTES`` at its default); the posts
are spread over the commune's 20 desks, each from a new phone (a fresh device
cookie), as citizens at their desks send one rating each. The default
(``--checks bench``) switches both off: a flood on one desk.

With ``--baseline REV`` a third target joins the rotation: the app as it was
at git revision REV, served from a temporary ``git worktree`` with its own
database built by its own code (migrations and CLI), posted the same request
bytes. The ratio app/baseline then measures a change in one run, which this
noisy machine cannot do across runs.

Run: .venv/bin/python bench/submissions.py [--duration 10] [--rounds 2]
     [--concurrency 8] [--config sync:2 --config gthread:2x4 ...]
     [--baseline HEAD~3]  (the same load on an earlier revision, side by side)
     [--checks production]  (the desk ceiling and one-rating-per-phone checks on)
     [--profile 2000]   (cProfile of the POST path through the test client)
     [--database-url postgresql://user@host/empty_db]  (production's database)
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import io
import itertools
import os
import pstats
import random
import re
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

from flask import has_app_context

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.floor_app import TABLE as FLOOR_TABLE  # noqa: E402
from bench.floor_app import sqlalchemy_url  # noqa: E402
from bench.machine_info import describe  # noqa: E402
from bench.stack_floor_app import ANSWERS as STACK_ANSWERS  # noqa: E402
from bench.stack_floor_app import RESPONSES as STACK_RESPONSES  # noqa: E402
from survey.integrity.guard import DEVICE_COOKIE  # noqa: E402

STACK_TABLES = (STACK_RESPONSES, STACK_ANSWERS)

UNIT = "BENCH-X01"
DESK = "BENCH-01"
LIMITS = {"raised": "1000000", "off": "0", "default": None}
LIMIT_NOTES = {
    "raised": "rate limits raised, not off: their bookkeeping runs on every post",
    "off": "rate limits off: no bookkeeping at all",
    "default": "rate limits at their defaults: expect 429s, which do not count",
}
CONFIG_RE = re.compile(r"^(sync|gthread):(\d+)(?:x(\d+))?$")
COMMENTS = ["Cán bộ nhiệt tình, hướng dẫn rõ ràng.", "Phải chờ hơi lâu.", "Rất hài lòng."]
#: Share of posts whose integrity question ("did an official cause trouble?") says
#: yes, each raising a harassment alert. An assumption, a few in a hundred: the
#: rule for other questions (mostly their second-to-last value) answered it "yes"
#: four times in five.
TROUBLE_SHARE = 0.03


# -- settings ---------------------------------------------------------------


@dataclass(frozen=True)
class ServerConfig:
    """A gunicorn worker setting, written ``sync:2`` or ``gthread:2x4``."""

    kind: str
    workers: int
    threads: int

    @classmethod
    def parse(cls, text: str) -> ServerConfig:
        match = CONFIG_RE.match(text)
        if not match:
            raise argparse.ArgumentTypeError(
                f"config ({text!r}) must look like sync:2 or gthread:2x4"
            )
        kind, workers, threads = match.group(1), int(match.group(2)), match.group(3)
        if kind == "sync" and threads:
            raise argparse.ArgumentTypeError(f"config ({text!r}): sync workers have no threads")
        return cls(kind, workers, int(threads or (4 if kind == "gthread" else 1)))

    def __str__(self) -> str:
        return f"{self.kind}:{self.workers}" + (
            f"x{self.threads}" if self.kind == "gthread" else ""
        )

    def gunicorn_args(self) -> list[str]:
        args = ["--workers", str(self.workers), "--worker-class", self.kind]
        if self.kind == "gthread":
            args += ["--threads", str(self.threads)]
        return args


def server_env(
    database_url: str, secret: str, limits: str, floor_db: str, checks: str = "bench"
) -> dict[str, str]:
    """The environment of both servers: production settings, abuse controls documented."""
    env = {
        **os.environ,
        "FLASK_APP": "wsgi",
        "SURVEY_ENV": "production",
        "SURVEY_SECRET_KEY": secret,
        "SURVEY_PUBLIC_BASE_URL": "http://127.0.0.1",
        "DATABASE_URL": database_url,
        # Plain HTTP on loopback: cookies without the Secure flag.
        "SURVEY_SECURE_COOKIES": "0",
        "SURVEY_PROXY_FIX_X_FOR": "1",
        "SURVEY_MIN_FILL_SECONDS": "0",
        # A bench is a flood on one desk by design: no per-desk ceiling (its ratings
        # would be held as a burst) and no one-rating-per-phone replacement.
        "SURVEY_DESK_MAX_PER_HOUR": "-1",
        "SURVEY_REPLACE_MINUTES": "0",
        "FLOOR_DATABASE": floor_db,
    }
    if checks == "production":
        # The desks' ceilings derived from their volumes (add_production_setup) and the phone's
        # earlier rating looked for, as in production; every post from a new phone.
        del env["SURVEY_DESK_MAX_PER_HOUR"], env["SURVEY_REPLACE_MINUTES"]
    if LIMITS[limits] is not None:
        env["SURVEY_LIMIT_DEVICE_PER_DAY"] = LIMITS[limits]
        env["SURVEY_LIMIT_IP_PER_HOUR"] = LIMITS[limits]
    else:
        env.pop("SURVEY_LIMIT_DEVICE_PER_DAY", None)
        env.pop("SURVEY_LIMIT_IP_PER_HOUR", None)
    return env


def shown_settings(env: dict[str, str]) -> list[str]:
    names = [
        "SURVEY_ENV",
        "SURVEY_LIMIT_DEVICE_PER_DAY",
        "SURVEY_LIMIT_IP_PER_HOUR",
        "SURVEY_PROXY_FIX_X_FOR",
        "SURVEY_MIN_FILL_SECONDS",
        "SURVEY_SECURE_COOKIES",
        "SURVEY_DESK_MAX_PER_HOUR",
        "SURVEY_REPLACE_MINUTES",
    ]
    return [f"{name}={env.get(name, '(default)')}" for name in names]


# -- database ---------------------------------------------------------------


def build_database(target: str | Path, env: dict[str, str], levels: int = 2):
    """Migrate a new database and add the units and a desk with the app's own CLI.

    ``levels`` 2 is province → commune (Vietnam's tree since 1/7/2025), 3 is
    province → district → commune (the demo district): the rollup counts each
    response once per level.

    Returns the app (built with the servers' settings) so the bench can sign
    start stamps with ``survey.integrity.guard.issue_stamp``.
    """
    os.environ.update({k: v for k, v in env.items() if k.startswith(("SURVEY_", "DATABASE"))})
    from flask_migrate import upgrade

    from bench import floor_app
    from bench import stack_floor_app
    from survey import create_app
    from survey.extensions import db

    app = create_app()
    runner = app.test_cli_runner()
    with app.app_context():
        upgrade()
        parent = "BENCH-P"
        commands = [
            ["survey", "sync-questionnaires"],
            ["survey", "add-unit", parent, "Tỉnh Thử Nghiệm", "--level", "province"],
        ]
        if levels == 3:
            commands.append(
                ["survey", "add-unit", "BENCH-D", "Huyện Thử Nghiệm", "--level", "district"]
                + ["--parent", parent]
            )
            parent = "BENCH-D"
        commands += [
            ["survey", "add-unit", UNIT, "Xã Thử Nghiệm", "--level", "commune", "--parent", parent],
            ["survey", "add-desk", DESK, "Bộ phận Một cửa", "--unit", UNIT],
        ]
        for args in commands:
            result = runner.invoke(args=args)
            if result.exit_code != 0:
                raise SystemExit(f"flask {' '.join(args)} failed: {result.output}")
        db.engine.dispose()
    floor_app.create_table(str(target))
    stack_floor_app.create_tables(str(target))
    return app


#: With ``--checks production``: the bench commune's desks (the posts spread over
#: them, so that no desk sees a flood no ceiling would allow) and its monthly
#: dossiers, from which each desk's ceiling is derived (about 3,4 million ratings a
#: day): read and checked on every post, as in production, and never reached.
PRODUCTION_DESKS = 20
BENCH_DOSSIERS = 1_000_000_000


def desk_code(number: int) -> str:
    return DESK if number == 0 else f"BENCH-{number + 1:02d}"


def add_production_setup(database_url: str) -> None:
    """The commune's other desks and its dossier volume of this month, in SQL any
    recent revision's schema takes (the baseline's database too)."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        for number in range(1, PRODUCTION_DESKS):
            conn.execute(
                sa.text(
                    "INSERT INTO desk (code, name, unit_id, active, created_at) "
                    "SELECT :code, name, unit_id, active, created_at FROM desk WHERE code = :first"
                ),
                {"code": desk_code(number), "first": DESK},
            )
        conn.execute(
            sa.text(
                "INSERT INTO dossier_volume (unit_id, month, procedure_field, dossiers, source, "
                "updated_at) SELECT id, :month, '', :dossiers, 'bench', :now FROM unit "
                "WHERE code = :unit"
            ),
            {
                "month": datetime.now(UTC).strftime("%Y-%m"),
                "dossiers": BENCH_DOSSIERS,
                "now": datetime.now(UTC),
                "unit": UNIT,
            },
        )
    engine.dispose()


def git(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """Run git and capture its output; without git, a failed run (status 127)."""
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    except OSError as exc:
        return subprocess.CompletedProcess(["git", *args], 127, "", str(exc))


class Baseline:
    """The app at an earlier git revision, checked out in a temporary worktree, with
    its own database built by that revision's code: a SQLite file beside the
    app's, or on PostgreSQL a database ``<name>_baseline`` on the same server
    (created here and dropped at the end; the revision's bench must know
    PostgreSQL, as this one does)."""

    def __init__(self, revision: str, workdir: Path, env: dict[str, str], levels: int) -> None:
        self.tree = workdir / "baseline"
        self.created: str | None = None
        if env["DATABASE_URL"].startswith("sqlite"):
            self.target = str(workdir / "baseline.db")
            self.url = sqlalchemy_url(self.target)
        else:
            self.url = self.target = env["DATABASE_URL"] + "_baseline"
            name = self.target.rsplit("/", 1)[1]
            try:
                self._admin(f"CREATE DATABASE {name}")
            except Exception as exc:  # the server's own words: exists, no right, ...
                raise SystemExit(f"--baseline {revision}: cannot create {name}: {exc}") from exc
            self.created = name
        done = git("worktree", "add", "--detach", str(self.tree), revision)
        if done.returncode != 0:
            self.remove()
            raise SystemExit(f"--baseline {revision}: {done.stderr.strip()}")
        self.commit = git("rev-parse", "--short", "HEAD", cwd=self.tree).stdout.strip()
        self.env = {**env, "DATABASE_URL": self.url, "FLOOR_DATABASE": self.target}
        # That revision's build_database, migrations and CLI, in a process of its own.
        build = (
            "import os, sys; sys.path.insert(0, '.'); "
            "from bench.submissions import build_database; "
            "build_database(sys.argv[1], dict(os.environ), int(sys.argv[2]))"
        )
        done = subprocess.run(
            [sys.executable, "-c", build, self.target, str(levels)],
            cwd=self.tree,
            env=self.env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            self.remove()
            raise SystemExit(f"--baseline {revision}: building its database failed:\n{done.stderr}")

    def server(self, counter: str, config: ServerConfig, log: Path) -> Server:
        """Served as the app is, its rollup counted the same way (the revision must
        have the counting command for ``counter`` "process")."""
        return app_server(counter, config, self.env, log, name="baseline", tree=self.tree)

    def _admin(self, statement: str) -> None:
        """Run ``statement`` outside a transaction on the app's PostgreSQL server."""
        import sqlalchemy as sa

        engine = sa.create_engine(self.url.rsplit("/", 1)[0] + "/postgres")
        try:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql(statement)
        finally:
            engine.dispose()

    def remove(self) -> None:
        if self.tree.exists():
            git("worktree", "remove", "--force", str(self.tree))
        if self.created:
            self._admin(f"DROP DATABASE IF EXISTS {self.created} WITH (FORCE)")


# -- gunicorn ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn serving ``target`` on a free loopback port."""

    def __init__(
        self,
        name: str,
        target: str,
        config: ServerConfig,
        env,
        log: Path,
        cwd: Path = ROOT,
        companion: list[str] | None = None,
    ) -> None:
        self.name = name
        # Bound here and handed to gunicorn (``fd://``): a port only found free
        # could be taken by another program before gunicorn binds it, and a
        # stranger answering /healthz there would be benched instead.
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(2048)
        self.port = self.listener.getsockname()[1]
        # A process that serves with it (the app's rollup counting process): its CPU
        # is the server's too.
        self.companion = (
            subprocess.Popen(
                companion,
                cwd=cwd,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if companion
            else None
        )
        gunicorn = Path(sys.executable).with_name("gunicorn")
        fd = self.listener.fileno()
        self.process = subprocess.Popen(
            [str(gunicorn), "--bind", f"fd://{fd}", *config.gunicorn_args()]
            + ["--timeout", "60", "--log-level", "warning", "--error-logfile", str(log)]
            + [target],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(fd,),
        )
        self.listener.close()  # gunicorn holds it now: a dead server refuses connections

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name}: gunicorn exited ({self.process.returncode})")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"{self.name}: gunicorn did not answer /healthz in {timeout:.0f} s")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the master and its workers so far."""
        pid = self.process.pid
        pids = [pid]
        try:
            pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            pass
        if self.companion is not None:
            pids.append(self.companion.pid)
        ticks = 0
        for p in pids:
            try:
                fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        for process in filter(None, (self.process, self.companion)):
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def app_server(
    counter: str,
    config: ServerConfig,
    env: dict[str, str],
    log: Path,
    name: str = "app",
    tree: Path = ROOT,
) -> Server:
    """The app (from the source tree ``tree``); with ``counter`` "process", its web
    workers do not count the rollup (SURVEY_ROLLUP_BACKGROUND=0) and a counting
    process serves beside them."""
    if counter == "thread":
        env = {**env, "SURVEY_ROLLUP_BACKGROUND": "1"}
        return Server(name, "wsgi:app", config, env, log, cwd=tree)
    env = {**env, "SURVEY_ROLLUP_BACKGROUND": "0"}
    command = [sys.executable, "-m", "flask", "survey", "rollup-count", "--every", "1"]
    return Server(name, "wsgi:app", config, env, log, cwd=tree, companion=command)


# -- phones -----------------------------------------------------------------


class FormParser(HTMLParser):
    """The fields a phone would send: hidden and text inputs, textareas, radio groups."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.radios: dict[str, list[str]] = {}

    def handle_starttag(self, tag, attrs) -> None:
        a = dict(attrs)
        name = a.get("name")
        if not name:
            return
        if tag == "textarea":
            self.fields[name] = ""
        elif tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind == "radio":
                self.radios.setdefault(name, []).append(a.get("value", ""))
            elif kind in ("hidden", "text", "tel", "email"):
                self.fields[name] = a.get("value") or ""


@dataclass
class Phone:
    """One citizen's phone: its cookies, its address and the form it was served."""

    number: int
    cookies: dict[str, str]
    fields: dict[str, str]
    radios: dict[str, list[str]]

    @property
    def address(self) -> str:
        # Loopback addresses only, even in a header: one per phone.
        return f"127.{1 + self.number // 65536}.{self.number // 256 % 256}.{self.number % 256}"


def update_cookies(cookies: dict[str, str], response: http.client.HTTPResponse) -> None:
    for header in response.msg.get_all("Set-Cookie") or []:
        pair = header.split(";", 1)[0]
        name, _sep, value = pair.partition("=")
        cookies[name.strip()] = value.strip()


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def open_phones(port: int, count: int) -> list[Phone]:
    """Each phone opens the desk's form once, as after scanning the QR code."""
    phones = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for number in range(count):
        cookies: dict[str, str] = {}
        address = Phone(number, {}, {}, {}).address
        for _attempt in range(3):
            try:
                conn.request("GET", f"/s/{DESK}", headers={"X-Forwarded-For": address})
                response = conn.getresponse()
                html = response.read().decode()
                break
            except (http.client.HTTPException, OSError):
                conn.close()
        else:
            raise SystemExit("could not open the form")
        if response.status != 200:
            raise SystemExit(f"GET /s/{DESK} answered {response.status}")
        update_cookies(cookies, response)
        parser = FormParser()
        parser.feed(html)
        if "submission_id" not in parser.fields or not parser.radios:
            raise SystemExit("the served form has no submission_id or no questions")
        phones.append(Phone(number, cookies, parser.fields, parser.radios))
    conn.close()
    return phones


class Submissions:
    """Form bodies with fresh submission ids and signed start stamps."""

    def __init__(self, app) -> None:
        from survey.domain.questionnaire import latest_bundled
        from survey.domain.questionnaire import parse
        from survey.forms.response import FIELD_PREFIX
        from survey.integrity import guard as integrity

        self.app = app
        self.issue_stamp = integrity.issue_stamp
        trouble = parse(latest_bundled()).by_role("integrity")
        self.trouble = FIELD_PREFIX + trouble.id if trouble else None

    def body(self, phone: Phone, rng: random.Random) -> tuple[str, bytes]:
        sid = str(uuid.uuid4())  # from os.urandom: unique across windows and runs
        data = dict(phone.fields)
        data["submission_id"] = sid
        if has_app_context():
            data["issued"] = self.issue_stamp(sid)
        else:
            with self.app.app_context():
                data["issued"] = self.issue_stamp(sid)
        for name, values in phone.radios.items():
            if name == self.trouble:
                data[name] = "yes" if rng.random() < TROUBLE_SHARE else "no"
                continue
            # Mostly satisfied, as real ratings are.
            data[name] = (
                values[-2] if len(values) > 2 and rng.random() < 0.7 else rng.choice(values)
            )
        if "q_comment" in data and rng.random() < 0.2:
            data["q_comment"] = rng.choice(COMMENTS)
        return sid, urlencode(data).encode()


# -- load -------------------------------------------------------------------


@dataclass
class Tally:
    """What one target answered during one window."""

    accepted: list[str] = field(default_factory=list)
    #: Sent, but no answer came back after every retry: may or may not be stored.
    unanswered: list[str] = field(default_factory=list)
    #: Answered with another status than 303: must not be stored.
    turned_away: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    connection_errors: int = 0
    seconds: float = 0.0
    server_cpu: float = 0.0
    client_cpu: float = 0.0

    def merge(self, other: Tally) -> None:
        self.accepted += other.accepted
        self.unanswered += other.unanswered
        self.turned_away.update(other.turned_away)
        self.latencies += other.latencies
        for status, n in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + n
        self.connection_errors += other.connection_errors
        self.seconds += other.seconds
        self.server_cpu += other.server_cpu
        self.client_cpu += other.client_cpu

    @property
    def rate(self) -> float:
        return len(self.accepted) / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        """Nearest-rank percentile of the accepted requests' latencies, in ms."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))
        return ordered[index] * 1000

    @property
    def cpu_ms(self) -> float:
        """Server CPU (master and workers, user + system) per accepted submission."""
        return self.server_cpu / len(self.accepted) * 1000 if self.accepted else float("nan")

    @property
    def client_ms(self) -> float:
        """The load generator's own CPU per accepted submission (it shares the cores)."""
        return self.client_cpu / len(self.accepted) * 1000 if self.accepted else float("nan")

    @property
    def cores(self) -> float:
        """How many cores the server kept busy on average."""
        return self.server_cpu / self.seconds if self.seconds else 0.0

    def refused(self) -> str:
        parts = [f"{n}×{s}" for s, n in sorted(self.statuses.items()) if s != 303]
        if self.connection_errors:
            parts.append(f"{self.connection_errors} conn. errors")
        return ", ".join(parts) or "0"


def post(conn: http.client.HTTPConnection, path: str, body: bytes, headers) -> int:
    conn.request("POST", path, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    return response.status


def load(
    server: Server,
    phones: list[Phone],
    submissions: Submissions,
    concurrency: int,
    duration: float | None,
    count: int | None,
    seed: int,
    new_phones: bool = False,
) -> Tally:
    """Post submissions from ``concurrency`` threads until the time or the count is up;
    ``new_phones``: each with a device cookie never sent before (a phone's one rating),
    spread over the commune's ``PRODUCTION_DESKS`` desks."""
    desks = PRODUCTION_DESKS if new_phones else 1
    stop = threading.Event()
    start = threading.Barrier(concurrency + 1)
    budget = [count]
    budget_lock = threading.Lock()
    tallies = [Tally() for _ in range(concurrency)]

    def claim() -> bool:
        if stop.is_set() or budget[0] is None:
            return not stop.is_set()
        with budget_lock:
            if budget[0] <= 0:
                return False
            budget[0] -= 1
            return True

    def client(index: int) -> None:
        try:
            # One app context per thread, for signing the start stamps cheaply.
            with submissions.app.app_context():
                start.wait()
                post_until_done(index)
        except threading.BrokenBarrierError:
            pass
        except BaseException as exc:  # report it from the main thread
            failures.append(exc)
            start.abort()
            stop.set()

    def post_until_done(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        tally = tallies[index]
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        turn = index
        while claim():
            phone = phones[turn % len(phones)]
            path = f"/s/{desk_code(turn % desks)}"
            turn += concurrency
            sid, body = submissions.body(phone, rng)
            cookies = phone.cookies
            if new_phones:
                cookies = {**cookies, DEVICE_COOKIE: f"{rng.getrandbits(128):032x}"}
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": cookie_header(cookies),
                "X-Forwarded-For": phone.address,
            }
            began = time.perf_counter()
            status = None
            for attempt in range(5):
                try:
                    status = post(conn, path, body, headers)
                    break
                except (http.client.HTTPException, OSError):
                    # A keep-alive connection the server had closed, or a
                    # reset: send the same form again, as the phone would (the
                    # submission id makes it safe).
                    conn.close()
                    tally.connection_errors += 1
                    time.sleep(0.05 * attempt)
            elapsed = time.perf_counter() - began
            if status is None:
                tally.unanswered.append(sid)
                continue
            tally.statuses[status] = tally.statuses.get(status, 0) + 1
            if status == 303:
                tally.accepted.append(sid)
                tally.latencies.append(elapsed)
            else:
                tally.turned_away[sid] = status
        conn.close()

    failures: list[BaseException] = []
    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    cpu_before, client_before = server.cpu_seconds(), time.process_time()
    try:
        try:
            start.wait()
        except threading.BrokenBarrierError:
            pass
        began = time.perf_counter()
        if duration is not None:
            stop.wait(duration)
        else:  # the count runs out by itself
            for thread in threads:
                thread.join()
    finally:
        stop.set()  # also on Ctrl-C: the clients stop with the servers
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"a client thread failed: {failures[0]!r}") from failures[0]
    total = Tally()
    for tally in tallies:
        total.merge(tally)
    total.seconds = time.perf_counter() - began
    total.server_cpu = server.cpu_seconds() - cpu_before
    total.client_cpu = time.process_time() - client_before
    return total


# -- verification -----------------------------------------------------------


def verify(database_url: str, targets: list[tuple[str, Tally, str, str | None]], questions: int):
    """Problems found: every 303 stored exactly once, nothing refused stored, nothing
    else stored but the posts whose answer never came back (at most once each).

    ``targets``: (name, what the clients were answered, response table, answer
    table or None). With an answer table, each stored response must have
    ``questions`` answers; the app's table ``response`` must also hold no
    flagged response.
    """
    import sqlalchemy as sa

    problems = []
    engine = sa.create_engine(database_url)
    conn = engine.connect()
    try:
        for name, answered, table, answer_table in targets:
            query = f"SELECT submission_id, count(*) FROM {table} GROUP BY submission_id"
            stored = dict(conn.exec_driver_sql(query).all())
            ids = answered.accepted
            accepted = set(ids)
            if len(accepted) != len(ids):
                problems.append(f"{name}: {len(ids) - len(accepted)} submissions thanked twice")
            doubles = sum(1 for n in stored.values() if n != 1)
            missing = len(accepted - stored.keys())
            # A post whose answer was lost may have been stored: the phone would
            # send it again and be thanked for it once.
            unanswered = stored.keys() & set(answered.unanswered)
            away = answered.turned_away
            refused = {sid: away[sid] for sid in stored.keys() & away.keys()}
            extra = len(stored.keys() - accepted - unanswered)
            total = sum(stored.values())
            print(
                f"- {name}: {len(accepted)} accepted, {total} rows in `{table}`; "
                f"missing {missing}, not acknowledged {extra}, stored twice {doubles}"
            )
            if answered.unanswered or away:
                print(
                    f"- {name}: {len(answered.unanswered)} posts never answered "
                    f"({len(unanswered)} of them stored); {len(away)} refused "
                    f"({', '.join(f'{n} × {s}' for s, n in sorted(answered.statuses.items()))})"
                )
            if refused:
                statuses = sorted(set(refused.values()))
                problems.append(f"{name}: {len(refused)} posts stored though answered {statuses}")
            if missing or extra or doubles or total != len(accepted) + len(unanswered):
                problems.append(f"{name}: database holds {total} rows for {len(accepted)} accepted")
            if answer_table is None:
                continue
            answers = conn.exec_driver_sql(f"SELECT count(*) FROM {answer_table}").scalar_one()
            expected = (len(accepted) + len(unanswered)) * questions
            print(f"- {name}: {answers} answers stored (expected {expected})")
            if answers != expected:
                problems.append(f"{name}: {answers} answers stored, expected {expected}")
            if table == "response":
                flagged = conn.exec_driver_sql(
                    "SELECT count(*) FROM response WHERE flagged"
                ).scalar_one()
                print(f"- {name}: {flagged} flagged")
                if flagged:
                    problems.append(f"{name}: {flagged} responses flagged (the bench must not be)")
    finally:
        conn.close()
        engine.dispose()
    return problems


def verify_rollup(app) -> list[str]:
    """The app's rollup as reports read it equals a full recount at every unit, with
    the responses the workers' counting threads had not counted when the servers
    stopped, and once they are counted."""
    import sqlalchemy as sa

    from survey.data import rollup
    from survey.data.models import Unit
    from survey.extensions import db

    with app.app_context():
        units = db.session.scalars(sa.select(Unit)).all()
        waiting = rollup.waiting_total()
        before = sum(len(rollup.differences(u)) for u in units)
        counted = rollup.count_waiting()
        after = sum(len(rollup.differences(u)) for u in units)
        db.session.remove()
    print(
        f"- app: rollup as read vs a full recount at {len(units)} units: {before} differences "
        f"with {waiting} responses left waiting when the servers stopped; {counted} counted "
        f"now (a worker still stopping may count the others): {after} differences"
    )
    if before or after:
        return [f"app: the rollup differs from a recount ({before} before, {after} after)"]
    return []


# -- profile ----------------------------------------------------------------

#: Functions whose cumulative time is shown as the sections of one POST.
SECTIONS = [
    ("whole request (test client)", "app.py", "wsgi_app"),
    ("view: respond()", "views.py", "respond"),
    ("desk lookup (remembered)", "queries.py", "find_desk_remembered"),
    ("current_questionnaire", "queries.py", "current_questionnaire"),
    ("response_form_class (build form class)", "response.py", "response_form_class"),
    ("form.validate (incl. CSRF)", "form.py", "validate"),
    ("flag_reason (stamp check)", "guard.py", "flag_reason"),
    ("submit (the use case)", "services.py", "submit"),
    ("  claim_submission_slot (rate limits)", "guard.py", "claim_submission_slot"),
    ("  _write (response, answers, alerts, commit)", "services.py", "_write"),
    ("  session.commit (all)", "scoping.py", "commit"),
    ("  sqlite3 commit (fsync)", "~", "<method 'commit' of 'sqlite3.Connection' objects>"),
    ("redirect + url_for", "helpers.py", "url_for"),
    ("after_request hooks", "app.py", "process_response"),
    ("session save (cookie)", "sessions.py", "save_session"),
    ("teardown (session close)", "app.py", "do_teardown_appcontext"),
]


def statements_of_one_post(app, post_once) -> list[str]:
    """The SQL statements (first 90 characters) the database sees for one POST."""
    import sqlalchemy as sa

    from survey.extensions import db

    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        text = " ".join(statement.split())
        seen.append(text[:90] + (" …" if len(text) > 90 else "") + (" (many)" * executemany))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        post_once()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return seen


def statement_times(app, post_many) -> dict[str, list]:
    """Runs and seconds in the driver (execute, executemany, commit) per statement
    (its first 60 characters) while ``post_many`` runs."""
    import sqlalchemy as sa

    from survey.extensions import db

    timed: dict[str, list] = {}
    began: list[float] = []

    def before(conn, cursor, statement, parameters, context, executemany) -> None:
        began.append(time.perf_counter())

    def after(conn, cursor, statement, parameters, context, executemany) -> None:
        text = " ".join(statement.split())[:60] + " (many)" * executemany
        entry = timed.setdefault(text, [0, 0.0])
        entry[0] += 1
        entry[1] += time.perf_counter() - began.pop()

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    real_commit = engine.dialect.do_commit

    def do_commit(dbapi_connection) -> None:
        start = time.perf_counter()
        real_commit(dbapi_connection)
        entry = timed.setdefault("COMMIT", [0, 0.0])
        entry[0] += 1
        entry[1] += time.perf_counter() - start

    engine.dialect.do_commit = do_commit
    try:
        post_many()
    finally:
        engine.dialect.do_commit = real_commit
        sa.event.remove(engine, "before_cursor_execute", before)
        sa.event.remove(engine, "after_cursor_execute", after)
    return timed


def profile(app, phones: list[Phone], submissions: Submissions, n: int) -> None:
    """Time ``n`` POSTs through the Flask test client (no network, no gunicorn),
    once plain and once under cProfile, and print where the time goes. The posts
    come from every phone in turn, as under load, so each rate-limit key counts
    its share of the events, not all of them."""
    client = app.test_client()
    rng = random.Random(99)
    bodies = [
        (phone, submissions.body(phone, rng)[1])
        for phone in itertools.islice(itertools.cycle(phones), 2 * n + n // 2 + 50)
    ]
    statuses: dict[int, int] = {}

    def send(batch) -> None:
        for phone, body in batch:
            for name, value in phone.cookies.items():
                client.set_cookie(name, value)
            status = client.post(
                f"/s/{DESK}",
                data=body,
                content_type="application/x-www-form-urlencoded",
                headers={"X-Forwarded-For": phone.address},
            ).status_code
            statuses[status] = statuses.get(status, 0) + 1

    send(bodies[:49])  # warm-up
    sql = statements_of_one_post(app, lambda: send(bodies[49:50]))
    statuses.clear()
    began, cpu = time.perf_counter(), time.process_time()
    send(bodies[50 : 50 + n])
    plain, plain_cpu = time.perf_counter() - began, time.process_time() - cpu
    timed = statement_times(app, lambda: send(bodies[50 + n : 50 + n + n // 2]))
    profiler = cProfile.Profile()
    profiler.enable()
    send(bodies[50 + n + n // 2 :])
    profiler.disable()
    stats = pstats.Stats(profiler)
    print(f"\n## Profile: {n} POSTs through the test client, one process\n")
    print(
        f"Without the profiler: {plain / n * 1000:.2f} ms a POST "
        f"({plain_cpu / n * 1000:.2f} ms of CPU; the rest is waiting, mostly fsync). "
        f"Statuses of all {sum(statuses.values())} POSTs: {statuses}.\n"
    )

    print(f"SQL statements of one POST ({len(sql)}):\n\n```")
    for statement in sql:
        print(statement)
    print("```\n")
    posts = n // 2
    print(f"Time in the driver per statement, {posts} POSTs (perf counter, no profiler):\n")
    print("| statement | runs per POST | µs per run | µs per POST |\n| --- | ---: | ---: | ---: |")
    for text, (runs, seconds) in sorted(timed.items(), key=lambda kv: -kv[1][1]):
        print(
            f"| `{text}` | {runs / posts:.2f} | {seconds / runs * 1e6:.0f} "
            f"| {seconds / posts * 1e6:.0f} |"
        )
    print()

    def cumulative(filename: str, func: str) -> float:
        return sum(
            v[3]
            for (fname, _line, fn), v in stats.stats.items()
            if fn == func and (filename == "~" or fname.endswith("/" + filename))
        )

    whole = cumulative("app.py", "wsgi_app") or 1.0
    print("Sections under cProfile (its overhead inflates Python code; read the shares):\n")
    print("| section | ms per POST | share |\n| --- | ---: | ---: |")
    for label, filename, func in SECTIONS:
        cum = cumulative(filename, func)
        print(f"| {label} | {cum / n * 1000:.2f} | {cum / whole:.0%} |")
    own = sorted(
        (
            (v[3], fname, fn)
            for (fname, _line, fn), v in stats.stats.items()
            if "/survey/" in fname and "/site-packages/" not in fname
        ),
        reverse=True,
    )[:20]
    print("\nThe app's own functions by cumulative time:\n")
    print("| function | ms per POST | share |\n| --- | ---: | ---: |")
    for cum, fname, fn in own:
        where = fname.split("/survey/", 1)[1]
        print(f"| survey/{where}: {fn} | {cum / n * 1000:.2f} | {cum / whole:.0%} |")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(20)
    print("\nTop 20 functions by own time:\n\n```")
    lines = out.getvalue().splitlines()
    first = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    for line in lines[first:]:
        if line.strip():
            print(line.replace(str(ROOT) + "/", "").replace(sys.prefix + "/", ""))
    print("```")


# -- report -----------------------------------------------------------------


def machine() -> list[str]:
    import gunicorn
    import sqlalchemy

    return [
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"Machine: {describe()} (at start)",
        f"SQLAlchemy {sqlalchemy.__version__}, gunicorn {gunicorn.__version__}",
        f"Code: {code_version()}",
    ]


def code_version() -> str:
    """The commit the app was served from, and whether survey/ had local changes."""

    def output(*args: str) -> str:
        done = git(*args)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = output("rev-parse", "--short", "HEAD")
    if not commit:
        return "not a git checkout"
    dirty = output("status", "--porcelain", "--", "survey", "migrations", "wsgi.py")
    return commit + (" with uncommitted changes in survey/ or migrations/" if dirty else "")


def describe_database(database_url: str, workdir: Path) -> str:
    """The database and its durability settings, as the servers use it."""
    import sqlalchemy as sa

    if database_url.startswith("sqlite"):
        path = database_url.removeprefix("sqlite:///")
        where = f"{path} ({filesystem(workdir)})"
        return f"SQLite {sqlite3.sqlite_version}, {where}, WAL, synchronous=FULL"
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            settings = {
                name: conn.exec_driver_sql(f"SHOW {name}").scalar_one()
                for name in ("server_version", "fsync", "synchronous_commit", "wal_sync_method")
            }
    finally:
        engine.dispose()
    version = settings.pop("server_version")
    where = database_url.rsplit("@", 1)[-1]
    return f"PostgreSQL {version} at {where}, " + ", ".join(f"{k}={v}" for k, v in settings.items())


def filesystem(path: Path) -> str:
    best, kind = "", "?"
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            parts = line.split()
            if str(path).startswith(parts[1]) and len(parts[1]) >= len(best):
                best, kind = parts[1], parts[2]
    except OSError:
        pass
    return kind


def share(tally: Tally, of: Tally) -> float:
    """``tally``'s throughput as a fraction of ``of``'s (0 when ``of`` accepted nothing)."""
    return tally.rate / of.rate if of.rate else 0.0


def row(name: str, tally: Tally) -> str:
    return (
        f"| {name} | {len(tally.accepted)} | {tally.seconds:.1f} | {tally.rate:.0f} "
        f"| {tally.percentile(50):.1f} | {tally.percentile(99):.1f} | {tally.cpu_ms:.2f} "
        f"| {tally.cores:.2f} | {tally.client_ms:.2f} | {tally.refused()} |"
    )


TABLE_HEAD = (
    "| target | accepted | s | subs/s | p50 ms | p99 ms | server CPU ms/sub "
    "| server cores busy | client CPU ms/sub | refused |\n"
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per window")
    parser.add_argument("--count", type=int, help="submissions per window instead of a duration")
    parser.add_argument("--rounds", type=int, default=2, help="windows per target (app/floor)")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    parser.add_argument("--phones", type=int, default=200, help="simulated phones (form GETs)")
    parser.add_argument(
        "--config",
        action="append",
        type=ServerConfig.parse,
        help="gunicorn workers: sync:N or gthread:NxT; repeat to compare (default sync:2)",
    )
    parser.add_argument(
        "--counter",
        choices=("process", "thread"),
        default="process",
        help="where the app counts its rollup: a process of its own (flask survey "
        "rollup-count --every 1, its CPU counted as the server's) or a thread in each "
        "web worker (the default without a counting process)",
    )
    parser.add_argument("--limits", choices=sorted(LIMITS), default="raised")
    parser.add_argument(
        "--checks",
        choices=("bench", "production"),
        default="bench",
        help="bench: no desk ceiling and no replacement of a phone's earlier rating (a "
        "flood on one desk); production: both as configured by default, the ceilings "
        "derived from a large dossier volume (never reached), the posts spread over "
        f"{PRODUCTION_DESKS} desks, every post from a new phone",
    )
    parser.add_argument(
        "--levels", type=int, choices=(2, 3), default=2, help="unit tree above the desk"
    )
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds per target, uncounted")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="then profile N POSTs")
    parser.add_argument("--tmpdir", help="folder for the throwaway database (default: system)")
    parser.add_argument("--keep", action="store_true", help="keep the database and logs")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="an EMPTY PostgreSQL database to run on (default: a throwaway SQLite file)",
    )
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="also serve the app at git revision REV (a worktree) and compare with it",
    )
    args = parser.parse_args(argv)
    if args.database_url and not args.database_url.startswith(("postgresql://", "postgresql+")):
        parser.error("--database-url must be a postgresql:// URL (SQLite is the default)")
    configs = args.config or [ServerConfig("sync", 2, 1)]
    if args.count is not None and args.count < 1:
        parser.error("--count must be at least 1")
    duration = None if args.count else args.duration

    workdir = Path(tempfile.mkdtemp(prefix="sipas-bench-", dir=args.tmpdir))
    target = args.database_url or str(workdir / "survey.db")
    database_url = sqlalchemy_url(target)
    env = server_env(database_url, secrets.token_hex(32), args.limits, target, args.checks)
    print("# Form submissions: app vs floor\n")
    for line in machine():
        print(f"- {line}")
    print(f"- Database: {describe_database(database_url, workdir)} (every target)")
    bound = f"{args.count} submissions" if args.count else f"{args.duration:g} s"
    print(
        f"- Load: {args.concurrency} client threads (one process, keep-alive http.client), "
        f"{args.phones} phones, {args.rounds} windows of {bound} per target, "
        f"warm-up {args.warmup:g} s; loopback only"
    )
    tree = "province → district → commune" if args.levels == 3 else "province → commune"
    print(f"- Units: {tree}, one desk (the rollup counts each response at every level)")
    print(
        "- The app's rollup counted by "
        + (
            "a process of its own (flask survey rollup-count --every 1; CPU counted as the app's)"
            if args.counter == "process"
            else "a thread in each web worker"
        )
    )
    print(f"- App settings for the bench: {', '.join(shown_settings(env))}")
    print(f"  ({LIMIT_NOTES[args.limits]}; the honeypot field is sent empty, and each")
    print("  submission carries a fresh start stamp signed with the servers' secret key)")

    app = build_database(target, env, args.levels)
    if args.checks == "production":
        add_production_setup(database_url)
    submissions = Submissions(app)
    questions = None
    answered = {name: Tally() for name in ("app", "stack floor", "floor", "baseline")}
    summary = []
    phones: list[Phone] = []
    baseline = None
    try:
        if args.baseline:
            baseline = Baseline(args.baseline, workdir, env, args.levels)
            if args.checks == "production":
                add_production_setup(baseline.url)
            print(f"- Baseline: the app at {args.baseline} ({baseline.commit}), own database")
        for config in configs:
            servers = {
                "app": app_server(args.counter, config, env, workdir / f"app-{config}.log"),
                "stack floor": Server(
                    "stack floor",
                    "bench.stack_floor_app:app",
                    config,
                    env,
                    workdir / f"stack-floor-{config}.log",
                ),
                "floor": Server(
                    "floor", "bench.floor_app:app", config, env, workdir / f"floor-{config}.log"
                ),
            }
            if baseline is not None:
                servers["baseline"] = baseline.server(
                    args.counter, config, workdir / f"baseline-{config}.log"
                )
            names = list(servers)
            try:
                for server in servers.values():
                    server.wait_ready()
                if not phones:
                    phones = open_phones(servers["app"].port, args.phones)
                    questions = len(phones[0].radios)
                for name, server in servers.items():
                    if args.warmup > 0:
                        warm = load(
                            server,
                            phones,
                            submissions,
                            args.concurrency,
                            args.warmup,
                            None,
                            seed=args.seed * 100 + 99,
                            new_phones=args.checks == "production",
                        )
                        answered[name].merge(warm)
                totals = {name: Tally() for name in names}
                print(f"\n## gunicorn {config} ({config.kind} workers)\n")
                print(TABLE_HEAD)
                for round_ in range(args.rounds):
                    # app, floor(, baseline), then backwards: drift falls on every target.
                    order = names if round_ % 2 == 0 else names[::-1]
                    for name in order:
                        tally = load(
                            servers[name],
                            phones,
                            submissions,
                            args.concurrency,
                            duration,
                            args.count,
                            seed=args.seed * 100 + round_ * 3 + names.index(name),
                            new_phones=args.checks == "production",
                        )
                        answered[name].merge(tally)
                        totals[name].merge(tally)
                        print(row(f"{name} (window {round_ + 1})", tally), flush=True)
                for name in names:
                    print(row(f"**{name}, all windows**", totals[name]))
                ratio = share(totals["app"], totals["floor"])
                stack = share(totals["stack floor"], totals["floor"])
                print(
                    f"\napp/floor throughput: **{ratio:.0%}**; stack floor/floor: **{stack:.0%}**;"
                    f" app/stack floor: **{share(totals['app'], totals['stack floor']):.0%}**"
                )
                if baseline is not None:
                    base = totals["baseline"]
                    print(
                        f"\napp/baseline ({baseline.commit}): throughput "
                        f"**{totals['app'].rate / base.rate:.2f}**, server CPU per submission "
                        f"**{totals['app'].cpu_ms / base.cpu_ms:.2f}**"
                        if base.rate and base.cpu_ms
                        else "\napp/baseline: the baseline accepted nothing"
                    )
                if any(set(t.statuses) - {303} or t.connection_errors for t in totals.values()):
                    print("\nSome posts were refused or failed: run with --keep to read the logs.")
                summary.append((config, totals["app"], totals["stack floor"], totals["floor"]))
            finally:
                for server in servers.values():
                    server.stop()

        print("\n## Summary\n")
        print(
            "| gunicorn | target | subs/s | share of the floor | p50 / p99 ms | CPU ms/sub |\n"
            "| --- | --- | ---: | ---: | ---: | ---: |"
        )
        for config, *targets in summary:
            for name, tally in zip(("app", "stack floor", "floor"), targets, strict=True):
                print(
                    f"| {config} | {name} | {tally.rate:.0f} | {share(tally, targets[2]):.0%} "
                    f"| {tally.percentile(50):.1f} / {tally.percentile(99):.1f} "
                    f"| {tally.cpu_ms:.2f} |"
                )
        config, app_tally, stack_tally, floor_tally = max(summary, key=lambda item: item[1].rate)
        ratio = share(app_tally, stack_tally)
        wanted = 0.6 if args.database_url else 0.75  # issue 19: PostgreSQL, SQLite
        p99, cpu = app_tally.percentile(99), app_tally.cpu_ms
        print(
            f"\nGoals of issue #19, best config ({config}): app at least {wanted:.0%} of the "
            f"stack floor: {'yes' if ratio >= wanted else 'no'} ({ratio:.0%}); server CPU at "
            f"most 2.5 ms a post: {'yes' if cpu <= 2.5 else 'no'} ({cpu:.2f} ms, the stack "
            f"floor {stack_tally.cpu_ms:.2f}); p99 at most 40 ms at {args.concurrency} clients: "
            f"{'yes' if p99 <= 40 else 'no'} ({p99:.1f} ms). The stack floor (Flask, "
            f"Flask-WTF, SQLAlchemy Core, nothing of the app) reaches "
            f"{share(stack_tally, floor_tally):.0%} of the raw floor ({stack_tally.rate:.0f}/s)."
        )
        print(f"\nLoad average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print("\n## Verification\n")
        problems = verify(
            database_url,
            [
                ("app", answered["app"], "response", "answer"),
                ("stack floor", answered["stack floor"], STACK_TABLES[0], STACK_TABLES[1]),
                ("floor", answered["floor"], FLOOR_TABLE, None),
            ],
            questions or 0,
        )
        problems += verify_rollup(app)
        if baseline is not None:
            problems += verify(
                baseline.url,
                [("baseline", answered["baseline"], "response", "answer")],
                questions or 0,
            )
        if args.profile:
            profile(app, phones, submissions, args.profile)
    finally:
        if baseline is not None:
            baseline.remove()
        if args.keep:
            print(f"\nKept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if problems:
        print("\nVERIFICATION FAILED:\n" + "\n".join(f"- {p}" for p in problems))
        return 1
    print("\nVerified: every accepted submission stored exactly once, nothing else stored.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
