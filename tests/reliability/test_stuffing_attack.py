"""A scripted stuffing attempt against real gunicorn: how many stuffed ratings reach
the statistics?

Twelve source addresses (loopback, named by X-Forwarded-For behind one trusted
proxy hop), no device cookie, each form posted after waiting out the minimum
fill time, for 30 seconds, at Lai Cách's first desk (about 20 dossiers a working
day). The service's default settings otherwise. The counted (unflagged) ratings
must not pass the desk's hourly ceiling; the rest are stored, flagged "burst" or
refused; an honest phone on an attacker's address is still thanked, not refused.
The figures go to docs/RELIABILITY.md (SURVEY_RELIABILITY_FIGURES collects them).
"""

from __future__ import annotations

import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from tests.conftest import VALID_ANSWERS
from tests.conftest import hidden_fields
from tests.reliability._load import Gunicorn
from tests.reliability._load import prepare_database

FIGURES = os.environ.get("SURVEY_RELIABILITY_FIGURES")
ADDRESSES = [f"198.51.100.{n}" for n in range(1, 13)]
DURATION = 30.0
FILL_SECONDS = 5.0
BATCH = 8  # forms fetched together, then posted together once the fill time has passed


def _env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "FLASK_APP": "wsgi",
        "DATABASE_URL": url,
        "SURVEY_ENV": "testing",
        "SURVEY_DEMO": "1",
        "SURVEY_PROXY_FIX_X_FOR": "1",
        "SURVEY_MIN_FILL_SECONDS": str(FILL_SECONDS),
    }


def _lai_cach_volumes(url: str) -> int:
    """About 20 dossiers a working day at each of Lai Cách's desks; the desk's ceiling."""
    from survey import create_app
    from survey.data.models import Desk
    from survey.data.models import DossierVolume
    from survey.data.models import Unit
    from survey.extensions import db
    from survey.integrity import guard

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        try:
            unit = db.session.scalar(sa.select(Unit).where(Unit.code == "HD-CG-LC"))
            desks = sum(1 for d in unit.desks if d.active)
            db.session.add(DossierVolume(unit_id=unit.id, month="2026-10", dossiers=440 * desks))
            db.session.commit()
            desk = db.session.scalar(sa.select(Desk).where(Desk.code == "LC-01"))
            ceiling = guard.desk_ceiling(desk)
            assert ceiling.derived_from_volumes
            return ceiling.per_hour
        finally:
            db.session.remove()
            db.engine.dispose()


def test_stuffing_from_a_dozen_addresses_counts_no_more_than_the_ceiling(tmp_path):
    import requests

    url = f"sqlite:///{tmp_path / 'survey.db'}"
    env = _env(url)
    prepare_database(env)
    per_hour = _lai_cach_volumes(url)
    assert per_hour < 60
    server = Gunicorn(env, workers=2, log=tmp_path / "gunicorn.log")
    statuses: list[int] = []
    lock = threading.Lock()
    try:
        server.wait_ready()
        base = server.base
        deadline = time.monotonic() + DURATION

        def attacker(address: str) -> None:
            headers = {"X-Forwarded-For": address}
            while time.monotonic() < deadline:
                batch = []
                for _ in range(BATCH):
                    session = requests.Session()  # a CSRF token needs its session
                    page = session.get(f"{base}/s/LC-01", headers=headers, timeout=30)
                    if page.status_code != 200:
                        with lock:
                            statuses.append(page.status_code)
                        continue
                    batch.append((session, {**hidden_fields(page.text), **VALID_ANSWERS}))
                time.sleep(FILL_SECONDS + 0.2)
                for session, data in batch:
                    session.cookies.pop("dev", None)  # no device cookie
                    reply = session.post(
                        f"{base}/s/LC-01",
                        data=data,
                        headers=headers,
                        allow_redirects=False,
                        timeout=30,
                    )
                    with lock:
                        statuses.append(reply.status_code)

        with ThreadPoolExecutor(len(ADDRESSES)) as pool:
            list(pool.map(attacker, ADDRESSES))

        # An honest phone on an attacker's network, afterwards: thanked, not refused.
        phone = requests.Session()
        headers = {"X-Forwarded-For": ADDRESSES[0]}
        page = phone.get(f"{base}/s/LC-01", headers=headers, timeout=30)
        data = {**hidden_fields(page.text), **VALID_ANSWERS}
        time.sleep(FILL_SECONDS + 0.2)
        honest = phone.post(
            f"{base}/s/LC-01", data=data, headers=headers, allow_redirects=False, timeout=30
        )
    finally:
        server.stop()

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = dict(
            conn.execute(
                sa.text(
                    "SELECT coalesce(flag_reason, 'counted'), count(*) FROM response "
                    "GROUP BY coalesce(flag_reason, 'counted')"
                )
            ).all()
        )
    engine.dispose()
    figures = {
        "addresses": len(ADDRESSES),
        "seconds": DURATION,
        "posts": len(statuses),
        "thanked_303": statuses.count(303),
        "refused_429": statuses.count(429),
        "server_errors": sum(1 for s in statuses if s >= 500),
        "stored": sum(rows.values()),
        "counted": rows.get("counted", 0),
        "flagged_burst": rows.get("burst", 0),
        "hourly_ceiling": per_hour,
        "honest_after": honest.status_code,
    }
    print(json.dumps(figures))
    if FIGURES:
        with open(FIGURES, "a") as fh:
            fh.write(json.dumps({"test": "stuffing_attack", **figures}) + "\n")
    assert figures["server_errors"] == 0
    assert figures["posts"] >= len(ADDRESSES) * BATCH
    # Counted: at most the ceiling (the honest phone's rating may be one of them).
    assert figures["counted"] <= per_hour
    assert honest.status_code == 303
