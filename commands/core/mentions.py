"""Who a command names: `@{platform:id}` (a chat mention, turned platform-neutral by the adapter) or `@key`.

The platform is data: a mention resolves through ChatIdentity for whichever platform the token names, so a
Teams adapter only has to produce `@{teams:...}` tokens (an Entra object id or a `29:...` id). What an id may
look like on each platform is in commands/core/platforms.py; a token whose id does not fit names nobody.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select

from commands.core import platforms
from commands.core.context import Caller
from commands.core.errors import UsageError
from commands.core.names import command
from models import ChatIdentity, Member

TOKEN = re.compile(r"@\{([a-z]+):([A-Za-z0-9._:-]{1,200})\}")
KEY = re.compile(r"@?([A-Za-z0-9][A-Za-z0-9._-]{0,63})")


def is_mention(word: str) -> bool:
    return word.startswith("@") and len(word) > 1


def find(caller: Caller, word: str, *, loose: bool = False) -> Member | None:
    """The active member `word` names, or None. `loose` (forms) also accepts a bare key or a full name."""
    s, pid = caller.session, caller.partnership.id
    word = word.strip()
    if match := TOKEN.fullmatch(word):
        platform, user_id = match[1], platforms.canonical(match[2])
        member = None
        if platforms.is_mention(platform, user_id):
            member = s.scalar(select(Member).join(ChatIdentity, ChatIdentity.member_id == Member.id).where(
                ChatIdentity.partnership_id == pid, ChatIdentity.platform == platform,
                ChatIdentity.user_id == user_id))
    elif (match := KEY.fullmatch(word.rstrip(".,;:"))) and (loose or word.startswith("@")):
        member = s.scalar(select(Member).where(Member.partnership_id == pid,
                                               func.lower(Member.key) == match[1].lower()))
    else:
        member = None
    if member is None and loose and word and not word.startswith("@"):
        member = s.scalar(select(Member).where(Member.partnership_id == pid,
                                               func.lower(Member.name) == " ".join(word.split()).lower()))
    return member if member is not None and member.active else None


def shown(word: str) -> str:
    """How to name what was typed back to the user (a platform token is not something they typed)."""
    if TOKEN.fullmatch(word.strip()):
        return "the person you mentioned"
    word = " ".join(word.split())
    return f"'{word[:40]}'"


def resolve(caller: Caller, word: str, *, example: str, loose: bool = False) -> Member:
    member = find(caller, word, loose=loose)
    if member is None:
        raise UsageError(f"{shown(word)} is not a member of {caller.partnership.name}: name the owner with @ and "
                         f"their member key (see {command(caller.names, 'oneday', 'whoami')}) or mention them",
                         example=example)
    return member


def humanise(caller: Caller, text: str) -> str:
    """Platform mention tokens inside free text become `@key` (or `@someone` for a non-member)."""

    def name(match: re.Match[str]) -> str:
        member = find(caller, match[0])
        return f"@{member.key}" if member else "@someone"

    return TOKEN.sub(name, text)
