"""The production image, built and run for real.

Builds the base image from Debian's packages (docker/build-base.sh, kept once
built) and the image (docker/build-image.sh), then, on SQLite with a named
volume and on a throwaway PostgreSQL server: migrates with a one-off
container, serves, takes a citizen's form, gives a signed-in officer the
month's CSV report (and its PDF, Word and Excel forms, the charts and a desk's
poster), and finds the response again after the container is replaced. Also
checks that boot.sh retries a database that is still starting and exits at once
on a bad setting.

Starts dockerd itself when none answers (root only). Containers share the
host's network (the daemon runs without a bridge or iptables), each on its own
port, bound to 127.0.0.1.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from ..pg_server import PostgresServer
from ..pg_server import free_port

pytestmark = pytest.mark.container

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI") == "true"
IMAGE = "sipas-survey:test"
# The image's limit, recorded in docs/OPERATIONS.md.
MAX_IMAGE_BYTES = 400 * 1000 * 1000
# The same answers as tests/conftest.py's VALID_ANSWERS; the comment is unique
# per run so that the report shows this response and no other.
ANSWERS = {
    "q_field": "dat_dai",
    "q_access": "4",
    "q_procedure": "5",
    "q_official": "5",
    "q_result": "3",
    "q_feedback": "na",
    "q_overall": "4",
    "q_wait": "15to30",
    "q_visits": "1",
    "q_trouble": "no",
}
MIN_FILL_SECONDS = 2
BASE_ENV = {
    "SURVEY_SECRET_KEY": "container-test-" + uuid.uuid4().hex,
    "SURVEY_HASH_KEY": "container-hash-" + uuid.uuid4().hex,
    # Production refuses to start without the address its QR codes print.
    "SURVEY_PUBLIC_BASE_URL": "https://khaosat.example.vn",
    # The demo officers sign in only in demo mode.
    "SURVEY_DEMO": "1",
    # Plain HTTP on loopback: Secure cookies would never be sent back.
    "SURVEY_SECURE_COOKIES": "0",
    "SURVEY_MIN_FILL_SECONDS": str(MIN_FILL_SECONDS),
    "WEB_CONCURRENCY": "2",
    "HOST": "127.0.0.1",
}
_HIDDEN = re.compile(r'<input id="(\w+)" name="\w+" type="hidden" value="([^"]*)">')
_CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def skip_or_fail(reason: str) -> None:
    """Skip where Docker cannot run; in CI that is a failure."""
    if IN_CI:
        pytest.fail(f"{reason} — CI must run the container test, not skip it")
    pytest.skip(reason)


def docker(*args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
    result = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"docker {' '.join(args)} exited {result.returncode}:\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result


def _daemon_answers() -> bool:
    return (
        subprocess.run(["docker", "info"], capture_output=True, timeout=60, check=False).returncode
        == 0
    )


@pytest.fixture(scope="module")
def docker_engine(tmp_path_factory):
    """A Docker daemon that answers: the machine's, or one started here and stopped after."""
    if not shutil.which("docker"):
        skip_or_fail("the docker command is missing (scripts/system-deps.sh installs docker.io)")
    if _daemon_answers():
        yield None
        return
    if os.geteuid() != 0:
        skip_or_fail("no Docker daemon answers and only root may start one")
    if not shutil.which("dockerd"):
        skip_or_fail("dockerd is missing (scripts/system-deps.sh installs docker.io)")
    log = tmp_path_factory.mktemp("dockerd") / "dockerd.log"
    with open(log, "wb") as out:
        # No bridge and no iptables: the containers use the host's network,
        # which needs no NAT rules on this machine.
        daemon = subprocess.Popen(
            ["dockerd", "--storage-driver=overlay2", "--iptables=false", "--bridge=none"],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        for _ in range(120):
            if daemon.poll() is not None or _daemon_answers():
                break
            time.sleep(0.5)
        if not _daemon_answers():
            skip_or_fail(f"dockerd did not start:\n{log.read_text()[-3000:]}")
        yield daemon
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()


@pytest.fixture(scope="module")
def image(docker_engine) -> str:
    """The image, built from this work tree (the layer cache makes a rebuild quick)."""
    if (
        not shutil.which("debootstrap")
        and docker("image", "inspect", "sipas-base:bookworm", check=False).returncode != 0
    ):
        skip_or_fail("debootstrap is missing (scripts/system-deps.sh installs it)")
    build = subprocess.run(
        ["bash", str(ROOT / "docker" / "build-image.sh"), IMAGE],
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    assert build.returncode == 0, (
        f"image build failed:\n{build.stdout[-4000:]}\n{build.stderr[-4000:]}"
    )
    return IMAGE


class Containers:
    """Names of what a test started, removed at its end."""

    def __init__(self) -> None:
        self.prefix = "sipas-test-" + uuid.uuid4().hex[:8]
        self.names: list[str] = []
        self.volumes: list[str] = []

    def volume(self) -> str:
        name = f"{self.prefix}-{len(self.volumes)}"
        docker("volume", "create", name)
        self.volumes.append(name)
        return name

    def _args(self, env: dict[str, str], volume: str | None) -> list[str]:
        args = ["--network", "host"]
        for key, value in {**BASE_ENV, **env}.items():
            args += ["-e", f"{key}={value}"]
        if volume:
            args += ["-v", f"{volume}:/app/instance"]
        return args

    def once(self, image: str, *command: str, env=None, volume=None, check=True, user=None):
        """A one-off container: runs ``command`` (or boot.sh's default) and is removed."""
        args = self._args(env or {}, volume) + (["--user", user] if user else [])
        return docker("run", "--rm", *args, image, *command, check=check)

    def serve(self, image: str, port: int, env=None, volume=None) -> str:
        name = f"{self.prefix}-{len(self.names)}"
        self.names.append(name)
        docker(
            "run",
            "-d",
            "--name",
            name,
            # The image needs no writable root: the volume, a tmpfs for /tmp.
            "--read-only",
            "--tmpfs",
            "/tmp",
            *self._args({**(env or {}), "PORT": str(port)}, volume),
            image,
        )
        return name

    def cleanup(self) -> None:
        for name in self.names:
            docker("rm", "-f", "-v", name, check=False)
        for name in self.volumes:
            docker("volume", "rm", "-f", name, check=False)


@pytest.fixture
def containers(docker_engine):
    started = Containers()
    yield started
    started.cleanup()


def wait_healthy(name: str, base: str) -> None:
    """Wait until /healthz answers 200, or fail with the container's log if it stops."""
    for _ in range(600):
        state = docker("inspect", "-f", "{{.State.Running}}", name).stdout.strip()
        if state != "true":
            logs = docker("logs", name, check=False)
            pytest.fail(f"container {name} stopped:\n{logs.stdout[-3000:]}{logs.stderr[-3000:]}")
        try:
            if requests.get(f"{base}/healthz", timeout=10).status_code == 200:
                return
        # Refused until gunicorn binds; accepted but unanswered while its
        # workers import the app.
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.5)
    logs = docker("logs", name, check=False)
    pytest.fail(f"{name} never answered /healthz:\n{logs.stderr[-3000:]}")


def post_citizen_form(base: str, comment: str) -> None:
    """What a phone does: open the desk's form, take a few seconds, send it."""
    phone = requests.Session()
    page = phone.get(f"{base}/s/LC-01", timeout=30)
    assert page.status_code == 200
    data = {**dict(_HIDDEN.findall(page.text)), **ANSWERS, "q_comment": comment}
    assert data.get("csrf_token") and data.get("issued"), "the form lost its hidden fields"
    # A form sent sooner than SURVEY_MIN_FILL_SECONDS is stored but flagged and
    # left out of the reports (survey/integrity.py, flag_reason).
    time.sleep(MIN_FILL_SECONDS + 1)
    reply = phone.post(f"{base}/s/LC-01", data=data, timeout=30, allow_redirects=False)
    assert reply.status_code == 303, reply.text[:2000]


def officer_dashboard(base: str) -> tuple[requests.Session, str]:
    """Officer laicach of Thị trấn Lai Cách, signed in, and the dashboard's HTML."""
    officer = requests.Session()
    login = officer.get(f"{base}/login", timeout=30)
    token = _CSRF.search(login.text).group(1)
    dashboard = officer.post(
        f"{base}/login",
        data={"csrf_token": token, "username": "laicach", "password": "demo-laicach"},
        timeout=30,
    )
    assert dashboard.status_code == 200 and "/logout" in dashboard.text, "sign-in failed"
    return officer, dashboard.text


def officer_report_rows(base: str) -> list[list[str]]:
    """The current month's CSV report of Thị trấn Lai Cách, as officer laicach sees it."""
    officer, dashboard = officer_dashboard(base)
    # The dashboard links the current period's report (the commune's months
    # run from the 15th, so the code is not always today's month). In
    # Vietnamese the CSV defaults to ";" with a decimal comma, for Excel; the
    # link for other programs asks for "," (?sep=comma), which is parsed here.
    link = re.search(r"/reports/HD-CG-LC/(\d{4}-\d{2})/report\.csv\?sep=comma\b", dashboard)
    assert link, "no monthly comma-separated CSV report linked from the dashboard"
    report = officer.get(f"{base}{link.group(0)}", timeout=120)
    assert report.status_code == 200
    assert report.headers["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(report.content.decode("utf-8-sig")), delimiter=","))


# What each download starts with: the image's Dockerfile removes parts of the
# libraries (matplotlib, fontTools, lxml, numpy) that no format may miss.
_MAGIC = {"pdf": b"%PDF-", "docx": b"PK", "xlsx": b"PK", "png": b"\x89PNG", "svg": b"<"}


def assert_every_format_renders(base: str) -> None:
    """The officer's report as PDF, Word and Excel, the charts, and a desk's poster."""
    officer, dashboard = officer_dashboard(base)
    period = re.search(r"/reports/HD-CG-LC/(\d{4}-\d{2})/report\.pdf", dashboard)
    assert period, "no monthly PDF report linked from the dashboard"
    reports = f"{base}/reports/HD-CG-LC/{period.group(1)}"
    urls = [f"{reports}/report.{fmt}" for fmt in ("pdf", "docx", "xlsx")]
    urls += [f"{reports}/chart.{fmt}" for fmt in ("png", "svg", "pdf")]
    for url in urls:
        reply = officer.get(url, timeout=180)
        assert reply.status_code == 200, f"{url}: {reply.status_code} {reply.text[:2000]}"
        magic = _MAGIC[url.rsplit(".", 1)[1]]
        assert reply.content.startswith(magic), f"{url} is not what it claims to be"
    poster = requests.get(f"{base}/s/LC-01/poster.pdf?size=A5", timeout=180)
    assert poster.status_code == 200 and poster.content.startswith(b"%PDF-"), poster.text[:2000]


def assert_reported_once(rows: list[list[str]], comment: str) -> None:
    found = [row for row in rows if comment in row]
    assert len(found) == 1, f"the response with {comment!r} is not in the report once: {rows}"


def run_scenario(containers: Containers, image: str, env: dict, volume: str | None) -> None:
    """Migrate, load the demo desks, serve, answer, report; then a new container."""
    migrated = containers.once(image, "flask", "db", "upgrade", env=env, volume=volume)
    assert "Running upgrade" in migrated.stderr + migrated.stdout
    containers.once(image, "flask", "survey", "demo-data", "--no-responses", env=env, volume=volume)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    first = containers.serve(image, port, env=env, volume=volume)
    wait_healthy(first, base)
    comment = "container test " + uuid.uuid4().hex
    post_citizen_form(base, comment)
    assert_reported_once(officer_report_rows(base), comment)
    assert_every_format_renders(base)
    docker("stop", "-t", "30", first)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    second = containers.serve(image, port, env=env, volume=volume)
    wait_healthy(second, base)
    assert_reported_once(officer_report_rows(base), comment)


def test_image_is_small_runs_as_non_root_and_checks_its_health(image, containers):
    size = int(docker("image", "inspect", "-f", "{{.Size}}", image).stdout)
    assert size < MAX_IMAGE_BYTES, f"the image grew to {size / 1e6:.0f} MB"
    config = json.loads(docker("image", "inspect", "-f", "{{json .Config}}", image).stdout)
    assert config["User"] == "10001:10001"
    assert "/app/instance" in config["Volumes"]

    volume = containers.volume()
    containers.once(image, "flask", "db", "upgrade", volume=volume)
    port = free_port()
    name = containers.serve(image, port, volume=volume)
    wait_healthy(name, f"http://127.0.0.1:{port}")
    assert docker("exec", name, "id", "-u").stdout.strip() == "10001"
    # Read-only root: nothing may have failed for want of a writable path.
    logs = docker("logs", name)
    assert "[ERROR]" not in logs.stdout + logs.stderr, logs.stderr[-3000:]
    # The image's own HEALTHCHECK command, run as Docker would run it.
    kind, command = config["Healthcheck"]["Test"]
    assert kind == "CMD-SHELL"
    docker("exec", name, "sh", "-c", command)
    # An online SQLite backup with the image's sqlite3, as docs/OPERATIONS.md says.
    docker("exec", name, "sqlite3", "/app/instance/survey.db", ".backup /tmp/backup.db")
    tables = docker("exec", name, "sqlite3", "/tmp/backup.db", ".tables").stdout
    assert "alembic_version" in tables


def test_sqlite_on_a_volume_keeps_a_response_across_containers(image, containers):
    run_scenario(containers, image, env={}, volume=containers.volume())


@pytest.fixture
def postgres():
    """A PostgreSQL server with its port chosen, started by the test when it wants."""
    try:
        server = PostgresServer()
    except FileNotFoundError as exc:
        skip_or_fail(f"PostgreSQL server unavailable: {exc}")
    yield server
    if server.data.exists():
        server.stop()
    else:
        shutil.rmtree(server.root, ignore_errors=True)


def create_database(server: PostgresServer, name: str) -> str:
    engine = sa.create_engine(server.url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return server.url.rsplit("/", 1)[0] + "/" + name


def test_postgresql_waits_for_the_database_then_keeps_a_response(image, containers, postgres):
    env = {"DATABASE_URL": postgres.url}
    # Started before the database: boot.sh must say it waits, and then serve.
    port = free_port()
    name = containers.serve(image, port, env={**env, "DB_WAIT_SECONDS": "300"})
    for _ in range(120):
        if "not accepting connections yet" in docker("logs", name).stderr:
            break
        time.sleep(0.5)
    else:
        pytest.fail("boot.sh did not report that it waits for the database")
    postgres.start()
    wait_healthy(name, f"http://127.0.0.1:{port}")
    docker("rm", "-f", name)

    # A database of its own, so that the one-off migration has work to do.
    env = {"DATABASE_URL": create_database(postgres, "sipas_scenario")}
    run_scenario(containers, image, env=env, volume=None)


def test_a_bad_setting_fails_at_once_without_retrying(image, containers, postgres):
    # Production without a secret key: ConfigError, exit non-zero, no retry.
    no_secret = containers.once(image, env={"SURVEY_SECRET_KEY": ""}, check=False)
    assert no_secret.returncode != 0
    assert "SURVEY_SECRET_KEY is not set" in no_secret.stderr
    assert "retrying" not in no_secret.stderr

    # A volume the container's user may not write (here: another user).
    denied = containers.once(image, volume=containers.volume(), user="12345:12345", check=False)
    assert denied.returncode != 0
    assert "unable to open database file" in denied.stderr
    assert "retrying" not in denied.stderr

    # A server that is up but refuses these credentials: not retried either.
    postgres.start()
    wrong_db = postgres.url.rsplit("/", 1)[0] + "/no_such_database"
    refused = containers.once(
        image, env={"DATABASE_URL": wrong_db, "DB_WAIT_SECONDS": "300"}, check=False
    )
    assert refused.returncode != 0
    assert 'database "no_such_database" does not exist' in refused.stderr
    assert "retrying" not in refused.stderr

    # A database that never comes up: retried for DB_WAIT_SECONDS, then given up.
    closed = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/postgres"
    gave_up = containers.once(
        image, env={"DATABASE_URL": closed, "DB_WAIT_SECONDS": "4"}, check=False
    )
    assert gave_up.returncode != 0
    assert "retrying" in gave_up.stderr
    assert "still refuses connections" in gave_up.stderr
