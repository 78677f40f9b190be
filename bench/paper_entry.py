"""How fast paper ballots are entered with the keyboard alone, and printed.

Starts the app on loopback (a fresh SQLite database, or --database-url), numbers a
batch of ballots, and drives the entry screen in headless Chromium with a
keystroke script (page.keyboard), as a fast officer types: the serial without
hyphens, one key per question, Enter, and straight on to the next ballot without
waiting. Each keystroke's response time is measured in the page, from the key's
event time to the first frame painted after its handler ran; Enter is measured
twice: until the screen is empty and ready for the next ballot, and until the
server's confirmation is shown. Then every ballot is checked to be stored exactly
once with the answers typed.

Run: .venv/bin/python bench/paper_entry.py [--ballots 40] [--render 10,50,100]
Prints Markdown tables (docs/PERFORMANCE.md keeps the figures).
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("SURVEY_ENV", "testing")
os.environ.setdefault("SURVEY_SECRET_KEY", "bench-" + uuid.uuid4().hex)
os.environ.setdefault("SURVEY_PASSWORD_HASH", "scrypt:1024:8:1")

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from machine_info import describe  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from survey import create_app  # noqa: E402
from survey.cli import demo  # noqa: E402
from survey.data.models import Desk  # noqa: E402
from survey.data.models import Officer  # noqa: E402
from survey.data.models import PaperBallot  # noqa: E402
from survey.data.models import PaperLayout  # noqa: E402
from survey.data.models import SurveyResponse  # noqa: E402
from survey.data.queries import definition_of  # noqa: E402
from survey.data.queries import ensure_questionnaire  # noqa: E402
from survey.domain import ballots  # noqa: E402
from survey.extensions import db  # noqa: E402
from survey.paper import services  # noqa: E402
from survey.render.ballots import render_ballots  # noqa: E402

CHROMIUM = "/usr/bin/chromium"

# Runs in the page before its own script: each keydown's time to the next painted frame,
# and the moment each save is confirmed (the form's data-done counter changes).
MEASURE = """
window.__keys = [];
window.__saved = [];
document.addEventListener("keydown", function (e) {
  var t0 = e.timeStamp, key = e.key, target = e.target && e.target.id;
  requestAnimationFrame(function () {
    setTimeout(function () { window.__keys.push([key, target, performance.now() - t0]); }, 0);
  });
}, true);
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("paper-entry");
  if (!form) { return; }
  new MutationObserver(function () {
    window.__saved.push([form.dataset.done, performance.now()]);
  }).observe(form, { attributes: true, attributeFilter: ["data-done"] });
});
"""


def _stats(values: list[float]) -> str:
    if not values:
        return "| – | – | – |"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"| {statistics.median(ordered):.1f} | {p95:.1f} | {ordered[-1]:.1f} |"


def setup(app, count: int) -> list[str]:
    with app.app_context():
        upgrade()
        ensure_questionnaire()
        demo.load_units_and_desks()
        demo.load_officers()
        officer = db.session.scalar(sa.select(Officer).where(Officer.username == "laicach"))
        desk = db.session.scalar(sa.select(Desk).where(Desk.code == "LC-01"))
        batch = services.create_batch(officer, desk, count, PaperLayout.A4X2)
        return list(
            db.session.scalars(
                sa.select(PaperBallot.serial)
                .where(PaperBallot.batch_id == batch.id)
                .order_by(PaperBallot.seq)
            )
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ballots", type=int, default=40)
    parser.add_argument("--render", default="10,50,100", help="batch sizes to time the PDF of")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        print(f"{CHROMIUM} is missing (apt-get install chromium)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="paper-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SURVEY_CACHE_DIR": str(tmp / "cache"),
            "SURVEY_DEMO": True,
            "SURVEY_PAPER_RECHECK_SHARE": 0.0,
        }
    )
    serials = setup(app, args.ballots)
    with app.app_context():
        questionnaire = ensure_questionnaire()
        questions = ballots.ballot_questions(definition_of(questionnaire))
    # Each ballot's answers: a random printed box per question (no-opinion included).
    planned = []
    for serial in serials:
        keys = {q.id: rng.choice([k for k, _ in ballots.printed_numbers(q)]) for q in questions}
        planned.append((serial, keys))

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    keystrokes_per_ballot = []
    enter_at: list[float] = []
    started = time.perf_counter()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN")
        context.add_init_script(MEASURE)
        page = context.new_page()
        page.goto(f"{base}/login")
        page.fill("#username", "laicach")
        page.fill("#password", "demo-laicach")
        page.click("button.primary")
        page.goto(f"{base}/units/HD-CG-LC/paper/entry")
        for serial, keys in planned:
            page.keyboard.type(serial.replace("-", ""))
            page.wait_for_selector("#a_field:focus")
            pressed = 0
            for question in questions:
                page.keyboard.press(keys[question.id])
                pressed += 1
            enter_at.append(page.evaluate("performance.now()"))
            page.keyboard.press("Enter")
            pressed += 1
            keystrokes_per_ballot.append(pressed)
        page.wait_for_selector(f"#paper-entry[data-done='{len(planned)}']", state="attached")
        typed = time.perf_counter() - started
        keys_log = page.evaluate("window.__keys")
        saved_log = page.evaluate("window.__saved")
        browser.close()
    server.shutdown()

    # Every ballot stored exactly once, with the answers typed.
    with app.app_context():
        responses = db.session.scalars(
            sa.select(SurveyResponse).where(SurveyResponse.channel == "paper")
        ).all()
        by_submission = {r.submission_id: r.answer_map() for r in responses}
        wrong = 0
        for serial, keys in planned:
            expected = {}
            for q in questions:
                expected[q.id] = ballots.keys_of(q)[keys[q.id]]
            stored = by_submission.get(ballots.submission_id(ballots.key_of(serial)))
            wrong += stored != expected
        entered = db.session.scalar(
            sa.select(sa.func.count(PaperBallot.id)).where(PaperBallot.entered_at.is_not(None))
        )
    ok = len(responses) == len(planned) == entered and wrong == 0
    serial_ms = [ms for key, target, ms in keys_log if target == "serial" and key != "Enter"]
    answer_ms = [ms for key, target, ms in keys_log if target.startswith("a_") and key != "Enter"]
    ready_ms = [ms for key, target, ms in keys_log if key == "Enter"]
    confirmed_ms = []
    for done, at in saved_log:
        index = int(done) - 1
        if 0 <= index < len(enter_at):
            confirmed_ms.append(at - enter_at[index])

    print(f"Machine: {describe()}")
    print(f"Database: {app.config['SQLALCHEMY_DATABASE_URI'].split(':', 1)[0]}")
    print(
        f"{len(planned)} ballots of {len(questions)} questions typed in {typed:.1f} s "
        f"(keystroke script, no pause between ballots)"
    )
    print(
        f"Keystrokes per ballot after the serial: {sorted(set(keystrokes_per_ballot))} "
        f"(questions + 1 = {len(questions) + 1}); serial: "
        f"{len(serials[0].replace('-', ''))} characters"
    )
    print()
    print("| keystroke | n | median ms | p95 ms | max ms |")
    print("|---|---:|---:|---:|---:|")
    print(f"| serial character (last one moves on) | {len(serial_ms)} {_stats(serial_ms)}")
    print(f"| answer key (taken, focus to next) | {len(answer_ms)} {_stats(answer_ms)}")
    print(f"| Enter: screen empty, ready for the next | {len(ready_ms)} {_stats(ready_ms)}")
    print(f"| Enter → server's confirmation shown | {len(confirmed_ms)} {_stats(confirmed_ms)}")
    print()
    if ok:
        print(
            f"Verified: every ballot stored exactly once ({len(planned)} responses, channel paper)"
        )
    else:
        print(
            f"NOT VERIFIED: {len(responses)} responses, {entered} ballots entered, "
            f"{wrong} with other answers, for {len(planned)} typed"
        )

    sizes = [int(s) for s in args.render.split(",") if s.strip()]
    if sizes:
        with app.app_context(), app.test_request_context():
            officer = db.session.scalar(sa.select(Officer).where(Officer.username == "laicach"))
            desk = db.session.scalar(sa.select(Desk).where(Desk.code == "LC-02"))
            print()
            print("| ballots in the PDF | layout | seconds | per ballot ms | bytes |")
            print("|---:|---|---:|---:|---:|")
            for size in sizes:
                for layout in (PaperLayout.A4X2, PaperLayout.A5):
                    batch = services.create_batch(officer, desk, size, layout)
                    sheet = services.batch_sheet(batch)
                    items = services.batch_ballots(batch)
                    t0 = time.perf_counter()
                    data = render_ballots(sheet, items, batch.layout)
                    seconds = time.perf_counter() - t0
                    print(
                        f"| {size} | {batch.layout} | {seconds:.2f} | "
                        f"{seconds / size * 1000:.0f} | {len(data)} |"
                    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
