"""Interviewers: the role, their assignments to communes and dates, and each
interview's start time and duration

Revision ID: 0015
Revises: 0012
Create Date: 2026-11-30 16:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0012'
branch_labels = None
depends_on = None

ROLES_BEFORE = "role IN ('commune', 'district', 'admin')"
ROLES_AFTER = "role IN ('commune', 'district', 'admin', 'interviewer')"


def _set_role_check(check):
    """Replace the officer.role CHECK constraint.

    SQLite rebuilds the table for it (batch mode): the old table is dropped,
    which with foreign keys enforced fails on the rows that point at officers
    (the audit log) or deletes their sessions (ON DELETE CASCADE). The rebuild
    keeps every id, so foreign keys are switched off around it (SQLite's own
    advice for table rebuilds) and checked afterwards.
    """
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        # The pragma is ignored inside a transaction; SQLite's DDL runs outside
        # one here anyway (Alembic: non-transactional DDL), so end what is open.
        dbapi = bind.connection.dbapi_connection
        if dbapi.in_transaction:
            dbapi.commit()
        bind.exec_driver_sql("PRAGMA foreign_keys = OFF")
        if bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
            raise RuntimeError("foreign keys could not be switched off to rebuild officer")
    with op.batch_alter_table('officer', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_officer_role'), type_='check')
        batch_op.create_check_constraint(op.f('ck_officer_role'), check)
    if sqlite:
        problems = bind.exec_driver_sql("PRAGMA foreign_key_check").all()
        bind.exec_driver_sql("PRAGMA foreign_keys = ON")
        if problems:
            raise RuntimeError(f"foreign keys broken by the rebuild of officer: {problems}")


def upgrade():
    _set_role_check(ROLES_AFTER)

    op.create_table('interview_assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('interviewer_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_interview_assignment_dates')),
    sa.ForeignKeyConstraint(['created_by_id'], ['officer.id'], name=op.f('fk_interview_assignment_created_by_id_officer'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['interviewer_id'], ['officer.id'], name=op.f('fk_interview_assignment_interviewer_id_officer'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_interview_assignment_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interview_assignment'))
    )
    with op.batch_alter_table('interview_assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interview_assignment_interviewer_id'), ['interviewer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interview_assignment_unit_id'), ['unit_id'], unique=False)

    op.create_table('interview',
    sa.Column('submission_id', sa.String(length=36), nullable=False),
    sa.Column('interviewer_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('duration_seconds', sa.Integer(), nullable=False),
    sa.CheckConstraint('duration_seconds >= 0', name=op.f('ck_interview_duration')),
    sa.ForeignKeyConstraint(['interviewer_id'], ['officer.id'], name=op.f('fk_interview_interviewer_id_officer')),
    sa.ForeignKeyConstraint(['submission_id'], ['response.submission_id'], name=op.f('fk_interview_submission_id_response'), ondelete='CASCADE', initially='DEFERRED', deferrable=True),
    sa.PrimaryKeyConstraint('submission_id', name=op.f('pk_interview'))
    )
    with op.batch_alter_table('interview', schema=None) as batch_op:
        batch_op.create_index('ix_interview_interviewer_id_started_at', ['interviewer_id', 'started_at'], unique=False)


def downgrade():
    with op.batch_alter_table('interview', schema=None) as batch_op:
        batch_op.drop_index('ix_interview_interviewer_id_started_at')
    op.drop_table('interview')
    with op.batch_alter_table('interview_assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interview_assignment_unit_id'))
        batch_op.drop_index(batch_op.f('ix_interview_assignment_interviewer_id'))
    op.drop_table('interview_assignment')
    # Interviewers cannot exist under the old constraint: their accounts go first,
    # their responses and audit entries stay (no longer naming them).
    interviewers = "(SELECT id FROM officer WHERE role = 'interviewer')"
    op.execute(f"UPDATE response SET served_by_id = NULL WHERE served_by_id IN {interviewers}")
    op.execute(f"UPDATE audit_entry SET officer_id = NULL WHERE officer_id IN {interviewers}")
    op.execute("DELETE FROM officer_session WHERE officer_id IN (SELECT id FROM officer WHERE role = 'interviewer')")
    op.execute("DELETE FROM officer WHERE role = 'interviewer'")
    _set_role_check(ROLES_BEFORE)
