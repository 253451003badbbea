"""A meeting cycle on the Northtown sample, through the runner as people type it: actions in November and
December, outcomes, a cancellation, the meeting of Tuesday 8 December 2026 published, attendance (present,
apologies with a substitute), a decision and a partner's information. The report tests read its database.

Every text typed here is distinctive, so a report that carried any of it would be caught by the scan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from actions_support import reply_text
from sqlalchemy import select

from bot import db
from bot.clock import TickingClock
from bot.config import DEFAULT_COMMANDS
from bot.runner import Request, Runner
from commands.core.replies import Result
from models import Section

# (when, user, intent, text, what the answer must say)
STEPS: tuple[tuple[datetime, str, str, str, str], ...] = (
    (datetime(2026, 11, 10, 10, 0, tzinfo=UTC), "U0TOM", "action",
     "OCG-07 @sam.patel check the benefits claim against the declared earnings by 2026-11-20", "#1"),
    (datetime(2026, 11, 10, 10, 5, tzinfo=UTC), "U0TOM", "action",
     "OCG-07 @mark.dunn inspect the tenancy file for subletting by 2026-11-25", "#2"),
    (datetime(2026, 11, 18, 15, 0, tzinfo=UTC), "U0SAM", "outcome",
     "1 claim suspended pending the review of earnings benefit-sanction", "closed"),
    (datetime(2026, 12, 2, 9, 0, tzinfo=UTC), "U0TOM", "action",
     "OCG-10 @tom.ashby brief the firearms team on the lock-up garages by 2026-12-07", "#3"),
    (datetime(2026, 12, 2, 9, 5, tzinfo=UTC), "U0HELEN", "action",
     "N-0412 @helen.ward revisit the licence conditions at the next supervision by 2026-12-04", "#4"),
    (datetime(2026, 12, 2, 9, 10, tzinfo=UTC), "U0TOM", "action",
     "OCG-10 @tom.ashby speak to the storage yard owner about hire records by 2026-12-20", "#5"),
    (datetime(2026, 12, 3, 10, 0, tzinfo=UTC), "U0JO", "agenda", "publish 2026-12-08", "Published the agenda"),
    (datetime(2026, 12, 3, 11, 0, tzinfo=UTC), "U0TOM", "action", "cancel 5 the yard has changed hands", "ancel"),
    (datetime(2026, 12, 4, 16, 0, tzinfo=UTC), "U0HELEN", "outcome",
     "4 recall to custody requested after the missed appointments licence-review", "closed"),
    (datetime(2026, 12, 5, 12, 0, tzinfo=UTC), "U0MARK", "agenda", "apologies 2026-12-08", "pologies"),
)


@dataclass
class Cycle:
    runner: Runner
    clock: TickingClock
    said: list[str] = field(default_factory=list)  # every answer, for the tests to check nothing failed

    def say(self, user: str, intent: str, text: str, channel: str | None = None) -> Result:
        result = self.runner.run(Request("slack", "T0TEST", user, intent, text, channel=channel), lambda _u: None)
        self.said.append(reply_text(result))
        return result

    @property
    def factory(self):  # type: ignore[no-untyped-def]
        return self.runner.factory


AFTER = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)  # when the reports are made


@pytest.fixture
def cycle(northtown_loaded) -> Cycle:  # type: ignore[no-untyped-def]
    clock = TickingClock(STEPS[0][0])
    c = Cycle(Runner(factory=northtown_loaded, names=dict(DEFAULT_COMMANDS), clock=clock), clock)
    for when, user, intent, text, expected in STEPS:
        clock.set(when)
        said = reply_text(c.say(user, intent, text))
        assert expected in said, f"{user} {intent} {text!r}: {said}"
    with db.unit_of_work(northtown_loaded) as session:
        for s in session.scalars(select(Section)):
            s.space_ref = f"C0{s.cohort.key.upper().replace('-', '')}"
        ocg = session.scalar(select(Section).where(Section.space_ref == "C0OCG"))
        assert ocg is not None
        starts = ocg.starts_at
    clock.set(starts + timedelta(minutes=2))
    assert "Marked present" in reply_text(c.say("U0SAM", "agenda", "here", channel="C0OCG"))
    assert "Marked present" in reply_text(c.say("U0ROSE", "agenda", "present @tom.ashby", channel="C0OCG"))
    clock.set(starts + timedelta(minutes=20))
    decided = reply_text(c.say("U0ROSE", "decision", "OCG-07 escalated refer the cultivation network to regional "
                                                     "tasking"))
    assert "escalated" in decided.lower(), decided
    informed = reply_text(c.say("U0SAM", "inform", "OCG-07 the claimant declared a new employer at the cash and "
                                                   "carry warehouse"))
    assert "lead officer" in informed.lower(), informed
    clock.set(datetime(2026, 12, 9, 14, 0, tzinfo=UTC))
    assert "closed" in reply_text(c.say("U0TOM", "outcome", "3 two arrests at the lock-up garages arrest"))
    clock.set(AFTER)
    return c
