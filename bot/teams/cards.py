"""Render platform-neutral replies and forms as Adaptive Cards (1.5), the way Teams shows a bot's messages.

Escaping: every piece of text goes into a RichTextBlock's TextRun, which Teams shows literally (a TextBlock would
read Markdown, so `[x](https://evil)` or `**` in a user's text would become a link or formatting). Nothing here
adds mention entities, so no text can mention anyone.

Teams' limits live here: a message is at most about 28 KB; commands/ hands over the whole reply and this renderer
keeps what fits, leaves the rest out whole (a line, an item with its buttons) and says how many it left out.

Buttons are Action.Execute (Universal Actions) with the button's action id as `verb` (always set: Teams drops an
Action.Execute without one) and its value in `data`; a form's submit has the verb `form:<callback>`.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from commands.core import router
from commands.core.replies import Button, Emphasis, Form, FormField, Reply

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
MAX_CARD_BYTES = 24_000  # Teams refuses activities over ~28 KB; the rest is the activity's own envelope
TEXT_LIMIT = 4000  # characters in one run
FALLBACK_TEXT = 300
FORM_VERB_PREFIX = "form:"
# Buttons whose answer is a private view (a command's `Result.modal`: the section pack, its confidentiality
# statement, what a chair let someone see once). They open a Teams dialog (task module) instead of answering in the
# chat: a dialog is not kept in the chat's history, as Slack's modals are not, and target details must stay out of
# chat history.
VIEW_VERBS = router.VIEW_BUTTONS
# Buttons whose answer is a form (a command's `Result.form`: Done's outcome form, Update's note, Need more time's
# new date, Edit, Correct). They open the form in a dialog, as Slack opens a modal; a submission with errors keeps
# the dialog open with the errors beside the fields.
FORM_VERBS = router.FORM_BUTTONS
DIALOG_VERBS = VIEW_VERBS | FORM_VERBS
# The verb of "Open the form": a form that arrived in a card (from a typed command, or a button not listed above)
# opens in a dialog from there, the form itself sealed in the button's data (bot/teams/forms.py).
OPEN_FORM = "form.open"
SEALED_FORM = "__form"
STYLES = {Emphasis.PRIMARY: "positive", Emphasis.DESTRUCTIVE: "destructive"}


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def text(value: str, *, bold: bool = False, subtle: bool = False, size: str | None = None) -> dict[str, Any]:
    """Literal text (a TextRun is never read as Markdown)."""
    run: dict[str, Any] = {"type": "TextRun", "text": clip(value, TEXT_LIMIT)}
    if bold:
        run["weight"] = "bolder"
    if subtle:
        run["isSubtle"] = True
    if size:
        run["size"] = size
    return {"type": "RichTextBlock", "inlines": [run]}


def action(b: Button, *, in_dialog: bool = False) -> dict[str, Any]:
    """Action.Execute with the action id as verb; a DIALOG_VERBS button opens a dialog (task/fetch); inside a
    dialog every button is an Action.Submit (task/submit) carrying its verb."""
    out: dict[str, Any]
    if in_dialog:
        out = {"type": "Action.Submit", "title": clip(b.label, 80), "data": {"verb": b.action, "value": b.value}}
    elif b.action in DIALOG_VERBS:
        out = {"type": "Action.Submit", "title": clip(b.label, 80),
               "data": {"msteams": {"type": "task/fetch"}, "verb": b.action, "value": b.value}}
    else:
        out = {"type": "Action.Execute", "title": clip(b.label, 80), "verb": b.action, "data": {"value": b.value}}
    if b.emphasis in STYLES:
        out["style"] = STYLES[b.emphasis]
    return out


def _size(elements: list[dict[str, Any]]) -> int:
    return len(json.dumps(elements, ensure_ascii=False).encode())


def card(body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body}
    if actions:
        out["actions"] = actions
    return out


def render(reply: Reply, *, in_dialog: bool = False) -> dict[str, Any]:
    """The reply as one Adaptive Card: title, lines, fields, items (each with its buttons), buttons, footer.

    Title, fields, buttons and footer always; the lines and items as fit in MAX_CARD_BYTES, in order, with a
    last line saying how many were left out (and where to see them all, `Reply.more`)."""
    head: list[dict[str, Any]] = []
    if reply.title:
        head.append(text(reply.title, bold=True, size="medium"))
    # Fields as "label: value" text runs, not a FactSet (whose values some clients read as Markdown).
    fact_part = [text(f"{clip(k, 200)}: {clip(v, 1000)}") for k, v in reply.fields]
    tail: list[dict[str, Any]] = []
    if reply.footer:
        tail.append(text(reply.footer, subtle=True))
    actions = [action(b, in_dialog=in_dialog) for b in reply.buttons]
    budget = MAX_CARD_BYTES - _size(head + fact_part + tail + actions) - 400
    middle: list[dict[str, Any]] = []
    pieces: list[list[dict[str, Any]]] = [[text(line)] for line in reply.lines]
    for item in reply.items:
        piece = [text(item.text, bold=item.heading)]
        if item.buttons:
            piece.append({"type": "ActionSet", "actions": [action(b, in_dialog=in_dialog) for b in item.buttons]})
        pieces.append(piece)
    used = 0
    for n, piece in enumerate(pieces):
        cost = _size(piece)
        if used + cost > budget:
            left = len(pieces) - n
            middle.append(text(f"and {left} more" + (f": {reply.more}" if reply.more else ""), subtle=True))
            break
        middle.extend(piece)
        used += cost
    return card(head + middle + fact_part + tail, actions)


def fallback(reply: Reply) -> str:
    return clip(reply.fallback, FALLBACK_TEXT) or "Oneday"


def attachment(content: dict[str, Any]) -> dict[str, Any]:
    return {"contentType": CARD_CONTENT_TYPE, "content": content}


def message(reply: Reply) -> dict[str, Any]:
    """A message activity carrying the reply's card; its plain text is the notification's."""
    return {"type": "message", "text": fallback(reply), "textFormat": "plain",
            "attachments": [attachment(render(reply))]}


def _input(f: FormField) -> list[dict[str, Any]]:
    label = f.label + ("" if f.required else " (optional)")
    el: dict[str, Any] = {"id": f.name, "label": label, "isRequired": f.required}
    if f.kind == "date":
        el["type"] = "Input.Date"
    elif f.kind == "choice":
        el.update(type="Input.ChoiceSet", choices=[{"title": clip(lbl, 200), "value": v} for v, lbl in f.choices],
                  style="compact")
    else:
        el.update(type="Input.Text", isMultiline=f.kind == "multiline", maxLength=1000)
    if f.initial is not None:
        el["value"] = f.initial
    if f.required:
        el["errorMessage"] = f"{f.label} is required"
    out = [el]
    if f.hint:
        out.append(text(f.hint, subtle=True))
    return out


def render_form(form: Form, errors: dict[str, str] | None = None, *, in_dialog: bool = False,
                sealed: str | None = None, values: dict[str, str] | None = None) -> dict[str, Any]:
    """A form as a card with inputs; submitting it is an Action.Execute (in a dialog an Action.Submit) with verb
    `form:<callback>` carrying the field values and the form's context (in a dialog also the form, `sealed`, so
    a submission with errors can show it again). `errors` are shown beside their fields (any other first);
    `values` (what was submitted) replace the fields' initial values."""
    body: list[dict[str, Any]] = [text(form.title, bold=True, size="medium")]
    if form.intro:
        body.append(text(form.intro))
    names = {f.name for f in form.fields}
    if errors:
        body.append(text("Please check the form.", bold=True))
        body.extend(text(f"{k}: {v}", bold=True) for k, v in errors.items() if k not in names)
    for f in form.fields:
        shown = f if values is None or f.name not in values else replace(f, initial=values[f.name] or None)
        body.extend(_input(shown))
        if errors and f.name in errors:
            body.append({**text(errors[f.name], bold=True), "id": f"{f.name}__error"})
    submit: dict[str, Any]
    if in_dialog:
        data: dict[str, Any] = {"verb": FORM_VERB_PREFIX + form.callback, "__context": form.context}
        if sealed:
            data[SEALED_FORM] = sealed
        submit = {"type": "Action.Submit", "title": clip(form.submit, 80), "style": "positive", "data": data}
    else:
        submit = {"type": "Action.Execute", "title": clip(form.submit, 80), "verb": FORM_VERB_PREFIX + form.callback,
                  "data": {"__context": form.context}, "style": "positive"}
    return card(body, [submit])


def open_form_card(form: Form, sealed: str, reply: Reply | None = None) -> dict[str, Any]:
    """A card that opens `form` in a dialog: the reply's lines (or the form's title) and one "Open the form"
    button (task/fetch) carrying the sealed form; nothing of the form is readable in the chat."""
    shown = reply if reply is not None and (reply.lines or reply.title) else Reply(lines=(form.title,))
    body = render(Reply(title=shown.title, lines=shown.lines, fields=shown.fields))["body"]
    return card(body, [{"type": "Action.Submit", "title": "Open the form", "style": "positive",
                        "data": {"msteams": {"type": "task/fetch"}, "verb": OPEN_FORM, SEALED_FORM: sealed}}])


def form_message(form: Form, sealed: str, reply: Reply | None = None) -> dict[str, Any]:
    return {"type": "message", "text": clip(form.title, FALLBACK_TEXT), "textFormat": "plain",
            "attachments": [attachment(open_form_card(form, sealed, reply))]}
