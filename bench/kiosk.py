"""The kiosk on a cheap tablet: from the last tap on Send to a fresh form, in
headless Chromium with its CPU slowed 4× and a slow connection (DevTools'
Emulation.setCPUThrottlingRate and Network.emulateNetworkConditions), and the
bytes of the kiosk page with its script and stylesheet.

    .venv/bin/python bench/kiosk.py [--ratings 20] [--cpu 4] [--latency 2000] [--kbps 400]

The app runs on a throwaway SQLite database behind Werkzeug's threaded server on
loopback. Each rating is tapped in (every question, the follow-up after a poor
overall rating on every third), then Send; the time runs from the Send tap's
pointerdown (its event time stamp) to the second animation frame after the form
was reset, i.e. once the fresh form has been painted. The rating itself goes out
in the background; the time until the server has stored it is reported too. At
the end every rating is checked to be stored exactly once.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("SURVEY_SECRET_KEY", "bench")

CHROMIUM = "/usr/bin/chromium"
TAPS = {
    "field": "ho_tich",
    "access": "5",
    "procedure": "4",
    "official": "5",
    "result": "4",
    "feedback": "na",
    "overall": "5",
    "wait": "lt15",
    "visits": "1",
    "trouble": "no",
}

# Installed in the page after it loaded: the Send tap's time, and the second frame
# after kiosk.js reset the form (its submit handler runs before this one).
MEASURE = """() => {
  const form = document.getElementById('kf');
  const send = document.getElementById('send');
  send.addEventListener('pointerdown', e => { window.__t0 = e.timeStamp; });
  form.addEventListener('submit', () => {
    const queue = JSON.parse(localStorage.getItem('kiosk.queue.v1')) || [];
    window.__id = queue.length ? queue[queue.length - 1].submission_id : null;
    requestAnimationFrame(() => requestAnimationFrame(() => {
      window.__fresh = !form.querySelector('input:checked');
      window.__t1 = performance.now();
    }));
  });
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ratings", type=int, default=20)
    parser.add_argument("--cpu", type=float, default=4, help="CPU slow-down factor")
    parser.add_argument("--latency", type=float, default=2000, help="round trip (ms)")
    parser.add_argument("--kbps", type=float, default=400, help="down and up (kbit/s)")
    args = parser.parse_args()

    import logging

    import sqlalchemy as sa
    from werkzeug.serving import make_server

    from survey import create_app
    from survey.cli import demo
    from survey.data.models import Desk
    from survey.data.models import Officer
    from survey.data.models import SurveyResponse
    from survey.data.queries import ensure_questionnaire
    from survey.extensions import db
    from survey.kiosk import services

    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/kiosk.db",
                "SURVEY_KIOSK_MIN_GAP_SECONDS": 0,
                "SURVEY_KIOSK_IDLE_SECONDS": 600,
                "SURVEY_DESK_MAX_PER_HOUR": -1,
                "SURVEY_DESK_MAX_PER_DAY": -1,
            }
        )
        with app.app_context():
            db.create_all()
            ensure_questionnaire()
            demo.load_units_and_desks()
            demo.load_officers()
            officer = db.session.scalar(sa.select(Officer).where(Officer.username == "laicach"))
            desk = db.session.scalar(sa.select(Desk).where(Desk.code == "LC-01"))
            _kiosk, code = services.issue_code(officer, desk)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}"
        try:
            report = run(args, url, code)
        finally:
            server.shutdown()
        with app.app_context():
            ids = report.pop("ids")
            rows = db.session.scalars(
                sa.select(SurveyResponse.submission_id).where(SurveyResponse.channel == "kiosk")
            ).all()
        print_report(args, report)
        if sorted(rows) != sorted(ids) or len(set(rows)) != len(rows):
            print(f"MISMATCH: {len(ids)} ratings tapped, {len(rows)} stored")
            sys.exit(1)
        print(f"Verified: {len(ids)} ratings tapped, each stored exactly once.")


def run(args, url: str, code: str) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(
            viewport={"width": 800, "height": 1280}, is_mobile=True, has_touch=True, locale="vi-VN"
        )
        page = context.new_page()
        page.goto(f"{url}/kiosk")
        page.fill("#code", code)
        page.locator("button.send").tap()
        page.wait_for_selector("#kf")
        sizes = weigh(context, page, url)

        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": args.cpu})
        bytes_per_s = args.kbps * 1000 / 8
        cdp.send(
            "Network.emulateNetworkConditions",
            {
                "offline": False,
                "latency": args.latency,
                "downloadThroughput": bytes_per_s,
                "uploadThroughput": bytes_per_s,
            },
        )
        loads = []
        for cache in ("cold", "warm"):
            if cache == "cold":
                cdp.send("Network.clearBrowserCache")
            started = time.perf_counter()
            # goto, not reload: a reload revalidates every file; a tablet coming
            # back to the page in the morning uses its cache.
            page.goto(f"{url}/kiosk", wait_until="load")
            loads.append((cache, (time.perf_counter() - started) * 1000))
        page.evaluate(MEASURE)

        fresh_ms, sent_ms, ids = [], [], []
        for n in range(args.ratings):
            low = n % 3 == 2
            for name, value in {**TAPS, "overall": "2" if low else "5"}.items():
                page.locator(f"label.opt:has(input[name='{name}'][value='{value}'])").tap()
            if low:
                page.locator("label.opt:has(input[name='reason'][value='wait_long'])").tap()
            page.evaluate("() => { window.__t1 = null; }")
            page.locator("#send").tap()
            page.wait_for_function("() => window.__t1 !== null", timeout=60_000)
            t0, t1, fresh = page.evaluate("() => [window.__t0, window.__t1, window.__fresh]")
            if not fresh:
                raise SystemExit("the form was not fresh after Send")
            fresh_ms.append(t1 - t0)
            ids.append(page.evaluate("() => window.__id"))
            page.wait_for_function(
                "() => (JSON.parse(localStorage.getItem('kiosk.queue.v1')) || []).length === 0",
                timeout=120_000,
            )
            sent_ms.append(page.evaluate("() => performance.now()") - t0)
        browser.close()
    return {"fresh": fresh_ms, "sent": sent_ms, "loads": loads, "sizes": sizes, "ids": ids}


def weigh(context, page, url: str) -> dict:
    """Bytes of the kiosk page, its script and its stylesheet, raw and gzipped."""
    html = page.content()
    assets = re.findall(r'(?:href|src)="(/static/kiosk\.(?:css|js)\?v=\w+)"', html)
    sizes = {}
    for name, path in [("page", "/kiosk"), *((p.split("?")[0][8:], p) for p in assets)]:
        body = context.request.get(url + path, headers={"Accept-Encoding": "identity"}).body()
        sizes[name] = (len(body), len(gzip.compress(body, 9)))
    return sizes


def print_report(args, report: dict) -> None:
    fresh, sent = report["fresh"], report["sent"]
    print(
        f"Chromium, 800×1280 touch, CPU {args.cpu:g}× slower, {args.latency:g} ms latency, "
        f"{args.kbps:g} kbit/s down and up; {len(fresh)} ratings\n"
    )
    print("| from the Send tap to | median (ms) | max (ms) |")
    print("| --- | ---: | ---: |")
    print(f"| a fresh form painted | {statistics.median(fresh):.0f} | {max(fresh):.0f} |")
    print(
        f"| the rating stored (sent in the background) | {statistics.median(sent):.0f} | "
        f"{max(sent):.0f} |"
    )
    print()
    for cache, ms in report["loads"]:
        print(f"- page load, {cache} cache: {ms:.0f} ms")
    print()
    print("| file | raw (B) | gzip -9 (B) |")
    print("| --- | ---: | ---: |")
    total = [0, 0]
    for name, (raw, packed) in report["sizes"].items():
        print(f"| {name} | {raw} | {packed} |")
        total[0] += raw
        total[1] += packed
    print(f"| **together** | **{total[0]}** | **{total[1]}** |")


if __name__ == "__main__":
    main()
