"""conversation pacing shared by every outbox sender through the database

Revision ID: 0013
Revises: 0017 (the integrator re-chains)
Create Date: 2026-12-05 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('conversation_pace',
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('conversation', sa.String(length=64), nullable=False),
    sa.Column('recent', sa.JSON(), nullable=False),
    sa.Column('not_before', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('platform', 'conversation', name=op.f('pk_conversation_pace'))
    )


def downgrade() -> None:
    op.drop_table('conversation_pace')
