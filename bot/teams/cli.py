"""`oneday teams ...`: the Teams app package."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

teams_app = typer.Typer(help="Microsoft Teams: the app package.", no_args_is_help=True)


@teams_app.command("manifest")
def manifest(output: Annotated[Path, typer.Option("-o", "--output", help="The .zip to write.")] = Path(
        "oneday-teams.zip"),
             app_id: Annotated[str | None, typer.Option("--app-id", envvar="TEAMS_APP_ID",
                                                        help="The bot's Microsoft app id.")] = None,
             host: Annotated[str, typer.Option("--host", help="Your HTTPS host name, e.g. oneday.example.org")]
             = "oneday.example.org") -> None:
    """Write the Teams app package (manifest.json, color.png, outline.png, zipped) to upload in Teams."""
    from bot.teams.manifest import write_package

    if not app_id:
        typer.echo("TEAMS_APP_ID is not set: give the bot's app id, e.g. oneday teams manifest --app-id "
                   "0f8fad5b-d9cb-469f-a165-70867728950e", err=True)
        raise typer.Exit(2)
    if output.exists():
        typer.echo(f"{output} exists: Oneday never overwrites a file; choose another with -o", err=True)
        raise typer.Exit(1)
    write_package(output, app_id=app_id, host=host)
    typer.echo(f"wrote {output}")
