"""The platform seam: what the composition root needs of a chat platform (bot/platforms.py lists them).

A `Platform` declares its settings (read from the environment by the platform itself), whether it is
configured, the HTTP routes and connections it serves, its outbound port (bot/port.py, for the outbox and jobs),
the tables it keeps in Oneday's database, its CLI sub-app, how fast one conversation may be sent to, and what it
can do. Slack's is bot/slack/platform.py; Teams' will be bot/teams/.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import typer
    from sqlalchemy import Engine, MetaData
    from sqlalchemy.orm import Session, sessionmaker

    from bot.config import Settings
    from bot.http import Route
    from bot.port import ChatPort
    from bot.runner import Runner
    from commands.core.errors import OnedayError


@dataclass(frozen=True)
class Limit:
    """At most `count` messages to one conversation in any `seconds`."""

    count: int
    seconds: float


# Capabilities a platform may declare (`Platform.capabilities`).
LOOKS_UP_SENT = "looks_up_sent"  # its port's `already_sent` finds a message by its dedupe key (bot/port.py)
# Its port is also a `SentEraser` (bot/port.py): it deletes a message it sent and archives a space it made, so
# `oneday retention apply` can take an erased target out of chat history. A platform without it still type-checks;
# its rows stay marked for deletion and the retention plan lists them.
ERASES_SENT = "erases_sent"

# Teams (Bot Framework), per bot per conversation: 7 in 1 s, 8 in 2 s, 60 in 30 s, 1,800 in an hour. For
# bot/teams/ to declare as its `limits`.
TEAMS_LIMITS: tuple[Limit, ...] = (Limit(7, 1.0), Limit(8, 2.0), Limit(60, 30.0), Limit(1800, 3600.0))


class Inbound(Protocol):
    """What a platform serves while `oneday serve` runs: HTTP routes on the shared server and, for platforms
    that receive events over their own connection (Slack's Socket Mode), that connection."""

    routes: Mapping[str, Route]  # path -> handler, on the one HTTP server (with /healthz)

    def start(self) -> None:
        """Open connections (before the HTTP server answers /healthz)."""

    def stop(self) -> None: ...


class Platform(Protocol):
    @property
    def name(self) -> str:
        """As stored: outbox rows, chat identities, workspaces; also `oneday <name> ...`."""

    @property
    def limits(self) -> tuple[Limit, ...]:
        """How fast one conversation may be sent to; the outbox keeps every one of them."""

    @property
    def capabilities(self) -> frozenset[str]:
        """What the platform can do beyond the port's basics (e.g. LOOKS_UP_SENT)."""

    def settings_from_env(self, env: Mapping[str, str]) -> Any:
        """This platform's settings from the environment (kept in `Settings.platforms[name]`). Raises
        bot.config.ConfigError for a value it cannot use."""

    def configured(self, settings: Settings) -> bool:
        """Whether the settings give this platform enough to send (it then runs in serve and the worker)."""

    def problem(self, settings: Settings, *, serving: bool) -> OnedayError | None:
        """Why this platform cannot run with these settings (`serving`: also receive requests), or None."""

    def register_tables(self, metadata: MetaData) -> None:
        """Add the platform's own tables to `metadata`, so one Alembic history (and its drift check) has them."""

    def cli(self) -> typer.Typer | None:
        """`oneday <name> ...`, or None."""

    def outgoing_port(self, settings: Settings, engine: Engine, factory: sessionmaker[Session]) -> ChatPort:
        """The port the outbox sender and jobs send through (outside any request)."""

    def inbound(self, settings: Settings, *, engine: Engine, runner: Runner) -> Inbound:
        """Receive requests and hand them to `runner`."""
