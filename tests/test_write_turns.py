"""Form posts take turns for SQLite's write lock on a lock file beside the
database (survey/data/write_turns.py): a post waits for the turn, then stores."""

from __future__ import annotations

import fcntl
import os
import threading

import sqlalchemy as sa

from survey.data.models import SurveyResponse
from survey.extensions import db
from tests.conftest import VALID_ANSWERS
from tests.conftest import hidden_fields


def _stored(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(SurveyResponse.id)))


def test_a_post_waits_for_its_turn_then_stores(app, client, demo_units):
    app.config["SURVEY_MIN_FILL_SECONDS"] = 0
    with app.app_context():
        url = db.engine.url
    page = client.get("/s/LC-01")
    data = {**hidden_fields(page.get_data(as_text=True)), **VALID_ANSWERS}
    if url.get_backend_name() != "sqlite":
        # PostgreSQL locks rows: no turns, no lock file.
        assert client.post("/s/LC-01", data=data).status_code == 303
        assert _stored(app) == 1
        return

    # Another worker holds the turn (its own open of the lock file).
    other = os.open(os.path.abspath(url.database) + "-writers", os.O_RDWR | os.O_CREAT)
    fcntl.flock(other, fcntl.LOCK_EX)
    replies = []
    post = threading.Thread(target=lambda: replies.append(client.post("/s/LC-01", data=data)))
    try:
        post.start()
        post.join(timeout=1.0)
        assert post.is_alive() and _stored(app) == 0  # waiting for the turn
    finally:
        fcntl.flock(other, fcntl.LOCK_UN)
        os.close(other)
    post.join(timeout=30)
    assert replies and replies[0].status_code == 303
    assert _stored(app) == 1
