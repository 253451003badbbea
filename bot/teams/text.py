"""Message text from Teams, made platform-neutral before it reaches commands/ (like bot/slack/text.py).

Teams sends a mention as `<at>Name</at>` in the text plus an entity naming who it is. The bot's own mention (in
a channel or group chat: `@Oneday action ...`) is removed; a person's becomes `@{teams:<Entra object id>}` (or
their `29:...` id when we do not know their object id yet), which commands resolve through ChatIdentity. Teams
sends HTML-escaped text with a few formatting tags; the tags go and the entities are decoded last, so what the
user typed is what commands read (renderers escape it again on the way out).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

TAGS = re.compile(r"</?(?:at|p|div|span|br|b|i|strong|em)\b[^>]*>", re.IGNORECASE)


def neutral(activity: dict[str, Any], aad_for: Callable[[str], str | None]) -> str:
    text = str(activity.get("text") or "")
    bot_id = str((activity.get("recipient") or {}).get("id") or "")
    for entity in activity.get("entities") or []:
        if not isinstance(entity, dict) or entity.get("type") != "mention":
            continue
        mentioned = entity.get("mentioned") or {}
        shown = str(entity.get("text") or "")
        if not shown:
            continue
        who = str(mentioned.get("id") or "")
        if who == bot_id:
            replacement = ""
        else:
            aad = mentioned.get("aadObjectId") or (aad_for(who) if who else None)
            replacement = f"@{{teams:{aad or who}}}" if (aad or who) else ""
        text = text.replace(shown, f" {replacement} ", 1)
    text = TAGS.sub(" ", text)
    return " ".join(html.unescape(text).split())
