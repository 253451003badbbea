"""Render platform-neutral replies as Block Kit, within Slack's limits, with every piece of text escaped.

Escaping `&`, `<` and `>` is what stops a user's text from becoming `<!channel>`, a fake `<@U123>` mention or
a disguised link when the bot echoes it.

Slack's limits live here and nowhere else: commands/ hands over the whole reply (every line, every item) and
this renderer decides what fits. When something must be left out it is left out whole (a line, an item with
its buttons) and the reader is told how many: "and 38 more: see /actions".
"""

from __future__ import annotations

from typing import Any

from commands.core.replies import Button, Emphasis, Item, Reply

MAX_BLOCKS = 50  # a message (chat.postMessage, chat.postEphemeral, a command's answer)
VIEW_BLOCKS = 100  # a modal or the App Home tab
SECTION_TEXT = 3000
CONTEXT_TEXT = 3000
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
ACTIONS_ELEMENTS = 25  # buttons in one actions block
FIELD_TEXT = 2000
MAX_FIELDS = 10  # fields in one section
FALLBACK_TEXT = 300  # the notification text: one line, not the message again
LINES_TEXT = 30_000  # characters of lines in one message: about ten full sections, a page a person will read
STYLES = {Emphasis.PRIMARY: "primary", Emphasis.DESTRUCTIVE: "danger"}  # Emphasis.DEFAULT: Slack's plain button


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(escape(text), CONTEXT_TEXT)}]}


def _more(count: int, noun: str, hint: str | None) -> dict[str, Any]:
    return _context(f"and {count} more{noun}" + (f": {hint}" if hint else ""))


def _chunks(lines: tuple[str, ...]) -> list[tuple[str, int]]:
    """Escaped lines packed into section texts of at most SECTION_TEXT characters, at line boundaries (a line
    longer than a section is split across several): (text, index of the first line that starts after it)."""
    out: list[tuple[str, int]] = []
    chunk = ""
    for n, raw in enumerate(lines):
        line = escape(raw)
        while len(line) > SECTION_TEXT:
            if chunk:
                out.append((chunk, n))
                chunk = ""
            out.append((line[:SECTION_TEXT], n))
            line = line[SECTION_TEXT:]
        candidate = f"{chunk}\n{line}" if chunk else line
        if len(candidate) > SECTION_TEXT:
            out.append((chunk, n))
            chunk = line
        else:
            chunk = candidate
    if chunk:
        out.append((chunk, len(lines)))
    return out


def _lines(reply: Reply, budget: int) -> list[dict[str, Any]]:
    """The reply's lines as sections in at most `budget` blocks and LINES_TEXT characters; what does not fit
    is counted on a last line."""
    chunks = _chunks(reply.lines)
    used = 0
    for n, (text, _) in enumerate(chunks):
        used += len(text)
        if used > LINES_TEXT or n + 1 > budget:
            break
    else:
        return [_section(text) for text, _ in chunks]
    kept = chunks[: max(0, min(n, budget - 1))]
    shown = kept[-1][1] if kept else 0
    return [*(_section(text) for text, _ in kept), _more(len(reply.lines) - shown, " lines", reply.more)]


def _actions(buttons: tuple[Button, ...], block_id: str) -> list[dict[str, Any]]:
    """Actions blocks of at most ACTIONS_ELEMENTS buttons each. Action ids repeat across items (every action
    has a Done button): block ids keep them apart."""
    blocks = []
    for start in range(0, len(buttons), ACTIONS_ELEMENTS):
        elements = []
        for b in buttons[start: start + ACTIONS_ELEMENTS]:
            el: dict[str, Any] = {"type": "button", "action_id": b.action, "value": b.value[:BUTTON_VALUE],
                                  "text": {"type": "plain_text", "text": clip(b.label, BUTTON_TEXT)}}
            if b.emphasis in STYLES:
                el["style"] = STYLES[b.emphasis]
            elements.append(el)
        suffix = f"-{start // ACTIONS_ELEMENTS + 1}" if start else ""
        blocks.append({"type": "actions", "block_id": f"{block_id}{suffix}", "elements": elements})
    return blocks


def _item_cost(item: Item) -> int:
    return 1 + -(-len(item.buttons) // ACTIONS_ELEMENTS)


def _groups(items: tuple[Item, ...]) -> list[list[int]]:
    """Item indexes grouped: a heading item starts a group (items before the first heading make one too)."""
    groups: list[list[int]] = []
    for n, item in enumerate(items):
        if item.heading or not groups:
            groups.append([])
        groups[-1].append(n)
    return groups


def _items(reply: Reply, budget: int) -> list[dict[str, Any]]:
    """The reply's items in at most `budget` blocks. When they do not all fit, the longest groups give up
    their last items first (so one long list never pushes the other groups off the page), and each group
    that lost some says how many under its last shown item. Headings stay."""
    items, groups = reply.items, _groups(reply.items)
    kept = [len(g) for g in groups]
    cost = [sum(_item_cost(items[n]) for n in g) for g in groups]
    total = sum(cost)
    while total > budget:
        cuttable = [g for g, group in enumerate(groups) if kept[g] > int(items[group[0]].heading)]
        if not cuttable:
            break
        g = max(cuttable, key=lambda g: cost[g])
        if kept[g] == len(groups[g]):
            total += 1  # the group's "N more" line
        kept[g] -= 1
        dropped = _item_cost(items[groups[g][kept[g]]])
        cost[g] -= dropped
        total -= dropped
    blocks: list[dict[str, Any]] = []
    for g, group in enumerate(groups):
        for n in group[: kept[g]]:
            blocks.append(_section(clip(escape(items[n].text), SECTION_TEXT)))
            if items[n].buttons:
                blocks.extend(_actions(items[n].buttons, f"item-{n}"))
        if kept[g] < len(group):
            blocks.append(_more(len(group) - kept[g], "", reply.more))
    return blocks


def _line_blocks_wanted(reply: Reply) -> int:
    return len(_chunks(reply.lines))


def render(reply: Reply, max_blocks: int = MAX_BLOCKS) -> tuple[str, list[dict[str, Any]]]:
    """(fallback text, blocks) for chat.postMessage, chat.postEphemeral or an ack; `max_blocks` VIEW_BLOCKS
    for a modal or the App Home.

    The title, fields, buttons and footer are always shown; the lines and the items share what is left, the
    lines taking no more than half of it when there are items too."""
    head: list[dict[str, Any]] = []
    if reply.title:
        head.append({"type": "header", "text": {"type": "plain_text", "text": clip(reply.title, HEADER_TEXT)}})
    fields = [{"type": "mrkdwn", "text": clip(f"*{escape(k)}*\n{escape(v)}", FIELD_TEXT)} for k, v in reply.fields]
    field_blocks = [{"type": "section", "fields": fields[i: i + MAX_FIELDS]} for i in range(0, len(fields), MAX_FIELDS)]
    tail = _actions(reply.buttons, "buttons")
    if reply.footer:
        tail.append(_context(reply.footer))

    room = max_blocks - len(head) - len(field_blocks) - len(tail)
    item_blocks = sum(_item_cost(i) for i in reply.items)
    line_room = room if not reply.items else min(_line_blocks_wanted(reply), max(room - item_blocks, room // 2))
    line_part = _lines(reply, line_room) if reply.lines else []
    item_part = _items(reply, room - len(line_part)) if reply.items else []

    blocks = head + line_part + field_blocks + item_part + tail
    if len(blocks) > max_blocks:  # only a reply with no lines or items to give up, e.g. hundreds of fields
        blocks = blocks[: max_blocks - 1] + [_context("(more not shown: narrow your request)")]
    fallback = escape(clip(reply.fallback, FALLBACK_TEXT)) or "Oneday"
    return fallback, blocks
