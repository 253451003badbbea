"""outbox rows carry their platform; seen event ids and drawn home pages shared by replicas

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 17:33:23.212548
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('home_view',
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('workspace_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('platform', 'workspace_id', 'user_id', name=op.f('pk_home_view'))
    )
    op.create_table('seen_event',
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('event_id', sa.String(length=128), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('platform', 'event_id', name=op.f('pk_seen_event'))
    )
    with op.batch_alter_table('seen_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seen_event_seen_at'), ['seen_at'], unique=False)

    # Every row queued so far was Slack's (the only platform until now). The default fills them, then goes:
    # from here on whoever queues a row names its platform.
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('platform', sa.String(length=16), nullable=False, server_default='slack'))
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.alter_column('platform', existing_type=sa.String(length=16), existing_nullable=False,
                              server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('platform')

    with op.batch_alter_table('seen_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_seen_event_seen_at'))

    op.drop_table('seen_event')
    op.drop_table('home_view')
