"""Conversation references: how to reach each member proactively (bot/teams/tables.py), captured from every
validated activity and read by the outbound port. Only values from activities whose token was checked (the
service URL is bound to the token's `serviceurl` claim) are stored, so the port never sends to a host a caller
made up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.teams.tables import conversations
from commands.core.platforms import canonical
from models.base import Base


def table() -> Table:
    return conversations(Base.metadata)


@dataclass(frozen=True)
class Reference:
    tenant_id: str
    aad_object_id: str
    bf_user_id: str | None
    service_url: str
    conversation_id: str | None


class References:
    def __init__(self, factory: sessionmaker[Session], clock: Callable[[], datetime]) -> None:
        self.factory, self.clock = factory, clock

    def remember(self, *, tenant: str, aad: str, service_url: str, bf_user_id: str | None = None,
                 personal_conversation: str | None = None) -> None:
        """Store (or refresh) a member's reference; a known 1:1 conversation id is kept unless a new one is given."""
        t, aad, tenant = table(), canonical(aad), canonical(tenant)
        values: dict[str, object] = {"service_url": service_url, "updated_at": self.clock()}
        if bf_user_id:
            values["bf_user_id"] = bf_user_id
        if personal_conversation:
            values["conversation_id"] = personal_conversation
        where = (t.c.tenant_id == tenant) & (t.c.aad_object_id == aad)
        with self.factory() as session, session.begin():
            if session.execute(update(t).where(where).values(**values)).rowcount:  # type: ignore[attr-defined]
                return
            try:
                with session.begin_nested():
                    session.execute(insert(t).values(tenant_id=tenant, aad_object_id=aad, **values))
            except IntegrityError:  # another replica stored it at the same moment
                session.execute(update(t).where(where).values(**values))

    def of(self, aad: str, tenant: str | None = None) -> Reference | None:
        t = table()
        query = select(t).where(t.c.aad_object_id == canonical(aad))
        if tenant:
            query = query.where(t.c.tenant_id == canonical(tenant))
        with self.factory() as session:
            row = session.execute(query.order_by(t.c.updated_at.desc()).limit(1)).first()
        return Reference(row.tenant_id, row.aad_object_id, row.bf_user_id, row.service_url,
                         row.conversation_id) if row else None

    def aad_for(self, bf_user_id: str) -> str | None:
        t = table()
        with self.factory() as session:
            return session.scalar(select(t.c.aad_object_id).where(t.c.bf_user_id == bf_user_id).limit(1))

    def by_conversation(self, conversation_id: str) -> Reference | None:
        t = table()
        with self.factory() as session:
            row = session.execute(select(t).where(t.c.conversation_id == conversation_id).limit(1)).first()
        return Reference(row.tenant_id, row.aad_object_id, row.bf_user_id, row.service_url,
                         row.conversation_id) if row else None

    def tenant_service_url(self, tenant: str | None) -> tuple[str, str] | None:
        """(tenant, service URL) most recently seen (for the tenant, when given): where group chats and
        channels of that tenant are sent to."""
        t = table()
        query = select(t.c.tenant_id, t.c.service_url).order_by(t.c.updated_at.desc()).limit(1)
        if tenant:
            query = query.where(t.c.tenant_id == canonical(tenant))
        with self.factory() as session:
            row = session.execute(query).first()
        return (row[0], row[1]) if row else None

    def set_conversation(self, tenant: str, aad: str, conversation_id: str) -> None:
        t = table()
        with self.factory() as session, session.begin():
            session.execute(update(t).where((t.c.tenant_id == canonical(tenant)) &
                                            (t.c.aad_object_id == canonical(aad)))
                            .values(conversation_id=conversation_id, updated_at=self.clock()))
