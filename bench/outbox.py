"""The alerts worker against a real SMTP server on loopback: speed and reliability.

Builds a throwaway SQLite database with the app's migrations and CLI (the
same unit and desk as ``bench/submissions.py``), an officer with an e-mail
address, and starts aiosmtpd on a loopback port. Then, each step with the
real ``flask survey`` commands in their own processes:

1. **Drain**: N messages queued, one ``flask survey send-due``; wall time
   until it exits, every Message-ID received once.
2. **Latency**: ``flask survey worker`` running (interval 5 s) and gunicorn
   serving the app; a harassment report posted over HTTP; time from the 303
   to the e-mail's arrival at the SMTP server, several times.
3. **Side by side**: form posts through gunicorn for ``--duration`` seconds
   with the worker idle, then with the worker draining a queue, in
   alternating rounds; posts/s and latency of each.
4. **Kill mid-batch**: a worker is SIGKILLed while draining; a second one
   finishes after the lease; queued vs delivered, duplicates by Message-ID.
5. **SMTP down**: the server stopped while messages are queued, the worker
   retrying with back-off; the server back; queued vs delivered, duplicates.

Run: .venv/bin/python bench/outbox.py [--messages 1000] [--duration 10] [--rounds 2]
Exits with status 1 if a message is lost (duplicates are reported, not fatal:
the key makes them recognisable).
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import sqlalchemy as sa  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402

from bench.submissions import DESK  # noqa: E402
from bench.submissions import UNIT  # noqa: E402
from bench.submissions import Server  # noqa: E402
from bench.submissions import ServerConfig  # noqa: E402
from bench.submissions import Submissions  # noqa: E402
from bench.submissions import build_database  # noqa: E402
from bench.submissions import cookie_header  # noqa: E402
from bench.submissions import free_port  # noqa: E402
from bench.submissions import load  # noqa: E402
from bench.submissions import machine  # noqa: E402
from bench.submissions import open_phones  # noqa: E402
from bench.submissions import post  # noqa: E402
from bench.submissions import server_env  # noqa: E402
from survey.extensions import db  # noqa: E402

OFFICER_EMAIL = "canbo@bench.example.vn"


class Inbox:
    """aiosmtpd's handler: every accepted message, by Message-ID, with its arrival time."""

    def __init__(self, delay: float = 0.0) -> None:
        self.ids: list[str] = []
        self.arrivals: list[tuple[float, str]] = []
        self.delay = delay
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.ids.append(msg["Message-ID"])
            self.arrivals.append((time.monotonic(), msg["Subject"]))
        return "250 OK"

    def count(self) -> int:
        with self.lock:
            return len(self.ids)

    def reset(self) -> None:
        with self.lock:
            self.ids.clear()
            self.arrivals.clear()


class Smtp:
    def __init__(self, inbox: Inbox) -> None:
        self.port = free_port()
        self.inbox = inbox
        self.controller = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def flask(env, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).with_name("flask")), "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        **kwargs,
    )


def start_worker(env, interval: float = 5.0) -> subprocess.Popen:
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("flask")), "--app", "wsgi", "survey", "worker"]
        + ["--interval", str(interval)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def queue(app, n: int, tag: str) -> list[str]:
    """Queue ``n`` e-mails directly in the outbox, as the dispatch step would."""
    from survey.data.models import OutboxMessage
    from survey.data.models import utcnow
    from survey.extensions import db

    keys = [f"bench-{tag}-{i}-{uuid.uuid4().hex[:8]}" for i in range(n)]
    with app.app_context():
        now = utcnow()
        db.session.execute(
            OutboxMessage.__table__.insert(),
            [
                {
                    "key": key,
                    "channel": "email",
                    "recipient": OFFICER_EMAIL,
                    "kind": "harassment",
                    "unit_id": None,
                    "subject": "[Khảo sát hài lòng] Thư thử",
                    "body": "Nội dung thư thử.\n",
                    "payload": {},
                    "status": "pending",
                    "attempts": 0,
                    "created_at": now,
                    "next_attempt_at": now,
                }
                for key in keys
            ],
        )
        db.session.commit()
        db.engine.dispose()
    return keys


def outbox_counts(app) -> Counter:
    import sqlalchemy as sa

    from survey.data.models import OutboxMessage
    from survey.extensions import db

    with app.app_context():
        rows = db.session.execute(
            sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)
        ).all()
        db.session.remove()
        db.engine.dispose()
    return Counter(dict(rows))


def wait_until(predicate, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def delivered(inbox: Inbox, keys: list[str]) -> tuple[int, int]:
    """(distinct of ``keys`` received, duplicates among them)."""
    wanted = {f"<{k}@bench.example.vn>" for k in keys}
    with inbox.lock:
        seen = Counter(i for i in inbox.ids if i in wanted)
    return len(seen), sum(n - 1 for n in seen.values())


def harassment_body(phone, submissions, rng) -> bytes:
    from urllib.parse import parse_qsl

    _sid, body = submissions.body(phone, rng)
    data = dict(parse_qsl(body.decode(), keep_blank_values=True))
    data["q_trouble"] = "yes"
    return urlencode(data).encode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--latency-samples", type=int, default=5)
    parser.add_argument("--down-seconds", type=float, default=15)
    parser.add_argument("--down-messages", type=int, default=500)
    parser.add_argument("--config", type=ServerConfig.parse, default=ServerConfig.parse("sync:2"))
    args = parser.parse_args()
    problems: list[str] = []

    workdir = Path(tempfile.mkdtemp(prefix="sipas-outbox-bench-"))
    inbox = Inbox()
    smtp = Smtp(inbox)
    smtp.start()
    url = f"sqlite:///{workdir / 'bench.db'}"
    env = server_env(url, secrets.token_hex(16), "raised", str(workdir / "floor.db"))
    env.update(
        SURVEY_SMTP_HOST="127.0.0.1",
        SURVEY_SMTP_PORT=str(smtp.port),
        SURVEY_SMTP_STARTTLS="0",
        SURVEY_MAIL_FROM="khaosat@bench.example.vn",
        SURVEY_PUBLIC_BASE_URL="https://khaosat.bench.example.vn",
        SURVEY_OUTBOX_BACKOFF="1",
        SURVEY_OUTBOX_BACKOFF_MAX="4",
        SURVEY_DEMO="0",
    )
    app = build_database(workdir / "bench.db", env)
    done = flask(
        env,
        "survey",
        "create-officer",
        "canbo",
        "--name",
        "Cán bộ thử",
        "--role",
        "commune",
        "--unit",
        UNIT,
        "--password-stdin",
        input="mat-khau-thu-nghiem\n",
    )
    assert done.returncode == 0, done.stderr
    assert flask(env, "survey", "set-officer-email", "canbo", OFFICER_EMAIL).returncode == 0
    # Every harassment report its own message, so each latency sample is one report.
    assert flask(env, "survey", "set-alert-rule", UNIT, "--group-minutes", "0").returncode == 0

    print("# Outbox bench\n")
    for line in machine():
        print(f"- {line}")
    print(f"- SQLite (WAL, synchronous=FULL) in {workdir}; aiosmtpd on 127.0.0.1:{smtp.port}\n")

    # 1. Drain -----------------------------------------------------------------
    keys = queue(app, args.messages, "drain")
    began = time.monotonic()
    done = flask(env, "survey", "send-due", timeout=600)
    drain_s = time.monotonic() - began
    got, dup = delivered(inbox, keys)
    print(f"## Drain: {args.messages} queued messages, one `flask survey send-due`\n")
    print(
        f"- wall time {drain_s:.1f} s (process start included): "
        f"{args.messages / drain_s:.0f} messages/s"
    )
    print(f"- delivered {got} of {args.messages}, duplicates {dup}\n")
    if got != args.messages:
        problems.append(f"drain: {args.messages - got} lost")

    # 2. Latency ---------------------------------------------------------------
    server = Server("app", "wsgi:app", args.config, env, workdir / "gunicorn.log")
    server.wait_ready()
    worker = start_worker(env, 5.0)
    time.sleep(2)
    phones = open_phones(server.port, 8)
    submissions = Submissions(app)
    rng = random.Random(1)
    import http.client

    latencies = []
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    for i in range(args.latency_samples):
        before = inbox.count()
        phone = phones[i % len(phones)]
        body = harassment_body(phone, submissions, rng)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": cookie_header(phone.cookies),
            "X-Forwarded-For": phone.address,
        }
        status = post(conn, f"/s/{DESK}", body, headers)
        posted = time.monotonic()
        if status != 303:
            problems.append(f"latency: post answered {status}")
            continue

        def arrived(b=before):
            with inbox.lock:
                return [t for t, subject in inbox.arrivals[b:] if "sách nhiễu" in subject]

        if not wait_until(lambda: bool(arrived()), 120):
            problems.append("latency: no e-mail within 120 s")
            continue
        latencies.append(arrived()[0] - posted)
        time.sleep(rng.uniform(0, 5))  # land anywhere in the worker's interval
    conn.close()
    print("## Latency: harassment report posted → e-mail at the SMTP server\n")
    print(
        f"- worker interval 5 s; {len(latencies)} reports: median "
        f"{statistics.median(latencies):.1f} s, max {max(latencies):.1f} s (goal: 60 s)\n"
    )

    # 3. Side by side ----------------------------------------------------------
    print(
        f"## Form posts with the worker idle and draining ({args.config}, "
        f"{args.concurrency} clients, {args.duration:.0f} s windows)\n"
    )
    print("| round | worker | posts/s | p50 ms | p99 ms | e-mails sent in window |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    results = {"idle": [], "draining": []}
    worker.send_signal(signal.SIGTERM)
    worker.wait(60)
    worker = start_worker(env, 1.0)  # one worker throughout, polling every second
    time.sleep(3)
    for rnd in range(args.rounds):
        order = ["idle", "draining"] if rnd % 2 == 0 else ["draining", "idle"]
        for mode in order:
            if mode == "draining":
                drain_keys = queue(app, 20000, f"side{rnd}")  # more than a window drains
                if not wait_until(lambda k=drain_keys: delivered(inbox, k)[0] > 0, 60):
                    problems.append("side by side: the worker did not start draining")
            before = inbox.count()
            tally = load(server, phones, submissions, args.concurrency, args.duration, None, rnd)
            sent = inbox.count() - before
            if mode == "draining":
                # Empty the queue before the next idle window (not measured).
                with app.app_context():
                    db.session.execute(
                        sa.text("UPDATE outbox SET status = 'sent' WHERE status = 'pending'")
                    )
                    db.session.commit()
                    db.engine.dispose()
                time.sleep(3)
            results[mode].append(tally.rate)
            print(
                f"| {rnd + 1} | {mode} | {tally.rate:.0f} | {tally.percentile(50):.1f} | "
                f"{tally.percentile(99):.1f} | {sent} |"
            )
    idle, busy = statistics.mean(results["idle"]), statistics.mean(results["draining"])
    print(
        f"\nMean: idle {idle:.0f} posts/s, draining {busy:.0f} posts/s: "
        f"{(1 - busy / idle) * 100:+.1f} % slower (goal: at most 10 %)\n"
    )
    worker.send_signal(signal.SIGTERM)
    worker.wait(60)
    server.stop()

    # 4. Kill mid-batch --------------------------------------------------------
    lease_env = {**env, "SURVEY_OUTBOX_LEASE": "3", "SURVEY_WORKER_BATCH": "200"}
    inbox.delay = 0.005  # a slower server, so the kill lands inside a batch
    keys = queue(app, args.messages, "kill")
    worker = start_worker(lease_env, 1.0)
    wait_until(lambda: delivered(inbox, keys)[0] >= args.messages // 3, 120)
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    at_kill = delivered(inbox, keys)[0]
    worker = start_worker(lease_env, 1.0)
    wait_until(lambda: delivered(inbox, keys)[0] >= args.messages, 300)
    time.sleep(2)
    worker.send_signal(signal.SIGTERM)
    worker.wait(60)
    got, dup = delivered(inbox, keys)
    counts = outbox_counts(app)
    print("## Worker killed (SIGKILL) in the middle of a batch\n")
    print(
        f"- queued {args.messages}; delivered when killed {at_kill}; a second worker "
        f"took over after the 3 s lease"
    )
    print(
        f"- delivered {got} of {args.messages}; duplicates (same Message-ID twice) {dup}; "
        f"outbox pending {counts.get('pending', 0)}, dead {counts.get('dead', 0)}\n"
    )
    if got != args.messages:
        problems.append(f"kill: {args.messages - got} lost")
    inbox.delay = 0.0

    # 5. SMTP down -------------------------------------------------------------
    smtp.stop()
    down_n = args.down_messages
    keys = queue(app, down_n, "down")
    worker = start_worker(env, 1.0)
    time.sleep(args.down_seconds)
    during = delivered(inbox, keys)[0]
    pending_down = outbox_counts(app).get("pending", 0)
    smtp.start()
    back = time.monotonic()
    wait_until(lambda: delivered(inbox, keys)[0] >= down_n, 300)
    drained_after = time.monotonic() - back
    time.sleep(2)
    worker.send_signal(signal.SIGTERM)
    worker.wait(60)
    got, dup = delivered(inbox, keys)
    counts = outbox_counts(app)
    print(f"## SMTP server down for {args.down_seconds:.0f} s with {down_n} messages queued\n")
    print(f"- while down: delivered {during}, pending {pending_down} (nothing given up)")
    print(
        f"- server back: all delivered {drained_after:.1f} s later (back-off 1 s doubling, "
        f"at most 4 s in this bench; 30 s to an hour by default)"
    )
    print(
        f"- delivered {got} of {down_n}; duplicates {dup}; outbox pending "
        f"{counts.get('pending', 0)}, dead {counts.get('dead', 0)}\n"
    )
    if got != down_n:
        problems.append(f"smtp down: {down_n - got} lost")
    smtp.stop()

    for problem in problems:
        print(f"PROBLEM: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
