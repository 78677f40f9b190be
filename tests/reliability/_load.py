"""Helpers for the reliability tests: gunicorn in a subprocess, load, worker kills."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from tests.conftest import VALID_ANSWERS
from tests.conftest import hidden_fields

ROOT = Path(__file__).resolve().parents[2]

# Every answer question of VALID_ANSWERS (the comment is stored on the response).
ANSWERS_PER_RESPONSE = len(VALID_ANSWERS) - 1


def server_env(database_url: str) -> dict[str, str]:
    """Testing settings with the abuse controls out of the way of a load test."""
    return {
        **os.environ,
        "FLASK_APP": "wsgi",
        "DATABASE_URL": database_url,
        "SURVEY_ENV": "testing",
        "SURVEY_DEMO": "1",
        "SURVEY_MIN_FILL_SECONDS": "0",
        "SURVEY_LIMIT_DEVICE_PER_DAY": "0",
        "SURVEY_LIMIT_IP_PER_HOUR": "0",
        "SURVEY_DESK_MAX_PER_HOUR": "-1",
        # Each worker counts the waiting responses into the rollup, and is killed
        # mid-count as often as mid-post.
        "SURVEY_ROLLUP_BACKGROUND": "1",
        "SURVEY_ROLLUP_COUNT_DELAY_SECONDS": "0.2",
        "SURVEY_ROLLUP_COUNT_INTERVAL_SECONDS": "1",
    }


def prepare_database(env: dict[str, str]) -> None:
    flask = [sys.executable, "-m", "flask"]
    for args in (["db", "upgrade"], ["survey", "demo-data", "--no-responses"]):
        subprocess.run(flask + args, cwd=ROOT, env=env, check=True, capture_output=True)


class Gunicorn:
    """``gunicorn -w N --preload wsgi:app`` on a loopback port.

    ``--preload`` makes a respawned worker a plain fork of the master, so a
    worker killed every 0.3 s is replaced in milliseconds rather than after
    the 2–3 s an import of the app takes on a busy CPU.
    """

    def __init__(self, env: dict[str, str], workers: int, log: Path) -> None:
        gunicorn = Path(sys.executable).with_name("gunicorn")
        # Bound here and handed to gunicorn: a port only found free could be
        # taken by another test's server before gunicorn binds it.
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(2048)
        self.port = self.listener.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        fd = self.listener.fileno()
        self.process = subprocess.Popen(
            [
                str(gunicorn),
                "-w",
                str(workers),
                "--preload",
                "-b",
                f"fd://{fd}",
                "--timeout",
                "30",
                "--error-logfile",
                str(log),
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(fd,),
        )
        self.listener.close()  # gunicorn holds it now: a dead server refuses connections

    def wait_ready(self, timeout: float = 60) -> None:
        import requests

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "gunicorn exited"
            try:
                if requests.get(f"{self.base}/healthz", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise AssertionError("gunicorn did not answer /healthz")

    def workers(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


class WorkerKiller(threading.Thread):
    """SIGKILL a random gunicorn worker every ``interval`` seconds until stopped."""

    def __init__(self, server: Gunicorn, interval: float = 0.3) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.interval = interval
        self.kills = 0
        self.done = threading.Event()

    def run(self) -> None:
        rng = random.Random(7)
        while not self.done.wait(self.interval):
            pids = self.server.workers()
            if not pids:
                continue
            try:
                os.kill(rng.choice(pids), signal.SIGKILL)
                self.kills += 1
            except ProcessLookupError:
                pass


@dataclass
class LoadResult:
    attempted: set[str] = field(default_factory=set)
    acknowledged: list[str] = field(default_factory=list)
    retried: set[str] = field(default_factory=set)
    gave_up: list[str] = field(default_factory=list)
    failures: int = 0  # connection errors and resets, on GET or POST
    unavailable: int = 0  # 503 "not saved" pages
    unavailable_times: list[float] = field(default_factory=list)
    unexpected: list[tuple[str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def submit_one(base: str, result: LoadResult, attempts: int = 40) -> None:
    """One citizen: open the form, then send it, retrying with the same submission id.

    A failed or refused POST is sent again unchanged, as the form's page does
    on a flaky network; a 503 must say the answers were not saved.
    """
    import requests

    session = requests.Session()
    data = None
    for _ in range(attempts):
        try:
            page = session.get(f"{base}/s/LC-01?lang=en", timeout=10)
        except requests.RequestException:
            with result.lock:
                result.failures += 1
            time.sleep(0.05)
            continue
        if page.status_code == 200:
            data = {**hidden_fields(page.text), **VALID_ANSWERS}
            break
        with result.lock:
            if page.status_code == 503:
                result.unavailable += 1
                result.unavailable_times.append(time.monotonic())
            else:
                result.unexpected.append(("GET", page.status_code))
        time.sleep(0.1)
    if data is None:
        return
    sid = data["submission_id"]
    with result.lock:
        result.attempted.add(sid)
    for attempt in range(attempts):
        if attempt:
            with result.lock:
                result.retried.add(sid)
        try:
            reply = session.post(f"{base}/s/LC-01", data=data, allow_redirects=False, timeout=20)
        except requests.RequestException:
            with result.lock:
                result.failures += 1
            time.sleep(0.05)
            continue
        if reply.status_code == 303:
            with result.lock:
                result.acknowledged.append(sid)
            return
        with result.lock:
            if reply.status_code == 503 and "Your answers were not saved" in reply.text:
                result.unavailable += 1
                result.unavailable_times.append(time.monotonic())
            else:
                result.unexpected.append(("POST", reply.status_code))
        time.sleep(0.1)
    with result.lock:
        result.gave_up.append(sid)


def run_load(base: str, total: int, threads: int = 4) -> LoadResult:
    """``total`` citizens, shared by ``threads`` client threads (a bounded loop)."""
    result = LoadResult()
    counter = iter(range(total))
    counter_lock = threading.Lock()

    def client() -> None:
        while True:
            with counter_lock:
                if next(counter, None) is None:
                    return
            submit_one(base, result)

    pool = [threading.Thread(target=client) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return result


def stored_counts(engine) -> tuple[dict[str, int], dict[str, int]]:
    """Per submission id: how many responses, and how many answers the response has."""
    import sqlalchemy as sa

    with engine.connect() as conn:
        responses = dict(
            conn.execute(
                sa.text("SELECT submission_id, count(*) FROM response GROUP BY submission_id")
            ).all()
        )
        answers = dict(
            conn.execute(
                sa.text(
                    "SELECT r.submission_id, count(a.id) FROM response r "
                    "LEFT JOIN answer a ON a.response_id = r.id GROUP BY r.submission_id"
                )
            ).all()
        )
    return responses, answers
