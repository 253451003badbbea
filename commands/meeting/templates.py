"""Documents as Jinja2 templates.

Oneday's own templates (the minutes, the itinerary's messages) are trusted code: a plain environment, no
autoescape (the output is Markdown or chat text, not HTML). Wording a partnership supplies (e.g. a cohort's
confidentiality statement) is not: it renders in Jinja2's sandboxed environment, so a template in a partnership
file cannot reach Python internals, and a broken one falls back to what it says literally instead of failing the
request. Autoescape is on where the output is HTML; for chat text it is off, because every platform renderer
escapes plain text for its own markup (bot/slack/text.py) and escaping twice would show "&amp;" to people.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import DictLoader, Environment, StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

_OURS = Environment(autoescape=False, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                    undefined=StrictUndefined)  # noqa: S701 (Markdown from our own template, not HTML)
_THEIRS_HTML = ImmutableSandboxedEnvironment(autoescape=True)
_THEIRS_TEXT = ImmutableSandboxedEnvironment(autoescape=False)  # noqa: S701 (plain text; renderers escape it)

MINUTES = """\
{{ handling }}

# Minutes: {{ section }}, {{ day }}

{{ times }}. {{ partnership }}.

## Attendance

{% for agency, names in present %}
- {{ agency }}: {{ names | join(", ") }}
{% else %}
- Nobody was marked present.
{% endfor %}
{% if apologies %}

Apologies: {{ apologies | join("; ") }}.
{% endif %}
{% if note %}

## Chair's note

{{ note }}
{% endif %}

## Targets

{% for t in targets %}
### {{ t.ref }}

- Status: {{ t.status or "not recorded" }}
{% for d in t.decisions %}
- Decision ({{ d[0] }}): {{ d[1] }}
{% endfor %}
{% for a in t.actions %}
- Action #{{ a[0] }}: {{ a[1] }} ({{ a[2] }}{{ ", due " ~ a[3] if a[3] }})
{% endfor %}

{% else %}
No targets of this section are yours to see.

{% endfor %}
{{ handling }}. Released to you alone; recorded in the processing log. Do not pass it on.
"""


# A member's itinerary by direct message (commands/agenda/itinerary.py `chat_message`): the title (the first line),
# then each section with the member's slots, what their agency can bring and where the meeting is.
ITINERARY = """\
{% if visits %}
{{ "Updated: " if updated }}{{ partnership }}, {{ when }}: your slots: {% for v in visits -%}
{{ v.name }} {{ v.start.strftime("%H:%M") }}-{{ v.end.strftime("%H:%M") }}{{ "; " if not loop.last }}{% endfor +%}
{% else %}
{{ partnership }}, {{ when }}: you are no longer invited to any section
{% endif %}
{% for s in sections %}
{{ s.name }} (#{{ s.space }})
{% for slot in s.slots %}
  {{ slot.start.strftime("%H:%M") }}-{{ slot.end.strftime("%H:%M") }}  {{ slot.target }}: {{ slot.why }}
{% if slot.ask %}
    Asked of partners: {{ slot.ask }}
{% endif %}
{% endfor %}
{% endfor %}
{% if powers and sections %}
What {{ agency }} can bring: {{ powers }}
{% endif %}
{% if visits %}
{% include "where" %}
{% endif %}
"""

# The same by email, to an invitee no chat platform reaches (`email_message`): no target reference; the handling
# marking first and last, as UK practice puts it.
ITINERARY_EMAIL = """\
{{ marking }}

{% if sections %}
You are invited to the {{ partnership }} meeting on {{ when }}, for these slots:
{% for s in sections %}
{{ s.name }}: {{ s.start.strftime("%H:%M") }}-{{ s.end.strftime("%H:%M") }} ({{ s.handling }})
{% for start, end in s.slots %}
  slot {{ loop.index }}: {{ start.strftime("%H:%M") }}-{{ end.strftime("%H:%M") }}
{% endfor %}
{% endfor %}
{% else %}
You are no longer invited to any section of the {{ partnership }} meeting on {{ when }}.
{% endif %}
{% for name in cancelled %}
Cancelled: {{ name }} (you are no longer invited to it)
{% endfor %}

You have no account on the partnership's chat platform that Oneday knows of, so your itinerary comes by email. {#
#}It names no target: the section packs are shown only in chat, to those entitled.
Ask {{ contacts | join(", ") if contacts else "the partnership coordinator" }} how to join and for what you need {#
#}to know before your slots.
The attached calendar file holds the sections' names and times.

{{ marking }}
{% if sections %}
{% include "where" %}
{% endif %}
"""

# Where the meeting is, when the partnership file says (`meeting.venue`, `meeting.dial_in`): included by both.
_WHERE = """\
{% if venue %}
Where: {{ venue }}
{% endif %}
{% if dial_in %}
Join remotely: {{ dial_in }}
{% endif %}
"""

_OURS.loader = DictLoader({"where": _WHERE})


def render_ours(source: str, values: Mapping[str, Any]) -> str:
    return _OURS.from_string(source).render(**values)


def _in_line(value: Any) -> Any:
    """A value's own line breaks, kept apart from the template's (NUL: no text Oneday holds has one, PostgreSQL
    refuses it)."""
    return value.replace("\n", "\0") if isinstance(value, str) else value


_LINES = _OURS.overlay(finalize=_in_line)


def render_lines(source: str, values: Mapping[str, Any]) -> tuple[str, ...]:
    """One of our templates rendered as a message's lines: a line of the template's output a line (the last
    newline ends the last line, it does not start another); a value with line breaks in it stays one line."""
    text = _LINES.from_string(source).render(**values)
    return tuple(line.replace("\0", "\n") for line in text.removesuffix("\n").split("\n")) if text else ()


def render_theirs(source: str, values: Mapping[str, Any], *, html: bool = False) -> str:
    """A partnership's wording, sandboxed (autoescaped for HTML); if it is not a valid template, or it uses
    something it may not (the sandbox refuses), the text as written."""
    env = _THEIRS_HTML if html else _THEIRS_TEXT
    try:
        return str(env.from_string(source).render(**values))
    except TemplateError:
        return source
