"""outbox rows name the targets they are about, so need-to-know is asked again when they are delivered

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 10:12:41.503118
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Rows queued so far name no target (the default fills them, then goes: from here on whoever queues a row
    # says what it is about). A status column is free text, so "withheld" needs no change.
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('about', sa.JSON(), nullable=False, server_default='[]'))
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.alter_column('about', existing_type=sa.JSON(), existing_nullable=False, server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('about')
