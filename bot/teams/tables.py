"""The Teams platform's own table: where each member can be reached proactively.

A Bot Framework proactive message needs a conversation reference: the tenant, the service URL the Bot Connector
gave us for it, and the 1:1 conversation id. Teams hands them over in every activity (at install and at each
message); they are stored per member (Entra object id) so the outbox can DM people later, and created when
missing (bot/teams/port.py). Registered on Oneday's metadata (bot/db.py asks every platform), so one Alembic
history (migration 0014) creates it and the drift test covers it.
"""

from __future__ import annotations

from sqlalchemy import Column, MetaData, String, Table

from models.base import UTCDateTime

CONVERSATIONS_TABLE = "teams_conversations"


def register_tables(metadata: MetaData) -> None:
    if CONVERSATIONS_TABLE in metadata.tables:
        return
    Table(
        CONVERSATIONS_TABLE, metadata,
        Column("tenant_id", String(64), primary_key=True),
        Column("aad_object_id", String(64), primary_key=True),  # the member's Entra object id (lower case)
        Column("bf_user_id", String(255), nullable=True),  # the Bot Framework's 29:... id of the same person
        Column("service_url", String(500), nullable=False),
        Column("conversation_id", String(500), nullable=True),  # the 1:1 chat with the bot, once known
        Column("updated_at", UTCDateTime(), nullable=False),
    )


def conversations(metadata: MetaData) -> Table:
    register_tables(metadata)
    return metadata.tables[CONVERSATIONS_TABLE]
