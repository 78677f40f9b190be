"""The *stack floor* of ``bench/submissions.py``: the least a post costs in our stack.

Between the raw floor (``bench/floor_app.py``: Flask and one ``sqlite3``
INSERT) and the real app lies everything a trustworthy stored rating needs.
This app does only the part the stack itself imposes, with the libraries the
project is built on and nothing of the app's own logic:

- Flask parses the post and opens the signed session cookie;
- a Flask-WTF form with the questionnaire's fields (built here with plain
  WTForms fields from the bundled definition) checks the CSRF token against
  that session and validates every answer;
- SQLAlchemy Core stores the response row and its answer rows in one
  transaction (one durable commit) in tables of its own, in the *same*
  database as the app (the SQLite file with the app's durability settings, or
  the PostgreSQL database);
- ``303`` to a thank-you URL.

No desk lookup, rate limits, start stamp, receipt token, rollup, translations
or security headers. The bench posts it the same bytes as the app (the same
session cookie and CSRF token: both use the servers' ``SURVEY_SECRET_KEY``),
so whatever the app spends beyond this is the app's own work, and this
target's share of the raw floor bounds what any app in this stack can reach.

Served by gunicorn exactly like the app, ``FLOOR_DATABASE`` being a SQLite file
or a ``postgresql://`` URL:
``FLOOR_DATABASE=/path/survey.db SURVEY_SECRET_KEY=... gunicorn bench.stack_floor_app:app``.
"""

from __future__ import annotations

import os
from datetime import UTC
from datetime import datetime

import sqlalchemy as sa
from flask import Flask
from flask import redirect
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms import RadioField
from wtforms import TextAreaField
from wtforms.validators import AnyOf
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import Optional
from wtforms.validators import Regexp

from bench.floor_app import sqlalchemy_url
from survey.domain.questionnaire import latest_bundled
from survey.domain.questionnaire import parse

RESPONSES = "bench_stack_response"
ANSWERS = "bench_stack_answer"
UUID_RE = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"

metadata = sa.MetaData()
responses = sa.Table(
    RESPONSES,
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("submission_id", sa.String(36), nullable=False, unique=True),
    sa.Column("desk_code", sa.String(32), nullable=False),
    sa.Column("submitted_at", sa.DateTime, nullable=False),
    sa.Column("comment", sa.Text),
)
answers = sa.Table(
    ANSWERS,
    metadata,
    sa.Column("response_id", sa.ForeignKey(f"{RESPONSES}.id"), primary_key=True),
    sa.Column("question_id", sa.String(40), primary_key=True),
    sa.Column("value", sa.String(20), nullable=False),
)


def engine_for(target: str) -> sa.Engine:
    """An engine on ``target``, a SQLite file or a PostgreSQL URL. On SQLite it gets the
    app's pragmas (WAL, synchronous=FULL, busy timeout): importing the ``survey``
    package installs its listener on every engine."""
    return sa.create_engine(sqlalchemy_url(target))


def create_tables(target: str) -> None:
    """Create the stack floor's tables (the bench calls this before starting the servers)."""
    engine = engine_for(target)
    metadata.create_all(engine)
    engine.dispose()


def form_class() -> type[FlaskForm]:
    """A form with the bundled questionnaire's fields: a radio group with its allowed
    values per coded question, a bounded text area for the comment."""
    questionnaire = parse(latest_bundled())
    fields = {
        "submission_id": HiddenField(validators=[InputRequired(), Regexp(UUID_RE)]),
        "questionnaire_version": HiddenField(validators=[InputRequired()]),
    }
    for question in questionnaire.questions:
        if question.type == "text":
            fields[f"q_{question.id}"] = TextAreaField(
                validators=[Optional(), Length(max=question.max_length or 2000)]
            )
        else:
            values = list(question.values())
            fields[f"q_{question.id}"] = RadioField(
                choices=values,
                validators=[InputRequired() if question.required else Optional(), AnyOf(values)],
                validate_choice=False,
            )
    return type("StackFloorForm", (FlaskForm,), fields)


def create_app(target: str | None = None, secret: str | None = None) -> Flask:
    """The stack floor, writing to ``target`` (default: ``FLOOR_DATABASE``) and reading
    sessions signed with ``secret`` (default: ``SURVEY_SECRET_KEY``, as the app)."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret or os.environ["SURVEY_SECRET_KEY"],
        WTF_CSRF_TIME_LIMIT=6 * 3600,
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    engine = engine_for(target or os.environ["FLOOR_DATABASE"])
    form_cls = form_class()
    coded = [name for name in form_cls.__dict__ if name.startswith("q_") and name != "q_comment"]

    @app.post("/s/<desk_code>")
    def respond(desk_code: str):
        """Validate the form (CSRF included) and store it in one transaction."""
        form = form_cls()
        if not form.validate():
            return {"errors": form.errors}, 422
        try:
            with engine.begin() as conn:
                response_id = conn.execute(
                    responses.insert().returning(responses.c.id),
                    {
                        "submission_id": form.submission_id.data,
                        "desk_code": desk_code,
                        "submitted_at": datetime.now(UTC),
                        "comment": form.data.get("q_comment") or None,
                    },
                ).scalar_one()
                conn.execute(
                    answers.insert(),
                    [
                        {"response_id": response_id, "question_id": name[2:], "value": value}
                        for name in coded
                        if (value := form[name].data)
                    ],
                )
        except sa.exc.IntegrityError:
            pass  # the same submission again: stored once, thanked again
        return redirect(f"/s/{desk_code}/thanks", 303)

    @app.get("/healthz")
    def healthz():
        """Readiness probe for the bench."""
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return {"status": "ok"}

    return app


app = create_app() if "FLOOR_DATABASE" in os.environ else None
