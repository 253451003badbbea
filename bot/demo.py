"""`oneday demo`: the sample partnership's meeting, end to end, on the embedded default (SQLite, no Slack).

It runs the production stack (bot/demo_stack.py: the bolt app over HTTP, the Runner, the outbox, the jobs)
against the in-process fake Slack, on a business clock that the demo moves forward: the coordinator publishes
the day, a partner opens a section pack, an uninvited partner is refused, the lead records actions in the
words people type, the worker's jobs chase the owner day by day until the chair and the lead are told, and
the owner's outcome is fed back to the partners who contributed. Then it shows what each person saw.
Nothing here is special-cased: every step is a signed request, a button press or a scheduled job.

Before the day it shows the plan's figures (agency-target pairs invited out of all pairs, member-hours in the
room in slots against whole sections) and one national partner who comes for a single slot; after it, the
need-to-know check (bot/demo_check.py) reads every message, DM, ephemeral answer, modal and Home tab for target
references, details and wording, and counts those that reached someone not entitled to the target.
"""

from __future__ import annotations

import tempfile
import time
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib.resources.abc import Traversable
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.panel import Panel
from rich.rule import Rule
from rich.text import Text
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot import config, db, demo_check
from bot.clock import TickingClock, system_clock
from bot.demo_render import buttons_in, seen_panel, when
from bot.demo_stack import LocalSlack
from bot.sample import northtown
from bot.scheduler import JOBS
from commands.partnership import file as partnership_cmd
from commands.partnership import summary as summary_cmd
from models import Agency, AuditEvent, Member, Partnership, sealed
from models.planning import NATIONAL_REGIONAL, DayPlan, plan_day

LONDON = ZoneInfo("Europe/London")
# A package resource, not a path beside the source tree: the demo must run from an installed wheel.
SAMPLE = northtown()
MEETING = date(2026, 12, 8)  # a Tuesday
# Whose screens the demo shows, and why each is worth seeing.
CAST = {
    "jo.bloggs": "coordinator: publishes the day",
    "rose.gill": "chair: told when actions stay overdue",
    "tom.ashby": "lead officer for OCG-07: records the actions",
    "sam.patel": "DWP partner, invited to the organised crime section: owns an action",
    "mark.dunn": "housing partner in the same section: told what DWP's work led to",
    "dan.fox": "trading standards partner, not invited to that section",
}


class Clock(TickingClock):
    """The demo's business clock: jumped to a local time of day, ticking on from there so the outbox's
    pacing and retries (which share it) still fall due."""

    @property
    def now(self) -> datetime:
        return self()

    def to(self, day: date, hh: int, mm: int = 0) -> None:
        self.set(datetime(day.year, day.month, day.day, hh, mm, tzinfo=LONDON).astimezone(UTC))


class Demo:
    def __init__(self, stack: LocalSlack, clock: Clock, out: Console, narrate: bool) -> None:
        self.stack, self.clock, self.out, self.narrate = stack, clock, out, narrate
        self.typed: dict[str, str] = {}  # member key -> every line they typed (their own references)

    def say(self, who: str, what: str) -> None:
        if self.narrate:
            line = Text(f"{when(self.clock.now):<16} ", style="dim")
            line.append(f"{who:<10} ", style="bold")
            line.append(what)
            self.out.print(line)

    def type(self, who: str, line: str, channel: str | None = None) -> dict:
        self.say(who, f"types {line}")
        self.typed[who] = self.typed.get(who, "") + line + "\n"
        return self.stack.command(who, line, channel)

    def press(self, who: str, blocks: list[dict], action_id: str, *, channel: str | None = None,
              in_modal: bool = False) -> None:
        found = [b for b in buttons_in(blocks) if b[1] == action_id]
        if not found:
            raise RuntimeError(f"{who} was shown no {action_id} button")
        label, _, value = found[0]
        self.say(who, f"presses [{label}]")
        view = self.stack.last_modal_id(who) if in_modal else None
        self.stack.press(who, action_id, value, channel=channel, view_id=view)

    def deliver(self) -> None:
        if not self.stack.drain():
            raise RuntimeError("the outbox did not drain: messages are stuck (see the log above)")

    def run_jobs(self) -> None:
        for job in JOBS.values():
            if job.name != "outbox":
                result = job.run(self.stack.factory, self.clock.now, self.stack.names)
                if not result.startswith("0 "):
                    self.say("worker", f"{job.name}: {result}")
        self.deliver()

    def play(self) -> None:
        s, c = self.stack, self.clock
        c.to(MEETING - timedelta(days=7), 10)
        self.type("jo.bloggs", f"/agenda publish {MEETING.isoformat()}")
        self.deliver()

        c.to(MEETING, 9, 20)
        ocg = s.section_channel("ocg")
        assert ocg is not None, "publishing created no organised crime section channel"
        [pointer] = [m for m in s.fake.channels[ocg].messages if buttons_in(m.blocks)]
        self.press("sam.patel", pointer.blocks, "pack.view", channel=ocg)
        statement = s.fake.seen_by(s.user("sam.patel"))[-1]
        self.press("sam.patel", statement.blocks, "pack.accept", in_modal=True)

        c.to(MEETING, 9, 40)
        self.type("dan.fox", "/actions OCG-07")
        self.type("dan.fox", "/agenda show", channel=ocg)  # pasted into a channel he is not in

        c.to(MEETING, 10, 5)
        preview = self.type("tom.ashby", "/action OCG-07 @sam.patel check benefit claims at the two addresses "
                                         "by next Friday", channel=ocg)
        self.press("tom.ashby", preview.get("blocks") or [], "action.confirm", channel=ocg)
        self.deliver()
        c.to(MEETING, 10, 9)
        self.type("tom.ashby", "/action OCG-07 @mark.dunn check tenancy records for the grow houses in 3 weeks",
                  channel=ocg)
        self.deliver()

        self.say("clock", "fast-forwards day by day; the worker runs its jobs each morning at 09:30 (they send "
                          "nothing at weekends)")
        for n in range(1, 14):
            c.to(MEETING + timedelta(days=n), 9, 30)
            self.run_jobs()

        c.to(MEETING + timedelta(days=14), 11)
        self.type("sam.patel", "/outcome 1 claims suspended at both addresses benefit-sanction")
        self.deliver()


def show_channels(demo: Demo) -> None:
    """Every channel once, with its posts: what stays in chat history (and in a workspace export)."""
    out = demo.out
    out.print()
    out.print(Rule("Channels: what stays in chat history"))
    for channel in demo.stack.fake.channels.values():
        if channel.im_user is not None:
            continue
        kind = "private section channel" if channel.private else "meeting channel"
        out.print(Text(f"#{channel.name} ({kind}, {len(channel.members) - 1} members)", style="bold blue"))
        for post in channel.messages or []:
            out.print(seen_panel(post))


def _posts(n: int) -> str:
    return f"{n} post{'s' if n != 1 else ''}"


def show_person(demo: Demo, key: str, single: OneSlot | None = None) -> None:
    out, s = demo.out, demo.stack
    person = s.people[key]
    role = CAST.get(key, ', '.join(person.roles))
    if single and single.key == key and key not in CAST:
        role = f"national partner: one slot, for {single.target}"
    out.print()
    out.print(Rule(Text(f"{person.name} ({key}) - {role}", style="bold")))
    out.print(Text(f"{person.agency}; Slack user {person.user}", style="dim"))
    channels = s.fake.channels_of(person.user)
    out.print(Text(f"In {len(channels)} channel{'s' if len(channels) != 1 else ''}: "
                   + ", ".join(f"#{c.name} ({_posts(len(c.messages))})" for c in channels)))
    names = {c.id: (f"#{c.name}" if c.name else "") for c in s.fake.channels.values()}
    screen = [seen_panel(seen, names.get(seen.where, "")) for seen in s.fake.seen_by(person.user)
              if seen.kind != "home"]
    out.print(Text("Only they saw (ephemeral answers, modals, direct messages):", style="bold"))
    for panel in screen or [Panel("(nothing)")]:
        out.print(panel)


def check(demo: Demo) -> list[str]:
    """Need-to-know, checked on everything the fake Slack holds: no target's reference, details or wording
    reached anyone not entitled to that target (bot/demo_check.py)."""
    s = demo.stack
    member_of = {person.user: key for key, person in s.people.items()}
    with s.factory() as session:
        partnership = session.scalars(select(Partnership)).one()
        report = demo_check.check(session, partnership, s.fake, member_of, demo.typed)
        consultations = session.scalar(select(func.count()).select_from(AuditEvent)
                                       .where(AuditEvent.kind == "consultation"))
        refusals = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.kind == "refusal"))
    return [*report.lines(),
            f"processing log (s.62): {consultations} consultations (pack showings), {refusals} refusals"]


@dataclass(frozen=True)
class OneSlot:
    """A national or regional partner whose whole day is one target's slot."""

    key: str
    name: str
    agency: str
    target: str
    start: str
    end: str
    section: str
    section_start: str
    section_end: str


def one_slot_partner(session: Session, day_plan: DayPlan) -> OneSlot | None:
    """From the plan: a member of a national or regional agency (not a core one) with exactly one slot; the
    cast's first if one qualifies, else the first by member key."""
    members = {m.key: m for m in session.scalars(select(Member))}
    agencies = {a.id: a for a in session.scalars(select(Agency))}
    candidates = []
    for key, stops in day_plan.itineraries.items():
        agency = agencies.get(members[key].agency_id) if key in members else None
        slots = [(stop, slot) for stop in stops for slot in stop.slots]
        if agency and agency.category == NATIONAL_REGIONAL and not agency.core and len(slots) == 1:
            candidates.append((key not in CAST, key, members[key].name, agency.name, slots[0]))
    if not candidates:
        return None
    _, key, name, agency_name, (stop, slot) = min(candidates, key=lambda c: c[:2])
    section = next(s for s in day_plan.sections if s.cohort == stop.cohort)
    return OneSlot(key, name, agency_name, slot.target, _hm(slot.start), _hm(slot.end), section.name,
                   _hm(section.start), _hm(section.end))


def _hm(moment: datetime) -> str:
    return f"{moment.astimezone(LONDON):%H:%M}"


def plan_lines(session: Session) -> tuple[list[str], OneSlot | None]:
    """The day's plan in figures: the per-target rule, and what it saves people (member-hours in the room)."""
    partnership = session.scalars(select(Partnership)).one()
    day_plan = plan_day(session, partnership, MEETING)
    slots = sum(len(s.slots) for s in day_plan.sections)
    start, end = _hm(day_plan.sections[0].start), _hm(day_plan.sections[-1].end)
    share = day_plan.pairs_invited / day_plan.pairs_possible if day_plan.pairs_possible else 0.0
    lines = [f"{MEETING:%a %-d %b}: {start}-{end}, {len(day_plan.sections)} sections, {slots} target slots; "
             "each slot has only the people entitled to its target",
             f"agency-target pairs invited: {day_plan.pairs_invited} of {day_plan.pairs_possible} ({share:.0%})",
             f"member-hours in the room: {day_plan.member_minutes_slots / 60:.1f} in their slots, "
             f"{day_plan.member_minutes_sections / 60:.1f} if each sat through their whole sections"]
    single = one_slot_partner(session, day_plan)
    if single is not None:
        lines.append(f"one slot: {single.name} ({single.agency}) comes {single.start}-{single.end} for "
                     f"{single.target} only, not {single.section} {single.section_start}-{single.section_end}")
    return lines, single


def run_teams(factory: sessionmaker[Session], clock: Clock, out: Console, person: str | None, quiet: bool,
              single: OneSlot | None) -> int:
    """The same day through Oneday's Teams adapter against the loopback Teams (bot/demo_teams.py)."""
    from bot.demo_teams import TeamsDemo

    # The Teams SDK (imported for its token validator) warns that a widget Oneday does not use is in preview.
    warnings.filterwarnings("ignore", message=".*is in preview", module="microsoft_teams")
    with TeamsDemo(factory, clock, out, narrate=not quiet, meeting=MEETING, cast=CAST) as demo:
        if person and person not in demo.people:
            out.print(f"no member '{person}'; members: {', '.join(demo.people)}")
            return 2
        if not quiet:
            out.print(Rule("What happened (signed Bot Framework activities, button presses and the worker's jobs)"))
        demo.play()
        if not quiet:
            if not person:
                demo.show_chats()
            cast = list(CAST) + ([single.key] if single and single.key not in CAST else [])
            for key in [person] if person else cast:
                role = CAST.get(key) or (f"national partner: one slot, for {single.target}" if single and
                                         single.key == key else ", ".join(demo.people[key].roles))
                demo.show_person(key, role)
        out.print()
        out.print(Rule("Need-to-know"))
        for line in demo.check():
            out.print(line, overflow="ignore", crop=False)
    return 0


def run(*, out: Console, person: str | None = None, quiet: bool = False, sample: Traversable = SAMPLE,
        platform: str = "slack") -> int:
    started = time.monotonic()
    # A throwaway database, sealed with a throwaway key (models/sealed.py) that leaves with it.
    with tempfile.TemporaryDirectory(prefix="oneday-demo-") as tmp, sealed.using(sealed.KeyRing.generate()):
        url = config.sqlite_url(Path(tmp) / "demo.db")
        db.upgrade(url)
        engine = db.make_engine(url)
        factory = db.session_factory(engine)
        text = sample.read_text(encoding="utf-8")
        clock = Clock(system_clock())
        with db.unit_of_work(factory) as session:
            changes = partnership_cmd.load(session, text, source=sample.name, now=clock.now)
        with db.unit_of_work(factory) as session:
            again = partnership_cmd.load(session, text, source=sample.name, now=clock.now)
        out.print(f"A throwaway SQLite database; loaded {sample.name}: {len(changes)} changes")
        out.print(f"loaded it again: {len(again)} changes (loading is idempotent)")
        with factory() as session:
            s = summary_cmd.summarise(session, partnership_cmd.select_partnership(session, None))
        out.print(f"{s.name}: {sum(s.agencies_by_category.values())} agencies, {s.members} members, "
                  f"{len(s.cohorts)} sections, targets: {s.targets} active")
        out.print(Rule("The plan: a running order of target slots"))
        with factory() as session:
            figures, single = plan_lines(session)
        for line in figures:
            out.print(line, overflow="ignore", crop=False)
        if platform == "teams":
            code = run_teams(factory, clock, out, person, quiet, single)
            engine.dispose()
            if code:
                return code
            out.print(f"demo finished in {time.monotonic() - started:.1f} s")
            return 0
        with LocalSlack(factory, clock=clock) as stack:
            if person and person not in stack.people:
                out.print(f"no member '{person}'; members: {', '.join(stack.people)}")
                return 2
            demo = Demo(stack, clock, out, narrate=not quiet)
            if not quiet:
                out.print(Rule("What happened (Slack requests, button presses and the worker's jobs)"))
            demo.play()
            if not quiet:
                if not person:
                    show_channels(demo)
                cast = list(CAST) + ([single.key] if single and single.key not in CAST else [])
                for key in [person] if person else cast:
                    show_person(demo, key, single)
            out.print()
            out.print(Rule("Need-to-know"))
            for line in check(demo):
                out.print(line, overflow="ignore", crop=False)
        engine.dispose()
    out.print(f"demo finished in {time.monotonic() - started:.1f} s")
    return 0
