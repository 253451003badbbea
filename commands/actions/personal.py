"""Free text is checked for personal data before anything is saved or sent (PRODUCT.md).

An action's wording, a note, a reason and an outcome go to owners, chairs and section channels, whose history
outlives the meeting. When the text holds a postcode, a date of birth, a phone number, an email address, a
National Insurance number or a vehicle registration (models/personal_data.py), nothing is saved: the author
alone is told exactly what was found and chooses to edit the text or to save it as written.

The choice is stateless, like every button here: "Save as written" carries the text and a `token` of what was
found in it; when it is pressed everything is checked again, and the text is saved only if what it holds now
is what the author saw (`accepted`). A form carries the token in its context, so a resubmitted form is saved
as written only if its text holds the same personal data; edited text with new details is asked about again.
The processing log records which kinds the author kept (`kept_note`), never the values.
"""

from __future__ import annotations

import hashlib

from commands.actions.common import today
from commands.core.context import Caller
from commands.core.replies import Button, Emphasis, Reply, Result
from models.personal_data import EMAIL, Finding, find_personal_data

TITLE = "Check for personal details"
KEEP = "Save as written"
EDIT = "Edit"
WHY = "Personal details belong in the pack, not in chat: messages are kept and can be exported."
_CONTEXT_PREFIX = "kept:"
BUTTON_VALUE_MAX = 2000  # the most a button's value may carry (Slack's limit): longer text asks through a form


def check(caller: Caller, text: str) -> tuple[Finding, ...]:
    """The personal data in `text`, dates judged against the partnership's today."""
    return find_personal_data(text, today=today(caller))


def token(found: tuple[Finding, ...]) -> str:
    """A short fingerprint of what was found (kinds and text): '' when nothing was."""
    if not found:
        return ""
    return hashlib.sha256("\x1f".join(f"{f.kind}\x1e{f.text}" for f in found).encode()).hexdigest()[:12]


def accepted(found: tuple[Finding, ...], kept: str) -> bool:
    """True when there is nothing to ask: no personal data, or exactly what the author chose to keep."""
    return not found or kept == token(found)


def listed(found: tuple[Finding, ...]) -> str:
    """'a postcode (NT1 4AB) and a date of birth (12/03/1990)'."""
    parts = [f"{'an' if f.kind == EMAIL else 'a'} {f.kind} ({f.text})" for f in found]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def lines(found: tuple[Finding, ...], noun: str) -> tuple[str, ...]:
    return (f"{noun} contains {listed(found)}.", WHY,
            "Edit it to take them out, or save it as written. Nothing is saved until you choose.")


def intro(found: tuple[Finding, ...], noun: str) -> str:
    """For a form opened again with the text as typed."""
    return (f"{noun} contains {listed(found)}. {WHY} Edit it to take them out, or press {KEEP} to keep it "
            "as it is.")


def ask(found: tuple[Finding, ...], *, noun: str, fields: tuple[tuple[str, str], ...], edit: Button,
        keep: Button) -> Result:
    """The reply to the author only (a command's reply is never seen by anyone else): what was found, and the
    choice. `edit` opens the form with the text filled in; `keep` saves it as written after checking again."""
    return Result(Reply(title=TITLE, lines=lines(found, noun), fields=fields,
                        buttons=(Button(EDIT, edit.action, edit.value, Emphasis.PRIMARY),
                                 Button(KEEP, keep.action, keep.value))))


def redacted(text: str, found: tuple[Finding, ...]) -> str:
    """`text` with each finding replaced by its kind in brackets: 'seen at [postcode]', for an example to send
    instead."""
    for f in sorted(found, key=lambda f: f.start, reverse=True):
        text = f"{text[:f.start]}[{f.kind}]{text[f.end:]}"
    return text


def kept_note(found: tuple[Finding, ...]) -> str:
    """For the processing log: the kinds the author chose to keep, never their values ('' when none)."""
    kinds = list(dict.fromkeys(f.kind for f in found))
    return f"; the author kept personal data as written: {', '.join(kinds)}" if kinds else ""


def context_kept(context: str) -> str:
    """The token a form's context carries ('kept:<token>' among its words), or ''."""
    return next((w[len(_CONTEXT_PREFIX):] for w in context.split() if w.startswith(_CONTEXT_PREFIX)), "")


def context_word(found: tuple[Finding, ...]) -> str:
    return f"{_CONTEXT_PREFIX}{token(found)}" if found else ""
