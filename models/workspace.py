"""Which partnership a chat workspace belongs to, and the tables the Slack installation store keeps.

`Workspace` maps a platform's workspace (a Slack team id; a Teams tenant later) to one partnership: a request
from that workspace runs in that partnership. One workspace belongs to at most one partnership.

The Slack OAuth tables live with the Slack adapter (bot/slack/install_tables.py), which registers them on the
same metadata so that one Alembic history creates them; the domain knows no chat platform.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantMixin, UTCDateTime


class Workspace(TenantMixin, Base):
    __tablename__ = "workspace"
    __table_args__ = (UniqueConstraint("platform", "workspace_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
