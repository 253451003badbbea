"""Render a platform-neutral Form as a Slack modal view, within Slack's limits for views."""

from __future__ import annotations

from typing import Any

from bot.slack.blocks import SECTION_TEXT, VIEW_BLOCKS, clip, escape, render
from commands.core.replies import Form, FormField, Reply

TITLE_TEXT = 24  # a modal's title, submit and close labels
OPTION_TEXT = 75
MAX_OPTIONS = 100  # a static_select: the first ones are kept (commands list the likeliest first)
LABEL_TEXT = 2000
METADATA_TEXT = 3000


def _element(f: FormField) -> dict[str, Any]:
    if f.kind == "date":
        el: dict[str, Any] = {"type": "datepicker", "action_id": f.name}
        if f.initial:
            el["initial_date"] = f.initial
        return el
    if f.kind == "choice":
        options = [{"text": {"type": "plain_text", "text": clip(label, OPTION_TEXT)}, "value": value}
                   for value, label in f.choices[:MAX_OPTIONS]]
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
    intro = [{"type": "section", "text": {"type": "mrkdwn", "text": clip(escape(form.intro), SECTION_TEXT)}}
             ] if form.intro else []
    return {
        "type": "modal",
        "callback_id": form.callback,
        "private_metadata": form.context[:METADATA_TEXT],
        "title": {"type": "plain_text", "text": clip(form.title, TITLE_TEXT)},
        "submit": {"type": "plain_text", "text": clip(form.submit, TITLE_TEXT)},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": intro + [_input(f) for f in form.fields],
    }


def _input(f: FormField) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "input", "block_id": f.name, "optional": not f.required,
                             "label": {"type": "plain_text", "text": clip(f.label, LABEL_TEXT)},
                             "element": _element(f)}
    hint = f.hint
    if f.kind == "choice" and len(f.choices) > MAX_OPTIONS:
        left_out = f"The first {MAX_OPTIONS} of {len(f.choices)} are listed."
        hint = f"{hint} {left_out}" if hint else left_out
    if hint:
        block["hint"] = {"type": "plain_text", "text": clip(hint, LABEL_TEXT)}
    return block


def render_modal(content: Reply, callback: str = "oneday.view", context: str = "") -> dict[str, Any]:
    """A read-only modal: how target details are shown, so they never enter channel history."""
    _, blocks = render(content, VIEW_BLOCKS)
    return {"type": "modal", "callback_id": callback, "private_metadata": context[:METADATA_TEXT],
            "title": {"type": "plain_text", "text": clip(content.title or "Oneday", TITLE_TEXT)},
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
