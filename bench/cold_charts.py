"""Cold charts and reports against matplotlib's floor: an empty figure of the same size.

Run: .venv/bin/python bench/cold_charts.py [--repeat 7] [--communes 100]

"Cold" means not in the download cache: the file is drawn from its data, as on the
first download of a new month. The process itself is warm (imports done, one of
each drawn first), as a gunicorn worker is after its first requests; the very
first download in a fresh process is timed once and shown apart.

The renderer keeps the labels it has measured and rendered (survey/render/charts.py),
so how cold a chart is depends on which of its labels the worker has drawn before.
Every turn draws new data, in three degrees:

- "after a new response": the chart drawn last turn with one more response (the
  commune's last month, or one commune of the funnel): the common cold download,
  its few changed labels new;
- "not drawn before": a commune or district this process has not drawn: a title
  and figures never seen (the trend's n and rates, the funnel's 100 names in its
  key), only the months, ticks and legend known;
- "first chart": the label caches emptied first, as the first chart of a worker.

In one process, in turns (so that the machine's load hits every row alike):

- an empty ``Figure`` of the chart's size drawn and saved as PNG (the floor);
- the commune trend chart (12 months) of the demo data, drawn and saved as PNG;
- a funnel of ``--communes`` communes (their counts drawn at random around 90 %,
  limits and classes computed as the district view does), drawn and saved as PNG;
- the commune month's report as PDF and as DOCX, downloaded through the Flask
  test client (signed in, the full app stack) with the cache off.

Times are this process's CPU time (``time.process_time``), which a busy shared
machine disturbs far less than wall time (also shown): on a machine with a load
average of 15 on 2 cores an empty figure took 370 ms of wall time for about 15 ms
of CPU. Prints the medians and the ratios chart / empty figure as a Markdown
table and writes them, with the machine and the date, to bench/results/cold_charts.md.
It runs against older code too (copy it into that checkout's bench/): without
label caches the three degrees cost the same.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC
from datetime import datetime
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from machine_info import describe  # noqa: E402  (bench/ is on sys.path when run as a script)

os.environ.setdefault("SURVEY_ENV", "testing")
os.environ.setdefault("SURVEY_SECRET_KEY", "bench-" + uuid.uuid4().hex)

from flask_migrate import upgrade  # noqa: E402

from bench.charts import signed_in  # noqa: E402
from survey import create_app  # noqa: E402
from survey.cli import demo  # noqa: E402
from survey.data.queries import ensure_questionnaire  # noqa: E402

NOW = datetime(2025, 6, 20, 3, tzinfo=UTC)
PERIOD = "2025-05"
COMMUNE = f"/reports/HD-CG-LC/{PERIOD}"


def build(app) -> int:
    with app.app_context():
        upgrade()
        ensure_questionnaire()
        demo.load_units_and_desks()
        demo.load_officers()
        return demo.load_responses(per_month=(20, 40), now=NOW)


def trend_drawing(app):
    """The Drawing the commune's chart download draws, built by the app's own code."""
    from survey.data.models import Unit
    from survey.extensions import db
    from survey.reports.content import trend_drawing as drawing_of
    from survey.reports.summary import summarise
    from survey.web.lookup import resolve_period

    with app.test_request_context("/"):
        unit = db.session.query(Unit).filter_by(code="HD-CG-LC").one()
        return drawing_of(summarise(unit, resolve_period(unit, PERIOD)))


def funnel_args(communes: int, seed: int = 19):
    """Points, target, limits and zones of a district of ``communes`` communes."""
    from survey.stats import funnel_class
    from survey.stats import funnel_steps

    rng = random.Random(seed)
    points, counts = [], []
    for i in range(communes):
        n = rng.randint(15, 250)
        k = sum(rng.random() < rng.uniform(0.8, 0.97) for _ in range(n))
        points.append((f"Xã Thử Nghiệm {i + 1}", n, k / n))
        counts.append((k, n))
    top = max(n for _, n, _ in points)
    grid = list(range(1, int(top * 1.1) + 2))
    inner, outer = funnel_steps(0.9, grid, 0.95), funnel_steps(0.9, grid, 0.998)
    limits = list(zip(grid, inner.lower, inner.upper, outer.lower, outer.upper, strict=True))
    zones = [funnel_class(k, n, 0.9) for k, n in counts]
    kwargs = {
        "zones": zones,
        "steps": True,
        "zone_labels": {
            "outside998": "Ngoài giới hạn 99,8%: không do ngẫu nhiên",
            "outside95": "Giữa giới hạn 95% và 99,8%",
            "inside": "Trong phễu: có thể do ngẫu nhiên",
        },
    }
    return (points, 0.9, limits, "Huyện Thử Nghiệm – so sánh các xã, T5/2025"), kwargs


def empty_png(size) -> bytes:
    from matplotlib.figure import Figure

    buffer = BytesIO()
    Figure(figsize=size).savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def timed(fn) -> tuple[float, float]:
    """Wall time and this process's CPU time of ``fn()``, in seconds."""
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--communes", type=int, default=100)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="sipas-bench-cold-"))
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}",
            "SURVEY_DEMO": True,
            "SURVEY_CACHE": False,
        }
    )
    responses = build(app)
    client = signed_in(app)

    first = {}
    for kind in ("pdf", "docx"):
        url = f"{COMMUNE}/report.{kind}"
        first[kind] = timed(lambda url=url: client.get(url))[1]  # first in this process

    from survey.render import charts

    drawing = trend_drawing(app)
    funnel_positional, funnel_kwargs = funnel_args(args.communes)
    funnel_size = tuple(
        charts.funnel_chart(*funnel_positional, **funnel_kwargs).get_size_inches().tolist()
    )
    trend_size = tuple(drawing.figure().get_size_inches().tolist())

    def report(kind):
        reply = client.get(f"{COMMUNE}/report.{kind}")
        assert reply.status_code == 200, reply.status_code

    counter = itertools.count(1)

    def forget():
        # Older code has no label caches: nothing to empty.
        getattr(charts, "clear_text_caches", lambda: None)()

    def trend_png(degree: str) -> bytes:
        turn = next(counter)
        draw, (points, targets, title), kwargs = drawing.draw, drawing.args, drawing.kwargs
        if degree == "new response":
            # The last month gets one more response, satisfied or not by turns.
            last = points[-1]
            n = last.n + turn
            rate = ((last.rate or 0.0) * last.n + turn % 2) / n
            low, high = min(rate, last.low or rate), max(rate, last.high or rate)
            points = [*points[:-1], dataclasses.replace(last, n=n, rate=rate, low=low, high=high)]
        else:
            # Another commune: its own title, counts and rates.
            rng = random.Random(turn)
            moved = []
            for p in points:
                if p.rate is None:
                    moved.append(p)
                    continue
                rate = min(1.0, max(0.0, p.rate + rng.uniform(-0.04, 0.04)))
                moved.append(
                    dataclasses.replace(
                        p,
                        n=p.n + rng.randint(100, 400),
                        rate=rate,
                        low=min(rate, max(0.0, rate - 0.08)),
                        high=max(rate, min(1.0, rate + 0.05)),
                    )
                )
            points, title = moved, f"Xã Thử Nghiệm {turn} – {title}"
            if degree == "first chart":
                forget()
        return charts.render(draw(points, targets, title, **kwargs), "png")

    def funnel_png(degree: str) -> bytes:
        turn = next(counter)
        points, *rest = funnel_positional
        if degree == "new response":
            name, n, rate = points[turn % len(points)]
            points = list(points)
            points[turn % len(points)] = (name, n + 1, (rate * n + 1) / (n + 1))
        else:
            points = [(f"Xã {turn}-{i} {name[3:]}", n, r) for i, (name, n, r) in enumerate(points)]
            if degree == "first chart":
                forget()
        return charts.render(charts.funnel_chart(points, *rest, **funnel_kwargs), "png")

    def warm():
        charts.render(drawing.figure(), "png")
        charts.render(charts.funnel_chart(*funnel_positional, **funnel_kwargs), "png")

    communes = f"funnel of {args.communes} communes PNG"
    cases = {
        "empty figure, trend's size": lambda: empty_png(trend_size),
        "commune trend chart PNG, after a new response": lambda: trend_png("new response"),
        "commune trend chart PNG, a commune not drawn before": lambda: trend_png("new commune"),
        "commune trend chart PNG, first chart": lambda: trend_png("first chart"),
        "empty figure, funnel's size": lambda: empty_png(funnel_size),
        f"{communes}, after a new response": lambda: funnel_png("new response"),
        f"{communes}, a district not drawn before": lambda: funnel_png("new district"),
        f"{communes}, first chart": lambda: funnel_png("first chart"),
        "commune report PDF (HTTP, cache off)": lambda: report("pdf"),
        "commune report DOCX (HTTP, cache off)": lambda: report("docx"),
    }
    for fn in cases.values():
        fn()  # one of each first: fonts, glyph caches, database pages
    walls = {label: [] for label in cases}
    cpus = {label: [] for label in cases}
    for _ in range(args.repeat):
        for label, fn in cases.items():
            wall, cpu = timed(fn)
            if label.endswith("first chart"):
                warm()  # untimed: the next rows find the labels a running worker has
            walls[label].append(wall)
            cpus[label].append(cpu)
    medians = {label: statistics.median(values) * 1000 for label, values in cpus.items()}
    wall_medians = {label: statistics.median(values) * 1000 for label, values in walls.items()}

    labels = list(cases)
    floor_of = {label: labels[0] for label in labels[1:4]}
    floor_of.update({label: labels[4] for label in labels[5:8]})
    table = [
        "| what | CPU, median (ms) | CPU, worst (ms) | wall, median (ms) "
        "| × empty figure of the same size (CPU) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for label in labels:
        ratio = f"{medians[label] / medians[floor_of[label]]:.1f}" if label in floor_of else ""
        worst = max(cpus[label]) * 1000
        table.append(
            f"| {label} | {medians[label]:.1f} | {worst:.1f} | {wall_medians[label]:.1f} "
            f"| {ratio} |"
        )
    table.append(
        f"| first report PDF / DOCX in a fresh process (CPU) | {first['pdf'] * 1000:.0f} / "
        f"{first['docx'] * 1000:.0f} | | | |"
    )
    when = datetime.now(UTC).strftime("%d/%m/%Y %H:%M UTC")
    sizes = f"trend {trend_size[0]:g} × {trend_size[1]:g} in, funnel {funnel_size[0]:g} × " + (
        f"{funnel_size[1]:.2f} in, 100 dpi"
    )
    report_text = "\n".join(
        [
            f"Machine: {describe()}. Date: {when}.",
            f"Demo data ({responses} responses), period {PERIOD}; {sizes}; "
            f"median of {args.repeat} turns.",
            "",
            *table,
            "",
        ]
    )
    print(report_text)
    results = Path(__file__).parent / "results"
    results.mkdir(exist_ok=True)
    (results / "cold_charts.md").write_text(report_text, encoding="utf-8")


if __name__ == "__main__":
    main()
