"""The chart of `/oneday report`, drawn when the outbox delivers it, never in the request.

A fresh process pays well over a second to import matplotlib, and about as much again to draw the chart: too
long for Slack's 3-second acknowledgement. So the command answers the figures at once and queues the chart as a
`ChartToDraw`: an attachment whose content is the figures themselves (`figures.to_dict`: counts by agency,
outcome category and month only, no target, person or free text, the same as the answer shows) and whose
`render` names what draws it. The outbox sender (bot/outbox.py) draws it when it first takes the row, outside any
transaction (`draw`), stores the PNG in the row in place of the figures, and then delivers it like any file: a
retry posts the same bytes and a row handed back by pacing is not drawn again.

Who gets it, checked again at delivery: the chart goes only to the member who asked (the notice's destination),
and only while they may have the partnership's figures (`refusal`: an active analyst, chair or coordinator,
`ROLES`). The row keeps the kind of what it carries after drawing (`DRAWN`), so every attempt asks again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.core.replies import Attachment, Destination, Notice, Reply
from commands.reports import render
from commands.reports.figures import Figures, from_dict, to_dict
from models import Member

ROLES = ("analyst", "chair", "coordinator")  # who may have the partnership's figures, asked and delivered
CHART = "report-chart"  # the one kind of attachment drawn at delivery
RENDER = "render"  # in a queued attachment still to draw: its kind
DRAWN = "drawn"  # in a row's payload once drawn: the kind of the attachment it carries


@dataclass(frozen=True)
class ChartToDraw(Attachment):
    """The report's chart, still to draw: `content` is the figures as JSON. The outbox stores it as it stores
    every attachment (`asdict`), `render` included, and draws it before anything is sent."""

    render: str = CHART

    @property
    def data(self) -> bytes:
        raise TypeError(f"{self.filename} is not drawn yet: the outbox draws it before it is sent")


def chart_notice(member_key: str, figures: Figures, key: str) -> Notice:
    """The chart of `figures` to one member's direct messages, with its description; drawn at delivery."""
    title = render.title(figures)
    name = f"oneday-figures-{figures.start.isoformat()}-{figures.end.isoformat()}.png"
    spec = ChartToDraw(name, json.dumps(to_dict(figures), sort_keys=True), title)
    return Notice(Destination.member(member_key), Reply(title=title, lines=(render.alt_text(figures),)), key=key,
                  attachment=spec)


def kind(payload: Mapping[str, Any]) -> str | None:
    """What draws the attachment of a queued row (still to draw, or drawn already); None for any other row."""
    stored = payload.get("attachment") or {}
    found = stored.get(RENDER) or payload.get(DRAWN)
    return None if found is None else str(found)


def to_draw(payload: Mapping[str, Any]) -> bool:
    """Whether a queued row's attachment is still to draw."""
    return RENDER in (payload.get("attachment") or {})


def draw(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The row's payload with its attachment drawn: the PNG (base64) in place of the figures, and `DRAWN` kept.
    Imports matplotlib (once per process). A payload that is not a chart's, or figures that do not read back,
    raise ValueError (or TypeError, KeyError): it can never be drawn."""
    stored = payload["attachment"]
    if stored.get(RENDER) != CHART:
        raise ValueError(f"nothing known draws {stored.get(RENDER)!r}")
    picture = render.chart(from_dict(json.loads(stored["content"])))
    drawn = Attachment.binary(stored["filename"], picture.png, stored["title"])
    return {**payload, "attachment": asdict(drawn), DRAWN: CHART}


def refusal(session: Session, partnership_id: int, destination_kind: str, member_key: str, what: str) -> str | None:
    """Why the row's recipient may not have what it carries now ("is ...", said of them), or None: the report's
    chart goes to one member, and only while they are an active analyst, chair or coordinator."""
    if what != CHART:
        return f"sent a file nothing known delivers ({what})"
    if destination_kind != "member":
        return "not one member (the partnership's figures go to one member only)"
    member = session.scalar(select(Member).where(Member.partnership_id == partnership_id, Member.key == member_key))
    if member is None or not (member.active and member.has_role(*ROLES)):
        return "no longer an active analyst, chair or coordinator"
    return None
