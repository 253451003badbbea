"""Publishing the day: save the meeting as planned now and queue what people are sent, in one unit of work.

What goes where (PRODUCT.md, "Keep intelligence out of chat history"):
- the meeting channel gets a depersonalised overview that fits a phone screen: per section its times and how
  many slots and agencies; no reference, no name;
- each section gets a private space holding exactly its members (the union of its slots': a SpaceSync notice),
  then a pointer post: section, time, handling marking and a "View pack" button; nothing about a target (the
  space's members are not all entitled to every target);
- each member gets one DM: their itinerary (each of their slots: time, reference, why they are there, what their
  agency can bring), with an .ics file of section names and times only;
- nobody invited is left out silently: an invitee no chat platform is known to reach (commands/agenda/reach.py)
  is named in the answer (`Published.unreachable`, in `notes`) and, when email is set up, is also emailed their
  itinerary: section names, times and slot times, the handling marking at the top, the .ics; no target reference
  (an email goes to a space, which the outbox never lets carry anything about a target). Without email the
  answer says so, for the coordinator to contact them by hand.

Idempotency: every notice has a key `publish:<date>:<what>:<digest>`, the digest being a short hash of what
would be sent. Before queuing, the latest row already queued for the same `<what>` is looked up: if its
digest is the same, nothing is queued (a re-publish with an unchanged plan sends nothing); if it differs, the
new notice is queued with a fresh key, so a plan that changes back (A, B, A) is sent again rather than
swallowed by the first A's key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commands.agenda import reach
from commands.agenda.itinerary import (
    EMAIL_DESCRIPTION,
    EmailSection,
    Heading,
    Slot,
    Visit,
    calendar,
    chat_message,
    email_message,
    highest_marking,
)
from commands.core.dates import day_label
from commands.core.errors import UsageError
from commands.core.help import example_day
from commands.core.names import DEFAULT_NAMES, command
from commands.core.replies import Attachment, Button, Destination, Emphasis, Notice, Reply, SpaceSync
from models import (
    Agency,
    Cohort,
    Invitation,
    Meeting,
    MeetingStatus,
    Member,
    OutboxMessage,
    Partnership,
    Section,
    Target,
    TargetDetails,
)
from models.audit import record
from models.planning import DayPlan, PlannedSection, Stop, plan_day
from models.relevance import runs_the_day

PACK_VIEW = "pack.view"
RUNS_THE_DAY = "runs-the-day"  # the reason on an invitation made when a coordinator or chair opens a pack


@dataclass
class Published:
    meeting_id: int
    sections: int
    members: int
    notices: list[Notice] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # invitees no chat platform is known to reach, "Name (Agency, email)", and whether they are emailed
    unreachable: list[str] = field(default_factory=list)
    emailed: bool = False


def digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:12]


def space_name(day: date, cohort: str) -> str:
    return f"oneday-{day.isoformat()}-{cohort}"


def fresh_key(session: Session, partnership_id: int, prefix: str, content_digest: str) -> str | None:
    """The key for new content under `prefix`, or None when the latest queued under it is the same content."""
    matching = (OutboxMessage.partnership_id == partnership_id,
                OutboxMessage.idempotency_key.startswith(prefix, autoescape=True))
    latest = session.scalar(select(OutboxMessage.idempotency_key).where(*matching)
                            .order_by(OutboxMessage.id.desc()).limit(1))
    if latest is None:
        return prefix + content_digest
    if latest[len(prefix):].split(":")[0] == content_digest:
        return None
    return f"{prefix}{content_digest}:{queued_before(session, partnership_id, prefix)}"


def queued_before(session: Session, partnership_id: int, prefix: str) -> int:
    """How many notices were ever queued under `prefix`."""
    return session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.partnership_id == partnership_id,
        OutboxMessage.idempotency_key.startswith(prefix, autoescape=True))) or 0


def reason_words(reason: str, member: str, lead: str) -> str:
    """A rule reason ("flag:benefits (N-0407)") in words for the member it invites."""
    kind, _, rest = reason.partition(":")
    detail = rest.split(" (")[0]
    if kind == "cohort":
        return "a core agency of this section"
    if kind == "flag":
        return f"your agency acts on {detail}"
    if kind == "action":
        return f"action #{detail} is open"
    if kind == "lead":
        return "you lead it" if member == lead else "the lead officer's agency"
    if kind == "added":
        return f"added by the coordinator: {detail}"
    return reason


def _hhmm(when: datetime) -> str:
    return f"{when:%H:%M}"


class _Publisher:
    def __init__(self, session: Session, p: Partnership, day_plan: DayPlan, *, now: datetime,
                 mail: bool = False) -> None:
        self.s, self.p, self.plan, self.now, self.mail = session, p, day_plan, now, mail
        self.day = day_plan.day
        self.when = day_label(self.day, long=True, year=True)  # "Tuesday 8 December 2026"
        self.cohorts = {c.key: c for c in session.scalars(select(Cohort).where(Cohort.partnership_id == p.id))}
        self.agencies = {a.key: a for a in session.scalars(select(Agency).where(Agency.partnership_id == p.id))}
        self.members = {m.key: m for m in session.scalars(select(Member).where(Member.partnership_id == p.id))}
        refs = [slot.target for s in day_plan.sections for slot in s.slots]
        self.asks = dict(session.execute(select(Target.ref, TargetDetails.ask).join(
            TargetDetails, TargetDetails.target_id == Target.id).where(
            Target.partnership_id == p.id, Target.ref.in_(refs), TargetDetails.ask != "")).all())
        self.sections: list[Section] = []
        self.notices: list[Notice] = []
        self.notes: list[str] = []
        self.unreachable: list[str] = []

    def queue(self, prefix: str, content: Any, make: Any) -> bool:
        key = fresh_key(self.s, self.p.id, prefix, digest(content))
        if key is None:
            return False
        self.notices.append(make(key))
        return True

    # -- the database ------------------------------------------------------------------------------
    def meeting(self) -> tuple[Meeting, bool]:
        meeting = self.s.scalar(select(Meeting).where(Meeting.partnership_id == self.p.id, Meeting.date == self.day))
        if meeting is None:
            meeting = Meeting(partnership_id=self.p.id, date=self.day, status=MeetingStatus.PLANNED, created_at=self.now)
            self.s.add(meeting)
        was_published = meeting.status == MeetingStatus.PUBLISHED
        meeting.status = MeetingStatus.PUBLISHED
        meeting.published_at = meeting.published_at or self.now
        self.s.flush()
        self.sections = meeting.sections
        return meeting, was_published

    def save_section(self, meeting: Meeting, position: int, planned: PlannedSection) -> tuple[Section, set[str]]:
        """Create or update one section and its invitations; returns it and the member keys invited before."""
        cohort = self.cohorts[planned.cohort]
        section = next((s for s in meeting.sections if s.cohort_id == cohort.id), None)
        if section is None:
            section = Section(partnership_id=self.p.id, cohort_id=cohort.id, position=position,
                              starts_at=planned.start, ends_at=planned.end)
            meeting.sections.append(section)
        section.position, section.starts_at, section.ends_at = position, planned.start, planned.end
        section.target_refs = list(planned.targets)
        before = self._sync_invitations(section, planned)
        return section, before

    def _sync_invitations(self, section: Section, planned: PlannedSection | None) -> set[str]:
        rel = planned.relevance if planned else None
        by_id = {m.id: m for m in self.members.values()}
        before = {by_id[i.member_id].key for i in section.invitations
                  if i.member_id in by_id and i.reasons != [RUNS_THE_DAY]}
        wanted = set(rel.members) if rel else set()
        for inv in list(section.invitations):
            if inv.agency_id is not None:
                section.invitations.remove(inv)
        if rel:
            for a in rel.agencies:
                section.invitations.append(Invitation(partnership_id=self.p.id, agency_id=self.agencies[a.key].id,
                                                      reasons=list(a.reasons)))
            for e in rel.excluded:
                section.invitations.append(Invitation(partnership_id=self.p.id, agency_id=self.agencies[e.key].id,
                                                      reasons=list(e.would_have), excluded=True,
                                                      exclusion_reason=e.reason))
        changed = before != wanted
        for inv in list(section.invitations):
            member = by_id.get(inv.member_id) if inv.member_id is not None else None
            if member is None:
                continue
            if member.key in wanted:
                inv.reasons = self._member_reasons(member.key, planned)
            elif runs_the_day(member):
                inv.reasons = [RUNS_THE_DAY]  # kept: they run the day and may have accepted the statement
            else:
                section.invitations.remove(inv)
                continue
            if changed:  # attendees changed: everyone reaffirms the confidentiality statement
                inv.confidentiality_accepted_at = None
        have = {by_id[i.member_id].key for i in section.invitations if i.member_id in by_id}
        for key in sorted(wanted - have):
            section.invitations.append(Invitation(partnership_id=self.p.id, member_id=self.members[key].id,
                                                  reasons=self._member_reasons(key, planned)))
        return before

    def _member_reasons(self, key: str, planned: PlannedSection | None) -> list[str]:
        """Why the member is in the section: their reasons for each of their slots, as the rule gave them."""
        if planned is None:
            return []
        reasons = [r for slot in planned.slots for r in slot.relevance.why.get(key, ())]
        return list(dict.fromkeys(reasons)) or ["action-owner"]

    # -- what people are sent ----------------------------------------------------------------------
    def overview(self) -> None:
        channel = (self.p.meeting or {}).get("channel")
        if not channel:
            self.notes.append("no meeting channel is configured (meeting.channel): no overview was posted")
            return
        lines: list[str] = []
        for s in self.plan.sections:
            slots, agencies = len(s.slots), len(s.relevance.agencies)
            lines.append(f"{_hhmm(s.start)}-{_hhmm(s.end)}  {s.name}: {slots} slot{'s' if slots != 1 else ''}, "
                         f"{agencies} agenc{'ies' if agencies != 1 else 'y'}")
        breaks = (self.p.meeting or {}).get("breaks") or []
        if breaks:
            lines.append("Breaks: " + ", ".join(f"{b['at']} ({b['minutes']} min)" for b in breaks))
        prefix = f"publish:{self.day.isoformat()}:overview:"
        updated = queued_before(self.s, self.p.id, prefix) > 0
        title = f"{self.p.name}: agenda for {self.when}" + (" (updated)" if updated else "")
        message = Reply(title=title, lines=tuple(lines),
                        footer="Each section meets in its own private channel with only its invited members; "
                               "everyone invited gets their itinerary by direct message.")
        self.queue(prefix, lines, lambda key: Notice(Destination.space(str(channel)), message, key))

    def space_and_pointer(self, section: Section, planned: PlannedSection) -> None:
        cohort = self.cohorts[planned.cohort]
        members = tuple(sorted(planned.members))
        to = Destination.section(section.id)
        sync = SpaceSync(space_name(self.day, cohort.key), members)
        self.queue(f"publish:{self.day.isoformat()}:{cohort.key}:space:", list(members),
                   lambda key: Notice(to, Reply(), key, space=sync))
        count = len(planned.slots)
        lines = (f"{count} target slot{'s' if count != 1 else ''}, each with only the partners entitled to it: "
                 "your itinerary lists your slots.",
                 f"Handling: {cohort.handling}",
                 "Nothing about a target is posted here. Press View pack to see the targets you are entitled to "
                 "(after the section's confidentiality statement).")
        title = f"{cohort.name}: {self.when}, {_hhmm(planned.start)}-{_hhmm(planned.end)}"
        pointer = Reply(title=title, lines=lines,
                        buttons=(Button("View pack", PACK_VIEW, str(section.id), Emphasis.PRIMARY),))
        self.queue(f"publish:{self.day.isoformat()}:{cohort.key}:pointer:", [title, *lines],
                   lambda key: Notice(to, pointer, key))

    def dropped(self, section: Section) -> None:
        """A section no longer on the plan: nobody keeps access to its space."""
        section.target_refs = []
        self._sync_invitations(section, None)
        cohort = next(c for c in self.cohorts.values() if c.id == section.cohort_id)
        prefix = f"publish:{self.day.isoformat()}:{cohort.key}:space:"
        if not queued_before(self.s, self.p.id, prefix):  # its space was never made: nothing to empty
            return
        sync = SpaceSync(space_name(self.day, cohort.key), ())
        self.queue(prefix, [], lambda key: Notice(Destination.section(section.id), Reply(), key, space=sync))
        self.notes.append(f"{cohort.key}: no longer on the agenda; its channel is emptied")

    def itineraries(self, previous: dict[str, set[str]]) -> None:
        tz = self.plan.timezone
        names = {s.cohort: s.name for s in self.plan.sections}
        everyone = set(self.plan.itineraries) | {m for m, cohorts in previous.items() if cohorts}
        for key in sorted(everyone):
            stops = self.plan.itineraries.get(key, ())
            visits = [Visit(s.cohort, names[s.cohort], s.start, s.end, "#" + space_name(self.day, s.cohort))
                      for s in stops]
            gone = previous.get(key, set()) - {s.cohort for s in stops}
            cancelled = [self._old_visit(c) for c in sorted(gone)]
            prefix = f"publish:{self.day.isoformat()}:itinerary:{key}:"
            content = [(s.cohort, [(t.target, t.start.isoformat(), t.end.isoformat()) for t in s.slots])
                       for s in stops]
            sequence = queued_before(self.s, self.p.id, prefix)
            meeting = self.p.meeting or {}
            ics = calendar(day=self.day, partnership_key=self.p.key, partnership_name=self.p.name, timezone=tz,
                           visits=visits, cancelled=cancelled, sequence=sequence, stamp=self.now,
                           venue=meeting.get("venue"), dial_in=meeting.get("dial_in"))
            title, lines = self._chat_message(key, stops, visits, updated=bool(sequence))
            message = Reply(title=title, lines=lines)
            # What it is about: exactly the member's slots (so delivery checks each of them again).
            about = tuple(dict.fromkeys(slot.target for s in stops for slot in s.slots))
            attachment = Attachment(f"oneday-{self.day.isoformat()}.ics", ics, f"{self.p.name} {self.day.isoformat()}")
            self.queue(prefix, content or "none",
                       lambda k, m=message, a=attachment, who=key, refs=about: Notice(Destination.member(who), m, k,
                                                                                      attachment=a, about=refs))
        self.unreached(everyone, previous)

    def unreached(self, everyone: set[str], previous: dict[str, set[str]]) -> None:
        """Name the invitees no chat platform is known to reach and, with email set up, email them their
        itinerary without any target reference (also to someone emailed before who is no longer invited)."""
        invited = set(self.plan.itineraries)
        missing = reach.unreachable(self.s, self.p.id, everyone)
        named = [m for m in missing if m.key in invited]
        agencies = {a.id: a.name for a in self.agencies.values()}
        self.unreachable = [f"{m.name} ({agencies.get(m.agency_id, '?')}, {m.email})" for m in named]
        if named:
            count = len(named)
            self.notes.append(f"{count} invitee{'s have' if count != 1 else ' has'} no chat account Oneday knows of "
                              f"(no identity on any platform): {'; '.join(self.unreachable)}")
            if self.mail:
                self.notes.append("Their itineraries (times and slots, no target reference) are sent by email; "
                                  "they are also looked up by email on chat when their itinerary is sent there.")
            else:
                self.notes.append("Email is not set up (SMTP_URL is not set), so nothing reaches them: contact "
                                  "them by hand with their times.")
        if self.mail:
            for m in missing:
                if reach.can_queue(m.email):
                    self._email(m, previous.get(m.key, set()))
                elif m.key in invited:
                    self.notes.append(f"{m.name}: the email address is too long for the outbox "
                                      f"({len(m.email)} characters, at most {reach.MAX_ADDRESS}): contact them by hand")

    def tell_coordinators(self) -> None:
        """For a publication nobody asked for (the worker's publish-agenda job): a DM to each coordinator naming
        the invitees no chat platform reaches, sent again only when that list changes. Names and addresses, no
        target. (Re-syncs of a published meeting do not DM: the Home lists them, and the first re-sync after a
        coordinator's own publication would repeat what its answer said.)"""
        if not self.unreachable:
            return
        lines = tuple(self.unreachable) + (
            ("Their itineraries (times and slots, no target reference) are sent by email.",) if self.mail else
            ("Email is not set up (SMTP_URL is not set): contact them by hand with their times.",))
        message = Reply(title=f"{self.p.name}, {self.when}: {len(self.unreachable)} invited with no chat account",
                        lines=lines, footer="Your Home lists them with what became of their email.")
        for c in sorted(self.members.values(), key=lambda m: m.key):
            if c.active and c.has_role("coordinator"):
                self.queue(f"publish:{self.day.isoformat()}:unreachable:{c.key}:", [self.unreachable, self.mail],
                           lambda k, who=c.key: Notice(Destination.member(who), message, k))

    def _email(self, member: Member, before: set[str]) -> None:
        stops = self.plan.itineraries.get(member.key, ())
        prefix = f"publish:{self.day.isoformat()}:email:{member.key}:"
        if not stops and not queued_before(self.s, self.p.id, prefix):
            return  # never emailed and not invited: nothing to say
        tz = self.plan.timezone
        names = {s.cohort: s.name for s in self.plan.sections}
        sections = [EmailSection(names[s.cohort], self.cohorts[s.cohort].handling, s.start, s.end,
                                 tuple((t.start, t.end) for t in s.slots)) for s in stops]
        gone = sorted(before - {s.cohort for s in stops})
        content = [(s.name, s.start.isoformat(), s.end.isoformat(), [(a.isoformat(), b.isoformat()) for a, b in s.slots])
                   for s in sections]
        sequence = queued_before(self.s, self.p.id, prefix)
        marking = highest_marking([s.handling for s in sections])
        contacts = [f"{c.name} ({c.email})" for c in sorted(self.members.values(), key=lambda c: c.name)
                    if c.active and c.has_role("coordinator")]
        meeting = self.p.meeting or {}
        lines = email_message(sections=sections, cancelled=[self.cohorts[c].name for c in gone], timezone=tz,
                              marking=marking, partnership_name=self.p.name, when=self.when, contacts=contacts,
                              meeting=meeting)
        label = "Updated: " if sequence else ""
        title = (f"[{marking}] {label}{self.p.name}, {self.when}: your slots" if sections
                 else f"[{marking}] {self.p.name}, {self.when}: you are no longer invited")
        visits = [Visit(s.cohort, names[s.cohort], s.start, s.end, f"{self.p.name}: ask the coordinator how to join")
                  for s in stops]
        ics = calendar(day=self.day, partnership_key=self.p.key, partnership_name=self.p.name, timezone=tz,
                       visits=visits, cancelled=[self._old_visit(c) for c in gone], sequence=sequence,
                       stamp=self.now, description=EMAIL_DESCRIPTION, venue=meeting.get("venue"),
                       dial_in=meeting.get("dial_in"))
        attachment = Attachment(f"oneday-{self.day.isoformat()}.ics", ics, f"{self.p.name} {self.day.isoformat()}")
        message = Reply(title=title, lines=lines)
        to = reach.email_destination(member.email)
        self.queue(prefix, [member.email, content or "none", gone],
                   lambda k: Notice(to, message, k, attachment=attachment))

    def _chat_message(self, key: str, stops: tuple[Stop, ...], visits: list[Visit], *,
                      updated: bool) -> tuple[str, tuple[str, ...]]:
        """The member's itinerary by direct message (title, lines): each of their slots with its time, reference,
        why they are there; what their agency can bring; where the meeting is."""
        member = self.members[key]
        agency = next((a for a in self.agencies.values() if a.id == member.agency_id), None)
        sections = [Heading(self.cohorts[stop.cohort].name, space_name(self.day, stop.cohort), tuple(
            Slot(slot.start, slot.end, slot.target,
                 "; ".join(dict.fromkeys(reason_words(r, key, slot.relevance.lead)
                                         for r in slot.relevance.why.get(key, ()))),
                 self.asks.get(slot.target) or "")
            for slot in stop.slots)) for stop in stops]
        return chat_message(partnership_name=self.p.name, when=self.when, updated=updated, visits=visits,
                            sections=sections, agency=agency.name if agency else "your agency",
                            powers=", ".join(agency.powers or ()) if agency else "", meeting=self.p.meeting or {},
                            timezone=self.plan.timezone)

    def _old_visit(self, cohort_key: str) -> Visit:
        cohort = self.cohorts[cohort_key]
        section = next(s for s in self.sections if s.cohort_id == cohort.id)
        return Visit(cohort.key, cohort.name, section.starts_at, section.ends_at, "#" + space_name(self.day, cohort.key))


def publish(session: Session, partnership: Partnership, day: date, *, actor: str, now: datetime,
            actor_member_id: int | None = None, names: Mapping[str, str] = DEFAULT_NAMES,
            mail: bool | None = None, tell_coordinators: bool = False) -> Published:
    """Save the day as planned now and return the notices to queue. Calling it again with nothing changed
    returns no notices; with a change, only what changed (and the updated overview). `names` name the
    commands in the examples of its errors (the CLI and the worker have no slash command to hand). `mail`:
    whether invitees no chat platform reaches are emailed (default: whether this process has email set up,
    commands/agenda/reach.py `MAIL`). `tell_coordinators`: also DM the coordinators about those invitees (the
    worker's publication, whose answer nobody reads)."""
    if day < now.astimezone(ZoneInfo(partnership.timezone or "Europe/London")).date():
        raise UsageError(f"{day.isoformat()} has passed; publish a meeting that is still to come",
                         example=command(names, "agenda", "publish", example_day(day_of(now, partnership))))
    day_plan = plan_day(session, partnership, day)
    if not day_plan.sections:
        raise UsageError(f"nothing to publish for {day.isoformat()}: no cohort has an active target",
                         example=command(names, "agenda", "plan", example_day(day_of(now, partnership))))
    pub = _Publisher(session, partnership, day_plan, now=now, mail=reach.MAIL.configured if mail is None else mail)
    meeting, was_published = pub.meeting()
    by_id = {m.id: m.key for m in pub.members.values()}
    previous: dict[str, set[str]] = {}
    for s in meeting.sections:
        cohort = next(c.key for c in pub.cohorts.values() if c.id == s.cohort_id)
        for inv in s.invitations:
            if inv.member_id in by_id and s.target_refs and inv.reasons != [RUNS_THE_DAY]:
                previous.setdefault(by_id[inv.member_id], set()).add(cohort)
    pub.overview()
    planned_cohorts = set()
    for position, planned in enumerate(day_plan.sections):
        section, _ = pub.save_section(meeting, position, planned)
        session.flush()
        planned_cohorts.add(section.cohort_id)
        pub.space_and_pointer(section, planned)
    for section in list(meeting.sections):
        if section.cohort_id not in planned_cohorts:
            pub.dropped(section)
    pub.itineraries(previous)
    if tell_coordinators:
        pub.tell_coordinators()
    pub.notes.extend(day_plan.notes)
    session.flush()
    members = len(day_plan.itineraries)
    if was_published and not pub.notices:  # nothing changed since the last publication: nothing to record
        return Published(meeting.id, len(day_plan.sections), members, [], pub.notes, pub.unreachable, pub.mail)
    record(session, at=now, partnership_id=partnership.id, kind="alteration", actor=actor, actor_member_id=actor_member_id,
           what=f"agenda {day.isoformat()} published: {len(day_plan.sections)} sections, {members} members invited, "
                f"{len(pub.notices)} messages queued",
           justification=f"{day.isoformat()} meeting agenda publication")
    return Published(meeting.id, len(day_plan.sections), members, pub.notices, pub.notes, pub.unreachable, pub.mail)


def day_of(now: datetime, partnership: Partnership) -> date:
    """Today in the partnership's time zone (for examples that name a date)."""
    return now.astimezone(ZoneInfo(partnership.timezone or "Europe/London")).date()
