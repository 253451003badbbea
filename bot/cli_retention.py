"""`oneday retention plan | apply`: retention and review (MoPI-style) from the command line.

`plan` lists what is due, with reasons: reviews, closed targets past their retention period, section spaces to
archive, chat messages still to delete. `apply` erases the targets past retention (each in its own transaction:
all of a target or none of it), then takes their messages out of chat and archives section spaces whose pack has
closed, through each configured platform's port (bot/port.py `SentEraser`, declared as ERASES_SENT). A chat step
that fails stays marked and is retried by the next `apply`; `--dry-run` reports the same and changes nothing.

`bot.cli` is imported inside the commands (it imports this module to register the sub-app), as in cli_agenda.py.
"""

from __future__ import annotations

import getpass
import json
import logging
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot import db
from bot.port import DeliveryError, PerPartnership, SentEraser
from commands.core.errors import OnedayError
from commands.governance import retention
from commands.partnership import file as partnership_cmd
from models import Member, Partnership, Target

log = logging.getLogger("oneday.retention")

retention_app = typer.Typer(help="Retention and review: what is due, and erasing what is past retention.",
                            no_args_is_help=True)

MAX_TRIES = 5  # per chat call, when the platform asks us to slow down


@dataclass
class Report:
    dry_run: bool
    erased: list[dict[str, Any]] = field(default_factory=list)
    deleted: int = 0
    refused: int = 0
    left: int = 0  # chat messages still to delete (no platform to do it, or it failed this time)
    archived: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _actor(session: Session, p: Partnership, as_member: str | None) -> tuple[str, int | None]:
    """Who is recorded in the processing log: `--as MEMBER` (an active coordinator), else the operating-system
    user the command ran as."""
    if not as_member:
        return f"cli:{getpass.getuser()}", None
    member = session.scalar(select(Member).where(Member.partnership_id == p.id, Member.key == as_member))
    if member is None or not member.active:
        raise OnedayError(f"no active member '{as_member}' in {p.key}", example="oneday retention apply --as jo.bloggs")
    if not member.has_role("coordinator"):
        raise OnedayError(f"{member.key} is not a coordinator: only a coordinator may apply retention",
                          example="oneday retention apply --as jo.bloggs")
    return f"member:{member.key}", member.id


def _with_retries(call: Callable[[], bool], sleep: Callable[[float], None]) -> bool:
    for attempt in range(MAX_TRIES):
        try:
            return call()
        except DeliveryError as exc:
            if attempt == MAX_TRIES - 1:
                raise
            sleep(exc.retry_after if exc.retry_after is not None else min(2.0 ** attempt, 30.0))
    raise AssertionError("unreachable")


def apply(factory: sessionmaker[Session], partnership: str | None, *, now: datetime,
          erasers: Mapping[str, SentEraser], as_member: str | None = None, dry_run: bool = False,
          sleep: Callable[[float], None] = time.sleep) -> Report:
    """Erase what is past retention, delete its chat messages, archive closed sections' spaces. `erasers`: the
    port of each platform that can (by name); rows of another platform stay marked for a later run."""
    report = Report(dry_run=dry_run)
    with factory() as session:
        p = partnership_cmd.select_partnership(session, partnership)
        pid, actor_and_id = p.id, _actor(session, p, as_member)
        today = retention.local_today(p, now)
        due = retention.targets_to_erase(session, p, today)
        spaces = [(s.id, s.space_ref, d.subject) for s, d in retention.sections_to_archive(session, p, today)]
        pending = retention.pending_deletions(session, p)
    actor, actor_id = actor_and_id
    if dry_run:
        report.erased = [{"ref": d.ref, "reason": d.due.reason} for d in due]
        report.left = len(pending)
        report.archived = [subject for _, _, subject in spaces]
        return report
    for item in due:  # one transaction per target: all of it erased, or none of it
        with db.unit_of_work(factory) as session:
            p = _partnership(session, pid)
            target = session.get(Target, item.target_id)
            if target is None:
                continue
            erased = retention.erase_target(session, p, target, now=now, actor=actor, actor_member_id=actor_id,
                                            reason=f"retention period ended: {item.due.reason}")
        report.erased.append({"ref": erased.ref, "counts": erased.counts, "reason": item.due.reason})
    with factory() as session:
        pending = retention.pending_deletions(session, _partnership(session, pid))
    for d in pending:
        port = _own(erasers.get(d.platform), pid)
        if port is None:
            report.left += 1
            continue
        try:
            ok = _with_retries(partial(port.delete_sent, d.channel, d.ref, file=d.file), sleep)
        except DeliveryError as exc:
            log.warning("retention: could not delete outbox row %s's message (%s); the next apply retries", d.row_id,
                        exc)
            report.left += 1
            continue
        with db.unit_of_work(factory) as session:
            retention.mark_deleted(session, _partnership(session, pid), d, ok=ok, now=now, actor=actor,
                                   actor_member_id=actor_id)
        if ok:
            report.deleted += 1
        else:
            report.refused += 1
    for section_id, space, subject in spaces:
        with factory() as session:
            platform = _space_platform(session, pid)
        port = _own(erasers.get(platform), pid)
        if port is None or space is None:
            report.notes.append(f"{subject}: no {platform} connection that can archive; left for the next apply")
            continue
        try:
            ok = _with_retries(partial(port.archive_space, space), sleep)
        except DeliveryError as exc:
            report.notes.append(f"{subject}: could not archive now ({exc}); the next apply retries")
            continue
        if not ok:
            report.notes.append(f"{subject}: {platform} refused to archive the space")
            continue
        with db.unit_of_work(factory) as session:
            retention.mark_archived(session, _partnership(session, pid), section_id, now=now, actor=actor,
                                    actor_member_id=actor_id)
        report.archived.append(subject)
    if report.erased:
        try:
            compact(factory)
        except OperationalError as exc:  # another process holds the file: the erasure stands, the rewrite waits
            report.notes.append(f"the database file could not be rewritten now ({exc.orig}): run "
                                "`sqlite3 FILE 'VACUUM'` while serve and the worker are stopped, to clear freed pages")
    return report


def compact(factory: sessionmaker[Session]) -> None:
    """Leave no copy of erased content in the database file: an UPDATE frees the old row's space without wiping
    it, and the write-ahead log keeps old pages. On SQLite, VACUUM rewrites the file from the live rows only and
    the log is checkpointed and truncated. PostgreSQL keeps dead row versions until its own VACUUM: autovacuum
    reclaims them; docs/retention.md says to run `VACUUM` on the named tables after an apply when that matters."""
    engine = factory.kw["bind"]
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("VACUUM")
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _partnership(session: Session, pid: int) -> Partnership:
    p = session.get(Partnership, pid)
    assert p is not None
    return p


def _space_platform(session: Session, pid: int) -> str:
    from bot import platforms
    from bot.outbox import partnership_platform

    return partnership_platform(session, pid, platforms.names())


def _own(port: SentEraser | None, partnership_id: int) -> SentEraser | None:
    """The port that speaks as the partnership's own workspace (Slack OAuth: its installation's token), so a
    message is deleted, or a space archived, with the token that posted or made it."""
    if isinstance(port, PerPartnership):
        own = port.for_partnership(partnership_id)
        return own if isinstance(own, SentEraser) else None
    return port


def configured_erasers(factory: sessionmaker[Session]) -> dict[str, SentEraser]:
    """The port of every configured platform that declares ERASES_SENT."""
    from bot import cli, platforms
    from bot.platform import ERASES_SENT

    settings = cli.State.settings
    engine = db.make_engine(settings.database_url)
    out: dict[str, SentEraser] = {}
    for platform in platforms.configured(settings):
        if ERASES_SENT in platform.capabilities:
            port = platform.outgoing_port(settings, engine, factory)
            if isinstance(port, SentEraser):
                out[platform.name] = port
    return out


def _when(now: str | None) -> datetime:
    from bot.clock import system_clock

    if not now:
        return system_clock()
    try:
        when = datetime.fromisoformat(now)
    except ValueError:
        raise OnedayError(f"'{now}' is not an ISO date-time", example="--now 2027-03-01T10:00:00+00:00") from None
    if when.tzinfo is None:
        raise OnedayError(f"'{now}' has no time zone offset", example="--now 2027-03-01T10:00:00+00:00")
    return when


NOW_HELP = "Run as if at this time (ISO with offset, e.g. 2027-03-01T10:00:00+00:00)."


@retention_app.command("plan")
def plan_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    now: Annotated[str | None, typer.Option("--now", help=NOW_HELP)] = None,
) -> None:
    """What is due: reviews, closed targets past retention, section spaces to archive (references only)."""
    from bot import cli

    try:
        when = _when(now)
        cli._require_schema()
        with cli._factory()() as session:
            p = partnership_cmd.select_partnership(session, cli.State.settings.partnership)
            result = retention.plan(session, p, when)
    except OnedayError as exc:
        cli.fail(exc)
        return
    if as_json:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
        return
    pol = result["policy"]
    per_cohort = ", ".join(f"{k} {v}" for k, v in pol["cohorts"].items()) or "none"
    cli.out.print(f"Retention for {result['partnership']} on {result['today']}: closed targets kept "
                  f"{pol['keep_months']} months after their last activity (per cohort: {per_cohort}); section "
                  f"spaces {'archived' if pol['archive_spaces'] else 'kept'} after the pack closes", highlight=False)
    if not result["due"]:
        cli.out.print("nothing due", highlight=False)
    else:
        table = Table("due", "what", "since", "why")
        for d in result["due"]:
            table.add_row(d["kind"], d["subject"], d["since"], d["reason"])
        cli.out.print(table)
    if result["chat_messages_to_delete"]:
        cli.out.print(f"{result['chat_messages_to_delete']} chat messages about erased targets still to delete "
                      "(oneday retention apply)", highlight=False)


@retention_app.command("apply")
def apply_cmd(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would be done; change nothing.")] = False,
    as_member: Annotated[str | None, typer.Option("--as", help="The coordinator doing it (recorded in the "
                                                  "processing log); default: the operating-system user.")] = None,
    now: Annotated[str | None, typer.Option("--now", help=NOW_HELP)] = None,
) -> None:
    """Erase closed targets past retention, delete the bot's messages about them, archive closed sections."""
    from bot import cli

    try:
        when = _when(now)
        cli._require_schema()
        factory = cli._factory()
        report = apply(factory, cli.State.settings.partnership, now=when,
                       erasers={} if dry_run else configured_erasers(factory), as_member=as_member,
                       dry_run=dry_run)
    except OnedayError as exc:
        cli.fail(exc)
        return
    print_report(report)


def print_report(report: Report) -> None:
    from bot.cli import out

    verb = "would erase" if report.dry_run else "erased"
    if not report.erased:
        out.print(f"nothing to erase{' (dry run: nothing changed)' if report.dry_run else ''}", highlight=False)
    for e in report.erased:
        kept = ", ".join(f"{n} {k}" for k, n in (e.get("counts") or {}).items() if n)
        out.print(f"{verb} {e['ref']}: {e['reason']}{f' ({kept})' if kept else ''}", highlight=False, markup=False)
    if report.dry_run:
        out.print(f"would delete {report.left} chat messages; would archive {len(report.archived)} section spaces"
                  f"{': ' + ', '.join(report.archived) if report.archived else ''} (dry run: nothing changed)",
                  highlight=False, markup=False)
        return
    out.print(f"chat messages deleted: {report.deleted}; refused by the platform: {report.refused}; left for the "
              f"next apply: {report.left}", highlight=False)
    out.print(f"section spaces archived: {len(report.archived)}"
              f"{': ' + ', '.join(report.archived) if report.archived else ''}", highlight=False, markup=False)
    for note in report.notes:
        out.print(f"  note: {note}", highlight=False, markup=False)
