"""Report latency at national scale: 10 thousand, then 10 million responses.

Builds 3 provinces × 10 districts × 100 communes (3,000 communes, one desk each),
bulk-loads synthetic responses spread over 24 months, then times through the
real app (Flask test client, signed in as an administrator) the district page,
the commune dashboard, their JSON summaries and chart downloads. Then it adds
responses up to the large size and times the same URLs again, so the two sizes
are compared in one run, on one machine, as ratios.

The bulk load writes responses and answers with plain INSERTs (no ORM, for
speed) and adds their rollup counts with the same rules the application uses
(``ResponseFacts.keys()`` and ``rollup.add``); afterwards a sample of communes
is checked against a full recount (``rollup.differences``).

Run:
    .venv/bin/python bench/rollup_scale.py                      # 10 000 then 10 000 000
    .venv/bin/python bench/rollup_scale.py --large 1000000      # a quicker run
    .venv/bin/python bench/rollup_scale.py --database-url postgresql://...  # an EMPTY database
    .venv/bin/python bench/rollup_scale.py --reuse-large sqlite:////tmp/sipas-scale-X/scale.db

The SQLite file of the 10 million run takes about 8 GB in a temporary folder,
removed at the end unless --keep.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from machine_info import describe  # noqa: E402  (bench/ is on sys.path when run as a script)

os.environ.setdefault("SURVEY_ENV", "testing")
os.environ.setdefault("SURVEY_SECRET_KEY", "bench-" + uuid.uuid4().hex)

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from tqdm import tqdm  # noqa: E402

from survey import create_app  # noqa: E402
from survey.data import rollup  # noqa: E402
from survey.data.models import Desk  # noqa: E402
from survey.data.models import Officer  # noqa: E402
from survey.data.models import SurveyResponse  # noqa: E402
from survey.data.models import Tally  # noqa: E402
from survey.data.models import Unit  # noqa: E402
from survey.data.queries import ensure_questionnaire  # noqa: E402
from survey.domain.periods import month_code  # noqa: E402
from survey.extensions import db  # noqa: E402
from survey.officers.accounts import hash_password  # noqa: E402

PROVINCES, DISTRICTS, COMMUNES = 3, 10, 100
MONTHS = 24
LAST_MONTH = (2026, 11)
PASSWORD = "Bench-" + uuid.uuid4().hex
ELEMENTS = ("access", "procedure", "official", "result", "feedback", "overall")
FIELDS = ["ho_tich", "chung_thuc", "dat_dai", "xay_dung", "dau_tu", "lao_dong", "khac"]
FIELD_WEIGHTS = [40, 25, 12, 6, 3, 5, 9]
WAITS = ["lt15", "15_30", "30_60", "gt60"]
CHUNK = 20_000  # responses per INSERT batch


def month_starts() -> list[datetime]:
    """UTC instants of the first local midnight of each of the 24 months (UTC+7)."""
    year, month = LAST_MONTH
    starts = []
    for back in range(MONTHS - 1, -1, -1):
        index = year * 12 + month - 1 - back
        y, m = divmod(index, 12)
        starts.append(datetime(y, m + 1, 1, tzinfo=UTC) - timedelta(hours=7))
    return starts


def build_units(app) -> list[tuple[int, int, float, tuple[int, ...]]]:
    """The unit tree; per commune: (id, desk id, satisfaction rate, ids of the units above)."""
    rng = random.Random(1)
    with app.app_context():
        upgrade()
        ensure_questionnaire()
        communes = []
        for p in range(PROVINCES):
            province = Unit(code=f"P{p}", name=f"Tỉnh Thử {p + 1}", level="province")
            db.session.add(province)
            for d in range(DISTRICTS):
                district = Unit(
                    code=f"P{p}-D{d}",
                    name=f"Huyện Thử {p + 1}.{d + 1}",
                    level="district",
                    parent=province,
                )
                for c in range(COMMUNES):
                    commune = Unit(
                        code=f"P{p}-D{d}-C{c:03d}",
                        name=f"Xã Thử {p + 1}.{d + 1}.{c + 1}",
                        level="commune",
                        parent=district,
                    )
                    desk = Desk(code=f"B{p}{d}{c:03d}", name="Bộ phận Một cửa", unit=commune)
                    db.session.add_all([district, commune, desk])
                    communes.append((commune, desk))
        db.session.add(
            Officer(
                username="bench-admin",
                full_name="Bench",
                password_hash=hash_password(PASSWORD),
                role="admin",
                unit_id=None,
            )
        )
        db.session.commit()
        return [
            (c.id, d.id, rng.uniform(0.80, 0.97), (c.parent.id, c.parent.parent.id))
            for c, d in communes
        ]


def _likert(rng: random.Random, rate: float) -> str:
    if rng.random() < 0.03:
        return "na"
    if rng.random() < rate:
        return "5" if rng.random() < 0.45 else "4"
    return rng.choice("3321")


RESPONSE_COLUMNS = (
    "id",
    "submission_id",
    "unit_id",
    "desk_id",
    "questionnaire_id",
    "submitted_at",
    "procedure_field",
    "comment",
    "contact_consent",
    "language",
    "feedback_status",
    "flag_reason",
    "flagged",
)


def _insert_sql(table: str, columns: tuple[str, ...], marker: str) -> str:
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([marker] * len(columns))})"
    )


def load(app, communes, per_commune: list[int], questionnaire_id: int, seed: int) -> int:
    """Add ``per_commune[i]`` responses to commune i, spread over the months; returns the total.

    Responses and answers go in with plain parameterised INSERTs through the
    driver (no ORM, no flush events); their rollup counts are made by the
    application's own rule (``ResponseFacts.keys``) and added with ``rollup.add``
    at the commune and at each unit above it (all units here count calendar months).
    """
    rng = random.Random(seed)
    starts = month_starts()
    ends = [*starts[1:], starts[-1] + timedelta(days=30)]  # the last month is November
    span = [(end - start).total_seconds() for start, end in zip(starts, ends, strict=True)]
    total = sum(per_commune)
    with app.app_context():
        connection = db.session.connection()
        sqlite = connection.dialect.name == "sqlite"
        marker = "?" if sqlite else "%s"
        insert_response = _insert_sql("response", RESPONSE_COLUMNS, marker)
        insert_answer = _insert_sql("answer", ("response_id", "question_id", "value"), marker)
        next_id = (db.session.scalar(sa.select(sa.func.max(SurveyResponse.id))) or 0) + 1
        responses, answers = [], []
        above: dict[int, Counter] = {}
        bar = tqdm(total=total, unit="resp", unit_scale=True, desc="Loading", mininterval=2)

        def flush() -> None:
            nonlocal connection
            cursor = connection.connection.driver_connection.cursor()
            if sqlite:
                cursor.execute("PRAGMA synchronous=OFF")  # the load is not what is measured
            cursor.executemany(insert_response, responses)
            cursor.executemany(insert_answer, answers)
            for unit_id, tally in above.items():
                rollup.add(unit_id, tally, connection=connection)
            db.session.commit()
            connection = db.session.connection()
            bar.update(len(responses))
            responses.clear()
            answers.clear()
            above.clear()

        for (unit_id, desk_id, rate, ancestors), n in zip(communes, per_commune, strict=True):
            tally: Counter = Counter()
            for _ in range(n):
                month = rng.randrange(MONTHS)
                at = starts[month] + timedelta(seconds=rng.random() * span[month])
                field = rng.choices(FIELDS, FIELD_WEIGHTS)[0]
                values = {q: _likert(rng, rate) for q in ELEMENTS}
                values.update(field=field, wait=rng.choice(WAITS), visits=rng.choice("1112"))
                values["trouble"] = "yes" if rng.random() < 0.02 else "no"
                comment = "Góp ý thử" if rng.random() < 0.05 else None
                flagged = rng.random() < 0.005
                reason = "too_fast" if flagged else None
                rid = next_id
                next_id += 1
                submission = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                # SQLite keeps UTC timestamps as naive text, as UTCDateTime writes them.
                stamp = at.replace(tzinfo=None).isoformat(" ", "microseconds") if sqlite else at
                responses.append(
                    (
                        rid,
                        submission,
                        unit_id,
                        desk_id,
                        questionnaire_id,
                        stamp,
                        field,
                        comment,
                        False,
                        "vi",
                        "new",
                        reason,
                        flagged,
                    )
                )
                answers.extend((rid, q, v) for q, v in values.items())
                tally.update(
                    rollup.ResponseFacts(
                        month=month_code(at),
                        procedure_field=field,
                        channel="qr",
                        answers=tuple(values.items()),
                        has_comment=comment is not None,
                        feedback_status="new",
                        flagged=flagged,
                        flag_reason=reason,
                    ).keys()
                )
            for counted_at in (unit_id, *ancestors):
                above.setdefault(counted_at, Counter()).update(tally)
            if len(responses) >= CHUNK:
                flush()
        if responses:
            flush()
        bar.close()
        if not sqlite:
            with db.engine.connect() as c:
                c.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    return total


def spread(total: int, communes: int) -> list[int]:
    base, extra = divmod(total, communes)
    return [base + (1 if i < extra else 0) for i in range(communes)]


def check_sample(app, communes, k: int = 12) -> int:
    """Compare the rollup of ``k`` random communes with a full recount; returns differences."""
    rng = random.Random(5)
    with app.app_context():
        differing = 0
        for unit_id, _, _, _ in rng.sample(communes, k):
            differing += len(rollup.differences(db.session.get(Unit, unit_id)))
        return differing


def sign_in(client) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    reply = client.post(
        "/login", data={"csrf_token": token, "username": "bench-admin", "password": PASSWORD}
    )
    assert reply.status_code in (302, 303), reply.status_code


def time_urls(app, urls: list[tuple[str, str]], repeat: int) -> dict[str, float]:
    client = app.test_client()
    sign_in(client)
    found = {}
    for label, url in urls:
        reply = client.get(url)  # warm-up (imports, SQLite page cache)
        assert reply.status_code == 200, (url, reply.status_code)
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            reply = client.get(url)
            times.append(time.perf_counter() - start)
            assert reply.status_code == 200, (url, reply.status_code)
        found[label] = statistics.median(times)
    return found


def urls() -> list[tuple[str, str]]:
    month, year = "2026-10", "2026"
    district, commune, province = "P1-D4", "P1-D4-C042", "P1"
    return [
        ("district page, month (100 communes)", f"/units/{district}?period={month}"),
        ("district page, year", f"/units/{district}?period={year}"),
        ("district JSON summary, month", f"/api/v1/units/{district}/summary?period={month}"),
        ("district funnel PNG, month", f"/reports/{district}/{month}/chart.png"),
        ("district report XLSX, month", f"/reports/{district}/{month}/report.xlsx"),
        ("commune dashboard, month", f"/units/{commune}?period={month}"),
        ("commune dashboard, year", f"/units/{commune}?period={year}"),
        ("commune JSON summary, month", f"/api/v1/units/{commune}/summary?period={month}"),
        ("commune trend PNG (12 months)", f"/reports/{commune}/{month}/chart.png"),
        ("province page, month (1 000 communes)", f"/units/{province}?period={month}"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--database-url", help="an empty database (default: SQLite in a temp folder)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the SQLite file")
    parser.add_argument(
        "--reuse-large",
        metavar="URL",
        help="time a database an earlier run kept (--keep) as the large size, beside a\n"
        "freshly loaded small one, without loading it again",
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="sipas-scale-"))
    url = args.database_url or f"sqlite:///{folder / 'scale.db'}"
    # Charts are rendered every time (cache off): this measures the work, not the cache.
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SURVEY_CACHE": False})
    started = datetime.now(UTC)
    communes = build_units(app)
    with app.app_context():
        questionnaire_id = ensure_questionnaire().id
    n = len(communes)
    results = {}
    loaded = 0
    sizes = ((args.small, 11),) if args.reuse_large else ((args.small, 11), (args.large, 12))
    for size, seed in sizes:
        t0 = time.perf_counter()
        loaded += load(app, communes, spread(size - loaded, n), questionnaire_id, seed)
        load_s = time.perf_counter() - t0
        differing = check_sample(app, communes)
        with app.app_context():
            stored = db.session.scalar(sa.select(sa.func.count(SurveyResponse.id)))
            tally_rows = db.session.scalar(sa.select(sa.func.count()).select_from(Tally))
        print(
            f"{stored:,} responses stored ({load_s:.0f} s to load), {tally_rows:,} rollup rows; "
            f"rollup vs recount on 12 communes: {differing} differences",
            flush=True,
        )
        if differing:
            sys.exit("The rollup differs from a recount.")
        results[size] = time_urls(app, urls(), args.repeat)
    if args.reuse_large:
        url = args.reuse_large
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SURVEY_CACHE": False})
        with app.app_context():
            admin = db.session.scalar(sa.select(Officer).where(Officer.username == "bench-admin"))
            admin.password_hash = hash_password(PASSWORD)  # this run's password
            db.session.commit()
            args.large = db.session.scalar(sa.select(sa.func.count(SurveyResponse.id)))
        print(f"{args.large:,} responses in {url} (kept by an earlier run)", flush=True)
        results[args.large] = time_urls(app, urls(), args.repeat)
    small, large = results[args.small], results[args.large]
    print()
    print(f"{describe()}; {started:%d/%m/%Y}; {url.split(':')[0]}; median of {args.repeat}")
    print(f"| what | {args.small:,} responses (ms) | {args.large:,} responses (ms) | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for label in small:
        print(
            f"| {label} | {small[label] * 1000:.1f} | {large[label] * 1000:.1f} | "
            f"{large[label] / small[label]:.2f} |"
        )
    if args.keep or args.database_url or args.reuse_large:
        print(f"Database kept: {url}")
    else:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
