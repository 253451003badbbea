"""what partners see of each target: the lead's partner view, partner summary and ask

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing rows get the defaults (every target shown in full, nothing written for partners yet); the server
    # defaults then go: from here on the models write every value.
    with op.batch_alter_table('target', schema=None) as batch_op:
        batch_op.add_column(sa.Column('partner_view', sa.String(length=16), nullable=False, server_default='full'))
    with op.batch_alter_table('target_details', schema=None) as batch_op:
        batch_op.add_column(sa.Column('partner_summary', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('ask', sa.Text(), nullable=False, server_default=''))
    with op.batch_alter_table('target', schema=None) as batch_op:
        batch_op.alter_column('partner_view', existing_type=sa.String(length=16), existing_nullable=False,
                              server_default=None)
    with op.batch_alter_table('target_details', schema=None) as batch_op:
        batch_op.alter_column('partner_summary', existing_type=sa.Text(), existing_nullable=False,
                              server_default=None)
        batch_op.alter_column('ask', existing_type=sa.Text(), existing_nullable=False, server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('target_details', schema=None) as batch_op:
        batch_op.drop_column('ask')
        batch_op.drop_column('partner_summary')
    with op.batch_alter_table('target', schema=None) as batch_op:
        batch_op.drop_column('partner_view')
