"""Masking secrets wherever configuration is shown: printed by the CLI, logged, or in a repr.

One helper per kind of secret, so a new place that shows a URL cannot forget the password.
"""

from __future__ import annotations

import re

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

MASK = "***"
QUERY_PASSWORD = re.compile(r"([?&](?:password|passwd|pwd)=)[^&]*", re.IGNORECASE)  # libpq also takes ?password=


def safe_url(url: str) -> str:
    """`url` with its password replaced by ***, otherwise exactly as written.

    What SQLAlchemy's `render_as_string(hide_password=True)` does, but on the text itself: SQLAlchemy stops a
    password at its first '@' (so 'u:p@ss@host' would show 'ss'), cannot parse a mistyped URL at all (which the
    configuration error still echoes), and re-renders the rest ('sqlite:///:memory:' as '%3Amemory%3A')."""
    url = QUERY_PASSWORD.sub(rf"\g<1>{MASK}", url)
    try:
        if make_url(url).password is None:
            return url
    except (ArgumentError, ValueError):
        pass
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    query = rest.find("?")
    authority_end = rest.rfind("@", 0, query if query >= 0 else len(rest))
    if authority_end < 0:
        return url
    user, colon, _ = rest[:authority_end].partition(":")
    if not colon:
        return url
    return f"{scheme}{sep}{user}:{MASK}{rest[authority_end:]}"


def secret(value: str | None) -> str | None:
    """How a token or secret appears in a repr: *** when set (never a prefix of it), None when not."""
    return None if value is None else MASK
