"""Entitlement checks, in one place. Every path that shows or acts on a target calls these.

The decision itself is models.relevance's `is_entitled` / `entitled_sections`, the functions the day's plan and
its tests use too, applied to the sections as models.planning.cohort_relevance reads them now (a target's slot of
its section, for a question about one target), cached per version of the partnership (models.entitlement_cache).

A member is entitled to a target only if the need-to-know rule, applied per target as the agenda would be planned
now, entitles them to that target's slot (an agency relevant to it, its lead officer, an owner of an open action
on it), or they run the day (coordinator or chair). Analysts never see a target.
A refusal never hints whether the reference exists: an unknown ref and a forbidden ref get the same words,
and every refusal is written to the processing log.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from commands.core.context import Caller
from commands.core.errors import Refused
from models import Action, Cohort, Member, PartnerView, Section, Target, TargetStatus, planning
from models.audit import record
from models.entitlement_cache import RuleView
from models.relevance import (
    SectionRelevance,
    SectionsNow,
    entitled_sections,
    narrowed,
    runs_the_day,
)


def log_refusal(caller: Caller, *, what: str, justification: str, target_id: int | None = None,
                target_ref: str | None = None) -> None:
    """Write one refusal to the processing log, at the request's time, in the request's transaction."""
    record(caller.session, at=caller.now, partnership_id=caller.partnership.id, kind="refusal", actor=caller.actor,
           actor_member_id=caller.member.id, target_id=target_id, target_ref=target_ref, what=what,
           justification=justification)


def rule_view(caller: Caller) -> RuleView:
    """The request's view of the rule (one per request: the versions it read, the answers it has had)."""
    view: RuleView | None = caller.__dict__.get("_rule_view")
    if view is None:
        view = caller.__dict__["_rule_view"] = planning.rule_view(caller.session, caller.partnership,
                                                                  caller.local_now.date())
    return view


def section_now(caller: Caller, cohort_id: int) -> SectionRelevance:
    """The need-to-know rule for one cohort's section with today's targets and open actions:
    models.planning.cohort_relevance, the same reading and rule as the day's plan, cached per version of the
    partnership (models/entitlement_cache.py) and memoised per request."""
    return planning.section_now(rule_view(caller), cohort_id)


def _now(member: Member, *sections: SectionRelevance) -> SectionsNow:
    """The rule's view of these sections for one member (who runs the day sees every one)."""
    return SectionsNow(sections, frozenset({member.key}) if runs_the_day(member) else frozenset())


_ACTIVE_COHORTS = (select(Cohort).where(Cohort.partnership_id == bindparam("partnership_id"), Cohort.active.is_(True))
                   .order_by(Cohort.order, Cohort.key))  # built once: whoami, Home and every list ask it


def entitled_cohorts(caller: Caller, member: Member) -> list[Cohort]:
    """The active cohorts whose section (as planned now: at least one active target) the member is in, in
    cohort order: section by section, what `member_may_see` allows. Those who run the day: every section."""
    if not member.active:
        return []
    cohorts = list(caller.session.scalars(_ACTIVE_COHORTS, {"partnership_id": caller.partnership.id}))
    sections = {c.key: section_now(caller, c.id) for c in cohorts}
    entitled = set(entitled_sections(member.key, _now(member, *(s for s in sections.values() if s.targets))))
    return [c for c in cohorts if c.key in entitled]


def member_may_see(caller: Caller, member: Member, target: Target) -> bool:
    """THE check for showing and acting: models.relevance.is_entitled on the target's slot as the rule gives it
    now. A closed target (off the agenda) stays with its lead officer and those who run the day."""
    if target.partnership_id != caller.partnership.id or not member.active:
        return False
    if runs_the_day(member):
        return True
    slot = planning.target_slot(rule_view(caller), target)  # read whatever the answer: the same work every time
    if target.status != TargetStatus.ACTIVE:
        return target.lead_id == member.id and not narrowed(member)
    return slot is not None and member.key in slot.members  # is_entitled on its slot of its section now


def _checked(caller: Caller, ref: str, target: Target | None) -> bool:
    """`member_may_see` for a target that may not exist. For a reference that does not exist the same work is
    done on a section chosen from the reference (the same queries, the rule applied, cached alike), so a refusal
    takes the same path, and so about the same time, whether or not the reference exists: no timing oracle."""
    cohorts = list(caller.session.scalars(select(Cohort.id).where(Cohort.partnership_id == caller.partnership.id)
                                          .order_by(Cohort.id)))
    if target is not None:
        return member_may_see(caller, caller.member, target)
    if not cohorts or not caller.member.active or runs_the_day(caller.member):
        return False
    cohort_id = cohorts[int(hashlib.sha256(ref.encode()).hexdigest(), 16) % len(cohorts)]
    planning.missing_target_slot(rule_view(caller), cohort_id, ref)
    return False


def partner_view_for(member: Member, target: Target) -> PartnerView:
    """What a member entitled to the target is shown of it in a pack: its lead officer, those who run the day and
    members of core agencies see the full details; any other partner sees what the lead set (Target.partner_view)."""
    if member.id == target.lead_id or runs_the_day(member) or member.agency.core:
        return PartnerView.FULL
    return target.partner_view


def may_set_partner_view(member: Member, target: Target) -> bool:
    """Who decides what partners see of a target: its lead officer, a coordinator or a chair."""
    return member.active and (member.id == target.lead_id or runs_the_day(member))


def refuse(caller: Caller, *, what: str, ref: str | None, target: Target | None = None) -> Refused:
    """Record the refusal and build the error. The wording is the same whether or not the ref exists."""
    log_refusal(caller, target_id=target.id if target else None, target_ref=ref,
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
    if not _checked(caller, ref, target) or target is None:
        raise refuse(caller, what=f"{purpose}: {ref.strip().upper()[:32]}", ref=ref.strip().upper()[:32],
                     target=target)
    return target


def visible_targets(caller: Caller) -> list[Target]:
    """Every active target the caller may see, in reference order."""
    targets = caller.session.scalars(select(Target).where(Target.partnership_id == caller.partnership.id,
                                                          Target.status == TargetStatus.ACTIVE).order_by(Target.ref))
    return [t for t in targets if member_may_see(caller, caller.member, t)]


# ------------------------------------------------------------------------------------------ actions


def refuse_action(caller: Caller, *, number: int, purpose: str, action: Action | None = None) -> Refused:
    """Like `refuse`, for an action number: the same words whether the action is unknown or out of reach."""
    target = action.target if action is not None else None
    log_refusal(caller, target_id=target.id if target else None,
           target_ref=target.ref if target else None, what=f"{purpose}: action {number}",
           justification="need-to-know check failed")
    return Refused(f"You can't see action {number}: either it doesn't exist or you are not in its target's "
                   "section. If you think you should be, ask your coordinator.")


def require_action(caller: Caller, number: int, *, purpose: str) -> Action:
    """The action numbered `number`, if the caller may see its target; otherwise Refused (and audited)."""
    action = caller.session.scalar(select(Action).where(Action.partnership_id == caller.partnership.id,
                                                        Action.number == number)
                                   .options(joinedload(Action.target)))  # one statement, found or not
    if not _checked(caller, f"#{number}", action.target if action is not None else None) or action is None:
        raise refuse_action(caller, number=number, purpose=purpose, action=action)
    return action


def may_manage(caller: Caller, action: Action) -> bool:
    """Change or close an action: its owner, whoever recorded it, the target's lead, or the people who run the day."""
    me = caller.member
    return (member_may_see(caller, me, action.target)
            and (me.id in (action.owner_id, action.created_by_id, action.target.lead_id) or runs_the_day(me)))


def require_manager(caller: Caller, action: Action, *, purpose: str) -> None:
    if may_manage(caller, action):
        return
    log_refusal(caller, target_id=action.target_id, target_ref=action.target.ref,
           what=f"{purpose}: action {action.number}", justification="not the owner, recorder, lead or chair")
    raise Refused(f"Only the owner of action {action.number}, whoever recorded it, the lead officer or the "
                  "coordinator/chair can do that. Ask the owner or your coordinator.")


def require_owner_entitled(caller: Caller, owner: Member, target: Target, *, purpose: str) -> None:
    """An owner must be entitled to the target: nobody is handed an action on a target they may not know of."""
    if member_may_see(caller, owner, target):
        return
    log_refusal(caller, target_id=target.id, target_ref=target.ref,
           what=f"{purpose}: owner {owner.key} on {target.ref}", justification="owner not entitled to the target")
    raise Refused(f"{owner.name} can't own an action on {target.ref}: they are not in its section. Choose "
                  "someone who is, or ask your coordinator.")


def visible_actions(caller: Caller, actions: list[Action]) -> list[Action]:
    """The actions whose targets the caller may see (lists never show anything else)."""
    return [a for a in actions if member_may_see(caller, caller.member, a.target)]


def active_with_role(session: Session, partnership_id: int, role: str) -> list[Member]:
    """The partnership's active members who hold `role` (its chairs, its coordinators), in member-key order."""
    members = session.scalars(select(Member).where(Member.partnership_id == partnership_id,
                                                   Member.active.is_(True)).order_by(Member.key))
    return [m for m in members if m.has_role(role)]


def is_coordinator(member: Member) -> bool:
    """An active coordinator: plans and publishes the day, and sees partnership health."""
    return member.active and member.has_role("coordinator")


def require_coordinator(caller: Caller, *, what: str) -> None:
    """Only an active coordinator plans and publishes the day; a refusal is audited (no target involved)."""
    if is_coordinator(caller.member):
        return
    log_refusal(caller, what=what, justification="coordinator role required")
    raise Refused("Only a coordinator can do that. Ask your coordinator if you need the agenda planned or "
                  "published.")


def may_see_section(caller: Caller, section: Section) -> bool:
    """Whether the caller is in the section as the need-to-know rule puts it now (or runs the day)."""
    member = caller.member
    if section.partnership_id != caller.partnership.id or not member.active:
        return False
    return bool(entitled_sections(member.key, _now(member, section_now(caller, section.cohort_id))))


def require_section(caller: Caller, section_id: int | None, *, purpose: str) -> Section:
    """The section, if the caller is entitled to it now; otherwise Refused (and audited).

    Checked at every press, not only at publication: an invitation can be outlived by a change of flags,
    actions or membership. The words are the same whether or not the section exists.
    """
    section = caller.session.get(Section, section_id) if section_id is not None else None
    if section is None or not may_see_section(caller, section):
        log_refusal(caller, what=f"{purpose}: section {section_id}",
               justification="need-to-know check failed")
        raise Refused("You can't see that section's pack: either it doesn't exist or you are not in that "
                      "section. If you think you should be, ask your coordinator.")
    return section
