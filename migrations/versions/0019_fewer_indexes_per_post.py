"""Fewer indexes written by every form post: none on a column of a few values, none
a longer index already starts with; the officer's index only where one is named

Every index holding a row for a new rating is written at the post's commit: on
SQLite one more page in the log each time. Dropped: ``ix_response_desk_id``
(``ix_response_desk_id_submitted_at`` starts with the desk), ``ix_response_flagged``
and ``ix_response_procedure_field`` (a few values each: no query reads through
them) and ``ix_rate_event_at`` (only the daily purge looks events up by time
alone). ``ix_response_served_by_id`` now holds only the ratings that name an
officer, not every open-QR rating.

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-01 03:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0019"
down_revision = "0017"
branch_labels = None
depends_on = None

_NAMED = sa.text("served_by_id IS NOT NULL")


def upgrade():
    op.drop_index("ix_response_desk_id", table_name="response")
    op.drop_index("ix_response_flagged", table_name="response")
    op.drop_index("ix_response_procedure_field", table_name="response")
    op.drop_index("ix_rate_event_at", table_name="rate_event")
    op.drop_index("ix_response_served_by_id", table_name="response")
    op.create_index(
        "ix_response_served_by_id",
        "response",
        ["served_by_id"],
        sqlite_where=_NAMED,
        postgresql_where=_NAMED,
    )


def downgrade():
    op.drop_index("ix_response_served_by_id", table_name="response")
    op.create_index("ix_response_served_by_id", "response", ["served_by_id"])
    op.create_index("ix_rate_event_at", "rate_event", ["at"])
    op.create_index("ix_response_procedure_field", "response", ["procedure_field"])
    op.create_index("ix_response_flagged", "response", ["flagged"])
    op.create_index("ix_response_desk_id", "response", ["desk_id"])
