"""The demo's need-to-know check: every message the fake Slack holds, read for anything about a target.

A message is about a target when it carries the target's reference, its details (the whole summary or any run of
`RUN` words of it), or the wording of an action, note or outcome on it (likewise). It reaches every member of the
channel it was posted in (a DM reaches its one person; an ephemeral answer, a modal or a Home tab the person it
was shown to). Each (message, person, target, kind) where the person is not entitled to the target is a leak.
A reference the person typed themselves is not a leak: echoing it back tells them nothing.

`find_leaks` is pure (messages, what is secret, and an entitlement function in; leaks out), so it is tested
from small cases; `gather` reads the database and the fake Slack for the demo.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.demo_render import when
from bot.fakeslack import BOT_USER_ID, FakeSlack, Seen
from models import Action, ActionNote, Outcome, Partnership, Target
from models.planning import entitled_to

RUN = 6  # words: a copied run this long of a summary or a wording counts as a copy
REFERENCE, DETAILS, WORDING = "reference", "details", "wording"
KINDS = (REFERENCE, DETAILS, WORDING)
SHOWN = (("post", "channel posts"), ("dm", "direct messages"), ("ephemeral", "ephemeral answers"),
         ("modal", "modals"), ("home", "Home tabs"))


@dataclass(frozen=True)
class Message:
    """One thing that reached people: where it was (for the report), its text, who it reached."""

    where: str
    text: str
    recipients: tuple[str, ...]  # member keys (or Slack user ids of people who are no member)


@dataclass(frozen=True)
class Secret:
    ref: str
    kind: str  # DETAILS or WORDING
    text: str


@dataclass(frozen=True)
class Leak:
    where: str
    member: str
    ref: str
    kind: str


@dataclass(frozen=True)
class Report:
    messages: int
    by_kind: Mapping[str, int]  # "post", "dm", "ephemeral", "modal", "home" -> how many
    leaks: tuple[Leak, ...] = ()
    found: Mapping[str, int] = field(default_factory=dict)  # REFERENCE/DETAILS/WORDING -> how many findings
    shown: tuple[tuple[str, str], ...] = SHOWN  # (kind, what the report calls them), in the report's order

    def lines(self, limit: int = 5) -> list[str]:
        """The report, each line under 125 characters: counts, then the first leaks, one line a message."""
        kinds = ", ".join(f"{self.by_kind.get(k, 0)} {name}" for k, name in self.shown)
        found = ", ".join(f"{k} {self.found.get(k, 0)}" for k in KINDS)
        out = [f"{self.messages} messages checked; references/details/wording reaching someone not entitled: "
               f"{len(self.leaks)}",
               f"  checked: {kinds}",
               f"  about a target in them (message, target): {found}"]
        if self.leaks:
            by_kind = "/".join(str(sum(1 for leak in self.leaks if leak.kind == k)) for k in KINDS)
            out.append(f"  LEAKS (references/details/wording): {by_kind}, as (message, person, target, kind)")
        grouped: dict[tuple[str, str], tuple[set[str], set[str]]] = {}
        for leak in self.leaks:
            kinds_of, people = grouped.setdefault((leak.where, leak.ref), (set(), set()))
            kinds_of.add(leak.kind)
            people.add(leak.member)
        for (where, ref), (kinds_of, people) in list(grouped.items())[:limit]:
            what = " and ".join(k for k in KINDS if k in kinds_of)
            out.append(_clip(f"  {where}: {what} of {ref} reached {len(people)} not entitled: "
                             f"{', '.join(sorted(people))}"))
        if len(grouped) > limit:
            out.append(f"  ... and {len(grouped) - limit} more messages")
        return out


def _clip(line: str, width: int = 120) -> str:
    return line if len(line) <= width else line[: width - 3] + "..."


def normal(text: str) -> str:
    """What a reader sees, for matching: entities unescaped, mrkdwn emphasis dropped, whitespace collapsed."""
    return " ".join(re.sub(r"[*_`]", "", html.unescape(text)).split()).casefold()


def _runs(text: str) -> set[str]:
    words = normal(text).split()
    if len(words) <= RUN:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i:i + RUN]) for i in range(len(words) - RUN + 1)}


def _has(text: str, words: str) -> bool:
    """Whether `words` occur in `text` as whole words ("visit" is not in "visited")."""
    return re.search(r"(?<!\w)" + re.escape(words) + r"(?!\w)", text) is not None


def _reference_pattern(refs: Iterable[str]) -> re.Pattern[str] | None:
    ordered = sorted(set(refs), key=lambda r: (-len(r), r))
    if not ordered:
        return None
    return re.compile(r"(?<![\w-])(" + "|".join(re.escape(r.casefold()) for r in ordered) + r")(?![\w-])")


def about(text: str, refs: Sequence[str], secrets: Sequence[Secret]) -> set[tuple[str, str]]:
    """(ref, kind) of everything in `text` about a target."""
    seen = normal(text)
    found: set[tuple[str, str]] = set()
    by_fold = {r.casefold(): r for r in refs}
    pattern = _reference_pattern(refs)
    if pattern is not None:
        found |= {(by_fold[m], REFERENCE) for m in pattern.findall(seen)}
    for secret in secrets:
        if (secret.ref, secret.kind) not in found and any(_has(seen, run) for run in _runs(secret.text)):
            found.add((secret.ref, secret.kind))
    return found


def find_leaks(messages: Iterable[Message], refs: Sequence[str], secrets: Sequence[Secret],
               entitled: Callable[[str, str], bool], typed: Mapping[str, str] | None = None
               ) -> tuple[list[Leak], dict[str, int]]:
    """Every (message, recipient, target, kind) where the recipient is not entitled to the target; and how many
    findings of each kind there were in all (so a check that found nothing at all is visible as such)."""
    typed_refs = {who: {r for r, _ in about(line, refs, ())} for who, line in (typed or {}).items()}
    leaks: list[Leak] = []
    found = dict.fromkeys(KINDS, 0)
    memo: dict[tuple[str, str], bool] = {}
    for message in messages:
        for ref, kind in sorted(about(message.text, refs, secrets)):
            found[kind] += 1
            for member in message.recipients:
                if kind == REFERENCE and ref in typed_refs.get(member, ()):
                    continue
                if (member, ref) not in memo:
                    memo[member, ref] = entitled(member, ref)
                if not memo[member, ref]:
                    leaks.append(Leak(message.where, member, ref, kind))
    return leaks, found


# ------------------------------------------------------------------------------------------ the demo's edge


def strings(value: Any) -> Iterator[str]:
    """Every string in a Block Kit structure (text, fields, button labels and values, ...)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from strings(v)


def text_of(seen: Seen) -> str:
    parts = [seen.text, *strings(seen.blocks), *seen.files]
    parts += [c.decode("utf-8", "replace") for c in seen.contents]
    return "\n".join(parts)


def messages_of(fake: FakeSlack, member_of: Mapping[str, str]) -> tuple[list[Message], dict[str, int]]:
    """Every channel post and DM (reaching every member of its channel), and every ephemeral answer, modal and
    Home tab (reaching the person it was shown to)."""
    out: list[Message] = []
    kinds: dict[str, int] = {}
    for channel in fake.channels.values():
        people = tuple(member_of.get(u, u) for u in channel.members if u != BOT_USER_ID)
        label = f"#{channel.name} post" if channel.name else f"DM to {member_of.get(channel.im_user or '', '?')}"
        for m in channel.messages:
            kinds[m.kind] = kinds.get(m.kind, 0) + 1
            out.append(Message(f"{label} {when(m.at)}", text_of(m), people))
    for user, screen in fake.screens.items():
        for m in screen:
            kinds[m.kind] = kinds.get(m.kind, 0) + 1
            out.append(Message(f"{m.kind} to {member_of.get(user, user)} {when(m.at)}", text_of(m),
                               (member_of.get(user, user),)))
    return out, kinds


def secrets_of(session: Session, partnership: Partnership) -> tuple[list[str], list[Secret]]:
    """Every target reference; every target's details; every action's, note's and outcome's wording."""
    pid = partnership.id
    targets = list(session.scalars(select(Target).where(Target.partnership_id == pid)))
    secrets = [Secret(t.ref, DETAILS, t.details.summary) for t in targets if t.details and t.details.summary]
    for action in session.scalars(select(Action).where(Action.partnership_id == pid)):
        secrets.append(Secret(action.target.ref, WORDING, action.text))
    for note in session.scalars(select(ActionNote).where(ActionNote.partnership_id == pid)):
        secrets.append(Secret(note.action.target.ref, WORDING, note.text))
    for outcome in session.scalars(select(Outcome).where(Outcome.partnership_id == pid)):
        secrets.append(Secret(outcome.action.target.ref, WORDING, outcome.text))
    return [t.ref for t in targets], secrets


def check(session: Session, partnership: Partnership, fake: FakeSlack, member_of: Mapping[str, str],
          typed: Mapping[str, str]) -> Report:
    """The demo's check: what the fake Slack holds, against the one rule as the partnership is now."""
    messages, kinds = messages_of(fake, member_of)
    return check_messages(session, partnership, messages, kinds, set(member_of.values()), typed)


def check_messages(session: Session, partnership: Partnership, messages: Sequence[Message],
                   kinds: Mapping[str, int], known: set[str], typed: Mapping[str, str],
                   shown: tuple[tuple[str, str], ...] = SHOWN) -> Report:
    """The check on messages gathered from any platform's fake; `known`: the member keys (anyone else a message
    reached is entitled to nothing)."""
    refs, secrets = secrets_of(session, partnership)

    def entitled(member: str, ref: str) -> bool:
        return member in known and entitled_to(session, partnership, member, ref)

    leaks, found = find_leaks(messages, refs, secrets, entitled, typed)
    return Report(len(messages), kinds, tuple(leaks), found, shown)
