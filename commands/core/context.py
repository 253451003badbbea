"""Who is asking, in which partnership: resolved once per request by the platform adapter."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from commands.core.names import DEFAULT_NAMES
from models import Member, Partnership


@dataclass
class Caller:
    session: Session
    partnership: Partnership
    member: Member
    now: datetime  # aware; commands never read the clock themselves
    channel: str | None = None  # the platform space the request came from, when there is one
    names: Mapping[str, str] = field(default_factory=lambda: DEFAULT_NAMES)  # intent -> configured command name

    @property
    def local_now(self) -> datetime:
        return self.now.astimezone(ZoneInfo(self.partnership.timezone))

    @property
    def actor(self) -> str:
        return f"member:{self.member.key}"
