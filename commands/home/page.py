"""The member's home page (Slack's App Home tab; any platform's personal page): what is theirs to do and see.

- their open actions, with the same buttons as a reminder (Done, Update, Need more time, Not mine);
- their sections of the next published meeting, with times: only sections the need-to-know rule puts them
  in now (`access.may_see_section`), each with its View pack button (which checks again at the press);
- for coordinators, partnership health: agencies without the current ISP, members without a chat identity,
  overdue actions counted by agency (numbers, never references), and the next meeting's invitees no chat
  platform reaches (commands/agenda/reach.py), each with what became of their emailed itinerary.

The page carries what chat may carry (references, times, action wording), never target details; it is
rebuilt from scratch at every opening, so showing it twice shows the same thing.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from commands.actions.common import describe, today
from commands.agenda import reach
from commands.agenda.publish import PACK_VIEW, RUNS_THE_DAY
from commands.chasing.rounds import action_buttons
from commands.core import access
from commands.core.context import Caller
from commands.core.dates import day_label
from commands.core.names import command
from commands.core.replies import Button, Item, Reply
from commands.governance.showing import shown_to_caller
from commands.partnership.summary import summarise
from models import Action, ActionStatus, Agency, Meeting, MeetingStatus, Member, OutboxMessage, Section, Target
from models.relevance import runs_the_day


def build(caller: Caller) -> Reply:
    """The caller's home page as a platform-neutral Reply (items in reading order)."""
    items = [*_actions(caller), *_sections(caller)]
    if access.is_coordinator(caller.member):
        items.extend(_health(caller))
    return Reply(title=f"Oneday: {caller.partnership.name}",
                 lines=(f"Signed in as {caller.member.name} ({caller.member.agency.name}).",),
                 items=tuple(items), more=f"type {command(caller.names, 'actions')}",
                 footer=f"Type {command(caller.names, 'oneday', 'help')} for every command. Target details are shown "
                        "only on demand, after a check that you may see them.")


def _actions(caller: Caller) -> list[Item]:
    mine = caller.session.scalars(
        select(Action).where(Action.partnership_id == caller.partnership.id, Action.owner_id == caller.member.id,
                             Action.status == ActionStatus.OPEN)
        .options(joinedload(Action.target)).order_by(Action.due.is_(None), Action.due, Action.number)).all()
    shown = access.visible_actions(caller, list(mine))
    if not shown:
        return [Item("Your open actions: none.", heading=True)]
    now = today(caller)
    shown_to_caller(caller, [a.target.ref for a in shown], what="home page: the member's open actions (wording, "
                    "due date)", justification="the member opened their home page")
    items = [Item(f"Your open actions ({len(shown)})", heading=True)]
    for a in shown:  # all of them: the renderer shows what fits and points at /actions for the rest
        items.append(Item(describe(a, now), action_buttons(a.number)))
    return items


def next_meeting(caller: Caller) -> Meeting | None:
    """The next published meeting, today included (in the partnership's time zone)."""
    return caller.session.scalar(
        select(Meeting).where(Meeting.partnership_id == caller.partnership.id, Meeting.status == MeetingStatus.PUBLISHED,
                              Meeting.date >= today(caller)).order_by(Meeting.date).limit(1))


def _sections(caller: Caller) -> list[Item]:
    meeting = next_meeting(caller)
    if meeting is None:
        return [Item("Your next meeting: none published yet.", heading=True)]
    mine = [s for s in meeting.sections if access.may_see_section(caller, s)]
    if not mine:
        return [Item(f"Next meeting {day_label(meeting.date, long=True, year=True)}: you are not invited to any "
                     "section.", heading=True)]
    tz = caller.local_now.tzinfo
    items = [Item(f"Your sections on {day_label(meeting.date, long=True, year=True)}", heading=True)]
    for s in mine:
        when = f"{s.starts_at.astimezone(tz):%H:%M}-{s.ends_at.astimezone(tz):%H:%M}"
        yours = _your_targets(caller, s)
        items.append(Item(f"{when} {s.cohort.name}: {yours} ({s.cohort.handling})",
                          (Button("View pack", PACK_VIEW, str(s.id)),)))
    return items


def _your_targets(caller: Caller, section: Section) -> str:
    """The references of the section's targets the caller is entitled to, asked of the rule now (the Home is
    theirs alone): 'your targets OCG-07, OCG-03', or 'all 12 targets' for those who run the day."""
    refs = list(section.target_refs or [])
    if runs_the_day(caller.member):
        return f"all {len(refs)} target{'s' if len(refs) != 1 else ''}"
    targets = {t.ref: t for t in caller.session.scalars(select(Target).where(
        Target.partnership_id == caller.partnership.id, Target.ref.in_(refs)))}
    mine = [r for r in refs if r in targets and access.member_may_see(caller, caller.member, targets[r])]
    shown_to_caller(caller, mine, what="home page: the references of the member's slots",
                    justification="the member opened their home page")
    return f"your target{'s' if len(mine) != 1 else ''} {', '.join(mine)}" if mine else "no target of yours now"


def _health(caller: Caller) -> list[Item]:
    """Coordinators only: counts and keys, never target references."""
    s = summarise(caller.session, caller.partnership)
    now = today(caller)
    overdue = caller.session.scalars(
        select(Action).where(Action.partnership_id == caller.partnership.id, Action.status == ActionStatus.OPEN,
                             Action.due.is_not(None), Action.due < now)
        .options(joinedload(Action.owner))).all()
    by_agency = Counter(a.owner.agency.name for a in overdue)
    return [
        Item("Partnership health (coordinators)", heading=True),
        Item(f"Agencies without the current ISP ({s.isp_version}): "
             f"{', '.join(s.agencies_without_current_isp) or 'none'}"),
        Item(f"Members without a chat identity: {', '.join(s.members_without_chat_identity) or 'none'}"),
        Item("Overdue actions by agency: " + (", ".join(f"{name} {n}" for name, n in sorted(by_agency.items()))
                                              or "none")),
        *_unreachable(caller),
    ]


EMAIL_STATUS = {"sent": "itinerary emailed", "pending": "itinerary email queued", "sending": "itinerary email queued",
                "failed": "itinerary email FAILED"}


def _unreachable(caller: Caller) -> list[Item]:
    """The next meeting's invitees no chat platform is known to reach, with what became of their emailed
    itinerary (the outbox row publishing queued), so the coordinator knows whom to contact by hand."""
    meeting = next_meeting(caller)
    if meeting is None:
        return []
    invited = {inv.member_id for s in meeting.sections if s.target_refs for inv in s.invitations
               if inv.member_id is not None and inv.reasons != [RUNS_THE_DAY]}
    keys = caller.session.scalars(select(Member.key).where(Member.id.in_(invited))).all() if invited else []
    missing = reach.unreachable(caller.session, caller.partnership.id, keys)
    when = day_label(meeting.date, long=True, year=True)
    if not missing:
        return [Item(f"Invitees on {when} no chat platform reaches: none")]
    agencies = dict(caller.session.execute(select(Agency.id, Agency.name).where(
        Agency.partnership_id == caller.partnership.id)).all())
    items = [Item(f"Invitees on {when} no chat platform reaches ({len(missing)}): contact them if their "
                  "itinerary was not emailed")]
    for m in missing:
        row = caller.session.scalar(select(OutboxMessage).where(
            OutboxMessage.partnership_id == caller.partnership.id,
            OutboxMessage.idempotency_key.startswith(f"publish:{meeting.date.isoformat()}:email:{m.key}:",
                                                     autoescape=True)).order_by(OutboxMessage.id.desc()).limit(1))
        status = "not emailed (email is not set up): contact them by hand" if row is None else (
            EMAIL_STATUS.get(row.status, f"itinerary email {row.status}")
            + (f" ({row.last_error})" if row.status == "failed" and row.last_error else ""))
        items.append(Item(f"{m.name} ({agencies.get(m.agency_id, '?')}, {m.email}): {status}"))
    return items
