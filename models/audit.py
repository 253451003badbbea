"""The processing log (DPA 2018 Part 3, s.62): who did what to whose data, when, and why.

`record()` is the one function every feature calls. It adds to the caller's session and does not commit,
so the log entry and the change it describes land in the same transaction or not at all.
Erasure records carry metadata only: never pass the erased content in `what`.

Kinds: the s.62 operations (collection, alteration, consultation, disclosure, combination, erasure), and two
for what was not done: `refusal` (a person asked to see or do something they may not) and `withheld` (a queued
message about a target was not sent, because at delivery its recipient was no longer entitled to the target).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, TenantMixin, UTCDateTime

KINDS = ("collection", "alteration", "consultation", "disclosure", "combination", "erasure", "refusal",
         "withheld")


class AuditEvent(TenantMixin, Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    actor: Mapped[str] = mapped_column(String(128))  # "member:jo", "cli", "worker"
    actor_member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    target_id: Mapped[int | None] = mapped_column(ForeignKey("target.id", ondelete="SET NULL"), index=True)
    target_ref: Mapped[str | None] = mapped_column(String(32))
    what: Mapped[str] = mapped_column(Text)
    recipients: Mapped[list[str]] = mapped_column(default=list)
    justification: Mapped[str] = mapped_column(Text, default="")


def record(
    session: Session,
    *,
    at: datetime,
    partnership_id: int,
    kind: str,
    actor: str,
    what: str,
    justification: str,
    actor_member_id: int | None = None,
    target_id: int | None = None,
    target_ref: str | None = None,
    recipients: list[str] | None = None,
) -> AuditEvent:
    """Add one audit event to the session (the caller's transaction commits it with the change).

    `at` is the request's or job's clock, never the wall clock read here: a replayed job or a test running
    'as of' a day must log that day."""
    if kind not in KINDS:
        raise ValueError(f"unknown audit kind {kind!r}; expected one of {', '.join(KINDS)}")
    if not justification.strip():
        raise ValueError("an audit event needs a justification")
    event = AuditEvent(
        partnership_id=partnership_id,
        kind=kind,
        actor=actor,
        actor_member_id=actor_member_id,
        target_id=target_id,
        target_ref=target_ref,
        what=what,
        recipients=list(recipients or []),
        justification=justification,
        at=at,
    )
    session.add(event)
    return event
