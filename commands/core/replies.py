"""Platform-neutral replies and notices. Commands build these; bot/<platform>/ renders them.

All text here is plain: the renderer escapes it for its platform, so user text can never become a mention,
a channel ping or a link by accident.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Button:
    label: str
    action: str  # a stable action id, e.g. "action.done"
    value: str = ""
    style: Literal["primary", "danger"] | None = None


@dataclass(frozen=True)
class Item:
    """One entry of a list, with its own buttons (e.g. an action in a reminder)."""

    text: str
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class Reply:
    """What one person (ephemeral) or a space (public) sees."""

    title: str | None = None
    lines: tuple[str, ...] = ()
    fields: tuple[tuple[str, str], ...] = ()
    buttons: tuple[Button, ...] = ()
    footer: str | None = None
    ephemeral: bool = True
    items: tuple[Item, ...] = ()

    @property
    def fallback(self) -> str:
        """One plain-text line for notifications and clients that show no rich layout."""
        head = self.title or (self.lines[0] if self.lines else "")
        return head[:300]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reply:
        return cls(
            title=data.get("title"),
            lines=tuple(data.get("lines") or ()),
            fields=tuple(tuple(f) for f in data.get("fields") or ()),  # type: ignore[misc]
            buttons=tuple(Button(**b) for b in data.get("buttons") or ()),
            footer=data.get("footer"),
            ephemeral=bool(data.get("ephemeral", True)),
            items=tuple(Item(i["text"], tuple(Button(**b) for b in i.get("buttons") or ()))
                        for i in data.get("items") or ()),
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
    """A file sent with a message (e.g. an itinerary's .ics)."""

    filename: str
    content: str
    title: str


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
    """

    to: Destination
    message: Reply
    key: str
    attachment: Attachment | None = None
    space: SpaceSync | None = None


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

    `reply` goes to the caller (ephemeral); `notices` are queued for others; `form` asks the platform to open a
    form; `modal` shows content privately in a modal (target details travel only this way or ephemerally);
    `field_errors` marks fields of a submitted form as wrong.
    """

    reply: Reply
    notices: tuple[Notice, ...] = field(default_factory=tuple)
    form: Form | None = None
    modal: Reply | None = None
    field_errors: dict[str, str] = field(default_factory=dict)
