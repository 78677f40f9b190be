"""How long the district page, its funnel chart and a commune dashboard take,
for a district of 30 communes with a month of responses and dossier volumes.

Run: .venv/bin/python bench/district_page.py [--communes 30] [--repeat 5]
Prints the timings as a Markdown table and writes the funnel plot to
bench/results/funnel-30.png so it can be looked at.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("SURVEY_ENV", "testing")
os.environ.setdefault("SURVEY_SECRET_KEY", "bench-" + uuid.uuid4().hex)

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from survey import create_app  # noqa: E402
from survey.cli import demo  # noqa: E402
from survey.data.models import Answer  # noqa: E402
from survey.data.models import Desk  # noqa: E402
from survey.data.models import DossierVolume  # noqa: E402
from survey.data.models import SurveyResponse  # noqa: E402
from survey.data.models import Unit  # noqa: E402
from survey.data.queries import ensure_questionnaire  # noqa: E402
from survey.extensions import db  # noqa: E402

WHEN = datetime(2025, 3, 5, 3, tzinfo=UTC)
PERIOD = "2025-03"


def build(app, communes: int, rng: random.Random) -> int:
    with app.app_context():
        upgrade()
        questionnaire = ensure_questionnaire()
        demo.load_units_and_desks()
        demo.load_officers()
        district = db.session.scalar(sa.select(Unit).where(Unit.code == "HD-CG"))
        existing = len(district.children)
        for i in range(existing, communes):
            unit = Unit(
                code=f"HD-CG-X{i:02d}",
                name=f"Xã Thử Nghiệm {i + 1}",
                level="commune",
                parent=district,
            )
            db.session.add(unit)
            db.session.add(Desk(code=f"X{i:02d}-01", name="Bộ phận Một cửa", unit=unit))
        db.session.commit()
        total = 0
        for unit in district.children:
            desk = unit.desks[0]
            n = rng.choice([3, 8, 15, 30, 60, 120, 250])
            rate = rng.uniform(0.8, 0.99)
            for _ in range(n):
                value = "5" if rng.random() < rate else rng.choice(["3", "2", "1"])
                answers = {
                    q: value
                    for q in ("access", "procedure", "official", "result", "feedback", "overall")
                }
                answers.update(field="ho_tich", wait="lt15", visits="1", trouble="no")
                db.session.add(
                    SurveyResponse(
                        submission_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                        unit_id=unit.id,
                        desk_id=desk.id,
                        questionnaire_id=questionnaire.id,
                        submitted_at=WHEN,
                        procedure_field="ho_tich",
                        language="vi",
                        answers=[Answer(question_id=k, value=v) for k, v in answers.items()],
                    )
                )
            db.session.add(
                DossierVolume(unit_id=unit.id, month=PERIOD, dossiers=n * rng.randint(2, 8))
            )
            total += n
        db.session.commit()
        return total


def timed(client, url: str, repeat: int) -> tuple[float, float]:
    client.get(url)  # warm caches and imports
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        reply = client.get(url)
        times.append(time.perf_counter() - start)
        assert reply.status_code == 200, (url, reply.status_code)
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--communes", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="sipas-bench-"))
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}",
            "SURVEY_DEMO": True,
            "SURVEY_CACHE": False,  # time the rendering, not the cache (bench/charts.py does)
        }
    )
    responses = build(app, args.communes, random.Random(7))
    client = app.test_client()
    token_page = client.get("/login").get_data(as_text=True)
    token = token_page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post(
        "/login", data={"csrf_token": token, "username": "camgiang", "password": "demo-camgiang"}
    )
    rows = []
    for label, url in [
        ("district page", f"/units/HD-CG?period={PERIOD}"),
        ("district funnel PNG", f"/reports/HD-CG/{PERIOD}/chart.png"),
        ("district API summary", f"/api/v1/units/HD-CG/summary?period={PERIOD}"),
        ("district XLSX", f"/reports/HD-CG/{PERIOD}/report.xlsx"),
        ("commune dashboard", f"/units/HD-CG-LC?period={PERIOD}"),
        ("commune trend PNG", f"/reports/HD-CG-LC/{PERIOD}/chart.png"),
    ]:
        median, worst = timed(client, url, args.repeat)
        rows.append((label, median, worst))
    results = Path(__file__).parent / "results"
    results.mkdir(exist_ok=True)
    (results / f"funnel-{args.communes}.png").write_bytes(
        client.get(f"/reports/HD-CG/{PERIOD}/chart.png").data
    )
    print(
        f"{args.communes} communes, {responses} responses in {PERIOD}, SQLite, "
        f"median of {args.repeat} after one warm-up"
    )
    print("| what | median (ms) | worst (ms) |\n| --- | ---: | ---: |")
    for label, median, worst in rows:
        print(f"| {label} | {median * 1000:.0f} | {worst * 1000:.0f} |")


if __name__ == "__main__":
    main()
