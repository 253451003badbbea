"""The email platform's settings, read from the environment (bot/email/platform.py) and kept in
`Settings.platforms["email"]`; checked at start-up like every other setting. The repr masks the password.

`SMTP_URL`: `smtp://[user:password@]host[:port][?starttls=true]` (plain SMTP, port 25 by default; STARTTLS
when asked, and login when a user is given) or `smtps://...` (TLS from the start, port 465 by default).
User and password are percent-decoded (`%40` for an `@` in a user name). `SMTP_FROM`: the sender address.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from bot.config import ConfigError, Settings
from bot.redact import safe_url, secret

ADDRESS = re.compile(r"[^@\s<>]+@[^@\s<>]+")
URL_EXAMPLE = "SMTP_URL=smtp://oneday:secret@mail.internal:587?starttls=true"
DEFAULT_FROM = "oneday@localhost"
TIMEOUT_SECONDS = 30.0  # an SMTP server that stops answering must not hold the outbox thread for ever


@dataclass(frozen=True, repr=False)
class EmailSettings:
    host: str | None = None
    port: int = 25
    tls: bool = False  # smtps://: TLS from the first byte
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    sender: str = DEFAULT_FROM

    @property
    def configured(self) -> bool:
        return self.host is not None

    def __repr__(self) -> str:
        return (f"EmailSettings(host={self.host!r}, port={self.port}, tls={self.tls}, starttls={self.starttls}, "
                f"username={self.username!r}, password={secret(self.password)}, sender={self.sender!r})")


def _flag(raw: str, value: str) -> bool:
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise ConfigError("SMTP_URL", safe_url(raw), "takes starttls=true or starttls=false", URL_EXAMPLE)


def from_env(env: Mapping[str, str]) -> EmailSettings:
    sender = (env.get("SMTP_FROM") or "").strip() or DEFAULT_FROM
    if not ADDRESS.fullmatch(sender):
        raise ConfigError("SMTP_FROM", sender, "must be an email address", "SMTP_FROM=oneday@northtown.example")
    raw = (env.get("SMTP_URL") or "").strip()  # errors show it with its password masked
    if not raw:
        return EmailSettings(sender=sender)
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise ConfigError("SMTP_URL", safe_url(raw), "must be an smtp:// or smtps:// URL with a valid port",
                          URL_EXAMPLE) from None
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError("SMTP_URL", safe_url(raw), "must be an smtp:// or smtps:// URL with a host", URL_EXAMPLE)
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - {"starttls"})
    if unknown:
        raise ConfigError("SMTP_URL", safe_url(raw), f"has an unknown option {unknown[0]!r} (only starttls)", URL_EXAMPLE)
    tls = parts.scheme == "smtps"
    starttls = _flag(raw, query["starttls"][-1]) if "starttls" in query else False
    if tls and starttls:
        raise ConfigError("SMTP_URL", safe_url(raw), "uses TLS from the start (smtps://), so starttls does not apply",
                          "SMTP_URL=smtps://oneday:secret@mail.internal:465")
    return EmailSettings(host=parts.hostname, port=port or (465 if tls else 25), tls=tls, starttls=starttls,
                         username=unquote(parts.username) if parts.username else None,
                         password=unquote(parts.password) if parts.password else None, sender=sender)


def email_settings(settings: Settings) -> EmailSettings:
    found = settings.platforms.get("email")
    return found if isinstance(found, EmailSettings) else EmailSettings()
