"""Who is asking, in which partnership: resolved once per request by the platform adapter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from models import Member, Partnership


@dataclass
class Caller:
    session: Session
    partnership: Partnership
    member: Member
    now: datetime  # aware; commands never read the clock themselves
    channel: str | None = None  # the platform space the request came from, when there is one

    @property
    def local_now(self) -> datetime:
        return self.now.astimezone(ZoneInfo(self.partnership.timezone))

    @property
    def actor(self) -> str:
        return f"member:{self.member.key}"
