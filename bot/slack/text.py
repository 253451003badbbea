"""Slash-command text from Slack, made platform-neutral before it reaches commands/.

The manifest sets `should_escape`, so a mention arrives as `<@U123|name>` and a literal `<`, `>` or `&` the
user typed arrives as `&lt;`, `&gt;`, `&amp;`. Mentions become `@{slack:U123}` (commands resolve them through
ChatIdentity); every other special sequence (`<!channel>`, `<#C1|x>`, `<https://...|label>`) stays as the
plain text it is, and the entities are decoded last. Renderers escape all of it again on the way out, so
nothing a user typed can ping a channel, mention someone or disguise a link when Oneday echoes it.
"""

from __future__ import annotations

import re

MENTION = re.compile(r"<@([UW][A-Z0-9]{1,30})(?:\|[^>]*)?>")


def neutral(text: str) -> str:
    return MENTION.sub(r"@{slack:\1}", text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
