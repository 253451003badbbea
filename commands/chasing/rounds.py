"""Chasing owners: one reminder DM per owner per round, escalation to the chair and the lead officer, and the
chair told who covers for members out of office. Platform-neutral: returns Notices for the outbox.

The run records a ReminderMark per (action, round, due date) in the same transaction as the Notices it
queues; the unique key makes a second concurrent run of the same round fail and roll back, so nothing is
sent twice, and a crashed run leaves nothing marked, so nothing is dropped.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from commands.actions.common import describe
from commands.core.access import active_with_role
from commands.core.dates import day_label
from commands.core.names import DEFAULT_NAMES, command
from commands.core.replies import Button, Destination, Emphasis, Item, Notice, Reply
from models import Action, ActionStatus, Member, Partnership
from models.planning import not_entitled
from models.reminder_mark import ReminderMark
from models.reminders import (
    ReminderPolicy,
    in_working_hours,
    latest_round,
    should_escalate,
    working_days_after,
)


def action_buttons(number: int) -> tuple[Button, ...]:
    v = str(number)
    return (Button("Done", "action.done", v, Emphasis.PRIMARY), Button("Update", "action.update", v),
            Button("Need more time", "action.more_time", v), Button("Not mine", "action.not_mine", v))


def _digest(parts: list[str]) -> str:
    return hashlib.sha256("|".join(sorted(parts)).encode()).hexdigest()[:12]


def about(actions: Iterable[Action]) -> tuple[str, ...]:
    """The targets (references) a message listing these actions is about, each once, in order of mention."""
    return tuple(dict.fromkeys(a.target.ref for a in actions))


@dataclass
class RoundReport:
    """What one run did, for operators and tests."""

    reminded: dict[str, list[int]] = field(default_factory=dict)  # owner key -> action numbers
    escalated: list[int] = field(default_factory=list)
    out_of_office: dict[str, list[int]] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)
    not_entitled: list[int] = field(default_factory=list)  # actions whose owner the rule no longer entitles


def run_round(session: Session, p: Partnership, now: datetime, *,
              names: Mapping[str, str] = DEFAULT_NAMES) -> RoundReport:
    """Plan this run's reminders; add marks to the session and return the notices to queue. `names` are the
    deployment's command names, for the messages that point to a command."""
    report = RoundReport()
    policy = ReminderPolicy.from_settings(p.reminders)
    if not in_working_hours(now, policy, p.timezone):
        return report
    today = now.astimezone(ZoneInfo(p.timezone)).date()
    # Only actions whose first round can have come: cost follows what is due, not what is stored.
    horizon = working_days_after(today, policy.first_working_days_before) + timedelta(days=7)
    actions = session.scalars(
        select(Action).where(Action.partnership_id == p.id, Action.status == ActionStatus.OPEN, Action.due.is_not(None),
                             Action.due <= horizon)
        .options(joinedload(Action.owner), joinedload(Action.target)).order_by(Action.due, Action.number)
    ).all()
    if not actions:
        return report
    marks = {(m.action_id, m.round, m.due) for m in session.scalars(
        select(ReminderMark).where(ReminderMark.action_id.in_([a.id for a in actions])))}
    members = {m.id: m for m in session.scalars(select(Member).where(Member.partnership_id == p.id))}
    chairs = active_with_role(session, p.id, "chair")

    per_owner: dict[str, list[tuple[Action, str]]] = defaultdict(list)
    escalations: list[Action] = []
    away: dict[int, list[Action]] = defaultdict(list)
    due_now = [(a, r) for a in actions if a.due is not None
               and (r := latest_round(a.due, policy, p.timezone, now)) is not None]
    refs_by_owner: dict[str, list[str]] = defaultdict(list)
    for a, _ in due_now:
        refs_by_owner[a.owner.key].append(a.target.ref)
    barred = {(key, ref) for key, refs in refs_by_owner.items()
              for ref in not_entitled(session, p, key, list(dict.fromkeys(refs)), now=now)}
    for a, r in due_now:
        assert a.due is not None
        owner = a.owner
        if (owner.key, a.target.ref) in barred:  # the rule no longer entitles the owner: not chased, nor told
            if (a.id, "not-entitled", a.due) not in marks:
                report.not_entitled.append(a.number)
                report.notices.extend(unentitled_notices(session, p, a, today))
                session.add(ReminderMark(partnership_id=p.id, action_id=a.id, round="not-entitled", due=a.due, at=now))
            continue
        if owner.out_of_office_until and owner.out_of_office_until >= today:
            if (a.id, f"ooo:{owner.out_of_office_until}", a.due) not in marks:
                away[owner.id].append(a)
                session.add(ReminderMark(partnership_id=p.id, action_id=a.id, due=a.due,
                                         round=f"ooo:{owner.out_of_office_until}", at=now))
            continue
        if (a.id, r.key, a.due) not in marks:
            per_owner[owner.key].append((a, r.key))
            session.add(ReminderMark(partnership_id=p.id, action_id=a.id, round=r.key, due=a.due, at=now))
        if should_escalate(r, policy) and (a.id, "escalation", a.due) not in marks:
            escalations.append(a)
            session.add(ReminderMark(partnership_id=p.id, action_id=a.id, round="escalation", due=a.due, at=now))

    for owner_key, items in per_owner.items():
        key = f"remind:{owner_key}:{today}:{_digest([f'{a.number}:{k}:{a.due}' for a, k in items])}"
        report.reminded[owner_key] = [a.number for a, _ in items]
        report.notices.append(Notice(Destination.member(owner_key), reminder_message(items, today, names), key,
                                     about=about(a for a, _ in items)))
    if escalations:
        report.escalated = [a.number for a in escalations]
        report.notices.extend(escalation_notices(escalations, members, chairs, today))
    for owner_id, acts in away.items():
        owner = members[owner_id]
        report.out_of_office[owner.key] = [a.number for a in acts]
        report.notices.extend(cover_notices(owner, acts, members, chairs, today))
    return report


def unentitled_notices(session: Session, p: Partnership, action: Action, today: date) -> list[Notice]:
    """Tell the coordinators, once, that an action's owner is no longer entitled to its target (a member removed,
    an ISP lapsed, a role changed): nobody chases it until it is reassigned or cancelled."""
    owner = action.owner
    message = Reply(title=f"Action #{action.number} on {action.target.ref}: its owner is no longer entitled",
                    lines=(f"{owner.name} ({owner.agency.name}) is no longer entitled to {action.target.ref}, so they "
                           "are not reminded and are sent nothing about it. Reassign or cancel the action.",
                           describe(action, today)))
    return [Notice(Destination.member(c.key), message, f"unentitled:{action.number}:{action.due}:{c.key}",
                   about=(action.target.ref,)) for c in active_with_role(session, p.id, "coordinator")]


def reminder_message(items: list[tuple[Action, str]], today: date, names: Mapping[str, str]) -> Reply:
    """Every action of the round, each with its buttons; a renderer short of room says how many it left out
    and points at /actions. Bounded by what falls due in one round, not by what is stored."""
    overdue = sum(1 for a, _ in items if a.due and a.due < today)
    title = f"Your actions: {len(items)} to report on" + (f" ({overdue} overdue)" if overdue else "")
    return Reply(title=title, items=tuple(Item(describe(a, today), action_buttons(a.number)) for a, _ in items),
                 more=f"see {command(names, 'actions')}",
                 footer="Done records the outcome; the partners who contributed are told what happened.")


def escalation_notices(actions: list[Action], members: dict[int, Member], chairs: list[Member],
                       today: date) -> list[Notice]:
    """One DM per recipient (each chair, and each lead officer for their own targets' actions)."""
    recipients: dict[str, list[Action]] = defaultdict(list)
    for a in actions:
        for chair in chairs:
            recipients[chair.key].append(a)
        lead = members.get(a.target.lead_id)
        if lead is not None and lead.active and lead not in chairs:
            recipients[lead.key].append(a)
    notices = []
    for key, acts in recipients.items():
        lines = tuple(f"{describe(a, today)} (owner {a.owner.name}, {a.owner.agency.name})" for a in acts)
        digest = _digest([f"{a.number}:{a.due}" for a in acts])
        notices.append(Notice(Destination.member(key), Reply(
            title=f"Escalation: {len(acts)} action{'s' if len(acts) != 1 else ''} overdue after repeated reminders",
            lines=lines, footer="Sent to the chair and the target's lead officer."), f"escalate:{key}:{today}:{digest}",
            about=about(acts)))
    return notices


def cover_notices(owner: Member, actions: list[Action], members: dict[int, Member], chairs: list[Member],
                  today: date) -> list[Notice]:
    """The owner is away: not chased; the chair is told who covers (the agency's single point of contact)."""
    cover = next((m for m in members.values() if m.active and m.agency_id == owner.agency_id and m.spoc
                  and m.id != owner.id), None)
    cover = cover or next((m for m in members.values() if m.active and m.agency_id == owner.agency_id
                           and m.id != owner.id), None)
    who = f"{cover.name} ({cover.key}) covers for {owner.agency.name}" if cover else (
        f"nobody else from {owner.agency.name} is listed: consider reassigning")
    assert owner.out_of_office_until is not None
    back = day_label(owner.out_of_office_until, weekday=False, year=True)
    lines = (f"{owner.name} is out of office until {back} and is not being chased. {who}.",
             *(describe(a, today) for a in actions))
    digest = _digest([str(a.number) for a in actions])
    return [Notice(Destination.member(c.key), Reply(title="Out of office: reminders paused", lines=lines),
                   f"ooo:{c.key}:{owner.key}:{owner.out_of_office_until}:{digest}", about=about(actions))
            for c in chairs]
