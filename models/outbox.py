"""The outbox: every message the bot sends is a row here first.

Writing the row in the same transaction as the change it reports means a message is never sent for a change
that rolled back, and never lost for one that committed. The sender claims rows with a lease, so any number
of workers can drain one table and a crashed worker's rows are retried when its lease runs out. A row whose
post may have landed before its worker died carries `check_before_send`, so it is looked up, not re-posted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantMixin, UTCDateTime
from models.sealed import SealedJSON

# withheld: not sent because at delivery its recipient was no longer entitled to a target it is about (final).
STATUSES = ("pending", "sending", "sent", "failed", "withheld")


class OutboxMessage(TenantMixin, Base):
    __tablename__ = "outbox_message"
    __table_args__ = (
        UniqueConstraint("partnership_id", "idempotency_key"),
        Index("ix_outbox_message_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    # The chat platform that delivers it (its name, e.g. "slack"), chosen from the destination when queued.
    platform: Mapped[str] = mapped_column(String(16))
    destination_kind: Mapped[str] = mapped_column(String(16))  # member | space | section
    destination_ref: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(64))  # resolved platform channel, once known
    # Sealed at rest (models/sealed.py): a DM's body may carry action wording or a target's details.
    payload: Mapped[dict[str, Any]] = mapped_column(SealedJSON("outbox_message.payload"))
    # The target references the message carries anything about (Notice.about): need-to-know is asked again for
    # each of them, for the recipient, when the row is delivered.
    about: Mapped[list[str]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    sent_ref: Mapped[str | None] = mapped_column(String(64))  # e.g. Slack message ts
    # True while an attempt to post may have reached the platform without its outcome being recorded (set and
    # committed just before each post; cleared when the platform's answer is certain). The next attempt then
    # asks the platform whether the message arrived before posting it again.
    check_before_send: Mapped[bool] = mapped_column(default=False, server_default=false())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
