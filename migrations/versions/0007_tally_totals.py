"""Rollup total rows: every count also kept for all fields and both sources

Until now each count was split by procedure field and source (verified or
open QR), and a report summing a busy unit's year added up tens of thousands of
split rows. Each count is now also kept in a total row (procedure_field "*",
verified false; see survey/rollup.py), which reports read unless they show the
split. Measured in docs/PERFORMANCE.md (the district year view at 10 million
responses).

Upgrading adds the total rows from the split rows already stored; downgrading
removes them. Real field codes are lower-case words, so "*" is no field's code.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 01:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    # In key order, so that SQLite's key-ordered table is written sequentially.
    op.execute(
        "INSERT INTO tally (unit_id, month, question_id, procedure_field, verified, value, count) "
        "SELECT unit_id, month, question_id, '*', FALSE, value, SUM(count) FROM tally "
        "WHERE procedure_field <> '*' "
        "GROUP BY unit_id, month, question_id, value HAVING SUM(count) > 0 "
        "ORDER BY unit_id, month, question_id, value"
    )


def downgrade():
    op.execute("DELETE FROM tally WHERE procedure_field = '*'")
