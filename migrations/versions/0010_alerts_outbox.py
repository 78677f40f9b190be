"""Alerts, outbox, officers' contact and preferences

Alerts (harassment reports, negative runs at a desk, consented comments) and
the outbox of messages that carry them (e-mail, signed webhook), each message
with its idempotency key; per-unit alert rules; an e-mail address, what to
receive and quiet hours per officer; the worker's scan marks; cases (harassment reports and low ratings with
a comment) with a deadline in working days and their escalation. See
survey/notify and docs/RELIABILITY.md.

Revision ID: 0010
Revises: 0007
Create Date: 2026-11-30 13:37:19.925912

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('scan_mark',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('last_response_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scan_mark'))
    )
    with op.batch_alter_table('scan_mark', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scan_mark_at'), ['at'], unique=False)

    op.create_table('alert_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('harassment', sa.Boolean(), nullable=False),
    sa.Column('run_min_responses', sa.Integer(), nullable=False),
    sa.Column('run_negative_percent', sa.Integer(), nullable=False),
    sa.Column('run_window_minutes', sa.Integer(), nullable=False),
    sa.Column('comments', sa.Boolean(), nullable=False),
    sa.Column('comment_hour', sa.Integer(), nullable=False),
    sa.Column('group_minutes', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('comment_hour BETWEEN 0 AND 23', name=op.f('ck_alert_rule_comment_hour')),
    sa.CheckConstraint('group_minutes BETWEEN 0 AND 1440', name=op.f('ck_alert_rule_group_minutes')),
    sa.CheckConstraint('run_min_responses BETWEEN 1 AND 1000', name=op.f('ck_alert_rule_run_min_responses')),
    sa.CheckConstraint('run_negative_percent BETWEEN 1 AND 100', name=op.f('ck_alert_rule_run_negative_percent')),
    sa.CheckConstraint('run_window_minutes BETWEEN 1 AND 1440', name=op.f('ck_alert_rule_run_window_minutes')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_alert_rule_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_rule')),
    sa.UniqueConstraint('unit_id', name=op.f('uq_alert_rule_unit_id'))
    )
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('recipient', sa.String(length=500), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sa.String(length=80), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.CheckConstraint("channel IN ('email', 'webhook')", name=op.f('ck_outbox_channel')),
    sa.CheckConstraint("status IN ('pending', 'sent', 'dead')", name=op.f('ck_outbox_status')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_outbox_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('key', name=op.f('uq_outbox_key'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_due', ['status', 'next_attempt_at'], unique=False)

    op.create_table('alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('desk_id', sa.Integer(), nullable=True),
    sa.Column('response_id', sa.Integer(), nullable=True),
    sa.Column('dedupe_key', sa.String(length=80), nullable=True),
    sa.Column('detail', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('dispatched_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('harassment', 'negative_run', 'comment')", name=op.f('ck_alert_kind')),
    sa.ForeignKeyConstraint(['desk_id'], ['desk.id'], name=op.f('fk_alert_desk_id_desk')),
    sa.ForeignKeyConstraint(['response_id'], ['response.id'], name=op.f('fk_alert_response_id_response')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_alert_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_alert_dedupe_key'))
    )
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.create_index('ix_alert_pending', ['dispatched_at', 'due_at'], unique=False)
        batch_op.create_index('ix_alert_unit_kind', ['unit_id', 'kind', 'dispatched_at'], unique=False)

    op.create_table('feedback_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('desk_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=12), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deadline_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('district_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('appeal_status', sa.String(length=10), nullable=True),
    sa.Column('appeal_reason', sa.Text(), nullable=True),
    sa.Column('appealed_by_id', sa.Integer(), nullable=True),
    sa.Column('appealed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("appeal_status IS NULL OR appeal_status IN ('pending', 'upheld', 'rejected')", name=op.f('ck_feedback_case_appeal_status')),
    sa.ForeignKeyConstraint(['appealed_by_id'], ['officer.id'], name=op.f('fk_feedback_case_appealed_by_id_officer')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['officer.id'], name=op.f('fk_feedback_case_decided_by_id_officer')),
    sa.CheckConstraint("escalation_level BETWEEN 0 AND 2", name=op.f('ck_feedback_case_escalation_level')),
    sa.CheckConstraint("reason IN ('harassment', 'low_rating')", name=op.f('ck_feedback_case_reason')),
    sa.ForeignKeyConstraint(['desk_id'], ['desk.id'], name=op.f('fk_feedback_case_desk_id_desk')),
    sa.ForeignKeyConstraint(['response_id'], ['response.id'], name=op.f('fk_feedback_case_response_id_response')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_feedback_case_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_case')),
    sa.UniqueConstraint('response_id', name=op.f('uq_feedback_case_response_id'))
    )
    with op.batch_alter_table('feedback_case', schema=None) as batch_op:
        batch_op.create_index('ix_feedback_case_open', ['escalation_level', 'deadline_at'], unique=False)

    with op.batch_alter_table('officer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('wants_alerts', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('wants_comments', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('wants_reports', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('quiet_start', sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column('quiet_end', sa.String(length=5), nullable=True))



def downgrade():
    with op.batch_alter_table('officer', schema=None) as batch_op:
        batch_op.drop_column('quiet_end')
        batch_op.drop_column('quiet_start')
        batch_op.drop_column('wants_reports')
        batch_op.drop_column('wants_comments')
        batch_op.drop_column('wants_alerts')
        batch_op.drop_column('email')

    with op.batch_alter_table('feedback_case', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_case_open')

    op.drop_table('feedback_case')
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_unit_kind')
        batch_op.drop_index('ix_alert_pending')

    op.drop_table('alert')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_due')

    op.drop_table('outbox')
    op.drop_table('alert_rule')
    with op.batch_alter_table('scan_mark', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scan_mark_at'))

    op.drop_table('scan_mark')
