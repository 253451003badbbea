"""Map a chat user to a Member: by stored chat id, else by the email address the platform reports.

The stored ChatIdentity is the cache: a user matched by email once is matched by id from then on, so the
platform is asked at most once per person.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, joinedload

from commands.core.access import active_with_role
from commands.core.errors import Refused
from commands.core.platforms import canonical
from models import ChatIdentity, Member, Partnership
from models.audit import record


def not_a_member(session: Session, p: Partnership) -> Refused:
    coordinators = sorted(m.name for m in active_with_role(session, p.id, "coordinator"))
    who = f" ({', '.join(coordinators)})" if coordinators else ""
    return Refused(f"You are not a member of {p.name}. Ask your coordinator{who} to add you to the "
                   "partnership file with your work email address.")


# Built once: every request asks it (building a statement costs more than running this one).
# With the member's agency: nearly every command asks it (the ISP, the agency's name), one query fewer.
_BY_IDENTITY = (select(Member).options(joinedload(Member.agency)).join(ChatIdentity, ChatIdentity.member_id == Member.id)
                .where(ChatIdentity.partnership_id == bindparam("partnership_id"),
                       ChatIdentity.platform == bindparam("platform"), ChatIdentity.user_id == bindparam("user_id")))


def resolve_member(session: Session, p: Partnership, *, platform: str, user_id: str,
                   email_of: Callable[[str], str | None], now: datetime) -> Member:
    """The active member behind `user_id`, or Refused. `email_of` asks the platform (may be slow)."""
    asked, user_id = user_id, canonical(user_id)
    member = session.scalar(_BY_IDENTITY, {"partnership_id": p.id, "platform": platform, "user_id": user_id})
    if member is not None:
        if not member.active:
            raise not_a_member(session, p)
        return member
    email = email_of(asked)
    if not email:
        raise not_a_member(session, p)
    member = session.scalar(select(Member).where(
        Member.partnership_id == p.id, Member.active.is_(True), func.lower(Member.email) == email.lower()))
    if member is None or member.identity(platform) is not None:
        raise not_a_member(session, p)
    member.identities.append(ChatIdentity(partnership_id=p.id, platform=platform, user_id=user_id))
    record(session, at=now, partnership_id=p.id, kind="alteration", actor="system", actor_member_id=member.id,
           what=f"{platform} identity linked to member {member.key} by email",
           justification="identity resolution on first use")
    session.flush()
    return member
