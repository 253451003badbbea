"""Show Block Kit in a terminal: what a person would see in Slack, drawn with rich (for the demo and console)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.text import Text

from bot.fakeslack import Seen
from commands.core.dates import day_label

LONDON = ZoneInfo("Europe/London")
KINDS = {"ephemeral": ("only you can see this", "yellow"), "modal": ("modal, only you", "magenta"),
         "dm": ("direct message", "cyan"), "post": ("channel post", "blue"), "home": ("App Home", "green")}


def plain(text: str) -> str:
    """Slack mrkdwn as sent (entities escaped) back to what the reader sees."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def buttons_in(blocks: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(label, action_id, value) of every button, in order."""
    return [(el.get("text", {}).get("text", ""), el.get("action_id", ""), el.get("value", ""))
            for b in blocks if b.get("type") == "actions" for el in b.get("elements", [])
            if el.get("type") == "button"]


def blocks_view(blocks: list[dict[str, Any]], fallback: str = "", files: list[str] | None = None,
                first: int | None = None) -> RenderableType:
    """`first`: number the buttons from it ([1] View pack), so a console user can press one."""
    parts: list[RenderableType] = []
    n = (first or 1) - 1
    for b in blocks:
        kind = b.get("type")
        if kind == "header":
            parts.append(Text(plain(b["text"]["text"]), style="bold"))
        elif kind == "section":
            if "text" in b:
                parts.append(Text(plain(b["text"]["text"])))
            for f in b.get("fields", []):
                key, _, value = plain(f["text"]).partition("\n")
                line = Text(key.strip("*") + ": ", style="bold")
                line.append(value)
                parts.append(line)
        elif kind == "actions":
            row = Text()
            for el in b.get("elements", []):
                n += 1
                label = plain(el.get("text", {}).get("text", ""))
                row.append(f"[{n}] " if first is not None else "")
                row.append(f"[ {label} ]", style="bold green" if el.get("style") == "primary" else "green")
                row.append("  ")
            parts.append(row)
        elif kind == "context":
            parts.append(Text(" ".join(plain(e.get("text", "")) for e in b.get("elements", [])), style="dim"))
        elif kind == "input":
            parts.append(Text(f"{b.get('label', {}).get('text', '')}: ________", style="italic"))
    if not parts and fallback:
        parts.append(Text(plain(fallback)))
    for name in files or []:
        parts.append(Text(f"(file) {name}", style="italic cyan"))
    return Group(*parts)


def when(at: datetime) -> str:
    local = at.astimezone(LONDON)
    return f"{day_label(local.date())} {local:%H:%M}"  # names in English whatever the process locale


def seen_panel(seen: Seen, where: str = "", first: int | None = None) -> Panel:
    label, colour = KINDS.get(seen.kind, (seen.kind, "white"))
    title = f"{label}{f' in {where}' if where else ''} · {when(seen.at)}"
    return Panel(blocks_view(seen.blocks, seen.text, seen.files, first), title=title, title_align="left",
                 border_style=colour)
