"""First render of the citizen's form on emulated slow 3G, compressed and not.

Run: .venv/bin/python bench/slow3g.py [--repeat 3]

Serves the app (demo units, a throwaway SQLite file) on loopback and opens
``/s/LC-01`` in headless Chromium at 360 × 740 with DevTools' "Slow 3G"
conditions (400 ms latency, 400 kbit/s each way), a fresh browser context (empty
cache) each time. In turns: as a phone that accepts br and gzip (today), and as one
that accepts no compression (what every phone was sent before the form on the
wire was compressed: ``Accept-Encoding: identity`` set through DevTools). Records
the bytes received (DevTools' encodedDataLength), DOMContentLoaded and load
(headless Chromium records no first-contentful-paint), medians of ``--repeat``.
Writes bench/results/slow3g.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import uuid
from datetime import UTC
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.machine_info import describe  # noqa: E402

os.environ.setdefault("SURVEY_ENV", "testing")
os.environ.setdefault("SURVEY_SECRET_KEY", "bench-" + uuid.uuid4().hex)


def serve():
    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from survey import create_app
    from survey.cli import demo
    from survey.data.queries import ensure_questionnaire

    folder = Path(tempfile.mkdtemp(prefix="sipas-bench-slow3g-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}"})
    with app.app_context():
        upgrade()
        ensure_questionnaire()
        demo.load_units_and_desks()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def visit(browser, url: str, identity: bool) -> dict:
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN")
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 400,
            "downloadThroughput": 400 * 1024 / 8,
            "uploadThroughput": 400 * 1024 / 8,
        },
    )
    if identity:
        cdp.send("Network.setExtraHTTPHeaders", {"headers": {"Accept-Encoding": "identity"}})
    received = []
    cdp.on("Network.loadingFinished", lambda event: received.append(event["encodedDataLength"]))
    page.goto(url, wait_until="load")
    timing = page.evaluate(
        """() => {
            const nav = performance.getEntriesByType('navigation')[0];
            return {dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd};
        }"""
    )
    context.close()
    return {"bytes": sum(received), "requests": len(received), **timing}


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    server = serve()
    url = f"http://127.0.0.1:{server.server_port}/s/LC-01"
    results = {False: [], True: []}
    with sync_playwright() as playwright:
        # The system's Chromium, as the browser tests use it (tests/conftest.py).
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic"],
        )
        visit(browser, url, False)  # warm the server (templates, questionnaire)
        for _ in range(args.repeat):
            for identity in (True, False):
                results[identity].append(visit(browser, url, identity))
        browser.close()
    server.shutdown()
    table = [
        "| the phone accepts | requests | bytes received | DOMContentLoaded (ms) | load (ms) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for identity, label in ((True, "no compression (before)"), (False, "br, gzip (now)")):
        rows = results[identity]
        table.append(
            f"| {label} | {rows[0]['requests']} "
            f"| {statistics.median(r['bytes'] for r in rows):.0f} "
            f"| {statistics.median(r['dcl'] for r in rows):.0f} "
            f"| {statistics.median(r['load'] for r in rows):.0f} |"
        )
    when = datetime.now(UTC).strftime("%d/%m/%Y %H:%M UTC")
    text = "\n".join(
        [f"Machine: {describe()}. Date: {when}. Median of {args.repeat}.", "", *table, ""]
    )
    print(text)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "slow3g.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
