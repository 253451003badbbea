"""The chat platforms Oneday knows and what their ids look like: the one table the partnership file, mention
tokens and workspace links are checked against.

- Slack: a user is `U0123ABCD` (or `W...` on Enterprise Grid), a workspace (team) `T0123ABCD` (`E...` for an
  organisation).
- Teams: a member is named by their Entra object id, a GUID; a mention may also carry the Bot Framework's
  `29:...` id of the same person; a workspace is a tenant, also a GUID.

A GUID means the same in any case, so it is kept in lower case (`canonical`): the same person written twice
in different cases is still one person to the duplicate check and to the identity lookup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass(frozen=True)
class Platform:
    key: str  # as the partnership file, ChatIdentity, Workspace and mention tokens name it
    label: str
    user: re.Pattern[str]  # a member's id in the partnership file
    user_noun: str
    user_example: str
    user_note: str  # what the id is, for someone looking for it ("" when the noun says it)
    mention: re.Pattern[str]  # every id a mention token `@{key:id}` may carry
    workspace: re.Pattern[str]
    workspace_noun: str
    workspace_example: str

    @property
    def user_what(self) -> str:
        """How an error names a member's id: 'Teams user id (an Entra object id, e.g. 0f8fad5b-...)'."""
        note = f"{self.user_note}, " if self.user_note else ""
        return f"{self.user_noun} ({note}e.g. {self.user_example})"


_SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,20}")
_TEAMS_USER = GUID

PLATFORMS: dict[str, Platform] = {
    "slack": Platform(
        key="slack", label="Slack",
        user=_SLACK_USER, user_noun="Slack user id", user_example="U0123ABCD", user_note="",
        mention=_SLACK_USER,
        workspace=re.compile(r"[TE][A-Z0-9]{2,20}"), workspace_noun="Slack workspace (team) id",
        workspace_example="T0123ABCD"),
    "teams": Platform(
        key="teams", label="Teams",
        user=_TEAMS_USER, user_noun="Teams user id", user_example="0f8fad5b-d9cb-469f-a165-70867728950e",
        user_note="an Entra object id",
        mention=re.compile(rf"{_TEAMS_USER.pattern}|29:[A-Za-z0-9_-]{{1,200}}"),
        workspace=GUID, workspace_noun="Teams tenant id", workspace_example="72f988bf-86f1-41af-91ab-2d7cd011db47"),
}


def canonical(user_or_workspace_id: str) -> str:
    """The id as stored and compared: stripped, and a GUID in lower case."""
    value = user_or_workspace_id.strip()
    return value.lower() if GUID.fullmatch(value) else value


def is_user(platform: str, user_id: str) -> bool:
    p = PLATFORMS.get(platform)
    return p is not None and p.user.fullmatch(user_id) is not None


def is_mention(platform: str, user_id: str) -> bool:
    p = PLATFORMS.get(platform)
    return p is not None and p.mention.fullmatch(user_id) is not None


def is_workspace(platform: str, workspace_id: str) -> bool:
    p = PLATFORMS.get(platform)
    return p is not None and p.workspace.fullmatch(workspace_id) is not None
