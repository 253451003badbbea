"""`oneday slack ...`: the app manifest and linking installed workspaces to partnerships.

Like bot/cli_agenda.py, `bot.cli` is imported inside the commands (it imports this module to register it).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from bot import db
from bot.clock import system_clock
from commands.core import workspaces
from commands.core.errors import OnedayError
from commands.core.names import DEFAULT_NAMES
from commands.partnership.file import select_partnership

slack_app = typer.Typer(help="Slack set-up: the app manifest, and which partnership each workspace belongs to.",
                        no_args_is_help=True)


@slack_app.command("manifest")
def manifest_cmd(
    url: Annotated[str, typer.Option("--url", metavar="URL", help="Public base URL of `oneday serve` (request URLs).")]
    = "https://example.org",
    fmt: Annotated[str, typer.Option("--format", metavar="yaml|json", help="yaml or json")] = "yaml",
) -> None:
    """Print the Slack app manifest for this configuration (command names, scopes, events, Socket Mode)."""
    from bot import cli
    from bot.slack.manifest import dump, manifest

    if fmt not in ("yaml", "json"):
        cli.fail(OnedayError(f"unknown format '{fmt}': use yaml or json", example="oneday slack manifest --format json"))
    if not url.startswith(("https://", "http://")):
        cli.fail(OnedayError(f"'{url}' is not a URL", example="oneday slack manifest --url https://oneday.example.org"))
    sys.stdout.write(dump(manifest(cli.State.settings, url), fmt))
    generic = [name for intent, name in cli.State.settings.commands.items() if name == DEFAULT_NAMES.get(intent)]
    if generic:  # stderr: stdout stays the manifest alone, for a pipe or a file
        suggested = " ".join(f"ONEDAY_COMMAND_{intent.upper()}=/od-{intent}" for intent, name
                             in cli.State.settings.commands.items() if name in generic)
        cli.err.print(f"note: {', '.join(generic)} are generic names another app in the workspace may already use "
                      f"(Slack then asks people which app they meant). Distinctive names, e.g.: {suggested} "
                      "(set them for `oneday serve` too; see the README, 'Renaming the commands')",
                      highlight=False, markup=False)


def _link(team_id: str, partnership: str | None, *, unlink: bool) -> None:
    from bot import cli

    cli._require_schema()
    try:
        with db.unit_of_work(cli._factory()) as session:
            if unlink:
                said = workspaces.unlink(session, platform="slack", workspace_id=team_id, now=system_clock())
            else:
                p = select_partnership(session, partnership or cli.State.settings.partnership)
                said = workspaces.link(session, p, platform="slack", workspace_id=team_id, now=system_clock())
    except OnedayError as exc:
        cli.fail(exc)
        return
    cli.out.print(said, highlight=False, markup=False)


@slack_app.command("link-workspace")
def link_workspace(
    team_id: Annotated[str, typer.Argument(metavar="TEAM_ID", help="The Slack workspace (team) id, e.g. T0123ABCD.")],
    partnership: Annotated[str | None, typer.Option("--partnership", metavar="KEY",
                                                    help="Partnership key (when several).")] = None,
) -> None:
    """Requests from this Slack workspace run in the partnership (run after installing the app there)."""
    _link(team_id, partnership, unlink=False)


@slack_app.command("unlink-workspace")
def unlink_workspace(team_id: Annotated[str, typer.Argument(help="The Slack workspace (team) id.")]) -> None:
    """Stop running this workspace's requests in its partnership (they are refused from then on)."""
    _link(team_id, None, unlink=True)
