"""`oneday console --as <member>`: type slash commands as one member and see exactly what they would see in
Slack, on a scratch copy of the database.

It starts the production stack in process (bot/demo_stack.py: bolt over HTTP on loopback, the Runner, the
outbox) against the in-process fake Slack, on the real clock. Each line is sent as that member's signed slash
command; the answer they would see (ephemeral replies, modals), and whatever reached their DMs and channels
once the outbox has delivered, are printed. Buttons are numbered: `press N` presses one.

Why a copy (bot/scratch.py), and why only SQLite: the stack writes as it would in production. Its outbox
sender delivers every queued message to the *fake* Slack and marks it sent; sections get the fake's channel
ids; members without a Slack id get made-up ones; actions, outcomes and processing-log entries are recorded.
Run against the configured database of a real deployment, that silently lost every message still queued for
real partners, pointed sections at channels that do not exist, and wrote invented people into the audit
trail. Refusing only when real queued messages or identities exist would still write the rest, so the
console never writes to the configured database at all: a SQLite file is copied first (cheap, consistent,
read-only on the original) and thrown away at the end; any other database is refused, with how to copy the
partnership into a SQLite file instead. Someone trying commands expects to experiment, not to act.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console
from rich.text import Text
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import system_clock
from bot.demo_render import buttons_in, seen_panel
from bot.demo_stack import LocalSlack
from bot.fakeslack import Seen

HELP = """Type a slash command as you would in Slack, e.g.
  {actions} OCG-07        {action} OCG-07 @sam.patel check benefit claims by Friday
  {agenda} show           {outcome} 1 claims suspended benefit-sanction       {oneday} whoami
Other commands:
  press N                press button [N] from the last answer
  channels               the channels you are in;   in #NAME   type commands in that channel
  as KEY                 go on as another member (the same simulated Slack: what was sent stays delivered)
  help                   this text;                 quit       leave (also Ctrl-D)"""


@dataclass
class Pressable:
    action_id: str
    value: str
    channel: str | None
    in_modal: bool


class MemberConsole:
    def __init__(self, stack: LocalSlack, key: str, out: Console) -> None:
        self.stack, self.key, self.out = stack, key, out
        self.user = stack.user(key)
        self.channel = stack.meeting_channel
        self.seen = stack.fake.seq
        self.buttons: list[Pressable] = []
        self._left: dict[str, tuple[int, str]] = {}  # member -> (what they had seen, their channel) when left

    def become(self, key: str) -> None:
        """`as KEY`: go on as another member in the same simulated Slack (what the first one sent and was
        delivered is there for the next), showing what reached them since they last looked (all of it, the
        first time)."""
        if key not in self.stack.people:
            self.out.print(f"no active member '{key[:40]}'; members: {', '.join(self.stack.people)}",
                           markup=False, highlight=False)
            return
        self._left[self.key] = (self.seen, self.channel)
        self.key, self.user, self.buttons = key, self.stack.user(key), []
        self.seen, self.channel = self._left.get(key, (0, self.stack.meeting_channel))
        person = self.stack.people[key]
        self.out.print(f"You are now {person.name} ({person.agency}).", markup=False, highlight=False)
        self.show_new()

    def names(self) -> dict[str, str]:
        return {c.id: c.name for c in self.stack.fake.channels.values() if c.name}

    def prompt(self) -> str:
        return f"{self.key} in #{self.names().get(self.channel, self.channel)}> "

    def show_new(self) -> None:
        """Print what reached this member since the last command, numbering the buttons."""
        fake, names = self.stack.fake, self.names()
        items: list[Seen] = fake.seen_by(self.user, self.seen) + fake.posts_seen_by(self.user, self.seen)
        self.seen = fake.seq
        self.buttons = []
        for item in sorted(items, key=lambda s: s.seq):
            first = len(self.buttons) + 1
            for _, action_id, value in buttons_in(item.blocks):
                self.buttons.append(Pressable(action_id, value, item.where or self.channel, item.kind == "modal"))
            where = f"#{names[item.where]}" if item.where in names else ""
            self.out.print(seen_panel(item, where, first=first))
        if not items:
            self.out.print(Text("(nothing new)", style="dim"))

    def handle(self, line: str) -> bool:
        """Run one input line; False when the member asked to leave."""
        words = line.split()
        if not words:
            return True
        verb = words[0].lower()
        if verb in ("quit", "exit", "q"):
            return False
        if verb in ("help", "?"):
            self.out.print(HELP.format(**self.stack.names), markup=False, highlight=False)
        elif verb == "channels":
            for c in self.stack.fake.channels_of(self.user):
                self.out.print(f"#{c.name}" + ("  (you are typing here)" if c.id == self.channel else ""),
                               markup=False, highlight=False)
        elif verb == "in" and len(words) == 2:
            self.switch(words[1].lstrip("#"))
        elif verb == "as" and len(words) == 2:
            self.become(words[1].lower())
        elif verb == "press" and len(words) == 2 and words[1].isdecimal():
            self.press(int(words[1]))
        elif line.startswith("/"):
            self.stack.command(self.key, line, self.channel)
            self.stack.deliver_due()
            self.show_new()
        else:
            self.out.print(f"not a slash command: {line[:40]!r} (type help)", markup=False, highlight=False)
        return True

    def switch(self, name: str) -> None:
        mine = {c.name: c.id for c in self.stack.fake.channels_of(self.user)}
        if name not in mine:
            self.out.print(f"you are not in #{name}; your channels: {', '.join('#' + n for n in mine)}",
                           markup=False, highlight=False)
            return
        self.channel = mine[name]

    def press(self, n: int) -> None:
        if not 1 <= n <= len(self.buttons):
            self.out.print(f"no button [{n}] in the last answer", markup=False, highlight=False)
            return
        b = self.buttons[n - 1]
        view = self.stack.last_modal_id(self.key) if b.in_modal else None
        self.stack.press(self.key, b.action_id, b.value, channel=b.channel, view_id=view)
        self.stack.deliver_due()
        self.show_new()


def run(factory: sessionmaker[Session], key: str, *, out: Console, partnership: str | None = None,
        names: dict[str, str] | None = None, read: Callable[[str], str] = input) -> int:
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401 - line editing and history for input()
    with LocalSlack(factory, clock=system_clock, names=names, partnership=partnership) as stack:
        if key not in stack.people:
            out.print(f"no active member '{key}'; members: {', '.join(stack.people)}", markup=False,
                      highlight=False)
            return 2
        stack.deliver_due()  # messages queued before the console started (e.g. by `oneday agenda publish`)
        person = stack.people[key]
        how = "from the partnership file" if person.on_file else "made up here: Oneday links it by email"
        out.print(f"You are {person.name} ({person.agency}), Slack user {person.user} ({how}). Type help.",
                  markup=False, highlight=False)
        console = MemberConsole(stack, key, out)
        while True:
            try:
                line = read(console.prompt())
            except (EOFError, KeyboardInterrupt):
                out.print()
                break
            if not console.handle(line.strip()):
                break
    return 0
