"""Documents as Jinja2 templates.

Oneday's own templates (the minutes) are trusted code: a plain environment, no autoescape (the output is
Markdown, not HTML). Wording a partnership supplies (e.g. a cohort's confidentiality statement) is not: it renders
in Jinja2's sandboxed environment, so a template in a partnership file cannot reach Python internals, and a broken
one falls back to what it says literally instead of failing the request. Autoescape is on where the output is HTML;
for chat text it is off, because every platform renderer escapes plain text for its own markup (bot/slack/text.py)
and escaping twice would show "&amp;" to people.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import Environment, StrictUndefined, TemplateError
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


def render_ours(source: str, values: Mapping[str, Any]) -> str:
    return _OURS.from_string(source).render(**values)


def render_theirs(source: str, values: Mapping[str, Any], *, html: bool = False) -> str:
    """A partnership's wording, sandboxed (autoescaped for HTML); if it is not a valid template, or it uses
    something it may not (the sandbox refuses), the text as written."""
    env = _THEIRS_HTML if html else _THEIRS_TEXT
    try:
        return str(env.from_string(source).render(**values))
    except TemplateError:
        return source
