"""Render platform-neutral replies as Block Kit, within Slack's limits, with every piece of text escaped.

Escaping `&`, `<` and `>` is what stops a user's text from becoming `<!channel>`, a fake `<@U123>` mention or
a disguised link when the bot echoes it.
"""

from __future__ import annotations

from typing import Any

from commands.core.replies import Button, Reply

MAX_BLOCKS = 50
SECTION_TEXT = 3000
HEADER_TEXT = 150
BUTTON_TEXT = 75
FIELD_TEXT = 2000
MAX_FIELDS = 10


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _sections(text: str) -> list[dict[str, Any]]:
    """Split long text across sections at line boundaries rather than cut it."""
    out, chunk = [], ""
    for line in text.split("\n"):
        while len(line) > SECTION_TEXT:
            if chunk:
                out.append(chunk)
                chunk = ""
            out.append(line[:SECTION_TEXT])
            line = line[SECTION_TEXT:]
        candidate = f"{chunk}\n{line}" if chunk else line
        if len(candidate) > SECTION_TEXT:
            out.append(chunk)
            chunk = line
        else:
            chunk = candidate
    if chunk:
        out.append(chunk)
    return [{"type": "section", "text": {"type": "mrkdwn", "text": c}} for c in out]


def _actions(buttons: tuple[Button, ...], block_id: str) -> dict[str, Any]:
    elements = []
    for b in buttons[:25]:
        el: dict[str, Any] = {"type": "button", "action_id": b.action, "value": b.value[:2000],
                              "text": {"type": "plain_text", "text": clip(b.label, BUTTON_TEXT)}}
        if b.style:
            el["style"] = b.style
        elements.append(el)
    # action ids repeat across items (every action has a Done button): block ids keep them apart
    return {"type": "actions", "block_id": block_id, "elements": elements}


def render(reply: Reply) -> tuple[str, list[dict[str, Any]]]:
    """(fallback text, blocks) for chat.postMessage, chat.postEphemeral or an ack."""
    blocks: list[dict[str, Any]] = []
    if reply.title:
        blocks.append({"type": "header", "text": {"type": "plain_text", "text": clip(reply.title, HEADER_TEXT)}})
    if reply.lines:
        blocks.extend(_sections("\n".join(escape(line) for line in reply.lines)))
    fields = [{"type": "mrkdwn", "text": clip(f"*{escape(k)}*\n{escape(v)}", FIELD_TEXT)} for k, v in reply.fields]
    for i in range(0, len(fields), MAX_FIELDS):
        blocks.append({"type": "section", "fields": fields[i: i + MAX_FIELDS]})
    for n, item in enumerate(reply.items):
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": clip(escape(item.text), SECTION_TEXT)}})
        if item.buttons:
            blocks.append(_actions(item.buttons, f"item-{n}"))
    if reply.buttons:
        blocks.append(_actions(reply.buttons, "buttons"))
    if reply.footer:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": clip(escape(reply.footer), 3000)}]})
    if len(blocks) > MAX_BLOCKS:
        blocks = blocks[: MAX_BLOCKS - 1] + [{"type": "context", "elements": [
            {"type": "mrkdwn", "text": "(more not shown: narrow your request)"}]}]
    fallback = escape(reply.fallback) or "Oneday"
    return fallback, blocks
