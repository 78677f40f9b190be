"""Kiosks at the desks: paired tablets, officers' shifts and their PINs (issue 21)

A kiosk row holds the keyed hashes of its one-time pairing code and of the
tablet's long-lived credential, never either in clear; a shift says which
officer served at a desk when; an officer's PIN is stored hashed, with the
count of wrong tries that locks it. New tables only: nothing existing changes.

Revision ID: 0013
Revises: 0018
Create Date: 2026-11-30 16:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('kiosk',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('desk_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('code_expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('credential_hash', sa.String(length=64), nullable=True),
    sa.Column('paired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_made_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['officer.id'], name=op.f('fk_kiosk_created_by_id_officer')),
    sa.ForeignKeyConstraint(['desk_id'], ['desk.id'], name=op.f('fk_kiosk_desk_id_desk')),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['officer.id'], name=op.f('fk_kiosk_revoked_by_id_officer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kiosk')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_kiosk_code_hash')),
    sa.UniqueConstraint('credential_hash', name=op.f('uq_kiosk_credential_hash'))
    )
    with op.batch_alter_table('kiosk', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kiosk_desk_id'), ['desk_id'], unique=False)

    op.create_table('kiosk_shift',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('desk_id', sa.Integer(), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('started_via', sa.String(length=8), nullable=False),
    sa.CheckConstraint("started_via IN ('pin', 'phone')", name=op.f('ck_kiosk_shift_started_via')),
    sa.ForeignKeyConstraint(['desk_id'], ['desk.id'], name=op.f('fk_kiosk_shift_desk_id_desk')),
    sa.ForeignKeyConstraint(['officer_id'], ['officer.id'], name=op.f('fk_kiosk_shift_officer_id_officer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kiosk_shift'))
    )
    with op.batch_alter_table('kiosk_shift', schema=None) as batch_op:
        batch_op.create_index('ix_kiosk_shift_desk_id_started_at', ['desk_id', 'started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_kiosk_shift_officer_id'), ['officer_id'], unique=False)

    op.create_table('officer_pin',
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('pin_hash', sa.String(length=256), nullable=False),
    sa.Column('failures', sa.Integer(), server_default='0', nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['officer_id'], ['officer.id'], name=op.f('fk_officer_pin_officer_id_officer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('officer_id', name=op.f('pk_officer_pin'))
    )


def downgrade():
    op.drop_table('officer_pin')
    with op.batch_alter_table('kiosk_shift', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kiosk_shift_officer_id'))
        batch_op.drop_index('ix_kiosk_shift_desk_id_started_at')
    op.drop_table('kiosk_shift')
    with op.batch_alter_table('kiosk', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kiosk_desk_id'))
    op.drop_table('kiosk')
