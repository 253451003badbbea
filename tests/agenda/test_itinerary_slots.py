"""Itineraries list exactly the member's slots: time, reference, why they are there, what is asked of them and what
their agency can bring; the notice names exactly those targets (checked again at delivery); the .ics names none."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from commands.agenda.publish import publish
from models import Partnership, Target
from models.planning import plan_day

DAY = date(2026, 12, 8)
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
REF = re.compile(r"\b(?:OCG|CL|GNG|N)-\d{2,4}\b")


def test_each_itinerary_lists_exactly_the_members_slots(northtown_loaded: Any) -> None:
    with northtown_loaded() as session, session.begin():
        p = session.scalar(select(Partnership))
        target = session.scalar(select(Target).where(Target.ref == "OCG-07"))
        assert target is not None and target.details is not None
        target.details.ask = "what addresses the members claim at"
        plan = plan_day(session, p, DAY)
        published = publish(session, p, DAY, actor="test", now=NOW)
    itineraries = {n.to.ref: n for n in published.notices if n.key.startswith(f"publish:{DAY}:itinerary:")}
    assert set(itineraries) == set(plan.itineraries)
    for member, stops in plan.itineraries.items():
        notice = itineraries[member]
        mine = [slot.target for stop in stops for slot in stop.slots]
        text = "\n".join(notice.message.lines)
        assert sorted(set(REF.findall(text))) == sorted(mine), member
        assert notice.about == tuple(mine)
        assert notice.attachment is not None and not REF.findall(notice.attachment.content)
        for stop in stops:
            for slot in stop.slots:
                assert f"{slot.start:%H:%M}-{slot.end:%H:%M}  {slot.target}: " in text
    sam = "\n".join(itineraries["sam.patel"].message.lines)
    assert "OCG-07: your agency acts on benefits" in sam
    assert "Asked of partners: what addresses the members claim at" in sam
    assert "What Department for Work and Pensions can bring: benefit-sanction" in sam
