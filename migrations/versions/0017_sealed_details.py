"""encryption at rest: seal target details, action/outcome wording, notes and outbox bodies; structured details

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 08:00:00.000000

Existing clear text is converted here with the process's data key (bot/db.py `use_keys`: ONEDAY_DATA_KEY,
ONEDAY_DATA_KEY_FILE, or the default SQLite key file). Offline (`oneday db upgrade --sql`) the schema changes are
written but the data cannot be: run `oneday keys rotate` once after applying that SQL, which seals whatever is
still in clear (models/sealed.py reads clear values as they are until then).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here (not read from the models): what this revision seals, whatever later revisions add.
COLUMNS = (
    ("target_details", "summary"),
    ("target_details", "partner_summary"),
    ("target_details", "ask"),
    ("target_details", "facts"),
    ("action", "text"),
    ("outcome", "text"),
    ("action_note", "text"),
    ("outbox_message", "payload"),
    ("decision", "text"),
    ("partner_information", "text"),
    ("minutes", "note"),
    ("onward_request", "reason"),
)


def upgrade() -> None:
    with op.batch_alter_table('target_details', schema=None) as batch_op:
        batch_op.add_column(sa.Column('facts', sa.Text(), nullable=False, server_default='{}'))
    with op.batch_alter_table('target_details', schema=None) as batch_op:
        batch_op.alter_column('facts', existing_type=sa.Text(), existing_nullable=False, server_default=None)
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.alter_column('payload', existing_type=sa.JSON(), type_=sa.Text(), existing_nullable=False,
                              postgresql_using='payload::text')
    if context.is_offline_mode():
        return
    # The sealing itself is models/sealed.py's, handed over by migrations/env.py (a migration imports no models).
    reseal = context.config.attributes["reseal_column"]
    conn = op.get_bind()
    for table_name, column_name in COLUMNS:
        reseal(conn, table_name, column_name)


def downgrade() -> None:
    if not context.is_offline_mode():
        context.config.attributes["unseal_columns"](op.get_bind(), COLUMNS)
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.alter_column('payload', existing_type=sa.Text(), type_=sa.JSON(), existing_nullable=False,
                              postgresql_using='payload::json')
    with op.batch_alter_table('target_details', schema=None) as batch_op:
        batch_op.drop_column('facts')
