"""Server-side officer sessions; sign-in failures counted per client

A session copied before sign-out or before a password reset used to keep
working: the signed cookie was the whole session. Each sign-in now stores the
SHA-256 of a random session id (officer_session); sign-out deletes it, and a
password, role, unit or status change deletes every session of the officer.

Failed sign-ins gain the client that made them (a keyed hash of the address,
or of a device that signed in before), so a stranger cannot lock an officer out.
Rows from before have an empty client and expire with the window.

Responses gain an index on (desk_id, submitted_at): every open-QR rating counts
its desk's ratings of the last hour and day against the desk's ceiling. They
also gain device_hash (keyed hash of the phone's cookie, purged with the rate
limits): a second rating of a desk from the same phone within a window
replaces the first (which is kept, flagged "replaced").

Revision ID: 0009
Revises: 0007
Create Date: 2026-11-30 14:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "officer_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["officer_id"],
            ["officer.id"],
            name=op.f("fk_officer_session_officer_id_officer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_officer_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_officer_session_token_hash")),
    )
    with op.batch_alter_table("officer_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_officer_session_officer_id"), ["officer_id"], unique=False
        )
    with op.batch_alter_table("login_failure", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("client", sa.String(length=72), nullable=False, server_default="")
        )
        batch_op.create_index(batch_op.f("ix_login_failure_at"), ["at"], unique=False)
    # Plain ALTER TABLE, not a batch: on SQLite a batch would copy the response
    # table, and dropping the old copy cascades to every answer (foreign keys on).
    op.add_column("response", sa.Column("device_hash", sa.String(length=64), nullable=True))
    op.create_index(
        "ix_response_desk_id_submitted_at", "response", ["desk_id", "submitted_at"], unique=False
    )
    op.create_index("ix_response_device_hash", "response", ["device_hash"], unique=False)


def downgrade():
    op.drop_index("ix_response_device_hash", table_name="response")
    op.drop_index("ix_response_desk_id_submitted_at", table_name="response")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite 3.35+ drops a column in place; a batch copy would cascade to the answers.
        op.execute("ALTER TABLE response DROP COLUMN device_hash")
    else:
        op.drop_column("response", "device_hash")
    with op.batch_alter_table("login_failure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_failure_at"))
        batch_op.drop_column("client")
    with op.batch_alter_table("officer_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_officer_session_officer_id"))
    op.drop_table("officer_session")
