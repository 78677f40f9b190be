"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from survey.extensions import db


def test_migrated_database_matches_the_models(app):
    # The ``app`` database was built by ``flask db upgrade`` from empty.
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
        assert diff == []
        assert context.get_current_revision() is not None


def test_downgrade_to_base_and_up_again(app):
    from flask_migrate import downgrade
    from flask_migrate import upgrade

    with app.app_context():
        downgrade(revision="base")
        tables = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        upgrade()
        assert {"unit", "desk", "questionnaire", "response", "answer"} <= set(
            sa.inspect(db.engine).get_table_names()
        )
