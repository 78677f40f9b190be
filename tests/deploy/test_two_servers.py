"""Two app servers, one database: the service keeps its state in PostgreSQL, so two
independent hosts behind one reverse proxy behave as one service.

Two gunicorn instances (each with its own workers and its own render cache) listen
on 127.0.0.2 and 127.0.0.3, as two hosts would, behind nginx from Debian, against
one throwaway PostgreSQL. nginx offers the round-robin entrance citizens use, and
one entrance pinned to each host so that a test can say which host serves what.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import VALID_ANSWERS
from tests.conftest import hidden_fields
from tests.conftest import skip_or_fail
from tests.pg_server import PostgresServer

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
HOSTS = ("127.0.0.2", "127.0.0.3")
DEVICE_LIMIT = 4
IP_LIMIT = 10

NGINX_CONF = """
{user}
worker_processes 2;
error_log {root}/nginx-error.log;
pid {root}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    access_log {root}/nginx-access.log;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    upstream both {{ server {a}; server {b}; }}
    proxy_set_header Host $http_host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;
    server {{ listen 127.0.0.1:{front}; location / {{ proxy_pass http://both; }} }}
    server {{ listen 127.0.0.1:{front_a}; location / {{ proxy_pass http://{a}; }} }}
    server {{ listen 127.0.0.1:{front_b}; location / {{ proxy_pass http://{b}; }} }}
}}
"""


def _port_free_on_all(hosts) -> int:
    """A port free on every host address, so both "hosts" serve on the same port."""
    for _ in range(50):
        with socket.socket() as sock:
            sock.bind((hosts[0], 0))
            port = sock.getsockname()[1]
        try:
            for host in hosts:
                with socket.socket() as sock:
                    sock.bind((host, port))
        except OSError:
            continue
        return port
    raise RuntimeError("no common free port")


def _wait_http(url: str, process: subprocess.Popen, timeout: float = 90) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"server for {url} exited"
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer")


class Deployment:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.processes: list[subprocess.Popen] = []
        self.pg: PostgresServer | None = None

    def start(self) -> Deployment:
        nginx = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin")
        if nginx is None:
            skip_or_fail("nginx is not installed (apt-get install nginx-light)")
        try:
            self.pg = PostgresServer().start()
        except (FileNotFoundError, OSError) as exc:
            skip_or_fail(f"PostgreSQL server unavailable: {exc}")
        admin = sa.create_engine(self.pg.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text("CREATE DATABASE survey"))
        admin.dispose()
        self.database_url = self.pg.url.rsplit("/", 1)[0] + "/survey"
        base_env = {
            **os.environ,
            "FLASK_APP": "wsgi",
            "DATABASE_URL": self.database_url,
            "SURVEY_ENV": "testing",
            "SURVEY_DEMO": "1",
            "SURVEY_MIN_FILL_SECONDS": "0",
            "SURVEY_LIMIT_DEVICE_PER_DAY": str(DEVICE_LIMIT),
            "SURVEY_LIMIT_IP_PER_HOUR": str(IP_LIMIT),
            # The limits under test, alone: no per-desk ceiling, and a phone's
            # second rating is not a replacement of its first.
            "SURVEY_DESK_MAX_PER_HOUR": "-1",
            "SURVEY_REPLACE_MINUTES": "0",
            # nginx is the one trusted hop: the citizen's address is its X-Forwarded-For.
            "SURVEY_PROXY_FIX_X_FOR": "1",
        }
        self.env = base_env
        flask = [sys.executable, "-m", "flask"]
        for args in (["db", "upgrade"], ["survey", "demo-data", "--no-responses"]):
            subprocess.run(flask + args, cwd=ROOT, env=base_env, check=True, capture_output=True)
        made = subprocess.run(
            flask + ["survey", "create-api-key", "HD-CG-LC", "--label", "Một cửa"],
            cwd=ROOT,
            env=base_env,
            check=True,
            capture_output=True,
            text=True,
        )
        self.api_key = made.stdout.strip().splitlines()[-1]

        port = _port_free_on_all(HOSTS)
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.cache_dirs = []
        for n, host in enumerate(HOSTS):
            cache = self.root / f"cache-{n}"
            self.cache_dirs.append(cache)
            env = {**base_env, "SURVEY_CACHE_DIR": str(cache)}
            process = subprocess.Popen(
                [
                    str(gunicorn),
                    "-w",
                    "2",
                    "-b",
                    f"{host}:{port}",
                    "--access-logfile",
                    str(self.root / f"access-{n}.log"),
                    "--access-logformat",
                    "%(m)s %(U)s %(s)s",
                    "--error-logfile",
                    str(self.root / f"error-{n}.log"),
                    "wsgi:app",
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            self.processes.append(process)
        for host, process in zip(HOSTS, self.processes, strict=True):
            _wait_http(f"http://{host}:{port}/healthz", process)

        fronts = [_port_free_on_all(["127.0.0.1"]) for _ in range(3)]
        conf = self.root / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(
                # As root, nginx's workers would be "nobody", who cannot enter the
                # test's private temp folders to buffer a large download.
                user="user root;" if os.geteuid() == 0 else "",
                root=self.root,
                a=f"{HOSTS[0]}:{port}",
                b=f"{HOSTS[1]}:{port}",
                front=fronts[0],
                front_a=fronts[1],
                front_b=fronts[2],
            )
        )
        proxy = subprocess.Popen(
            [nginx, "-p", str(self.root), "-c", str(conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.processes.append(proxy)
        self.front, self.via_a, self.via_b = (f"http://127.0.0.1:{p}" for p in fronts)
        for url in (self.front, self.via_a, self.via_b):
            _wait_http(f"{url}/healthz", proxy)
        self.engine = sa.create_engine(self.database_url)
        return self

    def served(self, n: int, method: str, path: str) -> list[int]:
        """Statuses host ``n`` answered to ``method`` on ``path`` (its access log)."""
        log = self.root / f"access-{n}.log"
        statuses = []
        for line in log.read_text().splitlines():
            m, url, status = line.split()
            if m == method and url == path:
                statuses.append(int(status))
        return statuses

    def flask(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "flask", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
        )

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if getattr(self, "engine", None) is not None:
            self.engine.dispose()
        if self.pg is not None:
            self.pg.stop()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    root = tmp_path_factory.mktemp("two-servers")
    root.chmod(0o755)
    deployment = Deployment(root)
    try:
        yield deployment.start()
    finally:
        deployment.stop()


def phone(address: str = "127.0.0.1"):
    """A citizen's phone: its own cookies, connecting from ``address`` (a loopback
    address of its own, so that nginx sees, and forwards, a different client)."""
    import requests
    from requests.adapters import HTTPAdapter

    class FromAddress(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            kwargs["source_address"] = (address, 0)
            super().init_poolmanager(*args, **kwargs)

    session = requests.Session()
    session.mount("http://", FromAddress())
    return session


def open_form(session, base: str, desk: str = "LC-01", token: str | None = None) -> dict:
    query = f"?t={token}" if token else ""
    page = session.get(f"{base}/s/{desk}{query}", timeout=20)
    assert page.status_code == 200, page.text[:300]
    return {**hidden_fields(page.text), **VALID_ANSWERS}


def post_form(session, base: str, data: dict, desk: str = "LC-01") -> int:
    reply = session.post(f"{base}/s/{desk}", data=data, allow_redirects=False, timeout=30)
    return reply.status_code


def stored(deployment, desk: str, *, counted: bool = False) -> int:
    """Responses stored for the desk; ``counted``: only those in the figures (not flagged)."""
    flagged = " AND NOT response.flagged" if counted else ""
    with deployment.engine.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT count(*) FROM response JOIN desk ON desk.id = response.desk_id "
                "WHERE desk.code = :desk" + flagged
            ),
            {"desk": desk},
        ).scalar_one()


def test_rate_limits_hold_across_the_two_servers(deployment):
    # One phone, twice its daily limit, alternately to each host: the second host
    # knows what the first one accepted.
    one_phone = phone()
    bases = [deployment.via_a, deployment.via_b]
    codes = []
    for n in range(2 * DEVICE_LIMIT):
        data = open_form(one_phone, bases[n % 2], "CGI-01")
        codes.append(post_form(one_phone, bases[(n + 1) % 2], data, "CGI-01"))
    # Within the limit every rating counts; beyond it a rating is refused (429) or
    # kept out of the figures (flagged): either way the figures hold exactly the limit.
    assert codes[:DEVICE_LIMIT] == [303] * DEVICE_LIMIT
    assert set(codes[DEVICE_LIMIT:]) <= {303, 429}
    assert stored(deployment, "CGI-01", counted=True) == DEVICE_LIMIT
    assert len(deployment.served(0, "POST", "/s/CGI-01")) == DEVICE_LIMIT
    assert len(deployment.served(1, "POST", "/s/CGI-01")) == DEVICE_LIMIT

    # Many phones behind one address, at once through the round-robin entrance: the
    # per-address limit is exact even when both hosts race for its last slots.
    phones = [phone() for _ in range(IP_LIMIT + 6)]
    forms = [open_form(p, deployment.front, "CH-01") for p in phones]
    barrier = threading.Barrier(len(phones))

    def send(i: int) -> int:
        barrier.wait()
        return post_form(phones[i], deployment.front, forms[i], "CH-01")

    with ThreadPoolExecutor(len(phones)) as pool:
        ip_codes = list(pool.map(send, range(len(phones))))
    assert ip_codes.count(303) >= IP_LIMIT and set(ip_codes) <= {303, 429}
    assert stored(deployment, "CH-01", counted=True) == IP_LIMIT
    assert deployment.served(0, "POST", "/s/CH-01") and deployment.served(1, "POST", "/s/CH-01")


def test_a_receipt_token_verifies_one_response_posted_to_both_servers_at_once(deployment):
    import requests

    headers = {"Authorization": f"Bearer {deployment.api_key}"}
    bases = [deployment.via_a, deployment.via_b]
    for attempt in range(5):
        minted = requests.post(
            f"{deployment.front}/api/v1/tokens",
            json={"desk_code": "LC-01", "dossier_number": f"HAI-MAY-{attempt}"},
            headers=headers,
            timeout=20,
        )
        assert minted.status_code == 201, minted.text
        code = minted.json()["token"]
        phones = [phone(), phone()]
        forms = [open_form(p, deployment.front, token=code) for p in phones]
        assert all(f["receipt"] == code for f in forms)
        barrier = threading.Barrier(2)

        def send(i: int, barrier=barrier, phones=phones, forms=forms) -> int:
            barrier.wait()
            return post_form(phones[i], bases[i], forms[i])

        with ThreadPoolExecutor(2) as pool:
            statuses = list(pool.map(send, range(2)))
        assert sorted(statuses) == [303, 409], statuses
        with deployment.engine.connect() as conn:
            linked, used = conn.execute(
                sa.text(
                    "SELECT count(r.id), max(t.used_at) IS NOT NULL FROM receipt_token t "
                    "LEFT JOIN response r ON r.receipt_token_id = t.id WHERE t.code = :code "
                    "GROUP BY t.id"
                ),
                {"code": code},
            ).one()
        assert linked == 1 and used


def test_the_rollup_equals_a_recount_after_concurrent_posts_to_both(deployment):
    before = stored(deployment, "TT-01") + stored(deployment, "TT-02")
    # 40 citizens, each from an address of its own, through the round-robin entrance.
    citizens = [(phone(f"127.0.1.{n + 1}"), "TT-01" if n % 2 else "TT-02") for n in range(40)]
    forms = [open_form(p, deployment.front, desk) for p, desk in citizens]

    def send(i: int) -> int:
        p, desk = citizens[i]
        return post_form(p, deployment.front, forms[i], desk)

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(send, range(len(citizens))))
    assert statuses == [303] * len(citizens)
    assert stored(deployment, "TT-01") + stored(deployment, "TT-02") == before + len(citizens)
    for n in range(2):
        assert 303 in deployment.served(n, "POST", "/s/TT-01") + deployment.served(
            n, "POST", "/s/TT-02"
        )
    check = deployment.flask("survey", "rollup-check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "Rollup matches a full recount" in check.stdout


def _report_responses(session, base: str, period: str) -> int:
    # The comma form of the CSV (the Vietnamese default is ";" with decimal commas).
    url = f"{base}/reports/HD-CG-LC/{period}/report.csv?sep=comma"
    reply = session.get(url, timeout=60)
    assert reply.status_code == 200
    text = reply.content.decode("utf-8-sig")
    cells = {r[0]: r[1] for r in csv.reader(io.StringIO(text)) if len(r) > 1}
    return int(cells["Số phiếu nhận được"])


def test_a_cached_download_from_one_server_shows_a_response_posted_to_the_other(deployment):
    officer = phone()
    login = officer.get(f"{deployment.via_a}/login", timeout=20).text
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', login).group(1)
    signed = officer.post(
        f"{deployment.via_a}/login",
        data={"csrf_token": token, "username": "laicach", "password": "demo-laicach"},
        allow_redirects=False,
        timeout=20,
    )
    assert signed.status_code in (302, 303)
    summary = officer.get(f"{deployment.via_b}/api/v1/units/HD-CG-LC/summary", timeout=20)
    assert summary.status_code == 200  # the session signed by A is valid on B
    period = summary.json()["period"]["code"]

    first = _report_responses(officer, deployment.via_a, period)
    cached = set(deployment.cache_dirs[0].iterdir())
    assert cached, "server A's render cache holds the report"
    assert _report_responses(officer, deployment.via_a, period) == first  # a cache hit

    citizen = phone("127.0.2.1")
    assert post_form(citizen, deployment.via_b, open_form(citizen, deployment.via_b)) == 303
    assert _report_responses(officer, deployment.via_a, period) == first + 1
    assert set(deployment.cache_dirs[0].iterdir()) > cached  # a new file for new content
    assert _report_responses(officer, deployment.via_b, period) == first + 1
