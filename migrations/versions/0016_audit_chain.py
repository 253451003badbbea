"""the processing log hash-chained per partnership (seq, prev_hash, hash); existing rows chained in id order

Revision ID: 0016
Revises: 0019
Create Date: 2026-12-05 07:45:00
"""

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
    if op.get_context().as_sql:
        # SQL for a DBA (`oneday db upgrade --sql`, PostgreSQL): the chain's hashes are computed in Python, which a
        # script cannot do. On an empty log there is nothing to chain; otherwise stop, rather than leave rows
        # unchained (which `oneday audit verify` would then report as edited).
        op.execute("DO $$ BEGIN IF EXISTS (SELECT 1 FROM audit_event) THEN RAISE EXCEPTION 'audit_event holds rows: "
                   "revision 0016 chains them in Python; run oneday db upgrade against this database instead of "
                   "this script'; END IF; END $$")
    else:
        _chain_existing_rows()
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.alter_column('seq', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_audit_event_partnership_id_seq'), ['partnership_id', 'seq'])


GENESIS = "0" * 64


def _canonical(row: Any, seq: int, prev_hash: str) -> bytes:
    """models/audit.py `canonical()` as of this revision (a migration is frozen: it never imports today's code)."""
    at: datetime = row['at']
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return json.dumps({
        "partnership_id": row['partnership_id'], "seq": seq, "prev_hash": prev_hash,
        "at": at.isoformat(timespec="microseconds"), "kind": row['kind'], "actor": row['actor'],
        "actor_member_id": row['actor_member_id'], "target_ref": row['target_ref'], "what": row['what'],
        "recipients": list(row['recipients'] or []), "justification": row['justification'] or '',
    }, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _chain_existing_rows() -> None:
    """Rows written before the chain existed are chained as they stand, in id order (their insertion order): from
    here on, any change to them is found."""
    conn = op.get_bind()
    audit = sa.table('audit_event', sa.column('id', sa.Integer()), sa.column('partnership_id', sa.Integer()),
                     sa.column('at', sa.DateTime(timezone=True)), sa.column('kind', sa.String()), sa.column('actor', sa.String()),
                     sa.column('actor_member_id', sa.Integer()), sa.column('target_ref', sa.String()),
                     sa.column('what', sa.Text()), sa.column('recipients', sa.JSON()),
                     sa.column('justification', sa.Text()), sa.column('seq', sa.Integer()),
                     sa.column('prev_hash', sa.String()), sa.column('hash', sa.String()))
    heads: dict[int, tuple[int, str]] = {}
    rows = conn.execute(sa.select(audit).order_by(audit.c.id)).mappings().all()
    for row in rows:
        seq, prev = heads.get(row['partnership_id'], (0, GENESIS))
        seq += 1
        digest = hashlib.sha256(_canonical(row, seq, prev)).hexdigest()
        conn.execute(sa.update(audit).where(audit.c.id == row['id']).values(seq=seq, prev_hash=prev, hash=digest))
        heads[row['partnership_id']] = (seq, digest)


def downgrade() -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_event_partnership_id_seq'), type_='unique')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('seq')
