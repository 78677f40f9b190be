"""The outbox bench still runs and still verifies what it measures (tiny sizes, no
timings): every queued message delivered, after a kill and an SMTP outage too."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
pytestmark = pytest.mark.slow


def test_outbox_bench_delivers_everything_it_queues():
    done = subprocess.run(
        [sys.executable, "bench/outbox.py", "--messages", "60", "--duration", "1"]
        + ["--rounds", "1", "--latency-samples", "1", "--concurrency", "2"]
        + ["--down-seconds", "2", "--down-messages", "20"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, (done.stdout[-3000:], done.stderr[-3000:])
    out = done.stdout
    assert "- delivered 60 of 60, duplicates 0" in out
    assert re.search(r"- delivered 60 of 60; duplicates \(same Message-ID twice\) \d+", out)
    assert "- delivered 20 of 20; duplicates 0" in out
    assert "PROBLEM" not in out
