"""The rollup's counting job (survey/data/rollup.py, survey/data/counting.py).

A form post stores its response uncounted; every read of the rollup adds the
responses still waiting, so a page read right after a post shows it; the
counting job counts each exactly once, whatever happens to it meanwhile (an
officer flags it, a worker dies before counting it, two jobs run at once).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time

import pytest
import requests
import sqlalchemy as sa

from survey.data import counting
from survey.data import rollup
from survey.data.models import SurveyResponse
from survey.data.models import Tally
from survey.data.models import Unit
from survey.domain.feedback import FeedbackStatus
from survey.domain.periods import period_containing
from survey.domain.periods import today_in_vietnam
from survey.extensions import db
from tests.conftest import VALID_ANSWERS
from tests.conftest import hidden_fields
from tests.conftest import sign_in
from tests.reliability._load import Gunicorn
from tests.reliability._load import server_env


def _post(app, desk: str = "LC-01", **changes) -> None:
    """One citizen on a phone of their own: open the form, send it (at once, which
    the minimum fill time would hold out as too fast: these tests count ratings)."""
    app.config["SURVEY_MIN_FILL_SECONDS"] = 0
    citizen = app.test_client()
    page = citizen.get(f"/s/{desk}")
    data = {**hidden_fields(page.get_data(as_text=True)), **VALID_ANSWERS, **changes}
    assert citizen.post(f"/s/{desk}", data=data).status_code == 303


def _counted_rows(app) -> int:
    """Responses the rollup's rows hold at the top unit (counted in or held out)."""
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(Tally.count), 0))
            .join(Unit, Unit.id == Tally.unit_id)
            .where(
                Unit.parent_id.is_(None),
                Tally.question_id.in_([rollup.RESPONSES, rollup.FLAGGED]),
                Tally.procedure_field == rollup.TOTAL,
            )
        )


def _all_units_match(app) -> None:
    with app.app_context():
        for unit in db.session.scalars(sa.select(Unit)):
            assert rollup.differences(unit) == {}, unit.code


def test_a_post_waits_for_the_job_and_every_page_shows_it_at_once(app, officers):
    officer = app.test_client()
    sign_in(officer, "camgiang")
    _post(app, q_overall="5")
    _post(app, q_overall="2")
    _post(app, "CH-01", q_overall="4")
    with app.app_context():
        assert rollup.waiting_total() == 3
    assert _counted_rows(app) == 0  # really waiting: nothing counted in the post
    pages = {
        path: officer.get(path).get_json()
        for path in ("/api/v1/units/HD-CG-LC/summary", "/api/v1/units/HD-CG/summary")
    }
    public = app.test_client().get("/results/HD-CG/data.json").get_json()
    commune = pages["/api/v1/units/HD-CG-LC/summary"]
    assert (commune["responses"], commune["satisfied"], commune["valid"]) == (2, 1, 2)
    assert pages["/api/v1/units/HD-CG/summary"]["pooled"]["valid"] == 3

    with app.app_context():
        assert rollup.count_waiting() == 3
        assert rollup.waiting_total() == 0
        assert rollup.count_waiting() == 0  # idempotent: nothing counted twice
    assert _counted_rows(app) == 3
    # The same figures, to the last digit, from the rows alone.
    for path, before in pages.items():
        assert officer.get(path).get_json() == before, path
    assert app.test_client().get("/results/HD-CG/data.json").get_json() == public
    _all_units_match(app)


def test_changes_to_waiting_responses_are_counted_once(app, demo_units):
    """An officer's change of a response still waiting (flagged, answered,
    deleted) counts its new state only: its old one was never counted."""
    for overall in ("5", "4", "1", "3"):
        _post(app, q_overall=overall, q_comment="Chờ lâu quá")
    with app.app_context():
        first, second, third, _fourth = db.session.scalars(
            sa.select(SurveyResponse).order_by(SurveyResponse.id)
        ).all()
        first.flagged, first.flag_reason = True, "duplicate"
        second.feedback_status = FeedbackStatus.ANSWERED.value
        db.session.delete(third)
        db.session.commit()
    _all_units_match(app)
    with app.app_context():
        assert rollup.waiting_total() == 1  # the three changed were counted with the change
        assert rollup.count_waiting() == 1
        assert db.session.scalar(sa.select(sa.func.min(Tally.count))) >= 0
    _all_units_match(app)
    assert _counted_rows(app) == 3


def test_jobs_posts_reads_and_flags_at_once_count_each_response_once(app, demo_units):
    """Posts, two counting jobs, an officer flagging and reinstating, and a reader,
    all at once. Every read lies between the responses stored before it began and
    those stored after it ended (none missing, none twice); afterwards the rows
    equal a full recount."""
    posts, stop = 40, threading.Event()
    errors: list[BaseException] = []
    with app.app_context():
        commune = db.session.scalar(sa.select(Unit).where(Unit.code == "HD-CG-LC"))
        commune_id, cutoff = commune.id, commune.report_cutoff_day
    month = period_containing(today_in_vietnam(), "month", cutoff)
    readings: list[tuple[int, int, int]] = []

    def guarded(work):
        def run():
            try:
                work()
            except BaseException as exc:  # reported by the test, not lost in a thread
                errors.append((work.__name__, repr(exc)))
                stop.set()

        return run

    def stored() -> int:
        return db.session.scalar(sa.select(sa.func.count(SurveyResponse.id)))

    def poster():
        for i in range(posts):
            _post(app, q_overall=str(1 + i % 5))
        stop.set()

    def job():
        with app.app_context():
            while not stop.wait(0.005):
                rollup.count_waiting(batch=3)
                db.session.remove()

    def flagger():
        rng = random.Random(5)
        with app.app_context():
            while not stop.wait(0.005):
                ids = db.session.scalars(sa.select(SurveyResponse.id)).all()
                if ids:
                    response = db.session.get(SurveyResponse, rng.choice(ids))
                    response.flagged = not response.flagged
                    response.flag_reason = "duplicate" if response.flagged else None
                    db.session.commit()
                db.session.remove()

    def reader():
        with app.app_context():
            while not stop.is_set():
                before = stored()
                rows = rollup.counts(
                    commune_id,
                    [month],
                    ("question_id",),
                    question_ids=[rollup.RESPONSES, rollup.FLAGGED],
                )
                after = stored()
                readings.append((before, sum(n for _q, n in rows), after))
                db.session.remove()

    threads = [threading.Thread(target=guarded(w)) for w in (poster, job, job, flagger, reader)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    assert readings
    wrong = [r for r in readings if not r[0] <= r[1] <= r[2]]
    assert not wrong, f"{len(wrong)} of {len(readings)} reads off: {wrong[:5]}"
    with app.app_context():
        assert stored() == posts
        rollup.count_waiting()
        assert rollup.waiting_total() == 0
    _all_units_match(app)
    assert _counted_rows(app) == posts


def test_the_counting_thread_counts_soon_after_a_post(app, demo_units):
    app.config.update(SURVEY_ROLLUP_BACKGROUND=True, SURVEY_ROLLUP_COUNT_DELAY_SECONDS=0.05)
    try:
        _post(app)
        _post(app, "CH-01")
        assert _waited_until_counted(app)
    finally:
        counting.stop(app)
    _all_units_match(app)
    assert _counted_rows(app) == 2


def _waited_until_counted(app, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    with app.app_context():
        while time.monotonic() < deadline:
            if rollup.waiting_total() == 0:
                return True
            db.session.remove()
            time.sleep(0.05)
    return False


def _citizen_posts(base: str, n: int) -> None:
    for _ in range(n):
        with requests.Session() as phone:
            page = phone.get(f"{base}/s/LC-01", timeout=20)
            data = {**hidden_fields(page.text), **VALID_ANSWERS}
            sent = phone.post(f"{base}/s/LC-01", data=data, timeout=20, allow_redirects=False)
            assert sent.status_code == 303, sent.status_code


@pytest.mark.slow
def test_responses_of_a_killed_worker_are_read_then_counted_by_the_next(database_url, tmp_path):
    """Slow (~15 s): gunicorn stores five ratings and is SIGKILLed before its
    counting thread runs. The public results read them at once; a new server
    counts them on its first read, without any new post."""
    env = {
        **server_env(database_url),
        # The first server never counts by itself.
        "SURVEY_ROLLUP_COUNT_DELAY_SECONDS": "3600",
        "SURVEY_ROLLUP_COUNT_INTERVAL_SECONDS": "3600",
    }
    from tests.reliability._load import prepare_database

    prepare_database(env)
    server = Gunicorn(env, workers=1, log=tmp_path / "first.log")
    try:
        server.wait_ready()
        _citizen_posts(server.base, 5)
    finally:
        for pid in server.workers():
            os.kill(pid, signal.SIGKILL)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=20)

    from survey import create_app

    reader = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    try:
        with reader.app_context():
            assert rollup.waiting_total() == 5
        _all_units_match(reader)
        public = reader.test_client().get("/results/HD-CG-LC/data.json").get_json()
        assert _counted_rows(reader) == 0

        env["SURVEY_ROLLUP_COUNT_DELAY_SECONDS"] = "0.05"
        second = Gunicorn(env, workers=1, log=tmp_path / "second.log")
        try:
            second.wait_ready()
            seen = requests.get(f"{second.base}/results/HD-CG-LC/data.json", timeout=20)
            assert seen.json() == public  # the waiting five, read by the new server
            assert _waited_until_counted(reader)
        finally:
            second.stop()
        _all_units_match(reader)
        assert _counted_rows(reader) == 5
        assert reader.test_client().get("/results/HD-CG-LC/data.json").get_json() == public
    finally:
        with reader.app_context():
            db.session.remove()
            db.engine.dispose()


def test_the_cli_counts_the_waiting_responses(app, demo_units):
    _post(app)
    runner = app.test_cli_runner()
    check = runner.invoke(args=["survey", "rollup-check"])
    assert check.exit_code == 0 and "1 response(s) waiting" in check.output
    done = runner.invoke(args=["survey", "rollup-count"])
    assert done.exit_code == 0 and "Counted 1 waiting response(s)" in done.output
    assert runner.invoke(args=["survey", "rollup-count"]).output.startswith("Counted 0 ")
    assert _counted_rows(app) == 1


def test_going_back_before_the_counting_job_counts_the_waiting_responses(app, demo_units):
    """Migration 0017's downgrade: without the ``counted`` column every response
    must be in the rollup, so the waiting ones are counted first."""
    from flask_migrate import downgrade
    from flask_migrate import upgrade

    _post(app, q_overall="5")
    _post(app, "CH-01", q_overall="1")
    with app.app_context():
        assert rollup.waiting_total() == 2
        db.session.remove()
        downgrade(revision="0014")
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("response")}
        assert "counted" not in columns
        for unit in db.session.scalars(sa.select(Unit)):
            assert rollup.stored(unit) == rollup.recount(unit), unit.code
        db.session.remove()
        upgrade()
        assert rollup.waiting_total() == 0
    _all_units_match(app)
    assert _counted_rows(app) == 2


def _batch_as_read(connection):
    """What SQLite's counting job reads and computes before it takes the write lock:
    the waiting responses, the unit tree and the counts to add."""
    waiting = rollup._read_waiting(connection)
    tree = rollup._unit_tree(connection)
    guess = rollup._Deltas(connection)
    guess.chains = rollup._chains_from(tree, {w.values["unit_id"] for w in waiting})
    for response in waiting:
        guess.count_values(response.answers, response.values, +1)
    return waiting, tree, guess


def test_on_sqlite_a_batch_read_before_a_change_is_not_added_as_read(sqlite_template, tmp_path):
    """SQLite adds a batch in five statements prepared before the write lock; it
    writes nothing when, by the time it holds the lock, a response of the batch was
    counted by someone else or a unit moved: the batch is then counted the general
    way, under the lock, and every response still once."""
    import shutil

    from survey import create_app
    from survey.cli import demo
    from survey.data.queries import ensure_questionnaire

    path = tmp_path / "survey.db"
    shutil.copy(sqlite_template, path)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SURVEY_REPLACE_MINUTES": 0})
    try:
        with app.app_context():
            ensure_questionnaire()
            demo.load_units_and_desks()
        for overall in ("5", "4", "3"):
            _post(app, q_overall=overall)
        with app.app_context():
            connection = db.session.connection()
            waiting, tree, guess = _batch_as_read(connection)
            db.session.rollback()
            # Read stale: the tree changed since.
            connection = db.session.connection()
            assert not rollup._claim_and_add_on_sqlite(connection, waiting, guess, tree + "x")
            db.session.rollback()
            # One of them counted meanwhile (an officer flagged it).
            first = db.session.get(SurveyResponse, waiting[0].id)
            first.flagged, first.flag_reason = True, "duplicate"
            db.session.commit()
            connection = db.session.connection()
            assert not rollup._claim_and_add_on_sqlite(connection, waiting, guess, tree)
            db.session.rollback()
            assert rollup.waiting_total() == 2
            # Read fresh: the five statements add the two still waiting.
            connection = db.session.connection()
            waiting, tree, guess = _batch_as_read(connection)
            assert rollup._claim_and_add_on_sqlite(connection, waiting, guess, tree)
            db.session.commit()
            assert rollup.waiting_total() == 0
        _all_units_match(app)
        assert _counted_rows(app) == 3
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [["rollup-count", "--every", "0.1"], ["worker", "--interval", "0.5"]],
    ids=["rollup-count", "alerts-worker"],
)
def test_a_counting_process_of_its_own_counts_until_stopped(app, demo_units, command):
    """``flask survey rollup-count --every S``, and the alerts worker's thread, count
    the waiting responses while the web workers do not (SURVEY_ROLLUP_BACKGROUND=0);
    SIGTERM stops them cleanly."""
    import sys
    from pathlib import Path

    _post(app)
    _post(app, "CH-01")
    env = {
        **os.environ,
        "FLASK_APP": "wsgi",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SURVEY_ROLLUP_COUNT_DELAY_SECONDS": "0.1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "survey", *command],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert _waited_until_counted(app, timeout=30), process.stderr
        _post(app)  # a later post, counted by the same process
        assert _waited_until_counted(app, timeout=30)
    finally:
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=30)
    assert process.returncode == 0, errors.decode()
    _all_units_match(app)
    assert _counted_rows(app) == 3


def test_a_batch_builds_its_statements_parameters_a_fixed_number_of_times(
    app, demo_units, monkeypatch
):
    """Counting 30 responses builds statement parameters as often as counting 3:
    built once per parameter (SQLite's upsert did, for a while), a batch of 500,
    whose upsert has thousands, took seconds of a worker's CPU, and every post
    waited behind it."""
    from sqlalchemy.sql.compiler import SQLCompiler

    built = []
    original = SQLCompiler.construct_params

    def counted(self, *args, **kwargs):
        built.append(self)
        return original(self, *args, **kwargs)

    def builds_to_count(posts: int) -> int:
        for n in range(posts):
            _post(app, q_overall=str(n % 5 + 1), q_access=str((n * 2) % 5 + 1))
        built.clear()
        with monkeypatch.context() as patch:
            patch.setattr(SQLCompiler, "construct_params", counted)
            with app.app_context():
                assert rollup.count_waiting() == posts
        return len(built)

    few, many = builds_to_count(3), builds_to_count(30)
    assert many <= few + 2, (few, many)
    _all_units_match(app)
