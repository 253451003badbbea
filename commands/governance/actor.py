"""Who did it: every operation in the processing log names a person, also when it came from the command line.

The CLI runs as an operating-system user on a server; `--as MEMBER` names the partnership member who asked for it
(recorded as "member:<key>", linked to the member), else the operating-system user is recorded ("os:<name>"). The
edge reads the user name (commands never read the environment) and hands it here.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.core.errors import UsageError
from models.partnership import Member, Partnership


@dataclass(frozen=True)
class Actor:
    label: str  # as the processing log records it: "member:jo.bloggs" or "os:alice"
    member_id: int | None = None


def resolve(session: Session, partnership: Partnership, as_member: str | None, os_user: str) -> Actor:
    """The named actor of a CLI operation: the member `--as` names (who must exist and be active), else the
    operating-system user."""
    if as_member is None:
        name = os_user.strip() or "unknown"
        return Actor(f"os:{name}")
    member = session.scalar(select(Member).where(Member.partnership_id == partnership.id, Member.key == as_member))
    if member is None or not member.active:
        known = session.scalars(select(Member.key).where(Member.partnership_id == partnership.id,
                                                         Member.active.is_(True)).order_by(Member.key)).all()
        near = difflib.get_close_matches(as_member, known, n=1)
        raise UsageError(f"--as: no active member '{as_member}' in {partnership.name}; give a member key from the "
                         "partnership file", example=f"--as {(near or known or ['jo.bloggs'])[0]}")
    return Actor(f"member:{member.key}", member.id)
