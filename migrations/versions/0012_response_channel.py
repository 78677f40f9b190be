"""The channel of every response (QR, receipt, kiosk, paper, interview, invitation),
the officer who served the citizen, and the rollup keyed by channel

Until now a response only knew whether a receipt token verified it, and the
rollup split its counts by that flag. A response now keeps the channel it came
by and the officer who served (or interviewed) the citizen; the rollup's split
rows are keyed by channel in place of the flag.

Existing data is carried over exactly: a response with a receipt token came by
the receipt link, any other by the open QR code; a split rollup row of verified
responses becomes a "receipt" row, of open ones a "qr" row, and a total row
(procedure_field "*") gets the channel "*". `flask survey rollup-check` proves it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 16:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

_CHANNELS = ("qr", "receipt", "kiosk", "paper", "interview", "invitation")
_KEY = "unit_id, month, question_id, procedure_field, {source}, value"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade():
    listed = ", ".join(f"'{c}'" for c in _CHANNELS)
    # ADD COLUMN on both databases: SQLite keeps the response table in place (a
    # batch copy would drop it, and the drop would cascade to the answers).
    op.execute(
        "ALTER TABLE response ADD COLUMN channel VARCHAR(12) DEFAULT 'qr' NOT NULL "
        f"CONSTRAINT ck_response_channel CHECK (channel IN ({listed}))"
    )
    op.execute("UPDATE response SET channel = 'receipt' WHERE receipt_token_id IS NOT NULL")
    op.execute(
        "ALTER TABLE response ADD COLUMN served_by_id INTEGER "
        "CONSTRAINT fk_response_served_by_id_officer REFERENCES officer (id)"
    )
    op.create_index("ix_response_served_by_id", "response", ["served_by_id"])
    _tally_by_channel()


def _tally_by_channel() -> None:
    channel = (
        "CASE WHEN procedure_field = '*' THEN '*' "
        "WHEN verified THEN 'receipt' ELSE 'qr' END"
    )
    if _sqlite():
        _rebuild_sqlite_tally("channel VARCHAR(12)", "channel", channel)
        return
    op.add_column("tally", sa.Column("channel", sa.String(12), nullable=True))
    op.execute(f"UPDATE tally SET channel = {channel}")
    op.alter_column("tally", "channel", nullable=False)
    op.drop_constraint("pk_tally", "tally", type_="primary")
    op.create_primary_key("pk_tally", "tally", _KEY.format(source="channel").split(", "))
    op.drop_column("tally", "verified")


def _rebuild_sqlite_tally(column: str, name: str, value_sql: str) -> None:
    """Copy the rollup into a key-ordered table (WITHOUT ROWID, see 0006) whose
    source column is ``column``, filled with ``value_sql``."""
    key = _KEY.format(source=name)
    op.execute(
        "CREATE TABLE tally_new ("
        "unit_id INTEGER NOT NULL, "
        "month VARCHAR(7) NOT NULL, "
        "question_id VARCHAR(40) NOT NULL, "
        "procedure_field VARCHAR(40) NOT NULL, "
        f"{column} NOT NULL, "
        "value VARCHAR(20) NOT NULL, "
        "count INTEGER NOT NULL, "
        f"CONSTRAINT pk_tally PRIMARY KEY ({key}), "
        "CONSTRAINT ck_tally_count CHECK (count >= 0), "
        "CONSTRAINT fk_tally_unit_id_unit FOREIGN KEY(unit_id) REFERENCES unit (id)"
        ") WITHOUT ROWID"
    )
    # Grouped: going back, the kiosk, paper, … rows of a key fold into one open row.
    op.execute(
        f"INSERT INTO tally_new ({key}, count) "
        f"SELECT unit_id, month, question_id, procedure_field, {value_sql}, value, SUM(count) "
        "FROM tally GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6"
    )
    op.execute("DROP TABLE tally")
    op.execute("ALTER TABLE tally_new RENAME TO tally")


def downgrade():
    # Back to the verified flag: the receipt rows are the verified ones; every
    # other channel counted as open, and the total rows as before (false).
    verified = "CASE WHEN channel = 'receipt' THEN TRUE ELSE FALSE END"
    if _sqlite():
        _rebuild_sqlite_tally("verified BOOLEAN", "verified", verified)
    else:
        op.add_column("tally", sa.Column("verified", sa.Boolean(), nullable=True))
        op.execute(
            "INSERT INTO tally (unit_id, month, question_id, procedure_field, channel, value, "
            "count, verified) "
            "SELECT unit_id, month, question_id, procedure_field, '~open', value, SUM(count), "
            "FALSE FROM tally WHERE channel NOT IN ('receipt', '*') "
            "GROUP BY unit_id, month, question_id, procedure_field, value"
        )
        op.execute("DELETE FROM tally WHERE channel NOT IN ('receipt', '*', '~open')")
        op.execute(f"UPDATE tally SET verified = {verified}")
        op.alter_column("tally", "verified", nullable=False)
        op.drop_constraint("pk_tally", "tally", type_="primary")
        op.create_primary_key("pk_tally", "tally", _KEY.format(source="verified").split(", "))
        op.drop_column("tally", "channel")
    op.drop_index("ix_response_served_by_id", "response")
    if _sqlite():
        # SQLite drops a column with a foreign key only by copying the table; the
        # copy drops the old table, which would cascade to the answers: keep them
        # aside and let the other references be checked at commit, once the copy
        # holds the same ids again.
        op.execute("PRAGMA defer_foreign_keys = ON")
        op.execute("CREATE TEMP TABLE answer_kept AS SELECT * FROM answer")
        with op.batch_alter_table("response") as batch:
            batch.drop_constraint(op.f("ck_response_channel"), type_="check")
            batch.drop_column("served_by_id")
            batch.drop_column("channel")
        op.execute(
            "INSERT INTO answer SELECT * FROM answer_kept "
            "WHERE id NOT IN (SELECT id FROM answer)"
        )
        op.execute("DROP TABLE answer_kept")
    else:
        op.drop_column("response", "served_by_id")
        op.drop_column("response", "channel")
