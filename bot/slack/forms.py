"""Render a platform-neutral Form as a Slack modal view."""

from __future__ import annotations

from typing import Any

from bot.slack.blocks import clip, escape, render
from commands.core.replies import Form, FormField, Reply


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
    intro = [{"type": "section", "text": {"type": "mrkdwn", "text": clip(escape(form.intro), 3000)}}] if form.intro else []
    return {
        "type": "modal",
        "callback_id": form.callback,
        "private_metadata": form.context[:3000],
        "title": {"type": "plain_text", "text": clip(form.title, 24)},
        "submit": {"type": "plain_text", "text": clip(form.submit, 24)},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": intro + [_input(f) for f in form.fields],
    }


def _input(f: FormField) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "input", "block_id": f.name, "optional": not f.required,
                             "label": {"type": "plain_text", "text": clip(f.label, 2000)}, "element": _element(f)}
    if f.hint:
        block["hint"] = {"type": "plain_text", "text": clip(f.hint, 2000)}
    return block


def render_modal(content: Reply, callback: str = "oneday.view", context: str = "") -> dict[str, Any]:
    """A read-only modal: how target details are shown, so they never enter channel history."""
    _, blocks = render(content)
    return {"type": "modal", "callback_id": callback, "private_metadata": context[:3000],
            "title": {"type": "plain_text", "text": clip(content.title or "Oneday", 24)},
            "close": {"type": "plain_text", "text": "Close"}, "blocks": blocks}


def form_values(view_state: dict[str, Any]) -> dict[str, str]:
    """Slack's view state -> {field name: value}, whatever the element type."""
    out: dict[str, str] = {}
    for block_id, actions in (view_state.get("values") or {}).items():
        for state in actions.values():
            value = (state.get("value") or state.get("selected_date")
                     or (state.get("selected_option") or {}).get("value")
                     or state.get("selected_user") or state.get("selected_conversation"))
            out[block_id] = value or ""
    return out
