"""`oneday demo --platform teams`: the same meeting cycle as `oneday demo`, through Oneday's Teams adapter.

Every step is a Bot Framework activity signed by the loopback issuer (bot/faketeams/), posted over HTTP to
`/api/messages` on Oneday's own server; Oneday answers through the loopback Bot Connector and makes the
sections' group chats through the loopback Graph, exactly as it would against Microsoft's endpoints. The
coordinator publishes the day from the 1:1 chat, a DWP partner opens the section pack from the section's group
chat (a dialog: the confidentiality statement, then the pack), an uninvited partner is refused, the lead records
actions by mentioning Oneday in the group chat (confirming a date on the card in the 1:1 chat), the worker's
jobs chase the owner until the chair and the lead are told, and the owner's outcome goes back to the partners
who contributed (she presses Done on her reminder: the outcome form opens as a dialog, and a missing category is
pointed out in it before she saves). Then it shows the chats (what stays in chat history) and, person by person,
what only they saw (their 1:1 chat, dialogs, cards that answered their buttons), and runs the need-to-know check
on all of it.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.rule import Rule
from rich.text import Text
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot import demo_check
from bot.config import DEFAULT_COMMANDS
from bot.demo_render import when
from bot.faketeams import FakeTeams, Sent, TeamsStack
from bot.scheduler import JOBS
from bot.teams import files
from models import AuditEvent, Member, Partnership

BOT = {"id": "28:oneday", "name": "Oneday"}
KINDS = {"chat": ("1:1 chat with Oneday", "cyan"), "dialog": ("dialog, only you", "magenta"),
         "card": ("card answering your button", "yellow"), "post": ("chat post", "blue")}
SHOWN = (("post", "group chat and channel posts"), ("chat", "1:1 chat messages"), ("dialog", "dialogs"),
         ("card", "button answers"))


@dataclass(frozen=True)
class Seen:
    """Something one person saw that no chat keeps: a dialog, or the card that answered their button."""

    key: str
    kind: str  # "dialog" or "card"
    at: datetime
    card: dict[str, Any]


@dataclass(frozen=True)
class Person:
    key: str
    name: str
    agency: str
    roles: tuple[str, ...]
    aad: str


# ----------------------------------------------------------------------------------------- cards, drawn


def _runs(block: dict[str, Any]) -> Text:
    line = Text()
    for run in block.get("inlines") or []:
        style = " ".join(s for s, on in (("bold", run.get("weight") == "bolder"), ("dim", run.get("isSubtle")))
                         if on)
        line.append(str(run.get("text") or ""), style=style or None)
    return line


def _buttons(actions: list[dict[str, Any]]) -> Text:
    row = Text()
    for a in actions:
        style = "bold green" if a.get("style") == "positive" else "green"
        row.append(f"[ {a.get('title', '')} ]", style=style)
        row.append("  ")
    return row


def card_view(card: dict[str, Any]) -> RenderableType:
    """An Adaptive Card as Oneday renders them (bot/teams/cards.py): text runs, inputs, buttons."""
    parts: list[RenderableType] = []
    for el in card.get("body") or []:
        kind = el.get("type")
        if kind == "RichTextBlock":
            parts.append(_runs(el))
        elif kind == "ActionSet":
            parts.append(_buttons(el.get("actions") or []))
        elif str(kind).startswith("Input."):
            parts.append(Text(f"{el.get('label', '')}: {el.get('value') or '________'}", style="italic"))
        elif kind == "TextBlock":
            parts.append(Text(str(el.get("text") or "")))
    if card.get("actions"):
        parts.append(_buttons(card["actions"]))
    return Group(*parts)


def activity_view(activity: dict[str, Any]) -> RenderableType:
    parts: list[RenderableType] = []
    for a in activity.get("attachments") or []:
        if a.get("contentType") == files.CONSENT_TYPE:
            parts.append(Text(f"(file offered) {a.get('name')}  [ Accept ]  [ Decline ]", style="italic cyan"))
        elif a.get("contentType") == files.INFO_TYPE:
            parts.append(Text(f"(file) {a.get('name')}", style="italic cyan"))
        elif isinstance(a.get("content"), dict):
            parts.append(card_view(a["content"]))
    if not parts:
        parts.append(Text(str(activity.get("text") or "")))
    return Group(*parts)


def panel(kind: str, at: datetime | None, body: RenderableType, where: str = "") -> Panel:
    label, colour = KINDS[kind]
    title = f"{label}{f' in {where}' if where else ''}{f' · {when(at)}' if at else ''}"
    return Panel(body, title=title, title_align="left", border_style=colour)


def card_of(answer: Any) -> dict[str, Any] | None:
    """The card in an invoke's answer: a dialog's (task/continue) or one replacing the pressed card."""
    if not isinstance(answer, dict):
        return None
    task = answer.get("task")
    if isinstance(task, dict):
        card = ((task.get("value") or {}).get("card") or {}).get("content")
        return card if isinstance(card, dict) else None
    value = answer.get("value")
    return value if isinstance(value, dict) and value.get("type") == "AdaptiveCard" else None


def _nodes(tree: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in a card or activity, depth first in document order."""
    if isinstance(tree, dict):
        yield tree
        for v in tree.values():
            yield from _nodes(v)
    elif isinstance(tree, list):
        for v in tree:
            yield from _nodes(v)


def submits(card: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(title, data) of a dialog card's Action.Submit buttons (task/submit)."""
    return [(str(n.get("title") or ""), dict(n.get("data") or {})) for n in _nodes(card)
            if n.get("type") == "Action.Submit"]


def executes(activity: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(title, verb, data) of every Action.Execute button in a message."""
    return [(str(n.get("title") or ""), str(n.get("verb") or ""), dict(n.get("data") or {})) for n in _nodes(activity)
            if n.get("type") == "Action.Execute"]


# ----------------------------------------------------------------------------------------- the day


class TeamsDemo:
    def __init__(self, factory: sessionmaker[Session], clock: Any, out: Console, narrate: bool,
                 meeting: Any, cast: dict[str, str]) -> None:
        from bot.faketeams.server import guid_for

        self.factory, self.clock, self.out, self.narrate = factory, clock, out, narrate
        self.meeting, self.cast = meeting, cast
        self.fake = FakeTeams(clock=clock)
        self.stack = TeamsStack(fake=self.fake, factory=factory, clock=clock)
        self.seen: list[Seen] = []
        self.typed: dict[str, str] = {}
        self.people: dict[str, Person] = {}
        with factory() as session:
            for m in session.scalars(select(Member).where(Member.active.is_(True)).order_by(Member.key)):
                self.people[m.key] = Person(m.key, m.name, m.agency.name, tuple(m.roles or ()), guid_for(m.key))
                self.fake.add_user(guid_for(m.key), m.email or f"{m.key}@example.org")

    def __enter__(self) -> TeamsDemo:
        self.fake.start()
        self.stack.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stack.stop()
        self.fake.stop()

    # -- what people do ------------------------------------------------------------------------------

    def say(self, who: str, what: str) -> None:
        if self.narrate:
            line = Text(f"{when(self.clock.now):<16} ", style="dim")
            line.append(f"{who:<10} ", style="bold")
            line.append(what)
            self.out.print(line)

    def _post(self, activity: dict[str, Any]) -> Any:
        status, body = self.stack.post(activity)
        if status != 200:
            raise RuntimeError(f"Oneday answered {status} to a {activity.get('type')} activity: {body!r}")
        return body

    def type(self, who: str, line: str, chat: str | None = None) -> None:
        """`who` types `line` in their 1:1 chat, or in `chat` mentioning Oneday first; `@key` mentions a member."""
        self.say(who, f"types {'@Oneday ' if chat else ''}{line}" + (" in the section's group chat" if chat else ""))
        self.typed[who] = self.typed.get(who, "") + line + "\n"
        entities: list[dict[str, Any]] = []
        text = line
        for key in re.findall(r"@([a-z]+\.[a-z]+)", line):
            person = self.people[key]
            shown = f"<at>{person.name}</at>"
            text = text.replace(f"@{key}", shown, 1)
            entities.append({"type": "mention", "text": shown,
                             "mentioned": {"id": f"29:{key}", "name": person.name, "aadObjectId": person.aad}})
        if chat:
            text = f"<at>Oneday</at> {text}"
            entities.insert(0, {"type": "mention", "text": "<at>Oneday</at>", "mentioned": BOT})
        self._post(self.stack.activity(who, text, conversation=chat, kind="groupChat" if chat else "personal",
                                       entities=entities or None))

    def press(self, who: str, sent: Sent, verb: str) -> None:
        """An Action.Execute button on a card in `who`'s 1:1 chat; the answer replaces the card."""
        found = [(title, data) for title, v, data in executes(sent.activity) if v == verb]
        if not found:
            raise RuntimeError(f"{who} was shown no {verb} button")
        title, data = found[0]
        self.say(who, f"presses [{title}]")
        answer = self._post(self.stack.press(who, verb, data))
        card = card_of(answer)
        if card is not None:
            self.seen.append(Seen(who, "card", self.clock.now, card))

    def dialog(self, who: str, chat: str | None, data: dict[str, Any], title: str) -> dict[str, Any]:
        """A button that opens a dialog (task/fetch), pressed in group chat `chat` (None: the 1:1 chat); the
        dialog's card."""
        self.say(who, f"presses [{title}]: a dialog opens")
        answer = self._post(self.stack.activity(who, type_="invoke", name="task/fetch", value={"data": data},
                                                conversation=chat, kind="groupChat" if chat else "personal"))
        return self._dialog_card(who, answer)

    def submit(self, who: str, chat: str | None, card: dict[str, Any], title: str,
               values: dict[str, str] | None = None) -> dict[str, Any]:
        """A button (or a form's submit) inside the open dialog (task/submit)."""
        found = [data for t, data in submits(card) if t == title]
        if not found:
            raise RuntimeError(f"{who}'s dialog has no [{title}]")
        typed = f" having typed {', '.join(f'{k}: {v!r}' for k, v in values.items())}" if values else ""
        self.say(who, f"presses [{title}] in the dialog{typed}")
        answer = self._post(self.stack.activity(who, type_="invoke", name="task/submit",
                                                value={"data": {**found[0], **(values or {})}}, conversation=chat,
                                                kind="groupChat" if chat else "personal"))
        return self._dialog_card(who, answer)

    def _dialog_card(self, who: str, answer: Any) -> dict[str, Any]:
        card = card_of(answer)
        if card is None:
            raise RuntimeError(f"no dialog in Oneday's answer: {answer!r}")
        self.seen.append(Seen(who, "dialog", self.clock.now, card))
        return card

    def accept_file(self, who: str) -> None:
        """Accept on the file consent card that followed the itinerary: Oneday uploads the .ics to the upload
        session Teams opened (the fake's) and shows the file in the chat."""
        for sent in self.fake.sent_to(self.personal(who)):
            for a in sent.activity.get("attachments") or []:
                if a.get("contentType") != files.CONSENT_TYPE:
                    continue
                self.say(who, f"presses [Accept] on the file {a.get('name')}")
                info = {"name": a.get("name"), "uploadUrl": self.fake.upload_url(who), "fileType": "ics",
                        "contentUrl": f"https://northtown.sharepoint.example/{who}/{a.get('name')}",
                        "uniqueId": who}
                self._post(self.stack.activity(who, type_="invoke", name="fileConsent/invoke", value={
                    "type": "fileUpload", "action": "accept", "context": a["content"]["acceptContext"],
                    "uploadInfo": info}))
                if who not in self.fake.uploads:
                    raise RuntimeError("Oneday uploaded no file on Accept")
                return
        raise RuntimeError(f"{who} was offered no file")

    def deliver(self) -> None:
        assert self.stack.inbound is not None and self.stack.sender is not None
        if not (self.stack.inbound.settle(60) and self.stack.sender.drain(timeout=60)):
            raise RuntimeError("the outbox did not drain: messages are stuck (see the log above)")

    def run_jobs(self) -> None:
        names = dict(DEFAULT_COMMANDS)
        for job in JOBS.values():
            if job.name != "outbox":
                result = job.run(self.factory, self.clock.now, names)
                if not result.startswith("0 "):
                    self.say("worker", f"{job.name}: {result}")
        self.deliver()

    def personal(self, key: str) -> str:
        return self.fake.personal_of(self.people[key].aad)

    def last_with(self, key: str, verb: str) -> Sent:
        """The last card in `key`'s 1:1 chat with a `verb` button (answering in the chat, or opening a dialog)."""
        for sent in reversed(self.fake.sent_to(self.personal(key))):
            if any(v == verb for _, v, _ in executes(sent.activity)) or any(
                    d.get("verb") == verb for _, d in submits(sent.activity)):
                return sent
        raise RuntimeError(f"{key} was sent no card with a {verb} button")

    def section_chat(self, cohort: str) -> str:
        found = [c.id for c in self.fake.chats.values() if c.topic.endswith(f"-{cohort}")]
        if not found:
            raise RuntimeError(f"publishing created no group chat for section {cohort}")
        return found[0]

    def play(self) -> None:
        c, day = self.clock, self.meeting
        c.to(day - timedelta(days=7), 10)
        self.type("jo.bloggs", f"agenda publish {day.isoformat()}")
        self.deliver()
        c.to(day - timedelta(days=7), 10, 30)
        self.accept_file("sam.patel")

        c.to(day, 9, 20)
        ocg = self.section_chat("ocg")
        pointers = [(t, d) for s in self.fake.sent_to(ocg) for t, d in submits(s.activity)
                    if d.get("verb") == "pack.view"]
        if not pointers:
            raise RuntimeError("the section's group chat has no View pack button")
        title, data = pointers[0]
        statement = self.dialog("sam.patel", ocg, data, title)
        accept = [t for t, d in submits(statement) if d.get("verb") == "pack.accept"]
        if not accept:
            raise RuntimeError("the confidentiality statement has no accept button")
        self.submit("sam.patel", ocg, statement, accept[0])

        c.to(day, 9, 40)
        self.type("dan.fox", "actions OCG-07")
        self.type("dan.fox", "agenda show")

        c.to(day, 10, 5)
        self.type("tom.ashby", "action OCG-07 @sam.patel check benefit claims at the two addresses by next Friday",
                  chat=ocg)
        self.press("tom.ashby", self.last_with("tom.ashby", "action.confirm"), "action.confirm")
        self.deliver()
        c.to(day, 10, 9)
        self.type("tom.ashby", "action OCG-07 @mark.dunn check tenancy records for the grow houses in 3 weeks",
                  chat=ocg)
        self.deliver()

        self.say("clock", "fast-forwards day by day; the worker runs its jobs each morning at 09:30 (they send "
                          "nothing at weekends)")
        for n in range(1, 14):
            c.to(day + timedelta(days=n), 9, 30)
            self.run_jobs()

        c.to(day + timedelta(days=14), 11)
        reminder = self.last_with("sam.patel", "action.done")
        [(title, data)] = [(t, d) for t, d in submits(reminder.activity) if d.get("verb") == "action.done"]
        form = self.dialog("sam.patel", None, data, title)
        [submit] = [t for t, d in submits(form) if str(d.get("verb", "")).startswith("form:")]
        what = "claims suspended at both addresses"
        form = self.submit("sam.patel", None, form, submit, {"text": what, "category": ""})
        self.submit("sam.patel", None, form, submit, {"text": what, "category": "benefit-sanction"})
        self.deliver()

    # -- what they saw --------------------------------------------------------------------------------

    def readers(self, conversation: str) -> tuple[str, ...]:
        """Member keys who read a conversation: a 1:1 chat its person, a group chat its members, a channel
        everyone."""
        by_aad = {p.aad: k for k, p in self.people.items()}
        personal = {self.fake.personal_of(p.aad): k for k, p in self.people.items()}
        if conversation in personal:
            return (personal[conversation],)
        chat = self.fake.chats.get(conversation)
        if chat is not None:
            return tuple(by_aad.get(u, u) for u in chat.members)
        return tuple(self.people)

    def name_of(self, conversation: str) -> str:
        chat = self.fake.chats.get(conversation)
        return chat.topic if chat else "the meeting channel"

    def show_chats(self) -> None:
        out = self.out
        out.print()
        out.print(Rule("Chats and channels: what stays in chat history"))
        personal = {self.fake.personal_of(p.aad) for p in self.people.values()}
        shared = list(dict.fromkeys(s.conversation for s in self.fake.activities if s.conversation not in personal))
        for conversation in shared:
            kind = "section group chat" if conversation in self.fake.chats else "meeting channel"
            posts = self.fake.sent_to(conversation)
            out.print(Text(f"{self.name_of(conversation)} ({kind}, {len(self.readers(conversation))} members, "
                           f"{len(posts)} posts)", style="bold blue"))
            for sent in posts:
                out.print(panel("post", sent.at, activity_view(sent.activity)))

    def show_person(self, key: str, role: str) -> None:
        out, person = self.out, self.people[key]
        out.print()
        out.print(Rule(Text(f"{person.name} ({key}) - {role}", style="bold")))
        out.print(Text(f"{person.agency}; Entra object id {person.aad}", style="dim"))
        chats = [c for c in self.fake.chats.values() if person.aad in c.members]
        out.print(Text(f"In {len(chats)} group chat{'s' if len(chats) != 1 else ''}: "
                       + ", ".join(f"{c.topic} ({len(self.fake.sent_to(c.id))} posts)" for c in chats)))
        shown: list[tuple[datetime, int, Panel]] = []
        for n, sent in enumerate(self.fake.sent_to(self.personal(key))):
            shown.append((sent.at or self.clock.now, n, panel("chat", sent.at, activity_view(sent.activity))))
        for n, seen in enumerate(s for s in self.seen if s.key == key):
            shown.append((seen.at, 100_000 + n, panel(seen.kind, seen.at, card_view(seen.card))))
        out.print(Text("Only they saw (their 1:1 chat with Oneday, dialogs, cards answering their buttons):",
                       style="bold"))
        for _, _, p in sorted(shown, key=lambda s: (s[0], s[1])) or [(self.clock.now, 0, Panel("(nothing)"))]:
            out.print(p)

    def check(self) -> list[str]:
        """Need-to-know on everything the connector delivered and every dialog and card answer (bot/demo_check.py);
        the file offered in a consent card is read too."""
        messages: list[demo_check.Message] = []
        kinds: dict[str, int] = {}
        personal = {self.fake.personal_of(p.aad) for p in self.people.values()}
        for sent in self.fake.activities:
            kind = "chat" if sent.conversation in personal else "post"
            kinds[kind] = kinds.get(kind, 0) + 1
            where = (f"1:1 chat of {self.readers(sent.conversation)[0]}" if kind == "chat"
                     else self.name_of(sent.conversation))
            messages.append(demo_check.Message(f"{where} {when(sent.at or self.clock.now)}", _text(sent.activity),
                                               self.readers(sent.conversation)))
        for seen in self.seen:
            kinds[seen.kind] = kinds.get(seen.kind, 0) + 1
            messages.append(demo_check.Message(f"{seen.kind} to {seen.key} {when(seen.at)}",
                                               "\n".join(demo_check.strings(seen.card)), (seen.key,)))
        with self.factory() as session:
            partnership = session.scalars(select(Partnership)).one()
            report = demo_check.check_messages(session, partnership, messages, kinds, set(self.people), self.typed,
                                               SHOWN)
            consultations = session.scalar(select(func.count()).select_from(AuditEvent)
                                           .where(AuditEvent.kind == "consultation"))
            refusals = session.scalar(select(func.count()).select_from(AuditEvent)
                                      .where(AuditEvent.kind == "refusal"))
        return [*report.lines(),
                f"processing log (s.62): {consultations} consultations (pack showings), {refusals} refusals",
                f"loopback Teams: {len(self.fake.activities)} activities through the Bot Connector, "
                f"{len(self.fake.chats)} group chats made through Graph, {len(self.fake.rejected)} calls refused "
                "for want of a token"]


def _text(activity: dict[str, Any]) -> str:
    """Everything in an activity a person could read, with the file a consent card offers decoded."""
    parts = list(demo_check.strings(activity))
    for a in activity.get("attachments") or []:
        context = (a.get("content") or {}).get("acceptContext") if isinstance(a.get("content"), dict) else None
        if isinstance(context, dict) and context.get("content"):
            parts.append(base64.b64decode(str(context["content"])).decode("utf-8", "replace"))
    return "\n".join(parts)
