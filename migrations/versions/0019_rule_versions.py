"""versions of the need-to-know rule's input: partnership.rule_version and cohort.rule_version (entitlement cache)

Revision ID: 0019
Revises: 0020
Create Date: 2026-12-05 07:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0019'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (also on SQLite: no table rebuild, which would cascade-delete the partnership's rows).
    op.add_column('partnership', sa.Column('rule_version', sa.BigInteger(), server_default='0', nullable=False))
    op.add_column('cohort', sa.Column('rule_version', sa.BigInteger(), server_default='0', nullable=False))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite >= 3.35): rebuilding `partnership` would cascade-delete every row that refers to it.
    op.drop_column('cohort', 'rule_version')
    op.drop_column('partnership', 'rule_version')
