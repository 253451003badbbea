"""What the report tests scan for, and how they read a PDF."""

from __future__ import annotations

import re
import zlib

from sqlalchemy import select

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
