"""The benchmarks still run and still verify what they measure (tiny sizes, no timings).

They are the evidence behind docs/PERFORMANCE.md; a bench that no longer runs
would leave those figures unreproducible.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import sqlalchemy as sa

from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def _found(done: subprocess.CompletedProcess) -> str:
    """What a failed submissions bench found: its verification (printed last, so
    not cut off by pytest's shortening) and the end of its error output."""
    out = done.stdout
    found = out[out.find("## Verification") :] if "## Verification" in out else out[-3000:]
    return f"{found}\n--- stderr:\n{done.stderr[-1500:]}"


def test_rollup_scale_bench_loads_checks_and_times_both_sizes():
    done = _run("bench/rollup_scale.py", "--small", "300", "--large", "900", "--repeat", "1")
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    # Bulk-loaded counts equal the application's recount at both sizes.
    assert out.count("rollup vs recount on 12 communes: 0 differences") == 2
    assert "300 responses stored" in out and "900 responses stored" in out
    assert "| district page, month (100 communes) |" in out


def test_submissions_bench_stores_every_accepted_submission_exactly_once():
    done = _run(
        "bench/submissions.py",
        "--duration", "1", "--rounds", "1", "--warmup", "0",
        "--phones", "2", "--concurrency", "2",
    )  # fmt: skip
    assert done.returncode == 0, _found(done)
    out = done.stdout
    assert "Verified: every accepted submission stored exactly once" in out
    # The stack floor accepted the app's own form bytes (its CSRF check passed with
    # the app's session) and stored every answer of each.
    assert "| **stack floor, all windows** |" in out
    stack = re.search(r"- stack floor: (\d+) accepted, (\d+) rows in `bench_stack_response`", out)
    assert stack and int(stack[1]) > 0 and stack[1] == stack[2]
    answers = re.search(r"- stack floor: (\d+) answers stored \(expected (\d+)\)", out)
    assert answers and answers[1] == answers[2] and int(answers[1]) >= int(stack[1])


def test_submissions_bench_runs_production_checks_over_many_desks():
    """With the desk ceilings and the one-rating-per-phone check on, as in production:
    every post stored once, none held as a burst or replaced (each from a new
    phone, the ceilings far above the load), posts on several desks."""
    done = _run(
        "bench/submissions.py",
        "--duration", "1", "--rounds", "1", "--warmup", "0",
        "--phones", "2", "--concurrency", "2", "--checks", "production", "--keep",
    )  # fmt: skip
    assert done.returncode == 0, _found(done)
    out = done.stdout
    assert "Verified: every accepted submission stored exactly once" in out
    assert "SURVEY_DESK_MAX_PER_HOUR=(default)" in out
    assert "SURVEY_REPLACE_MINUTES=(default)" in out
    assert "- app: 0 flagged" in out
    kept = re.search(r"\nKept (\S+)", out)
    assert kept, out[-2000:]
    with sqlite3.connect(Path(kept[1]) / "survey.db") as conn:
        desks = conn.execute("SELECT count(DISTINCT desk_id) FROM response").fetchone()[0]
    shutil.rmtree(kept[1], ignore_errors=True)
    assert desks > 1


def test_submissions_bench_runs_on_postgresql(pg_server):
    """``--database-url`` runs the three targets on an empty PostgreSQL database, and
    ``--baseline`` an earlier revision on a database of its own on the same server:
    each stores what it accepted, and the report names the database it used."""
    if not (ROOT / ".git").exists():
        skip_or_fail("--baseline needs a git checkout (this is an export without .git)")
    name = "bench_" + uuid.uuid4().hex[:12]
    with pg_server.admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    try:
        done = _run(
            "bench/submissions.py",
            "--duration", "1", "--rounds", "1", "--warmup", "0",
            "--phones", "2", "--concurrency", "2",
            "--database-url", f"{pg_server.base}/{name}", "--baseline", "HEAD",
        )  # fmt: skip
        assert done.returncode == 0, _found(done)
        out = done.stdout
        assert "- Database: PostgreSQL 15" in out and "synchronous_commit=" in out
        for target, table in [
            ("app", "response"),
            ("stack floor", "bench_stack_response"),
            ("floor", "bench_floor_response"),
        ]:
            stored = re.search(rf"- {target}: (\d+) accepted, (\d+) rows in `{table}`", out)
            assert stored and int(stored[1]) > 0 and stored[1] == stored[2], target
        engine = sa.create_engine(f"{pg_server.base}/{name}")
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT count(*) FROM response")).scalar_one()
        engine.dispose()
        assert f"- app: {rows} accepted, {rows} rows" in out
        # The baseline ran on a database of its own on the same server, dropped after.
        stored = re.search(r"- baseline: (\d+) accepted, (\d+) rows in `response`", out)
        assert stored and int(stored[1]) > 0 and stored[1] == stored[2]
        with pg_server.admin.connect() as conn:
            left = conn.execute(
                sa.text("SELECT count(*) FROM pg_database WHERE datname = :n"),
                {"n": name + "_baseline"},
            ).scalar_one()
        assert left == 0
    finally:
        with pg_server.admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE {name} WITH (FORCE)"))


def test_submissions_bench_serves_a_baseline_revision_beside_the_app():
    """``--baseline REV`` serves the app at REV from a git worktree with its own
    database, checks it stores what it accepted, and removes the worktree."""
    if not (ROOT / ".git").exists():
        skip_or_fail("--baseline needs a git checkout (this is an export without .git)")
    done = _run(
        "bench/submissions.py",
        "--duration", "1", "--rounds", "1", "--warmup", "0",
        "--phones", "2", "--concurrency", "2", "--baseline", "HEAD",
    )  # fmt: skip
    assert done.returncode == 0, _found(done)
    out = done.stdout
    assert "| **baseline, all windows** |" in out
    assert "app/baseline (" in out and "throughput **" in out
    assert "- baseline: " in out and "missing 0, not acknowledged 0, stored twice 0" in out
    worktrees = subprocess.run(
        ["git", "worktree", "list"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    assert "sipas-bench-" not in worktrees


def test_post_cpu_bench_measures_both_revisions_and_stores_each_post_once():
    """``bench/post_cpu.py`` measures the code now and a revision from a worktree,
    each in a process importing its own tree, and removes the worktree."""
    if not (ROOT / ".git").exists():
        skip_or_fail("--baseline needs a git checkout (this is an export without .git)")
    done = _run(
        "bench/post_cpu.py", "--baseline", "HEAD", "--alternations", "1",
        "--posts", "10", "--blocks", "1", "--phones", "3",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert re.search(r"^\| 1 \| \d+ \| \d+ \| \d\.\d{3} \|$", out, re.MULTILINE), out
    assert "Now / baseline: median **" in out
    assert "Verified: every measurement stored exactly the posts answered 303." in out
    worktrees = subprocess.run(
        ["git", "worktree", "list"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    assert "sipas-bench-" not in worktrees


def test_submissions_bench_refuses_an_unknown_baseline_revision():
    done = _run("bench/submissions.py", "--duration", "1", "--baseline", "no-such-revision")
    assert done.returncode != 0
    assert "--baseline no-such-revision" in done.stderr


def test_kiosk_bench_measures_the_fresh_form_and_stores_each_rating_once():
    """``bench/kiosk.py`` (issue 21) drives the kiosk in Chromium with CPU and network
    throttling; two ratings here, checked stored once each (no timing asserted)."""
    if not Path("/usr/bin/chromium").exists():
        skip_or_fail("Chromium is not installed (apt-get install chromium)")
    done = _run("bench/kiosk.py", "--ratings", "2", "--latency", "100", "--kbps", "4000")
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-3000:])
    out = done.stdout
    assert "Verified: 2 ratings tapped, each stored exactly once." in out
    assert "| a fresh form painted |" in out
    together = re.search(r"\| \*\*together\*\* \| \*\*(\d+)\*\* \|", out)
    assert together and int(together[1]) <= 40 * 1024


def test_submissions_bench_verification_tells_lost_answers_from_refusals(tmp_path):
    """A post whose answer never came back may be stored (the phone sends it again
    and is thanked once); a post refused with a status must not be; one thanked
    must be stored exactly once."""
    from bench.submissions import Tally
    from bench.submissions import verify

    url = f"sqlite:///{tmp_path / 'v.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE r (submission_id TEXT)"))
        conn.execute(sa.text("INSERT INTO r VALUES ('thanked'), ('lost answer'), ('refused')"))
    engine.dispose()

    def problems(tally: Tally) -> list[str]:
        return verify(url, [("app", tally, "r", None)], 0)

    ok = Tally(accepted=["thanked"], unanswered=["lost answer", "never arrived"])
    ok.turned_away["refused"] = 503
    assert problems(ok) == [
        "app: 1 posts stored though answered [503]",
        "app: database holds 3 rows for 1 accepted",
    ]
    ok.turned_away.clear()
    assert problems(ok) == ["app: database holds 3 rows for 1 accepted"]  # 'refused' unknown
    ok.unanswered.append("refused")
    assert problems(ok) == []
    missing = Tally(accepted=["thanked", "lost answer", "refused", "never arrived"])
    assert problems(missing) == ["app: database holds 3 rows for 4 accepted"]
