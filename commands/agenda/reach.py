"""Who can be reached on a chat platform, and the email fallback for those who cannot.

Reachable is decided from data, never by asking a platform from here (commands/ calls no network): a member is
reachable on chat when they have a chat identity (`ChatIdentity`) on some platform. The outbox routes a member's
DM the same way (bot/outbox.py `destination_platform`: an identity on the partnership's platform, else on
another): an identity is what it sends to. A member with none is looked up by email by the partnership's
platform when a DM to them is sent, and a hit is stored as a `ChatIdentity` (so they become reachable here);
until one is stored they are not known to be reachable, and nobody invited is left out silently: the publish
answer and the coordinator's Home name them, and they are sent their itinerary (times and slots only) by email.

An email goes through the outbox like any message, to a destination `Destination.space("mailto:<address>")`
that bot/outbox.py routes to the email platform (bot/email/). A space carries nothing about a target (the outbox
refuses a notice `about` a target to anything but a member), so an email can never carry target information.

Whether email can be sent at all (SMTP_URL set) is configuration, which commands/ does not read: the email
platform records it in `MAIL` when the settings are read (bot/email/platform.py); callers may also say so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.core.replies import Destination
from models import ChatIdentity, Member

MAILTO = "mailto:"
# The outbox keeps a destination in 64 characters (OutboxMessage.destination_ref, channel): a longer address is
# not queued, and the coordinator is told to contact that invitee by hand.
MAX_ADDRESS = 64 - len(MAILTO)


@dataclass
class MailSetting:
    """Whether this process can send email (the email platform is configured). Set whenever the process reads
    its settings (`oneday serve` and each of its workers, `oneday worker`, the CLI), so it follows SMTP_URL."""

    configured: bool = False


MAIL = MailSetting()


def email_destination(address: str) -> Destination:
    """Where an email to `address` goes: a space the outbox routes to the email platform."""
    return Destination.space(MAILTO + address)


def can_queue(address: str) -> bool:
    return 0 < len(address) <= MAX_ADDRESS


def email_address(to: Destination) -> str | None:
    """The address of an email destination, else None."""
    if to.kind == "space" and to.ref.startswith(MAILTO):
        return to.ref[len(MAILTO):]
    return None


def with_chat_identity(session: Session, partnership_id: int, member_keys: Iterable[str]) -> set[str]:
    """The keys among `member_keys` of members with an identity on some chat platform."""
    keys = list(member_keys)
    if not keys:
        return set()
    return set(session.scalars(select(Member.key).join(ChatIdentity, ChatIdentity.member_id == Member.id)
                               .where(Member.partnership_id == partnership_id, Member.key.in_(keys))))


def unreachable(session: Session, partnership_id: int, member_keys: Iterable[str]) -> list[Member]:
    """The active members among `member_keys` that no chat platform is known to reach (no chat identity), by
    name: the invitees the coordinator must be told about."""
    keys = set(member_keys)
    reachable = with_chat_identity(session, partnership_id, keys)
    missing = keys - reachable
    if not missing:
        return []
    members = session.scalars(select(Member).where(Member.partnership_id == partnership_id,
                                                   Member.key.in_(sorted(missing)), Member.active))
    return sorted(members, key=lambda m: m.name)
