"""`oneday agenda ...`: the agenda sub-commands (registered on the main app as `agenda`).

`bot.cli` is imported inside the commands, not at module level: `bot.cli` imports this module to register
the sub-app, and reading its settings at call time means `--database-url` / `--partnership` given to the
main app apply here exactly as they do to `partnership export`.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import select

from bot import db
from commands.agenda import plan_json as agenda_plan
from commands.core.errors import OnedayError
from commands.partnership import file as partnership_cmd


def _require_database() -> None:
    from bot import cli

    if db.current_revision(cli.State.settings.database_url) is None:
        raise OnedayError("the database is empty; create it and load a partnership first",
                          example=cli.LOAD_SAMPLE)


AS_HELP = "Member key of the person doing this (recorded in the processing log); default: the operating-system user."
agenda_app = typer.Typer(help="Plan and publish the meeting day.", no_args_is_help=True)


@agenda_app.command("plan")
def plan_cmd(
    date_text: Annotated[str, typer.Option("--date", metavar="YYYY-MM-DD", help="Meeting date.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    as_: Annotated[str | None, typer.Option("--as", metavar="KEY", help=AS_HELP)] = None,
) -> None:
    """Propose the day: sections, times, who is invited and why (nothing is saved but the processing log's record
    that its references were shown)."""
    from bot import cli
    from bot.cli_audit import cli_actor
    from bot.clock import system_clock
    from commands.governance.showing import record_targets

    try:
        day = agenda_plan.parse_date(date_text)
        _require_database()
        with db.unit_of_work(cli._factory()) as session:
            p = partnership_cmd.select_partnership(session, cli.State.settings.partnership)
            who = cli_actor(session, p, as_)
            result = agenda_plan.plan(session, p, day)
            record_targets(session, p, [ref for s in result["sections"] for ref in s["targets"]], kind="consultation",
                           actor=who.label, actor_member_id=who.member_id, now=system_clock(),
                           what=f"agenda plan for {day.isoformat()}: reference, slot, agencies invited and why",
                           justification=f"planning the meeting of {day.isoformat()}", recipients=[who.label])
    except OnedayError as exc:
        cli.fail(exc)
        return
    if as_json:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
    else:
        print_plan(result)


@agenda_app.command("publish")
def publish_cmd(
    date_text: Annotated[str, typer.Option("--date", metavar="YYYY-MM-DD", help="Meeting date.")],
    as_: Annotated[str | None, typer.Option("--as", metavar="KEY", help=AS_HELP)] = None,
) -> None:
    """Publish the day: save it and queue the overview, section channels, pointers and itineraries.

    Nothing is sent from here: the messages wait in the outbox for `oneday worker` (or `oneday serve`).
    Publishing again sends only what changed.
    """
    from bot import cli
    from bot.cli_audit import cli_actor
    from bot.clock import system_clock
    from bot.outbox import enqueue
    from commands.agenda.publish import publish

    try:
        day = agenda_plan.parse_date(date_text)
        _require_database()
        with db.unit_of_work(cli._factory()) as session:
            p = partnership_cmd.select_partnership(session, cli.State.settings.partnership)
            now = system_clock()
            who = cli_actor(session, p, as_)
            published = publish(session, p, day, actor=who.label, actor_member_id=who.member_id, now=now)
            queued = sum(enqueue(session, p.id, n, now=now, actor=who.label, actor_member_id=who.member_id)
                         for n in published.notices)
    except OnedayError as exc:
        cli.fail(exc)
        return
    from bot.cli import out

    if queued:
        out.print(f"published {day.isoformat()}: {published.sections} sections, {published.members} members; "
                  f"{queued} messages queued for the worker", highlight=False)
    else:
        out.print(f"{day.isoformat()} is already published as planned now: nothing new queued", highlight=False)
    for note in published.notes:
        out.print(f"  note: {note}", highlight=False, markup=False)


def print_plan(result: dict[str, Any]) -> None:
    """A readable table of the day: references and counts only, never target details."""
    from bot.cli import out

    out.print(f"[bold]Agenda for {result['date']}[/] ({result.get('timezone', '')})", highlight=False)
    table = Table("section", "time", "targets", "agencies", "excluded (reason)", "members")
    for s in result["sections"]:
        excluded = ", ".join(f"{e['key']} ({e['reason']})" for e in s["excluded"]) or "-"
        table.add_row(s["cohort"], f"{s['start']}-{s['end']}", str(len(s["targets"])), str(len(s["agencies"])),
                      excluded, str(len(s["members"])))
    out.print(table)
    for s in result["sections"]:
        reasons = Table("agency", "why invited", title=f"{s['cohort']} {s['start']}-{s['end']}",
                        title_justify="left")
        for a in s["agencies"]:
            reasons.add_row(a["key"], ", ".join(a["reasons"]))
        out.print(reasons)
    waiting = result.get("waiting_minutes") or {}
    if waiting:
        change = "sections reordered" if result.get("reordered") else "cohort order kept"
        out.print(f"waiting between sections: {waiting['before']} min in cohort order, "
                  f"{waiting['after']} min as planned ({change})", highlight=False)
    for note in result.get("notes") or []:
        out.print(f"  note: {note}", highlight=False, markup=False)


MINUTES_EXAMPLE = "oneday agenda minutes --date 2026-12-08 --member sam.patel --section ocg --format pdf -o minutes.pdf"


@agenda_app.command("minutes")
def minutes_cmd(
    date_text: Annotated[str, typer.Option("--date", metavar="YYYY-MM-DD", help="Meeting date.")],
    member_key: Annotated[str, typer.Option("--member", metavar="KEY",
                                            help="Whose copy: only the targets this member is entitled to.")],
    section_key: Annotated[str, typer.Option("--section", metavar="COHORT", help="The section (cohort key).")],
    fmt: Annotated[str, typer.Option("--format", metavar="md|pdf", help="Markdown or PDF.")] = "md",
    output: Annotated[str, typer.Option("-o", "--output", metavar="FILE", help="Write here (created 0600).")] = "",
    as_: Annotated[str | None, typer.Option("--as", metavar="KEY", help=AS_HELP)] = None,
) -> None:
    """One member's copy of a section's minutes, e.g. for a partner with no chat account (a disclosure, logged)."""
    from bot import cli
    from bot.cli_audit import cli_actor
    from bot.clock import system_clock
    from bot.documents import markdown_pdf
    from commands.core.context import Caller
    from commands.meeting import minutes as minutes_cmds
    from models import Meeting, MeetingStatus, Member, Target
    from models.audit import record

    try:
        if fmt not in ("md", "pdf"):
            raise OnedayError(f"--format is md or pdf, not {fmt[:20]!r}", example=MINUTES_EXAMPLE)
        if fmt == "pdf" and not output:
            raise OnedayError("a PDF goes to a file: add -o FILE", example=MINUTES_EXAMPLE)
        day = agenda_plan.parse_date(date_text)
        _require_database()
        now = system_clock()
        with db.unit_of_work(cli._factory()) as session:
            p = partnership_cmd.select_partnership(session, cli.State.settings.partnership)
            member = session.scalar(select(Member).where(Member.partnership_id == p.id,
                                                         Member.key == member_key.strip().lower()))
            meeting = session.scalar(select(Meeting).where(Meeting.partnership_id == p.id, Meeting.date == day))
            if member is None or not member.active:
                raise OnedayError(f"'{member_key[:40]}' is not an active member of {p.name}",
                                  example="oneday partnership summary")
            if meeting is None or meeting.status != MeetingStatus.PUBLISHED:
                raise OnedayError(f"no meeting is published for {day.isoformat()}", example=MINUTES_EXAMPLE)
            section = next((s for s in meeting.sections if s.cohort.key == section_key.strip().lower()), None)
            if section is None:
                raise OnedayError(f"'{section_key[:40]}' is not a section of that meeting (its sections: "
                                  f"{', '.join(s.cohort.key for s in meeting.sections)})", example=MINUTES_EXAMPLE)
            who = cli_actor(session, p, as_)
            text, refs = minutes_cmds.document(Caller(session, p, member, now), section, member)
            targets = {t.ref: t for t in session.scalars(select(Target).where(Target.partnership_id == p.id,
                                                                              Target.ref.in_(refs)))}
            for ref in refs:
                record(session, at=now, partnership_id=p.id, kind="disclosure", actor=who.label,
                       actor_member_id=who.member_id, target_id=targets[ref].id, target_ref=ref, recipients=[member.key],
                       what=f"minutes exported ({fmt})",
                       justification=f"{day.isoformat()} {section.cohort.key} minutes for {member.key}")
    except OnedayError as exc:
        cli.fail(exc)
        return
    if not output:
        sys.stdout.write(text)
        return
    data = markdown_pdf(text, title=f"Minutes {section_key} {day.isoformat()}") if fmt == "pdf" else text.encode()
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_TRUNC
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    cli.out.print(f"wrote {output} ({len(data)} bytes, {len(refs)} targets)", highlight=False)
