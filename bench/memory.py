"""Resident memory of each gunicorn worker: after start, after citizens' forms only,
and during and after a mixed load of forms, officers' pages and downloads.

Run: .venv/bin/python bench/memory.py [--minutes 5] [--workers 2] [--threads 4]
                                      [--clients 4]

Builds a SQLite database with the real migrations and the demo data (six
communes, a year of responses), serves ``wsgi:app`` with gunicorn on loopback
(``gthread`` workers, as boot.sh does by default, production settings, a download
cache of its own), and reads each worker's ``/proc/<pid>/status`` (VmRSS, with
the pages shared with the master and the other workers) and
``/proc/<pid>/smaps_rollup`` (Pss: shared pages divided among the processes that
share them; Private: the worker's own pages, what one more worker costs).

1. After start: the workers have answered ``/healthz`` only.
2. After forms: 200 citizens open the form and post it (what a worker serving
   only citizens carries).
3. Mixed load for ``--minutes``, ``--clients`` threads without pause: form
   posts (half the requests), the commune dashboard and feedback pages, the
   district page, trend and funnel charts (PNG, SVG) and reports (PDF, DOCX,
   XLSX) of 12 months of periods and six communes, most of them drawn for the
   first time (not in the cache). Memory is read every 30 s; the table shows the
   last reading and the peak.

Writes the table with the machine and the date to bench/results/memory.md.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC
from datetime import datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.machine_info import describe  # noqa: E402
from bench.submissions import FormParser  # noqa: E402

NOW = datetime(2025, 6, 20, 3, tzinfo=UTC)
PERIODS = [f"2024-{m:02d}" for m in range(7, 13)] + [f"2025-{m:02d}" for m in range(1, 7)]
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def build(database: Path, env: dict[str, str]) -> tuple[list[str], list[str]]:
    """The demo database; returns the communes' and the desks' codes."""
    os.environ.update({k: v for k, v in env.items() if k.startswith(("SURVEY_", "DATABASE"))})
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from survey import create_app
    from survey.cli import demo
    from survey.data.models import Desk
    from survey.data.models import Unit
    from survey.data.queries import ensure_questionnaire
    from survey.extensions import db

    app = create_app()
    with app.app_context():
        upgrade()
        ensure_questionnaire()
        demo.load_units_and_desks()
        demo.load_officers()
        demo.load_responses(per_month=(20, 40), now=NOW)
        communes = db.session.scalars(sa.select(Unit.code).where(Unit.level == "commune")).all()
        desks = db.session.scalars(sa.select(Desk.code)).all()
        db.engine.dispose()
    return list(communes), list(desks)


def workers(master: int) -> list[int]:
    try:
        text = Path(f"/proc/{master}/task/{master}/children").read_text()
    except OSError:
        return []
    return sorted(int(p) for p in text.split())


def memory(pid: int) -> dict[str, int]:
    """VmRSS, Pss and private memory of a process, in KiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()

    def field(name: str) -> int:
        match = re.search(rf"^{name}:\s+(\d+)", rollup, re.M)
        return int(match.group(1)) if match else 0

    private = field("Private_Clean") + field("Private_Dirty")
    return {"rss": rss, "pss": field("Pss"), "private": private}


def snapshot(master: int) -> list[dict[str, int]]:
    return [memory(pid) for pid in workers(master)]


def mib(kib: float) -> str:
    return f"{kib / 1024:.0f}"


class Citizen:
    """Opens a desk's form and posts it, as a phone does."""

    def __init__(self, base: str, desk: str, number: int) -> None:
        self.session = requests.Session()
        self.base, self.desk = base, desk
        self.address = f"127.0.{number // 256 % 256}.{number % 256 or 1}"

    def rate(self) -> int:
        headers = {"X-Forwarded-For": self.address}
        page = self.session.get(f"{self.base}/s/{self.desk}", headers=headers, timeout=60)
        form = FormParser()
        form.feed(page.text)
        fields = dict(form.fields)
        for name, values in form.radios.items():
            fields[name] = random.choice(values)
        reply = self.session.post(
            f"{self.base}/s/{self.desk}",
            data=fields,
            headers=headers,
            allow_redirects=False,
            timeout=60,
        )
        return reply.status_code


def officer(base: str) -> requests.Session:
    session = requests.Session()
    token = TOKEN.search(session.get(f"{base}/login", timeout=60).text).group(1)
    reply = session.post(
        f"{base}/login",
        data={"csrf_token": token, "username": "camgiang", "password": "demo-camgiang"},
        allow_redirects=False,
        timeout=60,
    )
    assert reply.status_code in (302, 303), reply.status_code
    return session


def mixed(base: str, communes: list[str], desks: list[str], until: float, seed: int, counts):
    rng = random.Random(seed)
    session = officer(base)
    number = seed * 10_000
    while time.monotonic() < until:
        number += 1
        try:
            if rng.random() < 0.5:
                status = Citizen(base, rng.choice(desks), number).rate()
                kind = "form post"
            else:
                commune, period = rng.choice(communes), rng.choice(PERIODS)
                path = rng.choice(
                    [
                        f"/units/{commune}",
                        f"/units/{commune}/feedback",
                        "/units/HD-CG",
                        f"/reports/{commune}/{period}/chart.png",
                        f"/reports/{commune}/{period}/chart.svg",
                        f"/reports/HD-CG/{period}/chart.png",
                        f"/reports/{commune}/{period}/report.pdf",
                        f"/reports/{commune}/{period}/report.docx",
                        f"/reports/{commune}/{period}/report.xlsx",
                        f"/reports/HD-CG/{period}/report.pdf",
                    ]
                )
                status = session.get(f"{base}{path}", timeout=120).status_code
                kind = path.rsplit("/", 1)[-1] if "/reports/" in path else "page"
        except requests.RequestException as error:  # counted, and the load goes on
            kind, status = f"error: {type(error).__name__}", 599
        with counts["lock"]:
            counts.setdefault((kind, status), 0)
            counts[(kind, status)] += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="sipas-bench-memory-"))
    env = {
        **os.environ,
        "FLASK_APP": "wsgi",
        "SURVEY_ENV": "production",
        "SURVEY_SECRET_KEY": "bench-" + uuid.uuid4().hex,
        "SURVEY_PUBLIC_BASE_URL": "http://127.0.0.1",
        "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
        "SURVEY_CACHE_DIR": str(folder / "cache"),
        "SURVEY_SECURE_COOKIES": "0",
        "SURVEY_PROXY_FIX_X_FOR": "1",
        "SURVEY_MIN_FILL_SECONDS": "0",
        "SURVEY_DESK_MAX_PER_HOUR": "-1",
        "SURVEY_REPLACE_MINUTES": "0",
        "SURVEY_LIMIT_DEVICE_PER_DAY": "1000000",
        "SURVEY_LIMIT_IP_PER_HOUR": "1000000",
        "SURVEY_DEMO": "1",
    }
    communes, desks = build(folder / "bench.db", env)
    port = 20000 + os.getpid() % 20000
    base = f"http://127.0.0.1:{port}"
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers)]
        + ["--worker-class", "gthread", "--threads", str(args.threads), "--timeout", "120"]
        + ["--log-level", "warning", "--error-logfile", str(folder / "gunicorn.log"), "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            try:
                if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        for _ in range(args.workers * 4):
            requests.get(f"{base}/healthz", timeout=5)
        time.sleep(2)
        rows = {"after start (/healthz only)": snapshot(server.pid)}

        statuses = [Citizen(base, desks[i % len(desks)], i + 1).rate() for i in range(200)]
        assert all(s == 303 for s in statuses), sorted(set(statuses))
        rows["after 200 form posts"] = snapshot(server.pid)

        counts = {"lock": threading.Lock()}
        until = time.monotonic() + args.minutes * 60
        threads = [
            threading.Thread(target=mixed, args=(base, communes, desks, until, i + 1, counts))
            for i in range(args.clients)
        ]
        for t in threads:
            t.start()
        peak = {}
        while any(t.is_alive() for t in threads):
            time.sleep(min(30, max(0.5, until - time.monotonic())))
            for pid_row in zip(workers(server.pid), snapshot(server.pid), strict=False):
                pid, values = pid_row
                peak[pid] = max(peak.get(pid, 0), values["rss"])
        for t in threads:
            t.join()
        rows[f"after {args.minutes:g} min of mixed load"] = snapshot(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)

    requests_done = {k: v for k, v in counts.items() if k != "lock"}
    failures = {k: v for k, v in requests_done.items() if k[1] >= 400}
    total = sum(requests_done.values())
    table = [
        "| when | VmRSS per worker (MiB) | Pss per worker (MiB) | private per worker (MiB) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, values in rows.items():
        table.append(
            f"| {label} | {' / '.join(mib(v['rss']) for v in values)} "
            f"| {' / '.join(mib(v['pss']) for v in values)} "
            f"| {' / '.join(mib(v['private']) for v in values)} |"
        )
    table.append(
        f"| peak during the mixed load | {' / '.join(mib(v) for v in peak.values())} | | |"
    )
    kinds = {}
    for (kind, _status), n in requests_done.items():
        kinds[kind] = kinds.get(kind, 0) + n
    mix = ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items(), key=lambda kv: -kv[1]))
    when = datetime.now(UTC).strftime("%d/%m/%Y %H:%M UTC")
    text = "\n".join(
        [
            f"Machine: {describe()}. Date: {when}.",
            f"gunicorn gthread {args.workers} workers × {args.threads} threads, SQLite, demo "
            f"data; mixed load {args.minutes:g} min, {args.clients} clients: {total} requests "
            f"({mix}); failed: {failures or 'none'}.",
            "",
            *table,
            "",
        ]
    )
    print(text)
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / "memory.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
