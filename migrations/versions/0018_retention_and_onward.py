"""retention and review (erasures, archived section spaces, the partnership's retention settings) and onward
disclosure requests (issue 16)

Revision ID: 0018
Revises: 0014
Create Date: 2026-12-05 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('space_archive',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('archived_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], name=op.f('fk_space_archive_partnership_id_partnership'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['section_id'], ['section.id'], name=op.f('fk_space_archive_section_id_section'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_space_archive')),
    sa.UniqueConstraint('section_id', name=op.f('uq_space_archive_section_id'))
    )
    with op.batch_alter_table('space_archive', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_space_archive_partnership_id'), ['partnership_id'], unique=False)

    op.create_table('onward_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('shown_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['member.id'], name=op.f('fk_onward_request_decided_by_id_member')),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], name=op.f('fk_onward_request_partnership_id_partnership'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recipient_id'], ['member.id'], name=op.f('fk_onward_request_recipient_id_member')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['member.id'], name=op.f('fk_onward_request_requested_by_id_member')),
    sa.ForeignKeyConstraint(['target_id'], ['target.id'], name=op.f('fk_onward_request_target_id_target'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_onward_request'))
    )
    with op.batch_alter_table('onward_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_onward_request_partnership_id'), ['partnership_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_onward_request_target_id'), ['target_id'], unique=False)

    op.create_table('target_erasure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], name=op.f('fk_target_erasure_partnership_id_partnership'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_id'], ['target.id'], name=op.f('fk_target_erasure_target_id_target'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_target_erasure')),
    sa.UniqueConstraint('target_id', name=op.f('uq_target_erasure_target_id'))
    )
    with op.batch_alter_table('target_erasure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_target_erasure_partnership_id'), ['partnership_id'], unique=False)

    # A plain ADD COLUMN, not a batch rebuild: on SQLite rebuilding `partnership` would cascade-delete every row
    # that refers to it. Existing partnerships get no settings (the defaults of models/retention.py apply).
    op.add_column('partnership', sa.Column('retention', sa.JSON(), nullable=False, server_default='{}'))


def downgrade() -> None:
    op.drop_column('partnership', 'retention')  # plain DROP COLUMN (SQLite 3.35+): no rebuild, no cascade

    with op.batch_alter_table('target_erasure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_target_erasure_partnership_id'))

    op.drop_table('target_erasure')
    with op.batch_alter_table('onward_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_onward_request_target_id'))
        batch_op.drop_index(batch_op.f('ix_onward_request_partnership_id'))

    op.drop_table('onward_request')
    with op.batch_alter_table('space_archive', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_space_archive_partnership_id'))

    op.drop_table('space_archive')
