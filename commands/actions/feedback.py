"""The feedback loop: when an outcome is recorded, the agencies that contributed to the target are told what
their information led to.

Contributors are the agencies that owned an action on the target, or that the need-to-know rule invites to
its section for a flag that matches this target. Their members in that section get a DM; nobody else does.
"""

from __future__ import annotations

from sqlalchemy import select

from commands.core import access
from commands.core.context import Caller
from commands.core.replies import Destination, Notice, Reply
from models import Action, Agency, Member


def contributing_agencies(caller: Caller, action: Action) -> set[str]:
    target = action.target
    owners = caller.session.scalars(select(Member.agency_id).join(Action, Action.owner_id == Member.id).where(
        Action.partnership_id == caller.partnership.id, Action.target_id == target.id))
    keys = set(caller.session.scalars(select(Agency.key).where(Agency.id.in_(list(owners)))))
    section = access.section_now(caller, target.cohort_id)
    for invite in section.agencies:
        if any(r.startswith("flag:") and r.endswith(f"({target.ref})") for r in invite.reasons):
            keys.add(invite.key)
    return keys


def feedback_notices(caller: Caller, action: Action, message: Reply, *, already: set[int]) -> list[Notice]:
    """DMs to the contributing agencies' members in the target's section, except those in `already`."""
    agencies = contributing_agencies(caller, action)
    section = access.section_now(caller, action.target.cohort_id)
    members = caller.session.scalars(select(Member).join(Agency, Agency.id == Member.agency_id).where(
        Member.partnership_id == caller.partnership.id, Member.active.is_(True), Member.key.in_(section.members),
        Agency.key.in_(agencies)).order_by(Member.key))
    told = Reply(title=f"What your information led to: {action.target.ref}", lines=(
        "Your agency contributed to this target (an action or a matching flag). An outcome has been recorded.",),
        fields=message.fields)
    return [Notice(Destination.member(m.key), told, f"action:{action.number}:feedback:{m.key}",
                   about=(action.target.ref,))
            for m in members if m.id not in already]
