"""The feedback loop: when an outcome is recorded, those who contributed to the target are told what it led to.

Contributors (PRODUCT.md) are: the owners of actions on the target, the agencies that opened its pack (the
processing log's consultations of it, by anyone but those who run the day), and its lead officer. Attendance at
its slot will join them when attendance is recorded. Each is told only while the rule entitles them to the
target now, and each message says why the recipient gets it; a flag that merely matches is not a contribution.
"""

from __future__ import annotations

from sqlalchemy import select

from commands.core import access
from commands.core.context import Caller
from commands.core.replies import Destination, Notice, Reply
from models import Action, Agency, AuditEvent, Member
from models.relevance import runs_the_day


def contributors(caller: Caller, action: Action) -> dict[int, tuple[Member, str]]:
    """Member id -> (member, why they are told), for everyone who contributed to the action's target."""
    s, pid, target = caller.session, caller.partnership.id, action.target
    found: dict[int, tuple[Member, str]] = {}

    def add(member: Member | None, why: str) -> None:
        if member is not None and member.id not in found:
            found[member.id] = (member, why)

    add(target.lead, f"you lead {target.ref}")
    # numbers and owner ids only: loading whole actions would open each one's sealed text for nothing
    owned = s.execute(select(Action.number, Action.owner_id).where(
        Action.partnership_id == pid, Action.target_id == target.id).order_by(Action.number)).all()
    owner_ids = {owner_id for _, owner_id in owned if owner_id is not None}
    owners = {m.id: m for m in s.scalars(select(Member).where(Member.id.in_(owner_ids)))} if owner_ids else {}
    for number, owner_id in owned:
        if owner_id is not None:
            add(owners.get(owner_id), f"you own action #{number} on {target.ref}")
    # each opener once, however often they opened it (the log grows with every showing)
    opener_ids = select(AuditEvent.actor_member_id).where(
        AuditEvent.partnership_id == pid, AuditEvent.kind == "consultation", AuditEvent.target_id == target.id,
        AuditEvent.actor_member_id.is_not(None)).distinct()
    openers = s.scalars(select(Member).where(Member.id.in_(opener_ids)))
    agencies = {m.agency_id for m in openers if not runs_the_day(m)}
    if agencies:
        names = dict(s.execute(select(Agency.id, Agency.name).where(Agency.id.in_(agencies))).all())
        for member in s.scalars(select(Member).where(Member.partnership_id == pid, Member.agency_id.in_(agencies),
                                                     Member.active.is_(True)).order_by(Member.key)):
            add(member, f"{names[member.agency_id]} opened the pack for {target.ref}")
    return {k: v for k, v in found.items() if v[0].active and access.member_may_see(caller, v[0], target)}


def feedback_notices(caller: Caller, action: Action, message: Reply, *, already: set[int]) -> list[Notice]:
    """DMs to the target's contributors who are entitled to it now, except those in `already`."""
    notices = []
    for member_id, (member, why) in sorted(contributors(caller, action).items(), key=lambda kv: kv[1][0].key):
        if member_id in already:
            continue
        told = Reply(title=f"What your information led to: {action.target.ref}",
                     lines=(f"You are told because {why}. An outcome has been recorded.",), fields=message.fields)
        notices.append(Notice(Destination.member(member.key), told, f"action:{action.number}:feedback:{member.key}",
                              about=(action.target.ref,)))
    return notices
