"""What invitations cost the worker and the officers' page, with many contacts held.

Builds a throwaway database with the app's migrations (SQLite in a temporary
folder, or an empty PostgreSQL database with ``--database-url``), the demo
district, and N invitations of the month spread over its communes: each with
its token, its first message sent and its reminder still to come (the state
most invitations are in for days, holding their contact). Then times:

- the worker's invitation pass when nothing is due (``run_due``: what every
  tick pays);
- the same pass when a tenth of the links have expired (their contacts deleted);
- ``sent_answered`` and the page's per-commune counts for the district's month.

Run: .venv/bin/python bench/invitations.py [--invitations 20000] [--repeat 5]
     [--database-url postgresql+psycopg://…/empty_db]
Prints a Markdown table. Exits with status 1 if a count is wrong.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("SURVEY_ENV", "testing")
os.environ.setdefault("SURVEY_SECRET_KEY", "bench-" + uuid.uuid4().hex)

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from bench.machine_info import describe  # noqa: E402
from survey import create_app  # noqa: E402
from survey.cli import demo  # noqa: E402
from survey.data import bulk  # noqa: E402
from survey.data.models import Desk  # noqa: E402
from survey.data.models import Invitation  # noqa: E402
from survey.data.models import OutboxMessage  # noqa: E402
from survey.data.models import ReceiptToken  # noqa: E402
from survey.data.models import Unit  # noqa: E402
from survey.data.models import utcnow  # noqa: E402
from survey.data.queries import ensure_questionnaire  # noqa: E402
from survey.domain.periods import period_containing  # noqa: E402
from survey.domain.periods import today_in_vietnam  # noqa: E402
from survey.extensions import db  # noqa: E402
from survey.invitations import services  # noqa: E402

CHUNK = 2000


def build(n: int) -> None:
    upgrade()
    ensure_questionnaire()
    demo.load_units_and_desks()
    desks = list(
        db.session.execute(
            sa.select(Desk.id, Desk.unit_id).join(Unit).where(Unit.code.like("HD-CG-%"))
        )
    )
    now = utcnow()
    connection = db.session.connection()
    for start in range(0, n, CHUNK):
        ids = range(start + 1, min(n, start + CHUNK) + 1)
        tokens, invitations, outbox = [], [], []
        for i in ids:
            desk_id, unit_id = desks[i % len(desks)]
            created = now - timedelta(minutes=i % 1440)
            tokens.append(
                {
                    "id": i,
                    "code": f"B{i:07d}",
                    "unit_id": unit_id,
                    "desk_id": desk_id,
                    "dossier_hash": f"{i:064x}",
                    "created_at": created,
                    "expires_at": now + timedelta(days=30),
                }
            )
            invitations.append(
                {
                    "id": i,
                    "token_id": i,
                    "unit_id": unit_id,
                    "via": "sms",
                    "contact_hash": f"{i:064x}",
                    "contact": f"+8491{i:07d}",
                    "created_at": created,
                    "expires_at": now + timedelta(days=30),
                    "reminder_due_at": now + timedelta(days=3),
                }
            )
            outbox.append(
                {
                    "key": f"invitation-{i}-first",
                    "channel": "sms",
                    "recipient": f"+8491{i:07d}",
                    "kind": "invitation",
                    "unit_id": unit_id,
                    "subject": "Mời đánh giá",
                    "body": "Moi Ong/Ba danh gia",
                    "payload": {},
                    "status": "sent",
                    "attempts": 1,
                    "created_at": created,
                    "next_attempt_at": created,
                    "sent_at": created,
                    "invitation_id": i,
                }
            )
        bulk.insert_rows(connection, ReceiptToken.__table__, tokens)
        bulk.insert_rows(connection, Invitation.__table__, invitations)
        bulk.insert_rows(connection, OutboxMessage.__table__, outbox)
    if db.engine.dialect.name == "postgresql":
        for table in ("receipt_token", "invitation", "outbox"):
            connection.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(sa.text("ANALYZE"))


def timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invitations", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", help="an empty PostgreSQL database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sipas-bench-inv-") as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SURVEY_CACHE_DIR": f"{tmp}/cache"})
        checks = {}
        with app.app_context():
            t0 = time.perf_counter()
            build(args.invitations)
            built = time.perf_counter() - t0
            district = db.session.scalar(sa.select(Unit).where(Unit.code == "HD-CG"))
            period = period_containing(today_in_vietnam(), "month", district.report_cutoff_day)
            # Earlier days' invitations fall in the month only if it began before them.
            idle, report = timed(lambda: services.run_due(), args.repeat)
            checks["idle pass does nothing"] = (report.reminders, report.forgotten) == (0, 0)
            counted, pair = timed(lambda: services.sent_answered(district, period), args.repeat)
            rows, _ = timed(lambda: services.rows_by_child(district, period), args.repeat)
            held = db.session.scalar(
                sa.select(sa.func.count()).where(Invitation.contact.is_not(None))
            )
            checks["all contacts held"] = held == args.invitations
            rated = args.invitations // 10
            db.session.execute(
                sa.update(Invitation)
                .where(Invitation.id <= rated)
                .values(expires_at=utcnow() - timedelta(minutes=1))
            )
            db.session.commit()
            t0 = time.perf_counter()
            report = services.run_due()
            forgetting = time.perf_counter() - t0
            checks["expired ones deleted"] = report.forgotten == rated
            left = db.session.scalar(
                sa.select(sa.func.count()).where(Invitation.contact.is_not(None))
            )
            checks["the others kept"] = left == args.invitations - rated
            dialect = db.engine.dialect.name
        print(f"Invitations bench, {dialect}, {args.invitations} invitations holding a contact")
        print(f"Machine: {describe()}")
        print(f"Built in {built:.1f} s; sent/answered this month: {pair}\n")
        print(f"| step | median of {args.repeat} (ms) |")
        print("| --- | ---: |")
        print(f"| worker pass, nothing due (`run_due`) | {idle * 1000:.1f} |")
        print(f"| `sent_answered(district, month)` | {counted * 1000:.1f} |")
        print(f"| the page's per-commune counts | {rows * 1000:.1f} |")
        print(f"| a tenth expired: the pass deleting {rated} contacts | {forgetting * 1000:.1f} |")
        if not all(checks.values()):
            print(f"WRONG: a count differs from what was built: {checks}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
