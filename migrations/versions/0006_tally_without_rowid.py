"""Rollup rows stored in key order on SQLite (WITHOUT ROWID)

A report reads the rows of a few units and months: on a rowid table each
matching entry of the primary-key index costs a second lookup, scattered over
the file in insertion order. A WITHOUT ROWID table is the primary-key B-tree
itself, so the rows of one unit and month sit together with their counts
(measured in docs/PERFORMANCE.md: the district year view at 10 million
responses). Writes get cheaper too: one tree to update instead of two.

PostgreSQL keeps its heap table and primary-key index: nothing to do there.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 20:50:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_COLUMNS = "unit_id, month, question_id, procedure_field, verified, value, count"


def _rebuild(without_rowid: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    suffix = " WITHOUT ROWID" if without_rowid else ""
    op.execute(
        "CREATE TABLE tally_new ("
        "unit_id INTEGER NOT NULL, "
        "month VARCHAR(7) NOT NULL, "
        "question_id VARCHAR(40) NOT NULL, "
        "procedure_field VARCHAR(40) NOT NULL, "
        "verified BOOLEAN NOT NULL, "
        "value VARCHAR(20) NOT NULL, "
        "count INTEGER NOT NULL, "
        "CONSTRAINT pk_tally PRIMARY KEY "
        "(unit_id, month, question_id, procedure_field, verified, value), "
        "CONSTRAINT ck_tally_count CHECK (count >= 0), "
        "CONSTRAINT fk_tally_unit_id_unit FOREIGN KEY(unit_id) REFERENCES unit (id)"
        f"){suffix}"
    )
    # Copied in key order, so the new tree is written sequentially.
    op.execute(
        f"INSERT INTO tally_new ({_COLUMNS}) SELECT {_COLUMNS} FROM tally "
        "ORDER BY unit_id, month, question_id, procedure_field, verified, value"
    )
    op.execute("DROP TABLE tally")
    op.execute("ALTER TABLE tally_new RENAME TO tally")


def upgrade():
    _rebuild(without_rowid=True)


def downgrade():
    _rebuild(without_rowid=False)
