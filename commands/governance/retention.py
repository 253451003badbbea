"""Retention and review: what is due (`plan`), the review DMs (`review_notices`, the worker's `review` job), and
erasure (`erase_target`), with the chat side's bookkeeping (which sent messages must be deleted, which section
spaces archived). The platform calls themselves are made at the edge (bot/cli_retention.py), through the port.

Erasure (DPA 2018 s.62 "erasure", MoPI disposal) keeps the skeleton and drops the content:

- kept: the target row (reference, cohort, lead, flags, status), its action rows (number, owner, dates, status),
  outcome categories, note kinds and times: the partnership's depersonalised figures still add up;
- blanked: the target's details, partner summary and ask; every action's wording, outcome text and note text
  (replaced by models.retention.ERASED, the marker that says something was there); the coordinator's override
  reasons about it; the free text (Text columns) of every other entity that points at it (onward-disclosure
  reasons today, and what later features add); every outbox payload that was about it;
- taken out of chat: every message the bot sent about it (the outbox recorded the channel and the message ref
  when it sent it) is marked for deletion; `oneday retention apply` deletes them through the platform and
  archives section spaces whose pack has closed.

Each erasure, deleted message and archived space is an `erasure` event in the processing log: metadata only
(what kind of thing, how many, which reference), never the erased content.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, Text, func, select
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from commands.agenda.pack import DEFAULT_OPEN_WORKING_DAYS
from commands.core.access import active_with_role
from commands.core.dates import day_label
from commands.core.names import DEFAULT_NAMES
from commands.core.replies import Destination, Notice, Reply
from models import (
    Action,
    ActionNote,
    AgendaOverride,
    AuditEvent,
    Base,
    Cohort,
    Invitation,
    Meeting,
    Member,
    OutboxMessage,
    Outcome,
    Partnership,
    Section,
    SpaceArchive,
    Target,
    TargetErasure,
    TargetStatus,
)
from models.audit import record
from models.planning import entitled_to
from models.reminders import ReminderPolicy, in_working_hours
from models.retention import (
    ERASED,
    Due,
    RetentionPolicy,
    archive_from,
    erase_on,
    last_activity,
    review_due,
)

# The outbox payload key that carries the chat side of an erasure: {"delete": pending|done|refused|none, ...}.
ERASURE_KEY = "erasure"


def local_today(p: Partnership, now: datetime) -> date:
    return now.astimezone(ZoneInfo(p.timezone or "Europe/London")).date()


def erased_ids(session: Session, p: Partnership) -> set[int]:
    return set(session.scalars(select(TargetErasure.target_id).where(TargetErasure.partnership_id == p.id)))


def activity_of(session: Session, p: Partnership, target: Target) -> date | None:
    """A target's last activity, local date: its latest action, outcome, note, meeting that had it on the agenda,
    or change to its record (collection or alteration in the processing log, e.g. its closure). Consultations do
    not count: reading a record does not make it needed."""
    tz = ZoneInfo(p.timezone or "Europe/London")
    action_ids = select(Action.id).where(Action.target_id == target.id).scalar_subquery()
    stamps: list[datetime | None] = [
        session.scalar(select(func.max(Action.updated_at)).where(Action.target_id == target.id)),
        session.scalar(select(func.max(Outcome.recorded_at)).where(Outcome.action_id.in_(action_ids))),
        session.scalar(select(func.max(ActionNote.at)).where(ActionNote.action_id.in_(action_ids))),
        session.scalar(select(func.max(AuditEvent.at)).where(AuditEvent.partnership_id == p.id,
                                                             AuditEvent.target_id == target.id,
                                                             AuditEvent.kind.in_(("collection", "alteration")))),
    ]
    days: list[date | None] = [s.astimezone(tz).date() if s else None for s in stamps]
    meetings = session.execute(select(Meeting.date, Section.target_refs).join(Section.meeting)
                               .where(Meeting.partnership_id == p.id))
    days.extend(day for day, refs in meetings if target.ref in (refs or []))
    return last_activity(days)


@dataclass(frozen=True)
class TargetDue:
    """A closed target past its retention period."""

    target_id: int
    ref: str
    due: Due


def targets_to_erase(session: Session, p: Partnership, today: date) -> list[TargetDue]:
    policy = RetentionPolicy.from_settings(p.retention)
    done = erased_ids(session, p)
    cohorts = {c.id: c.key for c in session.scalars(select(Cohort).where(Cohort.partnership_id == p.id))}
    out = []
    for t in session.scalars(select(Target).where(Target.partnership_id == p.id,
                                                  Target.status == TargetStatus.CLOSED).order_by(Target.ref)):
        if t.id in done:
            continue
        months = policy.months_for(cohorts.get(t.cohort_id, ""))
        last = activity_of(session, p, t)
        when = erase_on(closed=True, last=last, months=months)
        if when is not None and when <= today:
            which = "its cohort's" if months != policy.keep_months else "the default"
            out.append(TargetDue(t.id, t.ref, Due("erase", t.ref, when,
                                                  f"closed; last activity {last}; kept {months} months ({which} "
                                                  f"retention period), so due for erasure from {when}")))
    return out


def reviews_due(session: Session, p: Partnership, today: date) -> list[tuple[Target, Due]]:
    done = erased_ids(session, p)
    out = []
    for t in session.scalars(select(Target).where(Target.partnership_id == p.id, Target.review.is_not(None))
                             .order_by(Target.review, Target.ref)):
        if t.id not in done and review_due(t.review, today):
            assert t.review is not None
            state = "on the agenda" if t.status == TargetStatus.ACTIVE else "closed"
            out.append((t, Due("review", t.ref, t.review, f"review date {t.review} reached ({state}, lead "
                                                          f"{t.lead.key}): keep it with a new review date, or close it")))
    return out


def sections_to_archive(session: Session, p: Partnership, today: date) -> list[tuple[Section, Due]]:
    """Section spaces whose meeting's pack has closed, not archived yet (none if the partnership keeps them)."""
    if not RetentionPolicy.from_settings(p.retention).archive_spaces:
        return []
    working_days = int((p.meeting or {}).get("pack_open_working_days", DEFAULT_OPEN_WORKING_DAYS))
    archived = set(session.scalars(select(SpaceArchive.section_id).where(SpaceArchive.partnership_id == p.id)))
    out = []
    for section in session.scalars(select(Section).join(Section.meeting).where(
            Section.partnership_id == p.id, Section.space_ref.is_not(None)).order_by(Meeting.date, Section.position)):
        if section.id in archived:
            continue
        start = archive_from(section.meeting.date, working_days)
        if start <= today:
            out.append((section, Due("archive", f"{section.cohort.key} {section.meeting.date}", start,
                                     f"its pack closed {working_days} working days after the meeting")))
    return out


@dataclass(frozen=True)
class Deletion:
    """A message the bot sent about an erased target, still to be deleted from chat."""

    row_id: int
    platform: str
    channel: str
    ref: str
    file: bool
    about: tuple[str, ...]


def pending_deletions(session: Session, p: Partnership) -> list[Deletion]:
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.partnership_id == p.id,
                                                       OutboxMessage.status == "sent").order_by(OutboxMessage.id))
    out = []
    for row in rows:
        state = (row.payload or {}).get(ERASURE_KEY) or {}
        if state.get("delete") == "pending" and row.channel and row.sent_ref:
            out.append(Deletion(row.id, row.platform, row.channel, row.sent_ref, bool(state.get("file")),
                                tuple(row.about)))
    return out


def plan(session: Session, p: Partnership, now: datetime) -> dict[str, Any]:
    """Everything due, with reasons: reviews, erasures, section spaces to archive, chat messages to delete."""
    today = local_today(p, now)
    items = ([d for _, d in reviews_due(session, p, today)] + [t.due for t in targets_to_erase(session, p, today)]
             + [d for _, d in sections_to_archive(session, p, today)])
    deletions = pending_deletions(session, p)
    return {"partnership": p.key, "today": today.isoformat(),
            "policy": _policy_json(RetentionPolicy.from_settings(p.retention)),
            "due": [{"kind": d.kind, "subject": d.subject, "since": d.on.isoformat(), "reason": d.reason}
                    for d in items],
            "chat_messages_to_delete": len(deletions)}


def _policy_json(policy: RetentionPolicy) -> dict[str, Any]:
    return {"keep_months": policy.keep_months, "cohorts": dict(policy.cohorts or {}),
            "archive_spaces": policy.archive_spaces}


# ------------------------------------------------------------------------------------------------ erasure


@dataclass
class Erased:
    ref: str
    counts: dict[str, int] = field(default_factory=dict)


def erase_target(session: Session, p: Partnership, target: Target, *, now: datetime, actor: str,
                 actor_member_id: int | None, reason: str) -> Erased:
    """Erase one target's content in the caller's transaction (see the module docstring). Once per target:
    `targets_to_erase` leaves out those already erased (a second call would break target_erasure's unique key)."""
    counts = {"details": 0, "actions": 0, "outcomes": 0, "notes": 0, "overrides": 0,
              "messages": 0, "messages_to_delete": 0}
    if target.details is not None:
        target.details.summary, target.details.partner_summary, target.details.ask = "", "", ""
        target.details.facts = {}  # the structured (s.38) details: names, dates of birth, addresses, ...
        counts["details"] = 1
    actions = list(session.scalars(select(Action).where(Action.target_id == target.id)))
    for action in actions:
        action.text = ERASED
        counts["actions"] += 1
        if action.outcome is not None:
            action.outcome.text = ERASED
            counts["outcomes"] += 1
    if actions:
        for note in session.scalars(select(ActionNote).where(ActionNote.action_id.in_([a.id for a in actions]))):
            note.text = ERASED
            counts["notes"] += 1
    for override in session.scalars(select(AgendaOverride).where(AgendaOverride.target_id == target.id)):
        override.reason = ERASED
        counts["overrides"] += 1
    suffix = f" ({target.ref})"  # an invitation keeps a coordinator's reason as "added:<reason> (<ref>)"
    for invitation in session.scalars(select(Invitation).where(Invitation.partnership_id == p.id)):
        reasons = [f"added:{ERASED}{suffix}" if r.startswith("added:") and r.endswith(suffix) else r
                   for r in invitation.reasons or []]
        if reasons != (invitation.reasons or []):
            invitation.reasons = reasons
    counts.update(_sweep_free_text(session, target))
    for row in session.scalars(select(OutboxMessage).where(OutboxMessage.partnership_id == p.id)):
        if target.ref not in (row.about or []):
            continue
        counts["messages"] += 1
        delete = "pending" if row.status == "sent" and row.channel and row.sent_ref else "none"
        if row.status != "sent" and row.status != "withheld":  # not delivered yet: it never will be
            row.status, row.lease_until, row.last_error = "failed", None, "erased under retention before delivery"
        counts["messages_to_delete"] += delete == "pending"
        row.payload = {"message": {"title": ERASED}, ERASURE_KEY: {"delete": delete,
                                                                   "file": "attachment" in (row.payload or {})}}
    session.add(TargetErasure(partnership_id=p.id, target_id=target.id, erased_at=now, actor=actor,
                              counts=counts))
    kept = ", ".join(f"{n} {k}" for k, n in counts.items() if n and k not in ("messages", "messages_to_delete"))
    record(session, at=now, partnership_id=p.id, kind="erasure", actor=actor, actor_member_id=actor_member_id,
           target_id=target.id, target_ref=target.ref,
           what=f"retention erasure: content blanked ({kept or 'nothing held'}); {counts['messages']} outbox "
                f"messages blanked, {counts['messages_to_delete']} chat messages to be deleted",
           justification=reason)
    return Erased(target.ref, counts)


# Tables erase_target handles itself (or keeps whole: the skeleton, the processing log, the erasure records).
HANDLED = frozenset({"target", "target_details", "action", "outcome", "action_note", "agenda_override",
                     "audit_event", "target_erasure", "outbox_message"})


def _is_free_text(column: Any) -> bool:
    kind = column.type
    return isinstance(kind, Text) or (isinstance(kind, TypeDecorator) and isinstance(kind.impl_instance, Text))


def _sweep_free_text(session: Session, target: Target) -> dict[str, int]:
    """Every other entity that points at the target (a `target_id` column) has its free text (Text columns)
    blanked: onward disclosure reasons today, and whatever a later feature adds (information brought to the
    table, decisions), without this module having to learn of it. Returns rows blanked per table."""
    counts: dict[str, int] = {}
    for mapper in Base.registry.mappers:
        table = mapper.local_table
        if not isinstance(table, Table) or table.name in HANDLED or "target_id" not in table.c:
            continue
        texts = [(mapper.get_property_by_column(c).key, c.nullable) for c in table.c if _is_free_text(c)]
        if not texts:
            continue
        owner = mapper.class_.target_id
        for row in session.scalars(select(mapper.class_).where(owner == target.id)):
            for key, nullable in texts:
                setattr(row, key, None if nullable else ERASED)
            counts[table.name] = counts.get(table.name, 0) + 1
    return counts


def mark_deleted(session: Session, p: Partnership, d: Deletion, *, ok: bool, now: datetime, actor: str,
                 actor_member_id: int | None) -> None:
    """Record the outcome of one chat deletion: done (an erasure event per target it was about) or refused."""
    row = session.get(OutboxMessage, d.row_id)
    if row is None:
        return
    state = dict((row.payload or {}).get(ERASURE_KEY) or {})
    state["delete"] = "done" if ok else "refused"
    row.payload = {**(row.payload or {}), ERASURE_KEY: state}
    if not ok:
        return
    ids = {ref: tid for ref, tid in session.execute(select(Target.ref, Target.id).where(
        Target.partnership_id == p.id, Target.ref.in_(list(d.about))))}
    for ref in d.about:
        record(session, at=now, partnership_id=p.id, kind="erasure", actor=actor, actor_member_id=actor_member_id,
               target_id=ids.get(ref), target_ref=ref,
               what=f"chat {'file' if d.file else 'message'} deleted: {row.platform} {row.destination_kind} "
                    f"{row.destination_ref}, outbox row {row.id}",
               recipients=[row.destination_ref], justification="retention erasure of a target it was about")


def mark_archived(session: Session, p: Partnership, section_id: int, *, now: datetime, actor: str,
                  actor_member_id: int | None) -> None:
    section = session.get(Section, section_id)
    if section is None:
        return
    session.add(SpaceArchive(partnership_id=p.id, section_id=section.id, archived_at=now))
    record(session, at=now, partnership_id=p.id, kind="erasure", actor=actor, actor_member_id=actor_member_id,
           what=f"section space archived: {section.cohort.key} {section.meeting.date} ({section.space_ref})",
           justification="retention: the meeting's pack has closed")


# ------------------------------------------------------------------------------------------------ review


def review_notices(session: Session, p: Partnership, now: datetime,
                   names: Mapping[str, str] = DEFAULT_NAMES) -> list[Notice]:
    """DMs for each target whose review date has come: to its lead officer and to each coordinator, once per
    target per review date (the key holds the target's id and the date, never its reference: keys travel with
    the message). Only in working hours. The lead is told the reference only while entitled to it."""
    if not in_working_hours(now, ReminderPolicy.from_settings(p.reminders), p.timezone or "Europe/London"):
        return []
    today = local_today(p, now)
    policy = RetentionPolicy.from_settings(p.retention)
    coordinators = active_with_role(session, p.id, "coordinator")
    notices: list[Notice] = []
    for target, _ in reviews_due(session, p, today):
        assert target.review is not None
        when = day_label(target.review, long=True, year=True)
        state = "on the agenda" if target.status == TargetStatus.ACTIVE else "closed"
        lines = (f"{target.ref} reached its review date on {when} ({state}; lead officer {target.lead.name}).",
                 "Decide whether Oneday still needs it: keep it with a new review date in the partnership file, "
                 "or close it (take it off the file).",
                 f"A closed target is erased {policy.keep_months} months after its last activity "
                 "(see `oneday retention plan`).")
        named = Reply(title=f"Review due: {target.ref}", lines=lines)
        key = f"review:{target.id}:{target.review.isoformat()}"
        told: set[str] = set()
        for c in coordinators:
            notices.append(Notice(Destination.member(c.key), named, f"{key}:{c.key}", about=(target.ref,)))
            told.add(c.key)
        lead: Member = target.lead
        if lead.active and lead.key not in told:
            if entitled_to(session, p, lead.key, target.ref, now=now):
                notices.append(Notice(Destination.member(lead.key), named, f"{key}:{lead.key}", about=(target.ref,)))
            else:  # not entitled now (e.g. their agency's ISP lapsed): told that something waits, not what
                notices.append(Notice(Destination.member(lead.key), Reply(
                    title="A target you lead is due for review",
                    lines=("One of the targets you lead has reached its review date. You can't see it at the "
                           "moment; your coordinator has been told and will be in touch.",)),
                    f"{key}:{lead.key}"))
    return notices
