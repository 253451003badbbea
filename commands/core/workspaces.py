"""Which partnership a request belongs to, from the chat workspace it came from (a Slack team, a Teams tenant).

A workspace linked to a partnership (`oneday slack link-workspace TEAM_ID`) runs there. With no link at
all for the platform (one workspace, one partnership: the token set-up), requests run in the configured or
only partnership. Once any workspace of a platform is linked, an unlinked one is refused: a workspace that
installed the app is not thereby let into somebody's partnership.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from commands.core.errors import Refused, UsageError
from commands.core.platforms import PLATFORMS, canonical
from commands.partnership.file import select_partnership
from models import Partnership, Workspace
from models.audit import record

# Built once (every request asks them; building a statement costs more than running these).
_LINKED = (select(Partnership).join(Workspace, Workspace.partnership_id == Partnership.id)
           .where(Workspace.platform == bindparam("platform"), Workspace.workspace_id == bindparam("workspace_id")))
_ANY_LINKED = select(Workspace.id).where(Workspace.platform == bindparam("platform")).limit(1)


def partnership_for(session: Session, *, platform: str, workspace_id: str, fallback_key: str | None) -> Partnership:
    workspace_id = canonical(workspace_id)
    if workspace_id:
        linked = session.scalar(_LINKED, {"platform": platform, "workspace_id": workspace_id})
        if linked is not None:
            return linked
    if session.scalar(_ANY_LINKED, {"platform": platform}) is not None:
        raise Refused("This workspace is not linked to a partnership yet. Ask your coordinator to link it "
                      f"(oneday {platform} link-workspace {workspace_id or 'WORKSPACE_ID'} --partnership KEY).")
    return select_partnership(session, fallback_key)


def workspace_of(session: Session, p: Partnership, *, platform: str) -> str | None:
    """The partnership's linked workspace on a platform (the first linked, when several)."""
    return session.scalar(select(Workspace.workspace_id).where(Workspace.partnership_id == p.id,
                                                               Workspace.platform == platform)
                          .order_by(Workspace.id).limit(1))


def link(session: Session, p: Partnership, *, platform: str, workspace_id: str, now: datetime) -> str:
    """Link a workspace to a partnership (idempotent); returns what changed, for the operator."""
    kind = PLATFORMS.get(platform)
    if kind is None:
        raise UsageError(f"'{platform[:20]}' is not a chat platform: one of {', '.join(PLATFORMS)}")
    if kind.workspace.fullmatch(workspace_id.strip()) is None:
        raise UsageError(f"'{workspace_id.strip()[:70]}' is not a {kind.workspace_noun}",
                         example=f"oneday {platform} link-workspace {kind.workspace_example}")
    workspace_id = canonical(workspace_id)
    found = session.scalar(select(Workspace).where(Workspace.platform == platform,
                                                   Workspace.workspace_id == workspace_id))
    if found is not None and found.partnership_id == p.id:
        return f"{platform} workspace {workspace_id} is already linked to {p.key}"
    if found is not None:
        previous = session.get(Partnership, found.partnership_id)
        raise UsageError(f"{platform} workspace {workspace_id} is linked to {previous.key if previous else '?'}; "
                         "unlink it first (one workspace, one partnership)",
                         example=f"oneday slack unlink-workspace {workspace_id}")
    session.add(Workspace(partnership_id=p.id, platform=platform, workspace_id=workspace_id, created_at=now))
    record(session, at=now, partnership_id=p.id, kind="alteration", actor="operator",
           what=f"{platform} workspace {workspace_id} linked to partnership {p.key}",
           justification="workspace set-up by the operator")
    return f"{platform} workspace {workspace_id} linked to {p.key}"


def unlink(session: Session, *, platform: str, workspace_id: str, now: datetime) -> str:
    workspace_id = canonical(workspace_id)
    found = session.scalar(select(Workspace).where(Workspace.platform == platform,
                                                   Workspace.workspace_id == workspace_id))
    if found is None:
        return f"{platform} workspace {workspace_id} is not linked"
    p = session.get(Partnership, found.partnership_id)
    session.delete(found)
    record(session, at=now, partnership_id=found.partnership_id, kind="alteration", actor="operator",
           what=f"{platform} workspace {workspace_id} unlinked from partnership {p.key if p else '?'}",
           justification="workspace set-up by the operator")
    return f"{platform} workspace {workspace_id} unlinked from {p.key if p else '?'}"
