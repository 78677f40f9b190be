"""The officer who handled a dossier, kept with its receipt token; the commune's leader

``receipt_token.served_by_id``: the officer the one-stop software names when it
asks for the token (``POST /api/v1/tokens``, field ``officer``); the rating made
with the token is stored with that officer as ``response.served_by_id``.
``officer.is_leader``: the commune officer who may see every officer's figures
of the commune (``/units/<unit>/officers``).

Revision ID: 0018
Revises: 0015 (first written on 0012; re-chained after the interviewers merge)
Create Date: 2026-11-30 16:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0015"
branch_labels = None
depends_on = None

FK_NAME = "fk_receipt_token_served_by_id_officer"


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        # Plain ALTER TABLE, not a batch: a batch copies the table and drops the old
        # one, which the responses' foreign key to their token (enforced) forbids.
        # SQLite keeps the REFERENCES clause of an added column as a table constraint.
        op.execute(
            f"ALTER TABLE receipt_token ADD COLUMN served_by_id INTEGER "
            f"CONSTRAINT {FK_NAME} REFERENCES officer (id)"
        )
    else:
        op.add_column("receipt_token", sa.Column("served_by_id", sa.Integer(), nullable=True))
        op.create_foreign_key(FK_NAME, "receipt_token", "officer", ["served_by_id"], ["id"])
    op.add_column(
        "officer",
        sa.Column("is_leader", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        # SQLite 3.35+ drops a plain column in place; a batch copy of the officer
        # table would cascade to the officers' sessions.
        op.execute("ALTER TABLE officer DROP COLUMN is_leader")
        # A column in a foreign key cannot be dropped in place: the table is copied
        # without it (and so without its constraint, which SQLite reflects unnamed).
        # Responses and invitations point at tokens, so foreign keys are switched
        # off around the copy (it keeps every id) and checked afterwards, as in 0015.
        bind = op.get_bind()
        dbapi = bind.connection.dbapi_connection
        if dbapi.in_transaction:
            dbapi.commit()
        bind.exec_driver_sql("PRAGMA foreign_keys = OFF")
        with op.batch_alter_table("receipt_token", schema=None) as batch_op:
            batch_op.drop_column("served_by_id")
        problems = bind.exec_driver_sql("PRAGMA foreign_key_check").all()
        bind.exec_driver_sql("PRAGMA foreign_keys = ON")
        if problems:
            raise RuntimeError(f"foreign keys broken by the copy of receipt_token: {problems}")
    else:
        op.drop_column("officer", "is_leader")
        op.drop_constraint(FK_NAME, "receipt_token", type_="foreignkey")
        op.drop_column("receipt_token", "served_by_id")
