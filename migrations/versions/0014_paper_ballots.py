"""Paper ballots: printed batches per desk, each ballot with its serial and, once
entered, its response; second readings (double entry) and the district's decisions

Revision ID: 0014
Revises: 0016
Create Date: 2026-11-30 16:16:43

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('paper_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('desk_id', sa.Integer(), nullable=False),
    sa.Column('questionnaire_id', sa.Integer(), nullable=False),
    sa.Column('first_seq', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('layout', sa.String(length=8), nullable=False),
    sa.Column('recheck_all', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("layout IN ('a4x2', 'a5')", name=op.f('ck_paper_batch_layout')),
    sa.CheckConstraint('count BETWEEN 1 AND 10000', name=op.f('ck_paper_batch_count')),
    sa.CheckConstraint('first_seq >= 1', name=op.f('ck_paper_batch_first_seq')),
    sa.ForeignKeyConstraint(['created_by_id'], ['officer.id'], name=op.f('fk_paper_batch_created_by_id_officer')),
    sa.ForeignKeyConstraint(['desk_id'], ['desk.id'], name=op.f('fk_paper_batch_desk_id_desk')),
    sa.ForeignKeyConstraint(['questionnaire_id'], ['questionnaire.id'], name=op.f('fk_paper_batch_questionnaire_id_questionnaire')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_paper_batch_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_paper_batch'))
    )
    with op.batch_alter_table('paper_batch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_paper_batch_unit_id'), ['unit_id'], unique=False)

    op.create_table('paper_ballot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('desk_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('serial', sa.String(length=48), nullable=False),
    sa.Column('serial_key', sa.String(length=48), nullable=False),
    sa.Column('recheck', sa.Boolean(), nullable=False),
    sa.Column('entered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('entered_by_id', sa.Integer(), nullable=True),
    sa.Column('response_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['paper_batch.id'], name=op.f('fk_paper_ballot_batch_id_paper_batch')),
    sa.ForeignKeyConstraint(['desk_id'], ['desk.id'], name=op.f('fk_paper_ballot_desk_id_desk')),
    sa.ForeignKeyConstraint(['entered_by_id'], ['officer.id'], name=op.f('fk_paper_ballot_entered_by_id_officer')),
    sa.ForeignKeyConstraint(['response_id'], ['response.id'], name=op.f('fk_paper_ballot_response_id_response')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_paper_ballot_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_paper_ballot')),
    sa.UniqueConstraint('desk_id', 'seq', name='uq_paper_ballot_desk_seq'),
    sa.UniqueConstraint('response_id', name=op.f('uq_paper_ballot_response_id')),
    sa.UniqueConstraint('serial', name=op.f('uq_paper_ballot_serial')),
    sa.UniqueConstraint('serial_key', name=op.f('uq_paper_ballot_serial_key'))
    )
    with op.batch_alter_table('paper_ballot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_paper_ballot_batch_id'), ['batch_id'], unique=False)

    op.create_table('paper_recheck',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ballot_id', sa.Integer(), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('first_answers', sa.JSON(), nullable=False),
    sa.Column('agrees', sa.Boolean(), nullable=False),
    sa.Column('decision', sa.String(length=8), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("decision IS NULL OR decision IN ('first', 'second')", name=op.f('ck_paper_recheck_decision')),
    sa.ForeignKeyConstraint(['ballot_id'], ['paper_ballot.id'], name=op.f('fk_paper_recheck_ballot_id_paper_ballot')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['officer.id'], name=op.f('fk_paper_recheck_decided_by_id_officer')),
    sa.ForeignKeyConstraint(['officer_id'], ['officer.id'], name=op.f('fk_paper_recheck_officer_id_officer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_paper_recheck')),
    sa.UniqueConstraint('ballot_id', name=op.f('uq_paper_recheck_ballot_id'))
    )


def downgrade():
    op.drop_table('paper_recheck')
    with op.batch_alter_table('paper_ballot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_paper_ballot_batch_id'))

    op.drop_table('paper_ballot')
    with op.batch_alter_table('paper_batch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_paper_batch_unit_id'))

    op.drop_table('paper_batch')
