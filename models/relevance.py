"""Need-to-know: which agencies and members are invited to a section of the day, and every reason why.

This is the rule that shapes everything (PRODUCT.md): target intelligence may only reach people the rule
puts in a section. It is written as pure functions over small frozen dataclasses, not over ORM entities,
so the rule can be tested from tables of cases and can never trigger a lazy load or a write. The adapter
functions at the bottom are the only place that touches entities.

Decisions on the rule's edge cases (each is also written as a note the coordinator can read):
- Reasons are listed in the rule's order (cohort, flag, action, lead), then in the section's target order.
- Only open actions count; the agency of an action is the agency of its owner.
- An agency that would be invited but has not signed the partnership's current ISP is excluded (reason
  ``isp``) from sections whose cohort carries personal data; the reasons it would have had are kept.
- A lead officer is always invited to their target's section (roles table), even when their agency is
  excluded for ISP, because the plan owner already holds that intelligence; the coordinator is told.
- An action owner whose agency is excluded for ISP is not invited (unless invited on another ground).
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
    """An agency kept out of a section; `would_have` says what it would have been invited for."""

    key: str
    reason: str
    would_have: tuple[str, ...]


@dataclass(frozen=True)
class SectionRelevance:
    cohort: str
    targets: tuple[str, ...]
    leads: Mapping[str, str]  # target ref -> lead member key
    agencies: tuple[AgencyInvite, ...]
    excluded: tuple[Exclusion, ...]
    members: tuple[str, ...]
    notes: tuple[str, ...] = ()


# ------------------------------------------------------------------------------------------ the rule


def _agency_reasons(agency: AgencyInfo, cohort: CohortInfo, targets: Sequence[TargetInfo],
                    actions: Sequence[ActionInfo], members: Mapping[str, MemberInfo]) -> list[str]:
    """Every reason the rule gives for inviting one agency, in rule order, without duplicates."""
    reasons: list[str] = []
    if agency.key in cohort.agencies:
        reasons.append(f"cohort:{cohort.key}")
    reasons += [f"flag:{flag} ({t.ref})" for t in targets for flag in dict.fromkeys(t.flags)
                if flag in agency.flags]
    reasons += [f"action:{a.number} ({a.target})" for a in actions
                if a.owner in members and members[a.owner].agency == agency.key]
    reasons += [f"lead:{t.ref}" for t in targets if t.lead in members and members[t.lead].agency == agency.key]
    return list(dict.fromkeys(reasons))


def _section_actions(targets: Sequence[TargetInfo], actions: Iterable[ActionInfo]) -> list[ActionInfo]:
    """Open actions on the section's targets, in target order then by number."""
    position = {t.ref: i for i, t in enumerate(targets)}
    mine = [a for a in actions if a.open and a.target in position]
    return sorted(mine, key=lambda a: (position[a.target], a.number))


def invite_agencies(directory: Directory, cohort: CohortInfo, targets: Sequence[TargetInfo],
                    actions: Iterable[ActionInfo]) -> tuple[tuple[AgencyInvite, ...], tuple[Exclusion, ...]]:
    """Invited and ISP-excluded agencies for one section, each ordered by agency key."""
    open_actions = _section_actions(targets, actions)
    invited: list[AgencyInvite] = []
    excluded: list[Exclusion] = []
    for key in sorted(directory.agencies):
        agency = directory.agencies[key]
        if not agency.active:
            continue
        reasons = _agency_reasons(agency, cohort, targets, open_actions, directory.members)
        if not reasons:
            continue
        if cohort.personal_data and agency.isp_signed != directory.isp_version:
            excluded.append(Exclusion(key, ISP, tuple(reasons)))
        else:
            invited.append(AgencyInvite(key, tuple(reasons)))
    return tuple(invited), tuple(excluded)


def _agency_members(directory: Directory, agency: str, cohort: str) -> list[str]:
    """Active members attending the cohort, else the agency's active single point(s) of contact."""
    staff = [m for m in directory.members.values() if m.agency == agency and m.active]
    attending = [m.key for m in staff if cohort in m.cohorts]
    return attending or [m.key for m in staff if m.spoc]


def section_relevance(directory: Directory, cohort: CohortInfo, targets: Sequence[TargetInfo],
                      actions: Iterable[ActionInfo]) -> SectionRelevance:
    """Apply the need-to-know rule to one section: agencies with reasons, exclusions, members, notes."""
    open_actions = _section_actions(targets, actions)
    agencies, excluded = invite_agencies(directory, cohort, targets, open_actions)
    notes: list[str] = []
    for ex in excluded:
        signed = directory.agencies[ex.key].isp_signed or "nothing"
        notes.append(f"{cohort.key}: {ex.key} excluded (isp: signed {signed}, current {directory.isp_version}); "
                     f"would have been invited for {', '.join(ex.would_have)}")
    members: set[str] = set()
    for invite in agencies:
        chosen = _agency_members(directory, invite.key, cohort.key)
        if not chosen:
            notes.append(f"{cohort.key}: {invite.key} is invited but has no active member attending "
                         f"{cohort.key} and no active single point of contact")
        members.update(chosen)
    excluded_keys = {ex.key for ex in excluded}
    for t in targets:
        lead = directory.members.get(t.lead)
        if lead is None or not lead.active:
            notes.append(f"{cohort.key}: lead officer {t.lead} of {t.ref} is not an active member; not invited")
            continue
        members.add(lead.key)
        if lead.agency in excluded_keys:
            notes.append(f"{cohort.key}: lead officer {lead.key} of {t.ref} is invited although {lead.agency} "
                         "has not signed the current ISP")
    for a in open_actions:
        owner = directory.members.get(a.owner)
        if owner is None or not owner.active:
            notes.append(f"{cohort.key}: owner {a.owner} of action {a.number} ({a.target}) is not an active "
                         "member; not invited")
        elif owner.agency in excluded_keys:
            if owner.key not in members:
                notes.append(f"{cohort.key}: owner {owner.key} of action {a.number} ({a.target}) not invited: "
                             f"{owner.agency} has not signed the current ISP")
        else:
            members.add(owner.key)
    return SectionRelevance(
        cohort=cohort.key,
        targets=tuple(t.ref for t in targets),
        leads={t.ref: t.lead for t in targets},
        agencies=agencies,
        excluded=excluded,
        members=tuple(sorted(members)),
        notes=tuple(dict.fromkeys(notes)),
    )


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
    return tuple(s.cohort for s in plan.relevance
                 if member_key in s.members or member_key in s.leads.values())


def is_entitled(member_key: str, target_ref: str, plan: Entitlements) -> bool:
    """Whether a member may see a target: the rule puts them in its section, they lead it, or they run the day.

    The plan is the authority: a target that is not on it is visible to coordinators and chairs only.
    """
    if member_key in plan.privileged:
        return True
    return any(target_ref in s.targets and (member_key in s.members or s.leads.get(target_ref) == member_key)
               for s in plan.relevance)


# --------------------------------------------------------------------------- adapters from entities


def directory_of(partnership: Partnership, agencies: Iterable[Agency], members: Iterable[Member]) -> Directory:
    """Plain-data copy of the partnership's agencies and members (agency keys resolved by id, no lazy loads)."""
    agencies = list(agencies)
    agency_keys = {a.id: a.key for a in agencies}
    return Directory.of(
        partnership.isp_version,
        (AgencyInfo(a.key, tuple(a.flags or ()), a.isp_signed, bool(a.active)) for a in agencies),
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
