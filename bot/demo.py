"""`oneday demo`: the sample partnership's meeting, end to end, on the embedded default (SQLite, no Slack).

It runs the production stack (bot/demo_stack.py: the bolt app over HTTP, the Runner, the outbox, the jobs)
against the in-process fake Slack, on a business clock that the demo moves forward: the coordinator publishes
the day, a partner opens a section pack, an uninvited partner is refused, the lead records actions in the
words people type, the worker's jobs chase the owner day by day until the chair and the lead are told, and
the owner's outcome is fed back to the partners who contributed. Then it shows what each person saw.
Nothing here is special-cased: every step is a signed request, a button press or a scheduled job.
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from importlib.resources.abc import Traversable
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.panel import Panel
from rich.rule import Rule
from rich.text import Text
from sqlalchemy import func, select

from bot import config, db
from bot.clock import TickingClock, system_clock
from bot.demo_render import buttons_in, seen_panel, when
from bot.demo_stack import LocalSlack
from bot.sample import northtown
from bot.scheduler import JOBS
from commands.partnership import file as partnership_cmd
from commands.partnership import summary as summary_cmd
from models import AuditEvent, Target

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

    def say(self, who: str, what: str) -> None:
        if self.narrate:
            line = Text(f"{when(self.clock.now):<16} ", style="dim")
            line.append(f"{who:<10} ", style="bold")
            line.append(what)
            self.out.print(line)

    def type(self, who: str, line: str, channel: str | None = None) -> dict:
        self.say(who, f"types {line}")
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
        self.type("dan.fox", "/agenda show")

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


def show_person(demo: Demo, key: str) -> None:
    out, s = demo.out, demo.stack
    person = s.people[key]
    out.print()
    out.print(Rule(Text(f"{person.name} ({key}) - {CAST.get(key, ', '.join(person.roles))}", style="bold")))
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
    """Need-to-know, checked on what the fake received: no target details in any channel or DM."""
    with demo.stack.factory() as session:
        summaries = [t.details.summary for t in session.scalars(select(Target)) if t.details and t.details.summary]
        consultations = session.scalar(select(func.count()).select_from(AuditEvent)
                                       .where(AuditEvent.kind == "consultation"))
        refusals = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.kind == "refusal"))
    history = [m for c in demo.stack.fake.channels.values() for m in c.messages]
    leaked = [m for m in history for x in summaries if x in " ".join([m.text, str(m.blocks)])]
    return [f"{len(history)} messages in channel and DM history; target details in them: {len(leaked)}",
            f"processing log (s.62): {consultations} consultations (pack showings), {refusals} refusals"]


def run(*, out: Console, person: str | None = None, quiet: bool = False, sample: Traversable = SAMPLE) -> int:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="oneday-demo-") as tmp:
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
                for key in [person] if person else list(CAST):
                    show_person(demo, key)
            out.print()
            out.print(Rule("Need-to-know"))
            for line in check(demo):
                out.print(line)
        engine.dispose()
    out.print(f"demo finished in {time.monotonic() - started:.1f} s")
    return 0
