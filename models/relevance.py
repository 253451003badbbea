"""Need-to-know, per target: which agencies and members are entitled to each target, and every reason why.

This is the rule that shapes everything (PRODUCT.md): nothing about a target may reach anyone the rule does not
entitle to that target. `target_relevance` is the rule for one target (one slot of the day); a section is the
union of its slots (`section_relevance`), which is who its channel holds, and so a channel carries nothing about any
one target. It is written as pure functions over small frozen dataclasses, not over ORM entities, so the rule can
be tested from tables of cases and can never trigger a lazy load or a write. The adapter functions at the bottom
are the only place that touches entities.

Decisions on the rule's edge cases (each is also written as a note the coordinator can read):
- Reasons are listed in the rule's order (cohort, flag, action, lead, added), then in the section's target order.
- Only open actions count; the agency of an action is the agency of its owner.
- An agency that has not signed the partnership's current ISP is excluded (reason ``isp``), whatever the cohort's
  settings; the reasons it would have had are kept.
- A lead officer is entitled to their own target even when their agency is excluded for ISP (they are the plan
  owner and already hold that intelligence), and to nothing else on that ground; the coordinator is told.
- An action owner whose agency is excluded for ISP is not entitled (unless on another ground).
- An analyst (without a coordinator or chair role) is never entitled to a target: figures only.
- The coordinator may add or drop an agency for one target or one meeting (`Override`, reasons ``added:`` and
  ``dropped:``); a drop never removes the lead officer or an action owner, who are entitled in person.
- Inactive agencies and members are never invited; out-of-office does not affect invitation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from models.action import Action, ActionStatus
from models.partnership import Agency, Cohort, Member, Partnership
from models.target import Target, TargetStatus

ISP = "isp"
PRIVILEGED_ROLES = ("coordinator", "chair")


@dataclass(frozen=True)
class AgencyInfo:
    key: str
    flags: tuple[str, ...] = ()
    isp_signed: str | None = None
    active: bool = True
    category: str = ""
    core: bool = False


@dataclass(frozen=True)
class MemberInfo:
    key: str
    agency: str
    cohorts: tuple[str, ...] = ()
    spoc: bool = False
    active: bool = True
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class CohortInfo:
    key: str
    agencies: tuple[str, ...] = ()
    personal_data: bool = True
    order: int = 0
    minutes_per_target: int = 10
    active: bool = True
    name: str = ""


@dataclass(frozen=True)
class TargetInfo:
    ref: str
    cohort: str
    lead: str
    flags: tuple[str, ...] = ()
    priority: int = 2
    active: bool = True


@dataclass(frozen=True)
class ActionInfo:
    number: int
    target: str  # target ref
    owner: str  # member key
    status: ActionStatus = ActionStatus.OPEN
    due: date | None = None

    @property
    def open(self) -> bool:
        return self.status == ActionStatus.OPEN


@dataclass(frozen=True)
class Directory:
    """Who exists in the partnership, and the ISP version everyone must have signed."""

    isp_version: str
    agencies: Mapping[str, AgencyInfo] = field(default_factory=dict)
    members: Mapping[str, MemberInfo] = field(default_factory=dict)

    @classmethod
    def of(cls, isp_version: str, agencies: Iterable[AgencyInfo], members: Iterable[MemberInfo]) -> Directory:
        return cls(isp_version, {a.key: a for a in agencies}, {m.key: m for m in members})


@dataclass(frozen=True)
class AgencyInvite:
    key: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Exclusion:
    """An agency kept out; `reason` is ``isp`` or ``dropped: <why>``; `would_have` says what it would have had."""

    key: str
    reason: str
    would_have: tuple[str, ...]


@dataclass(frozen=True)
class Override:
    """A coordinator's decision, with its reason: add or drop an agency for one target (`target` its ref) or for
    every target of the meeting (`target` None). Shown in the plan and logged where it is made."""

    agency: str
    add: bool
    reason: str
    target: str | None = None

    def applies_to(self, ref: str) -> bool:
        return self.target is None or self.target == ref


@dataclass(frozen=True)
class TargetRelevance:
    """The rule applied to one target: who is entitled to it and why. A slot of the day is one of these.

    `members` are the entitled members (those who run the day are entitled to every target besides);
    `why` gives each of them their reasons, in words the member is shown (e.g. "flag:benefits (N-0407)").
    """

    ref: str
    cohort: str
    lead: str
    agencies: tuple[AgencyInvite, ...]
    excluded: tuple[Exclusion, ...]
    members: tuple[str, ...]
    why: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SectionRelevance:
    """The rule applied to a section: its targets' slots, and their union (who the section's space holds)."""

    cohort: str
    targets: tuple[str, ...]
    leads: Mapping[str, str]  # target ref -> lead member key
    agencies: tuple[AgencyInvite, ...]
    excluded: tuple[Exclusion, ...]
    members: tuple[str, ...]
    notes: tuple[str, ...] = ()
    slots: tuple[TargetRelevance, ...] = ()

    def slot(self, ref: str) -> TargetRelevance | None:
        return next((s for s in self.slots if s.ref == ref), None)


# ------------------------------------------------------------------------------------------ the rule

_REASON_ORDER = {"cohort": 0, "flag": 1, "action": 2, "lead": 3, "added": 4}


def _rank(reason: str) -> int:
    return _REASON_ORDER.get(reason.partition(":")[0], 5)


def _agency_reasons(agency: AgencyInfo, cohort: CohortInfo, target: TargetInfo, actions: Sequence[ActionInfo],
                    members: Mapping[str, MemberInfo]) -> list[str]:
    """Every reason the rule gives for one agency and one target, in rule order, without duplicates."""
    reasons: list[str] = []
    if agency.key in cohort.agencies:
        reasons.append(f"cohort:{cohort.key}")
    reasons += [f"flag:{flag} ({target.ref})" for flag in dict.fromkeys(target.flags) if flag in agency.flags]
    reasons += [f"action:{a.number} ({a.target})" for a in actions
                if a.target == target.ref and a.owner in members and members[a.owner].agency == agency.key]
    if target.lead in members and members[target.lead].agency == agency.key:
        reasons.append(f"lead:{target.ref}")
    return list(dict.fromkeys(reasons))


def _open_actions(targets: Sequence[TargetInfo], actions: Iterable[ActionInfo]) -> list[ActionInfo]:
    """Open actions on these targets, in target order then by number."""
    position = {t.ref: i for i, t in enumerate(targets)}
    mine = [a for a in actions if a.open and a.target in position]
    return sorted(mine, key=lambda a: (position[a.target], a.number))


def narrowed(member: Staff) -> bool:
    """Roles narrow entitlement: an analyst sees depersonalised figures only, never a target."""
    roles = member.roles or ()
    return "analyst" in roles and not any(r in PRIVILEGED_ROLES for r in roles)


def _agency_members(directory: Directory, agency: str, cohort: str) -> list[str]:
    """Active members attending the cohort, else the agency's active single point(s) of contact."""
    staff = [m for m in directory.members.values() if m.agency == agency and m.active and not narrowed(m)]
    attending = [m.key for m in staff if cohort in m.cohorts]
    return attending or [m.key for m in staff if m.spoc]


def _active_agencies(directory: Directory) -> list[tuple[str, AgencyInfo]]:
    """The directory's active agencies, by key: the only ones the rule may invite or exclude."""
    return [(key, directory.agencies[key]) for key in sorted(directory.agencies) if directory.agencies[key].active]


def target_relevance(directory: Directory, cohort: CohortInfo, target: TargetInfo,
                     actions: Iterable[ActionInfo], overrides: Sequence[Override] = (), *,
                     members_of: dict[tuple[str, str], list[str]] | None = None,
                     active_agencies: Sequence[tuple[str, AgencyInfo]] | None = None) -> TargetRelevance:
    """THE rule, for one target: relevant agencies with reasons, exclusions, and the entitled members.

    Relevant: the cohort names the agency, a flag matches, it owns an open action on the target, or it is the
    lead officer's agency; a coordinator may add or drop an agency (with a reason). Excluded: no current ISP
    (whatever the cohort's setting). Entitled: each relevant, non-excluded agency's members attending the cohort
    (else its single point of contact); the lead officer (even when their agency is excluded: they keep only
    their own target); owners of open actions on it (unless their agency is excluded). Analysts never.
    """
    ref = target.ref
    mine = [a for a in actions if a.open and a.target == ref]
    mine.sort(key=lambda a: a.number)
    mine_overrides = [o for o in overrides if o.applies_to(ref)]
    invited: list[AgencyInvite] = []
    excluded: list[Exclusion] = []
    # The agencies that can have a reason at all (cohort, a shared flag, an open action, the lead, an addition):
    # the others are skipped before any reason is built. Only a shortcut: the reasons are built as before.
    people = directory.members
    flags = frozenset(target.flags)
    possible = set(cohort.agencies) | {o.agency for o in mine_overrides if o.add}
    possible |= {people[a.owner].agency for a in mine if a.owner in people}
    if target.lead in people:
        possible.add(people[target.lead].agency)
    # a section's targets share the directory: its active agencies in key order are found once (`active_agencies`)
    for key, agency in _active_agencies(directory) if active_agencies is None else active_agencies:
        if key not in possible and flags.isdisjoint(agency.flags):
            continue
        reasons = _agency_reasons(agency, cohort, target, mine, directory.members)
        reasons += [f"added:{o.reason} ({ref})" for o in mine_overrides if o.add and o.agency == key]
        dropped = [o for o in mine_overrides if not o.add and o.agency == key]
        if not reasons:
            continue
        if agency.isp_signed != directory.isp_version:
            excluded.append(Exclusion(key, ISP, tuple(reasons)))
        elif dropped:
            excluded.append(Exclusion(key, f"dropped: {dropped[-1].reason}", tuple(reasons)))
        else:
            invited.append(AgencyInvite(key, tuple(reasons)))
    notes: list[str] = []
    why: dict[str, list[str]] = {}
    for ex in excluded:
        if ex.reason == ISP:
            signed = directory.agencies[ex.key].isp_signed or "nothing"
            notes.append(f"{ref}: {ex.key} excluded (isp: signed {signed}, current {directory.isp_version}); "
                         f"would have been invited for {', '.join(ex.would_have)}")
        else:
            notes.append(f"{ref}: {ex.key} {ex.reason}; would have been invited for {', '.join(ex.would_have)}")
    for invite in invited:
        # a section's targets share the directory and the cohort: each agency's members are found once
        pair = (invite.key, cohort.key)
        if members_of is None:
            chosen = _agency_members(directory, invite.key, cohort.key)
        elif pair in members_of:
            chosen = members_of[pair]
        else:
            chosen = members_of[pair] = _agency_members(directory, invite.key, cohort.key)
        if not chosen:
            notes.append(f"{ref}: {invite.key} is invited but has no active member attending {cohort.key} and no "
                         "active single point of contact")
        for m in chosen:
            why.setdefault(m, []).extend(invite.reasons)
    excluded_keys = {ex.key for ex in excluded if ex.reason == ISP}
    lead = directory.members.get(target.lead)
    if lead is None or not lead.active:
        notes.append(f"{ref}: lead officer {target.lead} is not an active member; not invited")
    elif narrowed(lead):
        notes.append(f"{ref}: lead officer {lead.key} has the analyst role, which sees no target; not invited")
    else:
        why.setdefault(lead.key, []).append(f"lead:{ref}")
        if lead.agency in excluded_keys:
            notes.append(f"{ref}: lead officer {lead.key} keeps this target although {lead.agency} has not signed "
                         "the current ISP")
    for a in mine:
        owner = directory.members.get(a.owner)
        if owner is None or not owner.active or narrowed(owner):
            notes.append(f"{ref}: owner {a.owner} of action {a.number} is not an active member who may see "
                         "targets; not invited")
        elif owner.agency in excluded_keys:
            if owner.key not in why:
                notes.append(f"{ref}: owner {owner.key} of action {a.number} not invited: {owner.agency} has not "
                             "signed the current ISP")
        else:
            why.setdefault(owner.key, []).append(f"action:{a.number} ({ref})")
    return TargetRelevance(ref, cohort.key, target.lead, tuple(invited), tuple(excluded), tuple(sorted(why)),
                           {m: tuple(dict.fromkeys(r)) for m, r in sorted(why.items())}, tuple(dict.fromkeys(notes)))


def _merge(groups: Iterable[Iterable[tuple[str, tuple[str, ...]]]]) -> dict[str, list[str]]:
    merged: dict[str, list[str]] = {}
    for group in groups:
        for key, reasons in group:
            merged.setdefault(key, []).extend(reasons)
    return {k: sorted(dict.fromkeys(v), key=_rank) for k, v in sorted(merged.items())}


def _slots(directory: Directory, cohort: CohortInfo, targets: Sequence[TargetInfo], actions: Iterable[ActionInfo],
           overrides: Sequence[Override]) -> list[TargetRelevance]:
    """The rule for each of these targets of one section, in the order given."""
    # Each target is given only its own open actions (target_relevance keeps those anyway): the same answer, in
    # time linear in targets + actions rather than their product (6,000 targets x 1,500 actions: seconds).
    by_target: dict[str, list[ActionInfo]] = {}
    for a in _open_actions(targets, actions):
        by_target.setdefault(a.target, []).append(a)
    members_of: dict[tuple[str, str], list[str]] = {}
    agencies = _active_agencies(directory)
    return [target_relevance(directory, cohort, t, by_target.get(t.ref, ()), overrides, members_of=members_of,
                             active_agencies=agencies) for t in targets]


def target_slots(directory: Directory, cohort: CohortInfo, targets: Sequence[TargetInfo],
                 actions: Iterable[ActionInfo], overrides: Sequence[Override] = ()) -> dict[str, TargetRelevance]:
    """Each target's slot by reference: `section_relevance(...).slots` without the section's union, for a caller that
    orders the section by its slots first and then asks for the section in that order (`known=`)."""
    return {s.ref: s for s in _slots(directory, cohort, targets, actions, overrides)}


def section_relevance(directory: Directory, cohort: CohortInfo, targets: Sequence[TargetInfo],
                      actions: Iterable[ActionInfo], overrides: Sequence[Override] = (), *,
                      known: Mapping[str, TargetRelevance] | None = None) -> SectionRelevance:
    """The rule for each of a section's targets (its slots, in the order given), and their union. `known`: slots
    already computed from the same input (a slot does not depend on the order: the planner reorders a section
    without applying the rule to each target again)."""
    known = known or {}
    missing = [t for t in targets if t.ref not in known]
    fresh = iter(_slots(directory, cohort, missing, actions, overrides) if missing else ())
    slots = tuple(known[t.ref] if t.ref in known else next(fresh) for t in targets)
    invited = _merge(((a.key, a.reasons) for a in s.agencies) for s in slots)
    kept_out = _merge(((e.key, e.would_have) for e in s.excluded) for s in slots)
    first_reason = {e.key: e.reason for s in slots for e in reversed(s.excluded)}
    return SectionRelevance(
        cohort=cohort.key,
        targets=tuple(t.ref for t in targets),
        leads={t.ref: t.lead for t in targets},
        agencies=tuple(AgencyInvite(k, tuple(v)) for k, v in invited.items()),
        excluded=tuple(Exclusion(k, first_reason[k], tuple(v)) for k, v in kept_out.items() if k not in invited),
        members=tuple(sorted({m for s in slots for m in s.members})),
        notes=tuple(dict.fromkeys(n for s in slots for n in s.notes)),
        slots=slots,
    )


def invite_agencies(directory: Directory, cohort: CohortInfo, targets: Sequence[TargetInfo],
                    actions: Iterable[ActionInfo]) -> tuple[tuple[AgencyInvite, ...], tuple[Exclusion, ...]]:
    """Invited and excluded agencies for one section (the union of its targets'), each ordered by agency key."""
    rel = section_relevance(directory, cohort, targets, actions)
    return rel.agencies, rel.excluded


# ------------------------------------------------------------------------------------ entitlement


class Entitlements(Protocol):
    """What an authorisation check needs from a day's plan (DayPlan provides it)."""

    @property
    def relevance(self) -> Sequence[SectionRelevance]: ...

    @property
    def privileged(self) -> frozenset[str]: ...


class Staff(Protocol):
    """A member as an entity or as plain data: what `runs_the_day` reads."""

    @property
    def active(self) -> bool: ...

    @property
    def roles(self) -> Sequence[str]: ...


def runs_the_day(member: Staff) -> bool:
    """Active coordinators and chairs run the day: they may see every section and every target."""
    return bool(member.active) and any(role in PRIVILEGED_ROLES for role in member.roles or ())


def privileged_members(members: Iterable[MemberInfo]) -> frozenset[str]:
    """The keys of the members who run the day."""
    return frozenset(m.key for m in members if runs_the_day(m))


@dataclass(frozen=True)
class SectionsNow:
    """Entitlements from sections computed now (not a whole day's plan): what a showing or sending checks."""

    relevance: tuple[SectionRelevance, ...]
    privileged: frozenset[str] = frozenset()


def entitled_sections(member_key: str, plan: Entitlements) -> tuple[str, ...]:
    """Cohort keys of the sections whose targets this member may see, in the plan's order."""
    if member_key in plan.privileged:
        return tuple(s.cohort for s in plan.relevance)
    return tuple(s.cohort for s in plan.relevance if member_key in s.members)


def is_entitled(member_key: str, target_ref: str, plan: Entitlements) -> bool:
    """Whether a member may see a target: the rule entitles them to that target (its slot), or they run the day.

    The plan is the authority: a target that is not on it is visible to coordinators and chairs only.
    """
    if member_key in plan.privileged:
        return True
    for s in plan.relevance:
        slot = s.slot(target_ref)
        if slot is not None:
            return member_key in slot.members
    return False


# --------------------------------------------------------------------------- adapters from entities


def directory_of(partnership: Partnership, agencies: Iterable[Agency], members: Iterable[Member]) -> Directory:
    """Plain-data copy of the partnership's agencies and members (agency keys resolved by id, no lazy loads)."""
    agencies = list(agencies)
    agency_keys = {a.id: a.key for a in agencies}
    return Directory.of(
        partnership.isp_version,
        (AgencyInfo(a.key, tuple(a.flags or ()), a.isp_signed, bool(a.active), a.category, bool(a.core))
         for a in agencies),
        (MemberInfo(m.key, agency_keys.get(m.agency_id, ""), tuple(m.cohorts or ()), bool(m.spoc),
                    bool(m.active), tuple(m.roles or ())) for m in members),
    )


def cohort_info(c: Cohort) -> CohortInfo:
    return CohortInfo(c.key, tuple(c.agencies or ()), bool(c.personal_data), c.order, c.minutes_per_target,
                      bool(c.active), c.name)


def target_info(t: Target, cohort_keys: Mapping[int, str], member_keys: Mapping[int, str]) -> TargetInfo:
    return TargetInfo(t.ref, cohort_keys.get(t.cohort_id, ""), member_keys.get(t.lead_id, ""),
                      tuple(t.flags or ()), t.priority, t.status == TargetStatus.ACTIVE)


def action_info(a: Action, target_refs: Mapping[int, str], member_keys: Mapping[int, str]) -> ActionInfo:
    return ActionInfo(a.number, target_refs.get(a.target_id, ""), member_keys.get(a.owner_id, ""), a.status,
                      a.due)
