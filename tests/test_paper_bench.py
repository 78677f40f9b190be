"""The paper entry bench still runs and still verifies what it measures (a few
ballots, no timings): its figures in docs/PERFORMANCE.md stay reproducible."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CHROMIUM
from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_paper_entry_bench_types_every_ballot_once_in_questions_plus_one_keystrokes():
    if not os.path.exists(CHROMIUM):
        skip_or_fail("Chromium is not installed (apt-get install chromium)")
    done = subprocess.run(
        [sys.executable, "bench/paper_entry.py", "--ballots", "3", "--render", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])
    out = done.stdout
    assert "Keystrokes per ballot after the serial: [11] (questions + 1 = 11)" in out
    assert "Verified: every ballot stored exactly once (3 responses, channel paper)" in out
    assert "| answer key (taken, focus to next) | 30 |" in out
    assert "| 2 | a4x2 |" in out and "| 2 | a5 |" in out
