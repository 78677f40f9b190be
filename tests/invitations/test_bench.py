"""The invitations bench still runs and still checks its counts (tiny size, no timings)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_invitations_bench_runs_and_counts_right():
    done = subprocess.run(
        [sys.executable, "bench/invitations.py", "--invitations", "300", "--repeat", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| worker pass, nothing due (`run_due`) |" in done.stdout
    assert "sent/answered this month: (" in done.stdout
