"""`/oneday toolkit [flag]` on the Northtown sample: what each agency can bring and what its actions led to, as
counts only (no reference, name or wording), for every member."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from actions_support import reply_text
from sqlalchemy import select

from bot.clock import TickingClock
from bot.config import DEFAULT_COMMANDS
from bot.runner import Request, Runner
from models import Action, Agency, Member, Target


def say(runner: Runner, user: str, intent: str, text: str) -> str:
    result = runner.run(Request("slack", "T0TEST", user, intent, text), lambda _u: None)
    return "\n".join([reply_text(result), *(i.text for i in result.reply.items)])


def test_toolkit_lists_powers_and_outcome_counts_without_naming_anyone(northtown_loaded) -> None:  # type: ignore[no-untyped-def]
    runner = Runner(factory=northtown_loaded, names=dict(DEFAULT_COMMANDS),
                    clock=TickingClock(datetime(2026, 11, 20, 10, 0, tzinfo=UTC)))
    assert "recorded" in say(runner, "U0TOM", "action", "OCG-07 @sam.patel check benefits claim by Friday")
    with runner.factory() as session:
        number = session.scalar(select(Action.number).order_by(Action.id.desc()))
    assert f"Action #{number} closed" in say(runner, "U0SAM", "outcome",
                                             f"{number} claim suspended pending review benefit-sanction")

    everything = say(runner, "U0DAN", "oneday", "toolkit")  # a partner not in the OCG section reads it too
    with runner.factory() as session:
        agencies = session.scalars(select(Agency)).all()
        refs = set(session.scalars(select(Target.ref)))
        names = set(session.scalars(select(Member.name))) | set(session.scalars(select(Member.key)))
        dwp = next(a for a in agencies if a.key == "dwp")
        police = next(a for a in agencies if a.key == "police")
    assert all(a.name in everything for a in agencies)
    assert "Powers: arrest, search warrant" in everything
    assert re.search(rf"{re.escape(dwp.name)}\s+Acts on: [^\n]*benefits", everything)
    assert "What its actions led to (last 12 months): benefit sanction 1" in everything
    assert not refs & set(re.findall(r"[A-Z]+-\d+", everything))
    assert not [n for n in names if n in everything]
    assert "check benefits claim" not in everything and "claim suspended" not in everything

    one_flag = say(runner, "U0DAN", "oneday", "toolkit flag:benefits")
    assert dwp.name in one_flag and police.name not in one_flag
    assert "Toolkit: benefits" in one_flag
    bad = say(runner, "U0DAN", "oneday", "toolkit unicorns")
    assert "no agency acts on 'unicorns'; the flags agencies act on:" in bad
    assert "Example: /oneday toolkit benefits" in bad
