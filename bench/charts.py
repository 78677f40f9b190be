"""How long each chart, report and spreadsheet download takes: rendered (cache empty)
and repeated (cache hit), on the demo district with a year of responses.

Run: .venv/bin/python bench/charts.py [--repeat 5] [--per-month 30 90] [--database-url URL]

Builds a database with the real migrations and the demo data (six communes, a year
of 30 to 90 responses per commune and month, dossier volumes), signs in as the
district officer and downloads each file through the Flask test client (the full
app stack, without network). For each file and run: the download with the cache
off, then, after emptying the cache, the first download (a miss: summary, digest,
rendering, storing) and the same download again (a hit: summary, digest, reading).
Prints the medians as a Markdown table and writes them, with the machine and the
date, to bench/results/charts.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from machine_info import describe  # noqa: E402  (bench/ is on sys.path when run as a script)

os.environ.setdefault("SURVEY_ENV", "testing")
os.environ.setdefault("SURVEY_SECRET_KEY", "bench-" + uuid.uuid4().hex)

from flask_migrate import upgrade  # noqa: E402
from tqdm import tqdm  # noqa: E402

from survey import create_app  # noqa: E402
from survey.cli import demo  # noqa: E402
from survey.data.queries import ensure_questionnaire  # noqa: E402
from survey.web.render_cache import counters  # noqa: E402

# Demo data is laid out backwards from "now": fix it so every run draws the same data.
NOW = datetime(2025, 6, 20, 3, tzinfo=UTC)
PERIOD = "2025-05"  # a full month for calendar months and Lai Cách's 15th cut-off alike
COMMUNE = f"/reports/HD-CG-LC/{PERIOD}"
DISTRICT = f"/reports/HD-CG/{PERIOD}"
DOWNLOADS = [
    ("commune trend chart PNG", f"{COMMUNE}/chart.png"),
    ("commune trend chart SVG", f"{COMMUNE}/chart.svg"),
    ("commune trend chart PDF", f"{COMMUNE}/chart.pdf"),
    ("commune report PDF", f"{COMMUNE}/report.pdf"),
    ("commune report XLSX", f"{COMMUNE}/report.xlsx"),
    ("commune report CSV", f"{COMMUNE}/report.csv"),
    ("district funnel chart PNG", f"{DISTRICT}/chart.png"),
    ("district report PDF", f"{DISTRICT}/report.pdf"),
    ("district report XLSX", f"{DISTRICT}/report.xlsx"),
]


def build(app, per_month: tuple[int, int]) -> int:
    with app.app_context():
        upgrade()
        ensure_questionnaire()
        demo.load_units_and_desks()
        demo.load_officers()
        return demo.load_responses(per_month=per_month, now=NOW)


def signed_in(app):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    reply = client.post(
        "/login", data={"csrf_token": token, "username": "camgiang", "password": "demo-camgiang"}
    )
    assert reply.status_code in (302, 303), reply.status_code
    return client


def timed_get(client, url: str) -> tuple[float, bytes]:
    start = time.perf_counter()
    reply = client.get(url)
    elapsed = time.perf_counter() - start
    assert reply.status_code == 200, (url, reply.status_code)
    return elapsed, reply.data


def empty(folder: Path) -> None:
    """Delete the cached files (and cachelib's counter) between runs."""
    for path in folder.iterdir():
        path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--per-month", type=int, nargs=2, default=(30, 90), metavar=("MIN", "MAX"))
    parser.add_argument("--database-url", help="an empty database (default: a new SQLite file)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="sipas-bench-charts-"))
    url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
    cache_dir = folder / "cache"
    settings = {"SQLALCHEMY_DATABASE_URI": url, "SURVEY_DEMO": True}
    app = create_app({**settings, "SURVEY_CACHE_DIR": str(cache_dir)})
    app_off = create_app({**settings, "SURVEY_CACHE": False})
    responses = build(app, tuple(args.per_month))
    client, client_off = signed_in(app), signed_in(app_off)
    for _, path in DOWNLOADS:
        client_off.get(path)  # warm imports, fonts and database caches

    rows = []
    runs = tqdm(total=len(DOWNLOADS) * args.repeat, desc="downloads", unit="run", file=sys.stderr)
    for label, path in DOWNLOADS:
        off, miss, hit = [], [], []
        for _ in range(args.repeat):
            off.append(timed_get(client_off, path)[0])
            if cache_dir.exists():
                empty(cache_dir)
            before = counters(app)
            seconds, first = timed_get(client, path)
            miss.append(seconds)
            seconds, again = timed_get(client, path)
            hit.append(seconds)
            after = counters(app)
            assert again == first, path
            assert after["misses"] - before["misses"] == 1, (path, before, after)
            assert after["hits"] - before["hits"] == 1, (path, before, after)
            runs.update()
        rows.append(
            (
                label,
                statistics.median(off),
                statistics.median(miss),
                statistics.median(hit),
                len(first),
            )
        )
    runs.close()
    assert counters(app)["errors"] == 0, counters(app)

    backend = url.split(":", 1)[0].split("+", 1)[0]
    header = (
        f"Demo district (6 communes), {responses} responses over 12 months, period {PERIOD}; "
        f"{backend}; signed in as the district officer; median of {args.repeat} runs."
    )
    table = [
        "| download | cache off (ms) | first, cache empty (ms) | repeated, cache hit (ms) "
        "| hit / first | size (KiB) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, off, miss, hit, size in rows:
        table.append(
            f"| {label} | {off * 1000:.0f} | {miss * 1000:.0f} | {hit * 1000:.1f} "
            f"| {hit / miss:.2f} | {size / 1024:.0f} |"
        )
    when = datetime.now(UTC).astimezone().strftime("%d/%m/%Y")
    report = "\n".join(
        [
            "## Cached charts and reports (issue 8)",
            "",
            "`bench/charts.py` builds a database with the real migrations and the demo data",
            f"({responses} responses over a year in six communes, dossier volumes), signs in as",
            "the district officer and downloads each file through the Flask test client: with",
            "the cache off, then after emptying the cache (first download: summary, digest,",
            "rendering, storing) and once more (cache hit: summary, digest, reading the file).",
            f"Median of {args.repeat} runs; every repeated download returned the same bytes.",
            "",
            f"Machine: {describe()}.",
            f"Date: {when}.",
            "",
            *table,
            "",
            "A hit still computes the summary and the renderer's inputs, since the cache key",
            "is their digest: for the charts and the PDFs that is all that is left of the",
            "download. The commune spreadsheets also load every response of the period for",
            "their response sheet, so there the cache saves only the writing of the file.",
            "",
        ]
    )
    print(header)
    print("\n".join(table))
    results = Path(__file__).parent / "results"
    results.mkdir(exist_ok=True)
    (results / "charts.md").write_text(report, encoding="utf-8")
    print(f"\nwritten: {results / 'charts.md'}")


if __name__ == "__main__":
    main()
