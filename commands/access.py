"""Entitlement checks, in one place. Every path that shows or acts on a target calls these.

A member is entitled to a target only if the need-to-know rule puts them in that target's section as the
agenda would be planned now, or they are its lead officer, or they run the day (coordinator or chair).
A refusal never hints whether the reference exists: an unknown ref and a forbidden ref get the same words,
and every refusal is written to the processing log.
"""

from __future__ import annotations

from sqlalchemy import select

from commands.context import Caller
from commands.errors import Refused
from models import Action, Agency, Cohort, Member, Target
from models.audit import record
from models.relevance import (
    PRIVILEGED_ROLES,
    SectionRelevance,
    action_info,
    cohort_info,
    directory_of,
    section_relevance,
    target_info,
)


def runs_the_day(member: Member) -> bool:
    return member.active and member.has_role(*PRIVILEGED_ROLES)


def section_now(caller: Caller, cohort_id: int) -> SectionRelevance:
    """The need-to-know rule for one cohort's section with today's targets and open actions (memoised per request)."""
    cache: dict[int, SectionRelevance] = caller.__dict__.setdefault("_sections", {})
    if cohort_id in cache:
        return cache[cohort_id]
    s, pid = caller.session, caller.partnership.id
    agencies = list(s.scalars(select(Agency).where(Agency.partnership_id == pid)))
    members = list(s.scalars(select(Member).where(Member.partnership_id == pid)))
    cohort = s.get(Cohort, cohort_id)
    assert cohort is not None and cohort.partnership_id == pid
    targets = list(s.scalars(select(Target).where(Target.partnership_id == pid, Target.cohort_id == cohort_id,
                                                  Target.status == "active")))
    actions = list(s.scalars(select(Action).where(Action.partnership_id == pid, Action.status == "open",
                                                  Action.target_id.in_([t.id for t in targets]))))
    member_keys = {m.id: m.key for m in members}
    refs = {t.id: t.ref for t in targets}
    cohort_keys = {cohort.id: cohort.key}
    relevance = section_relevance(directory_of(caller.partnership, agencies, members), cohort_info(cohort),
                                  [target_info(t, cohort_keys, member_keys) for t in targets],
                                  [action_info(a, refs, member_keys) for a in actions])
    cache[cohort_id] = relevance
    return relevance


def member_may_see(caller: Caller, member: Member, target: Target) -> bool:
    if target.partnership_id != caller.partnership.id or not member.active:
        return False
    if runs_the_day(member) or target.lead_id == member.id:
        return True
    if target.status != "active":
        return False
    return member.key in section_now(caller, target.cohort_id).members


def refuse(caller: Caller, *, what: str, ref: str | None, target: Target | None = None) -> Refused:
    """Record the refusal and build the error. The wording is the same whether or not the ref exists."""
    record(caller.session, partnership_id=caller.partnership.id, kind="refusal", actor=caller.actor,
           actor_member_id=caller.member.id, target_id=target.id if target else None, target_ref=ref,
           what=what, justification="need-to-know check failed")
    shown = f"'{ref}'" if ref else "that target"
    return Refused(f"You can't see {shown}: either it doesn't exist or you are not in its section. "
                   "If you think you should be, ask your coordinator.")


def find_target(caller: Caller, ref: str) -> Target | None:
    return caller.session.scalar(select(Target).where(Target.partnership_id == caller.partnership.id,
                                                      Target.ref == ref.strip().upper()))


def require_target(caller: Caller, ref: str, *, purpose: str) -> Target:
    """The target the caller named, if they are entitled to it; otherwise Refused (and audited)."""
    target = find_target(caller, ref)
    if target is None or not member_may_see(caller, caller.member, target):
        raise refuse(caller, what=f"{purpose}: {ref.strip().upper()[:32]}", ref=ref.strip().upper()[:32],
                     target=target)
    return target


def visible_targets(caller: Caller) -> list[Target]:
    """Every active target the caller may see, in reference order."""
    targets = caller.session.scalars(select(Target).where(Target.partnership_id == caller.partnership.id,
                                                          Target.status == "active").order_by(Target.ref))
    return [t for t in targets if member_may_see(caller, caller.member, t)]
