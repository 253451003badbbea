"""Platform-neutral replies and notices. Commands build these; bot/<platform>/ renders them.

All text here is plain: the renderer escapes it for its platform, so user text can never become a mention,
a channel ping or a link by accident.

A reply carries its whole meaning: every line and every item, however many. How much of it fits on a
screen, a message or a card is the renderer's business (Slack's 50 blocks, 3000 characters a section, ...):
the renderer leaves out what does not fit and says how many it left out, pointing at `Reply.more`.
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Literal


class Emphasis(StrEnum):
    """How much a button stands out; each renderer maps it to its own look (Block Kit: primary, danger)."""

    DEFAULT = "default"
    PRIMARY = "primary"  # the step the person most likely wants next, e.g. Done
    DESTRUCTIVE = "destructive"  # loses something or cannot be undone


@dataclass(frozen=True)
class Button:
    label: str
    action: str  # a stable action id, e.g. "action.done"
    value: str = ""
    emphasis: Emphasis = Emphasis.DEFAULT

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Button:
        """Also reads a notice queued before buttons had an emphasis (Block Kit's "style")."""
        emphasis = data.get("emphasis") or {"primary": "primary", "danger": "destructive"}.get(
            data.get("style") or "", "default")
        return cls(data["label"], data["action"], data.get("value", ""), Emphasis(emphasis))


@dataclass(frozen=True)
class Item:
    """One entry of a list, with its own buttons (e.g. an action in a reminder).

    A `heading` item starts a group of the items after it (the home page's "Your open actions", "Your
    sections"): a renderer short of room shortens the longest groups first and keeps every heading."""

    text: str
    buttons: tuple[Button, ...] = ()
    heading: bool = False


@dataclass(frozen=True)
class Reply:
    """A message. Who sees it follows from where it goes, not from the message: a command's `Result.reply`
    only the person who asked, a `Notice` whoever is at its `Destination` (one member, or a space)."""

    title: str | None = None
    lines: tuple[str, ...] = ()
    fields: tuple[tuple[str, str], ...] = ()
    buttons: tuple[Button, ...] = ()
    footer: str | None = None
    items: tuple[Item, ...] = ()
    more: str | None = None  # where the whole of a long reply can be seen, e.g. "see /actions"

    @property
    def fallback(self) -> str:
        """The text for notifications and clients that show no rich layout (the renderer shortens it)."""
        return self.title or (self.lines[0] if self.lines else "")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reply:
        return cls(
            title=data.get("title"),
            lines=tuple(data.get("lines") or ()),
            fields=tuple(tuple(f) for f in data.get("fields") or ()),  # type: ignore[misc]
            buttons=tuple(Button.from_dict(b) for b in data.get("buttons") or ()),
            footer=data.get("footer"),
            items=tuple(Item(i["text"], tuple(Button.from_dict(b) for b in i.get("buttons") or ()),
                             bool(i.get("heading"))) for i in data.get("items") or ()),
            more=data.get("more"),
        )


@dataclass(frozen=True)
class Destination:
    """Where a notice goes: a member's direct messages, or a named space (channel) by its ref."""

    kind: Literal["member", "space", "section"]
    ref: str  # member key, the platform's space id, or a section id

    @classmethod
    def member(cls, key: str) -> Destination:
        return cls("member", key)

    @classmethod
    def space(cls, ref: str) -> Destination:
        return cls("space", ref)

    @classmethod
    def section(cls, section_id: int) -> Destination:
        """A section's private space, resolved when sending (it may not be created yet)."""
        return cls("section", str(section_id))


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message (e.g. an itinerary's .ics, a report's chart).

    `content` is text, unless `encoding` is "base64": then it is binary (a PNG) written as base64, because a
    queued notice is stored as JSON in the outbox. Build one from bytes with `Attachment.binary`; read the
    bytes to send with `data`. A notice queued before binary files existed has no `encoding`: it is text."""

    filename: str
    content: str
    title: str
    encoding: Literal["utf-8", "base64"] = "utf-8"

    @classmethod
    def binary(cls, filename: str, data: bytes, title: str) -> Attachment:
        return cls(filename, base64.b64encode(data).decode("ascii"), title, "base64")

    @property
    def data(self) -> bytes:
        """The file's bytes, as the platform uploads them."""
        if self.encoding == "base64":
            return base64.b64decode(self.content)
        return self.content.encode("utf-8")


@dataclass(frozen=True)
class SpaceSync:
    """Make a section's private space exist and hold exactly these members (keys); nobody else is invited."""

    name: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class Notice:
    """Something to send later through the outbox. `key` makes sending it idempotent.

    A plain notice posts `message` to `to`; with `attachment` the message goes with a file; with `space` (and
    `to` a section) the section's private space is created or its membership set instead.

    `about` names the targets (their references) the message carries anything about: a reference, action
    wording, a note, an outcome. Such a notice goes to one member only (a channel carries nothing about a
    target), and the outbox asks need-to-know again for each of them when it delivers: a recipient no longer
    entitled to one of them does not get the message. Every notice that says anything about a target must name
    it here.
    """

    to: Destination
    message: Reply
    key: str
    attachment: Attachment | None = None
    space: SpaceSync | None = None
    about: tuple[str, ...] = ()


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    kind: str = "text"  # text | multiline | date | choice
    choices: tuple[tuple[str, str], ...] = ()  # (value, label)
    required: bool = True
    initial: str | None = None
    hint: str | None = None


@dataclass(frozen=True)
class Form:
    """A form (modal): the core names the fields; the platform draws them and returns {name: value}."""

    callback: str
    title: str
    submit: str
    fields: tuple[FormField, ...] = ()
    context: str = ""  # opaque value handed back on submit
    intro: str | None = None


@dataclass(frozen=True)
class Result:
    """A command's whole effect on the conversation.

    `reply` goes to the caller and is seen by nobody else (Slack: an ephemeral message; a platform without
    those answers in the person's own chat); `notices` are queued for others; `form` asks the platform to open
    a form; `modal` shows content privately in a modal (target details travel only this way or in the private
    reply); `field_errors` marks fields of a submitted form as wrong.
    """

    reply: Reply
    notices: tuple[Notice, ...] = field(default_factory=tuple)
    form: Form | None = None
    modal: Reply | None = None
    field_errors: dict[str, str] = field(default_factory=dict)
