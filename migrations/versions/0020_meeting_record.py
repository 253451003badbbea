"""meeting record: target status, decisions, partner information, attendance, minutes

Revision ID: 0020
Revises: 0018
Create Date: 2026-12-05 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0020'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], name=op.f('fk_decision_partnership_id_partnership'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['member.id'], name=op.f('fk_decision_recorded_by_id_member')),
    sa.ForeignKeyConstraint(['section_id'], ['section.id'], name=op.f('fk_decision_section_id_section'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_id'], ['target.id'], name=op.f('fk_decision_target_id_target'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decision'))
    )
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decision_partnership_id'), ['partnership_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_decision_section_id'), ['section_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_decision_target_id'), ['target_id'], unique=False)

    op.create_table('partner_information',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('from_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['from_id'], ['member.id'], name=op.f('fk_partner_information_from_id_member')),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], name=op.f('fk_partner_information_partnership_id_partnership'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_id'], ['target.id'], name=op.f('fk_partner_information_target_id_target'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_information'))
    )
    with op.batch_alter_table('partner_information', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_information_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_partner_information_partnership_id'), ['partnership_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_partner_information_target_id'), ['target_id'], unique=False)

    op.create_table('target_discussion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('set_by_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], name=op.f('fk_target_discussion_partnership_id_partnership'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['section_id'], ['section.id'], name=op.f('fk_target_discussion_section_id_section'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['set_by_id'], ['member.id'], name=op.f('fk_target_discussion_set_by_id_member')),
    sa.ForeignKeyConstraint(['target_id'], ['target.id'], name=op.f('fk_target_discussion_target_id_target'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_target_discussion')),
    sa.UniqueConstraint('section_id', 'target_id', name=op.f('uq_target_discussion_section_id_target_id'))
    )
    with op.batch_alter_table('target_discussion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_target_discussion_partnership_id'), ['partnership_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_target_discussion_section_id'), ['section_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_target_discussion_target_id'), ['target_id'], unique=False)

    op.create_table('attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('substitute_id', sa.Integer(), nullable=True),
    sa.Column('marked_by_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['marked_by_id'], ['member.id'], name=op.f('fk_attendance_marked_by_id_member')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_attendance_member_id_member')),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], name=op.f('fk_attendance_partnership_id_partnership'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['section_id'], ['section.id'], name=op.f('fk_attendance_section_id_section'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['substitute_id'], ['member.id'], name=op.f('fk_attendance_substitute_id_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance')),
    sa.UniqueConstraint('section_id', 'member_id', name=op.f('uq_attendance_section_id_member_id'))
    )
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attendance_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attendance_partnership_id'), ['partnership_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attendance_section_id'), ['section_id'], unique=False)

    op.create_table('minutes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('edited_by_id', sa.Integer(), nullable=True),
    sa.Column('edited_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('released_by_id', sa.Integer(), nullable=True),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['edited_by_id'], ['member.id'], name=op.f('fk_minutes_edited_by_id_member')),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], name=op.f('fk_minutes_partnership_id_partnership'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['released_by_id'], ['member.id'], name=op.f('fk_minutes_released_by_id_member')),
    sa.ForeignKeyConstraint(['section_id'], ['section.id'], name=op.f('fk_minutes_section_id_section'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_minutes')),
    sa.UniqueConstraint('section_id', name=op.f('uq_minutes_section_id'))
    )
    with op.batch_alter_table('minutes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_minutes_partnership_id'), ['partnership_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('minutes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_minutes_partnership_id'))

    op.drop_table('minutes')
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attendance_section_id'))
        batch_op.drop_index(batch_op.f('ix_attendance_partnership_id'))
        batch_op.drop_index(batch_op.f('ix_attendance_member_id'))

    op.drop_table('attendance')
    with op.batch_alter_table('target_discussion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_target_discussion_target_id'))
        batch_op.drop_index(batch_op.f('ix_target_discussion_section_id'))
        batch_op.drop_index(batch_op.f('ix_target_discussion_partnership_id'))

    op.drop_table('target_discussion')
    with op.batch_alter_table('partner_information', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_information_target_id'))
        batch_op.drop_index(batch_op.f('ix_partner_information_partnership_id'))
        batch_op.drop_index(batch_op.f('ix_partner_information_at'))

    op.drop_table('partner_information')
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decision_target_id'))
        batch_op.drop_index(batch_op.f('ix_decision_section_id'))
        batch_op.drop_index(batch_op.f('ix_decision_partnership_id'))

    op.drop_table('decision')
