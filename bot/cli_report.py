"""`oneday report --from D --to D [--format html|pdf|csv|png] [-o FILE]`: the partnership's figures, depersonalised.

The CLI is the operator's: no role is asked for, and nothing is logged, because a report names no target
(commands/reports/figures.py holds counts by agency, outcome category and month only). `bot.cli` is imported
inside the command for the same reason as in bot/cli_agenda.py (it registers this command, and its settings are
read at call time).
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from bot import db
from bot.clock import system_clock
from commands.core.errors import OnedayError
from commands.partnership import file as partnership_cmd
from commands.reports import render
from commands.reports.figures import compute

EXAMPLE = "oneday report --from 2026-10-01 --to 2026-12-31 --format pdf -o figures.pdf"
BINARY = ("pdf", "png")


def _day(text: str, option: str) -> date:
    try:
        if len(text.strip()) != 10:
            raise ValueError
        return date.fromisoformat(text.strip())
    except ValueError:
        raise OnedayError(f"{option} '{text}' is not a date; write it as YYYY-MM-DD", example=EXAMPLE) from None


def report_cmd(
    from_: Annotated[str, typer.Option("--from", help="First day of the period, YYYY-MM-DD (included).")],
    to: Annotated[str, typer.Option("--to", help="Last day of the period, YYYY-MM-DD (included).")],
    format_: Annotated[str, typer.Option("--format", help="html, pdf, csv or png (the chart alone).")] = "html",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write to this file (never overwritten); "
                                                "default: standard output.")] = None,
) -> None:
    """The partnership's figures for a period: actions by agency, time to outcome, outcomes by group, attendance,
    ISP status, meetings held. Counts only: no target reference, person or free text."""
    from bot import cli

    try:
        start, end = _day(from_, "--from"), _day(to, "--to")
        if start > end:
            raise OnedayError(f"--from {start.isoformat()} is after --to {end.isoformat()}; give the earlier day "
                              "first", example=EXAMPLE)
        kind = format_.strip().lower()
        if kind not in render.FORMATS:
            raise OnedayError(f"unknown format '{format_}'; choose one of {', '.join(render.FORMATS)}",
                              example=EXAMPLE)
        if output is not None and output.exists():
            raise OnedayError(f"{output} already exists; not overwriting it", example=EXAMPLE)
        if output is None and kind in BINARY and sys.stdout.isatty():
            raise OnedayError(f"a {kind.upper()} is not for a terminal; write it to a file with -o", example=EXAMPLE)
        if db.current_revision(cli.State.settings.database_url) is None:
            raise OnedayError("the database is empty; create it and load a partnership first", example=cli.LOAD_SAMPLE)
        with db.unit_of_work(cli._factory()) as session:
            p = partnership_cmd.select_partnership(session, cli.State.settings.partnership)
            figures = compute(session, p, start, end, now=system_clock())
    except OnedayError as exc:
        cli.fail(exc)
        return
    content: bytes = {
        "html": lambda: render.html(figures).encode("utf-8"),
        "csv": lambda: render.csv_text(figures).encode("utf-8"),
        "pdf": lambda: render.pdf(figures),
        "png": lambda: render.chart(figures).png,
    }[kind]()
    if output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
        return
    try:
        with output.open("xb") as f:  # "x": a file that appeared since the check is not overwritten either
            f.write(content)
    except OSError as exc:
        cli.fail(OnedayError(f"cannot write {output}: {exc.strerror or exc}", example=EXAMPLE))
        return
    cli.err.print(f"wrote {output} ({kind}, {figures.period})", highlight=False, markup=False)
