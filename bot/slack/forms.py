"""Render a platform-neutral Form as a Slack modal view."""

from __future__ import annotations

from typing import Any

from bot.port import Form, FormField
from bot.slack.blocks import clip


def _element(f: FormField) -> dict[str, Any]:
    if f.kind == "date":
        el: dict[str, Any] = {"type": "datepicker", "action_id": f.name}
        if f.initial:
            el["initial_date"] = f.initial
        return el
    if f.kind == "choice":
        options = [{"text": {"type": "plain_text", "text": clip(label, 75)}, "value": value}
                   for value, label in f.choices[:100]]
        el = {"type": "static_select", "action_id": f.name, "options": options}
        initial = next((o for o in options if o["value"] == f.initial), None)
        if initial:
            el["initial_option"] = initial
        return el
    el = {"type": "plain_text_input", "action_id": f.name, "multiline": f.kind == "multiline"}
    if f.initial:
        el["initial_value"] = f.initial
    return el


def render_form(form: Form) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": form.callback,
        "private_metadata": form.context[:3000],
        "title": {"type": "plain_text", "text": clip(form.title, 24)},
        "submit": {"type": "plain_text", "text": clip(form.submit, 24)},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [{"type": "input", "block_id": f.name, "optional": not f.required,
                    "label": {"type": "plain_text", "text": clip(f.label, 2000)}, "element": _element(f)}
                   for f in form.fields],
    }
