"""CPU time of one form post in one process, the code now against an earlier revision.

``bench/submissions.py`` measures posts through gunicorn, where two runs of the
same code differ by up to a tenth on this shared machine: too much to see a
change of a few percent. This bench leaves gunicorn, sockets and the counting
process out and times only the post itself, through the Flask test client, in
one process per measurement:

- a throwaway SQLite database built by the revision's own code
  (``bench/submissions.build_database``: its migrations and CLI);
- phones that open the form once (cookies, CSRF token, hidden fields), then
  blocks of posts, each with a fresh submission id and signed start stamp, the
  same settings as the submissions bench (limits raised, not off; the rollup
  left to the counting job, which does not run here);
- CPU time (``time.process_time``) per post, the test client's own work
  included, the median of the blocks after one uncounted block;
- the database must then hold exactly the posts answered ``303``.

With ``--baseline REV`` the revision is checked out in a temporary git worktree
and the two alternate, one process each, ``--alternations`` times: drift on the
machine falls on both, and the ratio of each pair (now / baseline) is printed
with their median. The revision's ``bench/submissions.py`` must have
``build_database``, ``server_env``, ``Phone``, ``FormParser`` and ``Submissions``
(every revision since the bench's baseline option has).

Run: .venv/bin/python bench/post_cpu.py [--baseline REV] [--alternations 8]
     [--posts 400] [--blocks 5] [--phones 200]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(tree: str, posts: int, blocks: int, phones: int) -> dict:
    """In this process: the revision in ``tree``, its database, its posts' CPU time."""
    sys.path.insert(0, tree)
    os.chdir(tree)
    import sqlalchemy as sa

    import survey
    from bench import submissions as bench

    for module in (survey, bench):
        if not Path(module.__file__).resolve().is_relative_to(Path(tree).resolve()):
            raise SystemExit(f"{module.__name__} was imported from {module.__file__}, not {tree}")
    workdir = tempfile.mkdtemp(prefix="sipas-bench-")
    try:
        target = os.path.join(workdir, "survey.db")
        url = bench.sqlalchemy_url(target)
        env = bench.server_env(url, secrets.token_hex(32), "raised", target, "bench")
        env["SURVEY_ROLLUP_BACKGROUND"] = "0"
        app = bench.build_database(target, env)
        opened = []
        for number in range(phones):
            phone = bench.Phone(number, {}, {}, {})
            client = app.test_client()
            page = client.get(f"/s/{bench.DESK}", headers={"X-Forwarded-For": phone.address})
            if page.status_code != 200:
                raise SystemExit(f"{tree}: the form answered {page.status_code}")
            parser = bench.FormParser()
            parser.feed(page.get_data(as_text=True))
            opened.append((bench.Phone(number, {}, parser.fields, parser.radios), client))
        submissions = bench.Submissions(app)
        rng = random.Random(1)
        answered = 0

        def block() -> float:
            nonlocal answered
            sent = [
                (phone, client, submissions.body(phone, rng)[1])
                for phone, client in itertools.islice(itertools.cycle(opened), posts)
            ]
            began = time.process_time()
            for phone, client, body in sent:
                reply = client.post(
                    f"/s/{bench.DESK}",
                    data=body,
                    content_type="application/x-www-form-urlencoded",
                    headers={"X-Forwarded-For": phone.address},
                )
                if reply.status_code != 303:
                    raise SystemExit(f"{tree}: a post answered {reply.status_code}")
                answered += 1
            return (time.process_time() - began) / posts * 1e6

        block()  # warm-up: caches, compiled statements, the first pages read
        times = [block() for _ in range(blocks)]
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            stored = conn.execute(sa.text("SELECT count(*) FROM response")).scalar_one()
        engine.dispose()
        return {"cpu_us": statistics.median(times), "blocks": times, "answered": answered,
                "stored": stored}  # fmt: skip
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def child(tree: Path, args) -> dict:
    """One measurement in a process of its own (a revision's modules cannot share one)."""
    done = subprocess.run(
        [sys.executable, __file__, "--measure", str(tree), "--posts", str(args.posts),
         "--blocks", str(args.blocks), "--phones", str(args.phones)],
        capture_output=True, text=True, cwd=tree,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"measuring {tree} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text}: must be at least 1")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", help="an earlier git revision, measured alternately")
    parser.add_argument("--alternations", type=_at_least_one, default=8)
    parser.add_argument("--posts", type=_at_least_one, default=400, help="posts per block")
    parser.add_argument(
        "--blocks", type=_at_least_one, default=5, help="timed blocks per measurement"
    )
    parser.add_argument("--phones", type=_at_least_one, default=200)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.posts, args.blocks, args.phones)))
        return

    # Here only: a measuring process imports the bench package of its own tree.
    sys.path.insert(0, str(ROOT))
    from bench.machine_info import describe
    from bench.submissions import git

    commit = git("rev-parse", "--short", "HEAD").stdout.strip() or "?"
    print("# One form post's CPU time, in one process\n")
    print(f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"- Machine: {describe()}")
    print(f"- Code: {commit} (the working tree)")
    print(f"- {args.alternations} measurements per revision, each {args.blocks} blocks of "
          f"{args.posts} posts from {args.phones} phones after one uncounted block")  # fmt: skip
    workdir = Path(tempfile.mkdtemp(prefix="sipas-bench-"))
    tree = None
    try:
        if args.baseline:
            tree = workdir / "baseline"
            added = git("worktree", "add", "--detach", str(tree), args.baseline)
            if added.returncode != 0:
                raise SystemExit(f"--baseline {args.baseline}: {added.stderr.strip()}")
            base = git("rev-parse", "--short", "HEAD", cwd=tree).stdout.strip()
            print(f"- Baseline: {args.baseline} ({base}), alternating with the code now\n")
            print("| measurement | now (µs CPU a post) | baseline | now / baseline |")
            print("| --- | ---: | ---: | ---: |")
        else:
            print("\n| measurement | µs CPU a post |\n| --- | ---: |")
        ratios, nows, bases = [], [], []
        for n in range(args.alternations):
            order = [("now", ROOT), ("baseline", tree)] if tree is not None else [("now", ROOT)]
            if n % 2:
                order.reverse()
            got = {}
            for name, where in order:
                result = child(where, args)
                if result["stored"] != result["answered"]:
                    raise SystemExit(
                        f"{name}: {result['answered']} posts answered 303, "
                        f"{result['stored']} responses stored"
                    )
                got[name] = result["cpu_us"]
            nows.append(got["now"])
            if tree is None:
                print(f"| {n + 1} | {got['now']:.0f} |", flush=True)
                continue
            bases.append(got["baseline"])
            ratios.append(got["now"] / got["baseline"])
            print(f"| {n + 1} | {got['now']:.0f} | {got['baseline']:.0f} | {ratios[-1]:.3f} |",
                  flush=True)  # fmt: skip
        print(f"\nNow: median {statistics.median(nows):.0f} µs CPU a post.")
        if ratios:
            print(f"Baseline: median {statistics.median(bases):.0f} µs CPU a post.")
            print(f"Now / baseline: median **{statistics.median(ratios):.3f}** "
                  f"(from {min(ratios):.3f} to {max(ratios):.3f}).")  # fmt: skip
        print("\nVerified: every measurement stored exactly the posts answered 303.")
    finally:
        if tree is not None and tree.exists():
            git("worktree", "remove", "--force", str(tree))
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
