"""No index that a unique constraint already starts with: the targets', dossier
volumes' and invitations' own indexes on their unit or token

Each was the first column of the table's unique constraint, whose index serves
every lookup by that column alone (and the foreign key's checks): a second index
only cost its writes. tests/test_migrations.py now fails on any such index.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 04:45:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_DROPPED = [
    ("ix_target_unit_id", "target", "unit_id"),
    ("ix_dossier_volume_unit_id", "dossier_volume", "unit_id"),
    ("ix_invitation_token_id", "invitation", "token_id"),
]


def upgrade():
    for name, table, _column in _DROPPED:
        op.drop_index(name, table_name=table)


def downgrade():
    for name, table, column in _DROPPED:
        op.create_index(name, table, [column])
