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


def _partial(index: dict) -> bool:
    options = index.get("dialect_options", {})
    return any(options.get(f"{dialect}_where") is not None for dialect in ("sqlite", "postgresql"))


def test_no_index_is_the_start_of_another(app):
    # An index on the first columns of another index, key or unique constraint
    # serves no lookup the longer one does not, and every insert writes it too
    # (a page of SQLite's log at each commit). Partial indexes hold other rows.
    with app.app_context():
        inspector = sa.inspect(db.engine)
        redundant = []
        for table in inspector.get_table_names():
            indexes = inspector.get_indexes(table)
            keys = [(ix["name"], tuple(ix["column_names"])) for ix in indexes if not _partial(ix)]
            keys += [
                (uc["name"], tuple(uc["column_names"]))
                for uc in inspector.get_unique_constraints(table)
            ]
            primary = inspector.get_pk_constraint(table)["constrained_columns"]
            keys.append(("primary key", tuple(primary)))
            for ix in indexes:
                columns = tuple(ix["column_names"])
                if ix["unique"] or _partial(ix):
                    continue
                for name, longer in keys:
                    if name != ix["name"] and longer[: len(columns)] == columns:
                        redundant.append(f"{table}.{ix['name']} starts {name}")
        assert redundant == []
