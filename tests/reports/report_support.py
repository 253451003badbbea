"""What the report tests scan for, and how they read a PDF."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

from fake_slack import FakeSlack
from slack_requests import clear_proxy_env
from slack_sdk import WebClient
from sqlalchemy import select

from bot.outbox import Sender
from bot.slack.port import SlackPort
from models import Action, ActionNote, Decision, Member, PartnerInformation, Target

PNG = b"\x89PNG\r\n\x1a\n"


def secrets(cycle) -> list[str]:  # type: ignore[no-untyped-def]
    """What no report may hold: every target reference and details summary, every member's name, key, email and
    chat id, every action's wording, every note, outcome, decision and piece of partner information."""
    with cycle.factory() as session:
        found = [t.ref for t in session.scalars(select(Target))]
        found += [t.details.summary for t in session.scalars(select(Target)) if t.details and t.details.summary]
        for m in session.scalars(select(Member)):
            found += [m.name, m.key, m.email, *(i.user_id for i in m.identities)]
        for a in session.scalars(select(Action)):
            found.append(a.text)
            if a.outcome is not None:
                found.append(a.outcome.text)
        found += [n.text for n in session.scalars(select(ActionNote))]
        found += [d.text for d in session.scalars(select(Decision))]
        found += [i.text for i in session.scalars(select(PartnerInformation))]
    assert len(found) > 200 and all(found)
    return found


def leaks(text: str, forbidden: list[str]) -> list[str]:
    low = text.lower()
    return sorted({s for s in forbidden if s.lower() in low})


def pdf_text(data: bytes) -> str:
    """The PDF's bytes with every Flate stream inflated: fpdf2 writes core-font text as literal strings there."""
    parts = [data.decode("latin-1")]
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            parts.append(zlib.decompress(stream).decode("latin-1"))
        except zlib.error:
            continue
    return "\n".join(parts)


@dataclass(frozen=True)
class Shared:
    """A file the outbox shared through the fake Slack: where, as what, and its bytes."""

    channel: str
    user: str | None  # whose direct messages, when it is a DM channel
    filename: str
    title: str
    comment: str
    data: bytes


def deliver(factory, clock, user: str | None = None) -> list[Shared]:  # type: ignore[no-untyped-def]
    """Run the outbox sender (the worker's delivery) against a fake Slack until nothing is left; the files it
    shared, in order (with `user`, only those in that Slack user's direct messages)."""
    clear_proxy_env()
    with FakeSlack() as fake:
        client = WebClient(token="xoxb-test", base_url=fake.base_url, retry_handlers=[])
        assert Sender(factory, SlackPort(client), clock=clock).drain(timeout=60), "outbox did not drain"
        fake.assert_no_rejections()
        dms = {c.response["channel"]["id"]: str(c.args.get("users")) for c in fake.calls_to("conversations.open")
               if c.response}
        return [Shared(f.channel_id or "", dms.get(f.channel_id or ""), f.filename, f.title or "",
                       f.initial_comment or "", f.content or b"")
                for f in fake.files.values() if f.completed and user in (None, dms.get(f.channel_id or ""))]
