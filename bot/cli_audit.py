"""`oneday audit ...` and `oneday subject ...`: the processing log and subject access, for the DPO.

`audit verify` and `audit head` check the log's hash chain (models/audit.py); `audit export`, `subject search` and
`subject export` read what is held and are recorded in the log themselves, with a named actor: `--as MEMBER`, else
the operating-system user ("os:alice"), read here at the edge. Export files are created 0600 (only their owner may
read them) and start with the handling marking.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import db
from bot.clock import system_clock
from commands.core.errors import OnedayError, UsageError
from commands.governance import actor as actors
from commands.governance import log_export, subject
from commands.partnership import file as partnership_cmd
from models import audit
from models.partnership import Partnership

audit_app = typer.Typer(help="The processing log (DPA 2018 s.62): verify its hash chain, print its head, export it.",
                        no_args_is_help=True)
subject_app = typer.Typer(help="Subject access: search everything held on targets, export all held on one.",
                          no_args_is_help=True)

AsOption = Annotated[str | None, typer.Option("--as", help="Member key of the person asking (recorded in the log); "
                                              "default: the operating-system user.")]
OutOption = Annotated[Path | None, typer.Option("-o", "--output", help="File to write (created 0600).")]


def os_user() -> str:
    """The operating-system user running the command (recorded as "os:<name>" when no --as is given)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (e.g. a container's bare uid)
        return f"uid{os.getuid()}"


def cli_actor(session: Session, p: Partnership, as_member: str | None) -> actors.Actor:
    return actors.resolve(session, p, as_member, os_user())


def write_private(path: Path, text: str) -> None:
    """Create (or replace) a file readable by its owner alone, whatever the umask: 0600 from the first byte, and an
    existing file's mode is narrowed too."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            fd = -1
            f.write(text)
    finally:
        if fd >= 0:
            os.close(fd)


def _need_output(output: Path | None, example: str) -> Path:
    if output is None:
        raise UsageError("name the file to write with -o FILE (exports are written to a file readable by you alone, "
                         "never to the terminal)", example=example)
    return output


def _partnerships(session: Session, key: str | None) -> list[Partnership]:
    if key:
        return [partnership_cmd.select_partnership(session, key)]
    found = list(session.scalars(select(Partnership).order_by(Partnership.key)))
    if not found:
        raise UsageError("this database holds no partnership yet", example="oneday partnership load partnership.yaml")
    return found


def _require_database() -> None:
    from bot import cli

    if db.current_revision(cli.State.settings.database_url) is None:
        raise OnedayError("the database is empty; create it and load a partnership first", example=cli.LOAD_SAMPLE)


@audit_app.command("verify")
def verify_cmd(
    partnership: Annotated[str | None, typer.Option("--partnership", help="Only this partnership (default: all).")]
    = None,
    head: Annotated[list[str] | None, typer.Option("--head", help="A head printed earlier by `oneday audit head` "
                                                   "(PARTNERSHIP:SEQ:HASH): the log must still extend it.")] = None,
) -> None:
    """Check each partnership's hash chain; name the first edited, deleted or reordered row. Exit 1 if any."""
    from bot import cli

    try:
        kept = [audit.Head.parse(h) for h in head or []]
    except ValueError as exc:
        cli.fail(UsageError(str(exc), example="oneday audit verify --head " + "1:42:" + "ab" * 32))
        return
    try:
        _require_database()
        with db.unit_of_work(cli._factory()) as session:
            chosen = _partnerships(session, partnership or cli.State.settings.partnership)
            by_id = {p.id: p for p in chosen}
            for h in kept:
                if h.partnership_id not in by_id:
                    raise UsageError(f"--head {h}: partnership id {h.partnership_id} is not among those verified",
                                     example="oneday audit verify --head " + "1:42:" + "ab" * 32)
            bad = 0
            for p in chosen:
                mine = [h for h in kept if h.partnership_id == p.id]
                result = audit.verify(session, p.id, kept=mine[-1] if mine else None)
                if result.ok:
                    extends = f"; extends the kept head at seq {mine[-1].seq}" if mine else ""
                    cli.out.print(f"{p.key}: OK, {result.rows} rows, head {result.head}{extends}",
                                  highlight=False, markup=False, soft_wrap=True)
                else:
                    bad += 1
                    cli.out.print(f"{p.key}: BROKEN at {result.broken}", highlight=False, markup=False, soft_wrap=True)
    except OnedayError as exc:
        cli.fail(exc)
        return
    if bad:
        raise typer.Exit(1)


@audit_app.command("head")
def head_cmd(
    partnership: Annotated[str | None, typer.Option("--partnership", help="Only this partnership (default: all).")]
    = None,
) -> None:
    """Print each partnership's chain head (PARTNERSHIP:SEQ:HASH) to keep elsewhere; check later with verify --head."""
    from bot import cli

    try:
        _require_database()
        with db.unit_of_work(cli._factory()) as session:
            for p in _partnerships(session, partnership or cli.State.settings.partnership):
                cli.out.print(f"{audit.head(session, p.id)}  {p.key}", highlight=False, markup=False, soft_wrap=True)
    except OnedayError as exc:
        cli.fail(exc)


@audit_app.command("export")
def export_cmd(
    output: OutOption = None,
    target: Annotated[str | None, typer.Option("--target", help="Only events about this target reference.")] = None,
    member: Annotated[str | None, typer.Option("--member", help="Only events this member did or received.")] = None,
    from_: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD (the partnership's time "
                                              "zone).")] = None,
    to: Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
    as_: AsOption = None,
    reason: Annotated[str, typer.Option("--reason", help="Why it is exported (recorded).")]
    = "DPO review of the processing log",
) -> None:
    """Export the processing log (filtered); recorded as a disclosure of each target it names."""
    from bot import cli

    try:
        path = _need_output(output, log_export.EXAMPLE)
        f = log_export.LogFilter(target=target, member=member, start=log_export.parse_day(from_, "--from"),
                                 end=log_export.parse_day(to, "--to"))
        log_export.check_format(fmt)
        _require_database()
        with db.unit_of_work(cli._factory()) as session:
            p = partnership_cmd.select_partnership(session, cli.State.settings.partnership)
            who = cli_actor(session, p, as_)
            result = log_export.export_log(session, p, f, fmt=fmt, actor=who, now=system_clock(),
                                           destination=str(path), reason=reason)
            _write(path, result.text)
    except OnedayError as exc:
        cli.fail(exc)
        return
    cli.err.print(f"wrote {path}: {result.rows} events ({f.describe()}), recorded as a disclosure by {who.label}",
                  highlight=False, markup=False, soft_wrap=True)


def _write(path: Path, text: str) -> None:
    try:
        write_private(path, text)
    except OSError as exc:
        raise OnedayError(f"cannot write {path}: {exc.strerror or exc}") from None


@subject_app.command("search")
def search_cmd(
    text: str,
    as_: AsOption = None,
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded), e.g. the subject access request's "
                                        "reference.")] = "subject access request",
) -> None:
    """Find TEXT in target details, actions, notes and outcomes; each target found is recorded as consulted."""
    from bot import cli

    try:
        _require_database()
        with db.unit_of_work(cli._factory()) as session:
            p = partnership_cmd.select_partnership(session, cli.State.settings.partnership)
            who = cli_actor(session, p, as_)
            hits = subject.search(session, p, text, actor=who, now=system_clock(), reason=reason)
    except OnedayError as exc:
        cli.fail(exc)
        return
    for hit in hits:
        cli.out.print(f"{hit.ref}  {hit.where}: {hit.snippet}", highlight=False, markup=False, soft_wrap=True)
    found = len({h.ref for h in hits})
    cli.err.print(f"{len(hits)} match{'es' if len(hits) != 1 else ''} in {found} target{'s' if found != 1 else ''}"
                  + (f"; recorded as consulted by {who.label}" if hits else ""),
                  highlight=False, markup=False, soft_wrap=True)


@subject_app.command("export")
def subject_export_cmd(
    ref: str,
    output: OutOption = None,
    as_: AsOption = None,
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded).")] = "subject access request",
) -> None:
    """Everything held on one target, with its processing log, as JSON; recorded as a disclosure."""
    from bot import cli

    try:
        path = _need_output(output, f"oneday subject export {ref} -o {ref.lower()}.json")
        _require_database()
        with db.unit_of_work(cli._factory()) as session:
            p = partnership_cmd.select_partnership(session, cli.State.settings.partnership)
            who = cli_actor(session, p, as_)
            text = subject.export(session, p, ref, actor=who, now=system_clock(), destination=str(path),
                                  reason=reason)
            _write(path, text)
    except OnedayError as exc:
        cli.fail(exc)
        return
    cli.err.print(f"wrote {path}, recorded as a disclosure by {who.label}", highlight=False, markup=False, soft_wrap=True)
