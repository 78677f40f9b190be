"""Invitations to rate dossiers filed online (SMS, e-mail, Zalo) and their outbox
messages

An ``invitation`` row per contact and dossier (the receipt token), with the
contact's keyed hash kept for de-duplication and the clear contact deleted after
the last send or on expiry; outbox messages gain the ``sms`` and ``zalo``
channels and a link to the invitation they carry. See survey/invitations.

Revision ID: 0016
Revises: 0013
Create Date: 2026-11-30 16:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('via', sa.String(length=8), nullable=False),
    sa.Column('contact_hash', sa.String(length=64), nullable=False),
    sa.Column('contact', sa.String(length=254), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reminder_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('contact_deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("via IN ('sms', 'email', 'zalo')", name=op.f('ck_invitation_via')),
    sa.ForeignKeyConstraint(['token_id'], ['receipt_token.id'], name=op.f('fk_invitation_token_id_receipt_token')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_invitation_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation')),
    sa.UniqueConstraint('token_id', 'contact_hash', name='uq_invitation_token_contact')
    )
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitation_token_id'), ['token_id'], unique=False)
        batch_op.create_index('ix_invitation_unit_created', ['unit_id', 'created_at'], unique=False)
        batch_op.create_index('ix_invitation_held_expiry', ['contact_deleted_at', 'expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitation_reminder_due_at'), ['reminder_due_at'], unique=False)

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invitation_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_invitation_id'), ['invitation_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_outbox_invitation_id_invitation'), 'invitation', ['invitation_id'], ['id']
        )
        batch_op.drop_constraint(op.f('ck_outbox_channel'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_outbox_channel'), "channel IN ('email', 'webhook', 'sms', 'zalo')"
        )


def downgrade():
    # Messages of the channels that did not exist before cannot stay.
    op.execute("DELETE FROM outbox WHERE channel IN ('sms', 'zalo') OR invitation_id IS NOT NULL")
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_outbox_channel'), type_='check')
        batch_op.create_check_constraint(op.f('ck_outbox_channel'), "channel IN ('email', 'webhook')")
        batch_op.drop_constraint(batch_op.f('fk_outbox_invitation_id_invitation'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_invitation_id'))
        batch_op.drop_column('invitation_id')

    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitation_reminder_due_at'))
        batch_op.drop_index('ix_invitation_held_expiry')
        batch_op.drop_index('ix_invitation_unit_created')
        batch_op.drop_index(batch_op.f('ix_invitation_token_id'))

    op.drop_table('invitation')
