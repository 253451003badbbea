"""`/oneday toolkit [flag]`: what everybody can bring to the table (the evaluation's first recommendation).

For each agency: the flags it acts on, its powers and the information it holds (the partnership file), and what
its members' actions led to over the last year: outcome categories with counts. Counts only, never a reference,
name or wording, so every member may read it. With a flag, only the agencies that act on it, and the outcomes of
actions on targets carrying it.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from commands.core.context import Caller
from commands.core.errors import UsageError
from commands.core.names import command
from commands.core.replies import Item, Reply, Result
from models import Action, Agency, Member, Outcome, Target

WINDOW = timedelta(days=365)


def run(caller: Caller, words: list[str]) -> Result:
    example = command(caller.names, "oneday", "toolkit", "benefits")
    if len(words) > 1:
        raise UsageError("takes at most one flag", example=example)
    flag = words[0].lower().removeprefix("flag:") if words else None
    s, pid = caller.session, caller.partnership.id
    agencies = list(s.scalars(select(Agency).where(Agency.partnership_id == pid).order_by(Agency.name)))
    known = sorted({f for a in agencies for f in a.flags or []})
    if flag is not None and flag not in known:
        raise UsageError(f"no agency acts on '{flag[:40]}'; the flags agencies act on: {', '.join(known)}",
                         example=example)
    since = caller.now - WINDOW
    rows = s.execute(select(Member.agency_id, Outcome.category, Target.flags)
                     .join(Action, Outcome.action_id == Action.id)
                     .join(Member, Action.owner_id == Member.id)
                     .join(Target, Action.target_id == Target.id)
                     .where(Outcome.partnership_id == pid, Outcome.recorded_at >= since)).all()
    led: dict[int, Counter[str]] = {}
    for agency_id, category, flags in rows:
        if flag is None or flag in (flags or []):
            led.setdefault(agency_id, Counter())[category] += 1
    items: list[Item] = []
    for a in agencies:
        if flag is not None and flag not in (a.flags or []):
            continue
        outcomes = led.get(a.id, Counter())
        details = [f"Acts on: {', '.join(a.flags or []) or 'no flags yet'}",
                   f"Powers: {', '.join(p.replace('-', ' ') for p in a.powers or []) or 'none listed'}"]
        if a.information:
            details.append(f"Information it can bring: {', '.join(a.information)}")
        details.append("What its actions led to (last 12 months): " + (
            ", ".join(f"{c.replace('-', ' ')} {n}" for c, n in sorted(outcomes.items(), key=lambda x: (-x[1], x[0])))
            or "no outcomes recorded yet"))
        items += [Item(a.name, heading=True), Item("\n".join(details))]  # two blocks an agency: 20+ agencies fit
    title = f"Toolkit: {flag}" if flag else "Toolkit: what every agency can bring"
    return Result(Reply(title=title, items=tuple(items),
                        footer=f"Counts only. For one flag: {example}. Agencies' flags, powers and information are "
                               "in the partnership file."))
