"""the coordinator's agenda overrides: add or drop an agency for a target or a meeting, skip a target

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('agenda_override',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('day', sa.Date(), nullable=True),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_agenda_override_agency_id_agency'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['member.id'], name=op.f('fk_agenda_override_created_by_id_member')),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'],
                            name=op.f('fk_agenda_override_partnership_id_partnership'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_id'], ['target.id'], name=op.f('fk_agenda_override_target_id_target'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agenda_override'))
    )
    with op.batch_alter_table('agenda_override', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agenda_override_day'), ['day'], unique=False)
        batch_op.create_index(batch_op.f('ix_agenda_override_partnership_id'), ['partnership_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agenda_override_target_id'), ['target_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('agenda_override', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agenda_override_target_id'))
        batch_op.drop_index(batch_op.f('ix_agenda_override_partnership_id'))
        batch_op.drop_index(batch_op.f('ix_agenda_override_day'))
    op.drop_table('agenda_override')
