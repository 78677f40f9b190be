"""Responses stored uncounted by the form post, counted into the rollup in batches

Revision ID: 0017
Revises: 0014
Create Date: 2026-11-30 19:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    # Every response stored so far is in the rollup: the column starts true.
    op.add_column(
        "response", sa.Column("counted", sa.Boolean(), server_default=sa.true(), nullable=False)
    )
    op.create_index(
        "ix_response_uncounted",
        "response",
        ["id"],
        unique=False,
        sqlite_where=sa.text("counted = 0"),
        postgresql_where=sa.text("NOT counted"),
    )


def downgrade():
    # Without the column every response must be in the rollup: count the waiting
    # ones first (the application's own counting, with the rules of this revision).
    from survey.data import rollup

    rollup.count_waiting_on(op.get_bind())
    op.drop_index("ix_response_uncounted", table_name="response")
    # SQLite drops the column in place (3.35+): no copy of the table, whose drop
    # would cascade to the answers.
    op.execute("ALTER TABLE response DROP COLUMN counted")
