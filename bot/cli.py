"""The `oneday` command line. Reads configuration once, opens one unit of work per command."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated, NoReturn

# Help in click's plain layout: options with their value names (`--date YYYY-MM-DD`), not typer's rich panels,
# which show Python types (`<list[str]>`, `<bool>`) and box-drawing that breaks in a pipe. Read when typer is first
# imported, so it is set before (the entry point imports this module first).
os.environ.setdefault("TYPER_USE_RICH", "0")

import typer  # noqa: E402
import yaml  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot import config, db
from bot.clock import system_clock
from bot.redact import safe_url
from commands.core.errors import FileErrors, OnedayError
from commands.partnership import file as partnership_cmd
from commands.partnership import summary as summary_cmd
from commands.partnership import targets_import

# Shown wherever a user needs a partnership file: works from an installed wheel, which has no examples/ folder.
from commands.partnership.file import LOAD_SAMPLE

app = typer.Typer(help="Oneday: the 'one day, one conversation' meeting, run from chat.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False)
db_app = typer.Typer(help="Create or upgrade the database.", no_args_is_help=True)
partnership_app = typer.Typer(help="Load and export the partnership file.", no_args_is_help=True)
targets_app = typer.Typer(help="Import targets from the analysts' spreadsheet.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(partnership_app, name="partnership")
app.add_typer(targets_app, name="targets")
jobs_app = typer.Typer(help="Scheduled jobs: list them, or run one now.", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")


def _register_subapps() -> None:
    from bot.cli_agenda import agenda_app
    from bot.cli_audit import audit_app, subject_app
    from bot.cli_keys import keys_app
    from bot.cli_report import report_cmd
    from bot.cli_retention import retention_app
    from bot.platforms import PLATFORMS

    app.add_typer(agenda_app, name="agenda")
    app.add_typer(retention_app, name="retention")
    app.add_typer(audit_app, name="audit")
    app.add_typer(subject_app, name="subject")
    app.add_typer(keys_app, name="keys")
    app.command("report")(report_cmd)
    for platform in PLATFORMS:  # e.g. `oneday slack ...`
        sub = platform.cli()
        if sub is not None:
            app.add_typer(sub, name=platform.name)


# Piped or in a log, Rich would wrap at 80 columns and cut table cells: not a terminal, nothing is wrapped or cut
# (lines are as long as their content) and no colour codes are written.
out = Console(soft_wrap=not sys.stdout.isatty(), width=None if sys.stdout.isatty() else 100_000)
err = Console(stderr=True, soft_wrap=not sys.stderr.isatty(), width=None if sys.stderr.isatty() else 100_000)


def _initial_settings() -> config.Settings:
    """Settings at import, for code that imports this module without running a command. A bad value is not
    reported here (an import cannot print a clean error): `main()` and the callback below report it."""
    try:
        return config.from_env()
    except config.ConfigError:
        return config.from_env({})


class State:
    settings: config.Settings = _initial_settings()


def config_error(exc: config.ConfigError) -> NoReturn:
    """A bad setting: one plain line (no rich wrapping, no traceback) and exit status 2."""
    sys.stderr.write(f"error: {exc}\n")
    raise SystemExit(2)


@app.callback()
def _global(
    database_url: Annotated[str | None, typer.Option("--database-url", metavar="URL",
                                                     help="Overrides DATABASE_URL.")] = None,
    partnership: Annotated[str | None, typer.Option("--partnership", metavar="KEY",
                                                    help="Partnership key (when several).")] = None,
) -> None:
    try:
        settings = config.from_env()
        if database_url:
            settings = replace(settings, database_url=config.database_url(database_url, "--database-url"))
    except config.ConfigError as exc:
        config_error(exc)
    if partnership:
        settings = replace(settings, partnership=partnership)
    State.settings = settings
    db.use_keys(settings)  # loaded when a sealed column is first touched (models/sealed.py)


MAX_PRINTED_ERRORS = 200  # a report of 10,000 lines is not read; the first ones and a count are


def print_errors(lines: list[str], prefix: str = "") -> None:
    for line in lines[:MAX_PRINTED_ERRORS]:
        err.print(f"  {prefix}{line}", highlight=False, markup=False, soft_wrap=True)
    if len(lines) > MAX_PRINTED_ERRORS:
        rest = len(lines) - MAX_PRINTED_ERRORS
        err.print(f"  ... and {rest} more error{'s' if rest != 1 else ''}", highlight=False, markup=False)


def fail(exc: OnedayError) -> None:
    """The CLI's one error handler: typed errors become a clear message and a non-zero exit."""
    # The message may hold a file name or a value from the file: never read it as rich markup.
    err.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False)
    if isinstance(exc, FileErrors):
        print_errors(exc.errors)
    if exc.example:
        err.print(f"  example: {exc.example}", highlight=False, markup=False)
    raise typer.Exit(2 if not isinstance(exc, FileErrors) else 1)


def require_keys() -> None:
    """Every command that opens the database: a shared one without a data key is refused before it is opened."""
    try:
        config.check_keys(State.settings)
    except config.ConfigError as exc:
        config_error(exc)


def _factory():  # type: ignore[no-untyped-def]
    require_keys()
    engine = db.make_engine(State.settings.database_url)
    return db.session_factory(engine)


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(metavar="[REVISION]", help="Target revision.")] = "head",
    sql: Annotated[bool, typer.Option("--sql", help="Print the SQL for a DBA instead of running it; no database is "
                                      "opened.")] = False,
    from_: Annotated[str | None, typer.Option("--from", metavar="REVISION", help="With --sql: the revision the "
                                              "database is at (default: an empty database).")] = None,
    dialect: Annotated[str | None, typer.Option("--dialect", metavar="postgresql|sqlite", help="With --sql: the SQL "
                                                "dialect (default: DATABASE_URL's when it is set, else "
                                                "postgresql).")] = None,
) -> None:
    """Create the database or bring it up to date (or, with --sql, print the SQL that would)."""
    if not sql:
        if from_ or dialect:
            fail(OnedayError("--from and --dialect only go with --sql", example="oneday db upgrade --sql --from 0011"))
        require_keys()  # migration 0017 seals what is stored
        db.upgrade(State.settings.database_url, revision)
        out.print(f"database at revision {db.current_revision(State.settings.database_url)}")
        return
    url = State.settings.database_url
    explicit = url != config.from_env({}).database_url  # DATABASE_URL or --database-url named a database
    try:
        text = db.upgrade_sql(dialect or (db.dialect_of(url) if explicit else "postgresql"), revision, from_)
    except db.MigrationSqlError as exc:
        fail(OnedayError(f"cannot write the upgrade's SQL: {exc}",
                         example="oneday db upgrade --sql --from 0011 --dialect postgresql"))
        return
    sys.stdout.write(text)


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Step the schema back (e.g. to 'base')."""
    require_keys()
    db.downgrade(State.settings.database_url, revision)
    out.print(f"database at revision {db.current_revision(State.settings.database_url)}")


@db_app.command("current")
def db_current() -> None:
    out.print(db.current_revision(State.settings.database_url) or "empty (run: oneday db upgrade)")


def _require_schema() -> None:
    require_keys()
    if db.current_revision(State.settings.database_url) is None:
        db.upgrade(State.settings.database_url)


AS_HELP = "Member key of the person doing this (recorded in the processing log); default: the operating-system user."


@partnership_app.command("load")
def partnership_load(file: Annotated[Path, typer.Argument(metavar="FILE.yaml")],
                     as_: Annotated[str | None, typer.Option("--as", metavar="KEY", help=AS_HELP)] = None) -> None:
    """Validate and apply a partnership file (idempotent; writes nothing if any error is found)."""
    from bot.cli_audit import cli_actor, os_user

    try:
        text = partnership_cmd.read_file(file)  # size, binary and encoding checked before any parsing
    except OnedayError as exc:
        fail(exc)
        return
    _require_schema()
    try:
        with db.unit_of_work(_factory()) as session:
            # The members are in the file: a --as member is checked once the file is applied (else all rolls back).
            label = f"member:{as_}" if as_ else f"os:{os_user()}"
            changes = partnership_cmd.load(session, text, source=str(file), now=system_clock(), actor=label)
            if as_:
                cli_actor(session, partnership_cmd.select_partnership(session, State.settings.partnership), as_)
    except OnedayError as exc:
        fail(exc)
        return
    for change in changes:
        out.print(f"  {change}", highlight=False, markup=False)
    out.print(f"{file}: {len(changes)} change{'s' if len(changes) != 1 else ''}", highlight=False, markup=False)


@partnership_app.command("export")
def partnership_export(output: Annotated[Path | None, typer.Option("-o", "--output", metavar="FILE")] = None,
                       as_: Annotated[str | None, typer.Option("--as", metavar="KEY", help=AS_HELP)] = None) -> None:
    """Write the partnership file (to stdout, or to --output); recorded as a disclosure of every target in it."""
    from bot.cli_audit import cli_actor
    from commands.governance.showing import record_targets

    try:
        with db.unit_of_work(_factory()) as session:
            p = partnership_cmd.select_partnership(session, State.settings.partnership)
            who = cli_actor(session, p, as_)
            text = partnership_cmd.export(session, p)
            refs = [t["ref"] for t in yaml.safe_load(text).get("targets") or []]
            record_targets(session, p, refs, kind="disclosure", actor=who.label, actor_member_id=who.member_id,
                           now=system_clock(), what="partnership file export (references, flags, details)",
                           justification="partnership file export", recipients=[who.label, f"file:{output or 'stdout'}"])
    except OnedayError as exc:
        fail(exc)
        return
    _write_out(text, output)


def _write_out(text: str, output: Path | None) -> None:
    """Text to stdout, or to a file with a one-line note on stderr (so stdout stays clean for a pipe)."""
    if not output:
        sys.stdout.write(text)
        return
    try:
        db.write_private(output, text)  # 0600: an export carries target details
    except OSError as exc:
        fail(OnedayError(f"cannot write {output}: {exc.strerror or exc}"))
        return
    err.print(f"wrote {output}", highlight=False, markup=False)


@partnership_app.command("sample")
def partnership_sample(output: Annotated[Path | None, typer.Option("-o", "--output", metavar="FILE")] = None) -> None:
    """Write the fictional sample partnership file (Northtown) to stdout, or to --output, to load as it is or to
    start your own from. It ships inside the package, so this works wherever Oneday is installed."""
    from bot.sample import northtown_text

    if output and output.exists():  # never overwrite: it may be the user's edited partnership file
        fail(OnedayError(f"{output} already exists; not overwriting it", example="oneday partnership sample -o new.yaml"))
        return
    _write_out(northtown_text(), output)


@partnership_app.command("summary")
def partnership_summary() -> None:
    """Counts by agency category and cohort; no target details."""
    try:
        with db.unit_of_work(_factory()) as session:
            p = partnership_cmd.select_partnership(session, State.settings.partnership)
            print_summary(summary_cmd.summarise(session, p))
    except OnedayError as exc:
        fail(exc)


def print_summary(s: summary_cmd.Summary) -> None:
    out.print(f"[bold]{s.name}[/]  (current ISP {s.isp_version})")
    cats = ", ".join(f"{n} {c}" for c, n in sorted(s.agencies_by_category.items()))
    out.print(f"agencies: {sum(s.agencies_by_category.values())} ({cats})")
    if s.agencies_without_current_isp:
        out.print(f"  not on the current ISP (excluded from sections with personal data): "
                  f"{', '.join(s.agencies_without_current_isp)}")
    out.print(f"members: {s.members}; without a chat identity: {', '.join(s.members_without_chat_identity) or 'none'}")
    table = Table("section", "cohort", "handling", "targets", "always invited")
    for c in s.cohorts:
        table.add_row(c.key, c.name, c.handling, str(c.targets), ", ".join(c.always_invited))
    out.print(table)
    out.print(f"targets: {s.targets} active")


@targets_app.command("import")
def targets_import_cmd(
    file: Annotated[Path, typer.Argument(metavar="FILE.csv|FILE.xlsx")],
    map_: Annotated[list[str] | None, typer.Option(
        "--map", metavar="HEADER=FIELD",
        help='Header=field, several comma-separated; Header=ignore skips a column: "URN=ref,DOB=date_of_birth"'
    )] = None,
    partial: Annotated[bool, typer.Option(help="Import the good rows even if some rows are bad.")] = False,
    as_: Annotated[str | None, typer.Option("--as", metavar="KEY", help=AS_HELP)] = None,
) -> None:
    """Import targets from CSV or XLSX; all or nothing unless --partial."""
    from bot.cli_audit import cli_actor
    _require_schema()
    try:
        mapping = targets_import.parse_mapping(map_ or [])
        total = targets_import.count_rows(file) if file.is_file() else None
        with Progress(TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=err, transient=True, disable=(total or 0) < 500) as bar:
            task = bar.add_task("rows", total=total)
            with db.unit_of_work(_factory()) as session:
                p = partnership_cmd.select_partnership(session, State.settings.partnership)
                who = cli_actor(session, p, as_)
                report = targets_import.import_targets(session, p, file, mapping=mapping, partial=partial,
                                                       now=system_clock(), actor=who.label,
                                                       progress=lambda n: bar.advance(task, n))
    except OnedayError as exc:
        fail(exc)
        return
    print_errors(report.errors, prefix="skipped ")
    out.print(f"{file}: {report.rows} rows, {len(report.changes)} changes, {report.skipped} rows skipped",
              highlight=False, markup=False)


def _check_platforms(*, serving: bool) -> None:
    """Every configured platform must be able to run (serving: also receive requests); with none configured,
    say what the first one needs."""
    from bot.platforms import PLATFORMS

    s = State.settings
    for platform in [p for p in PLATFORMS if p.configured(s)] or PLATFORMS[:1]:
        problem = platform.problem(s, serving=serving)
        if problem is not None:
            fail(problem)


@app.command()
def serve(host: Annotated[str, typer.Option(metavar="ADDRESS")] = "127.0.0.1",
          port: Annotated[int, typer.Option(metavar="PORT")] = 3000,
          workers: Annotated[int | None, typer.Option(min=1, envvar="ONEDAY_WORKERS", metavar="N",
                                               help="Worker processes (default: the machine's cores).")] = None) -> None:
    """Run the chat apps: Slack's on HTTP /slack/events, or Socket Mode when SLACK_APP_TOKEN is set."""
    import os

    from bot import logs
    from bot.serve import serve as run_serve

    logs.configure()
    _check_platforms(serving=True)
    _require_schema()
    run_serve(State.settings, host, port, workers or len(os.sched_getaffinity(0)))


@app.command()
def worker(
    health_file: Annotated[Path | None, typer.Option(
        "--health-file", metavar="FILE", help="Refresh this file (its time and contents) every 15 s while the worker's "
        "threads run and the database answers; a check calls the worker unhealthy when it is older than a minute.")] = None,
    metrics_port: Annotated[int | None, typer.Option(
        "--metrics-port", metavar="PORT", min=1, max=65535, envvar="ONEDAY_WORKER_METRICS_PORT",
        help="Serve Prometheus metrics (deliveries, job runs, reminder rounds, the outbox queue) on this port.")]
        = None,
    metrics_host: Annotated[str, typer.Option("--metrics-host", metavar="ADDRESS",
                                              help="Address for --metrics-port.")] = "127.0.0.1",
) -> None:
    """Deliver the outbox and run the scheduled jobs until stopped. Waits for the database if it is not up yet."""
    from bot import logs
    from bot.serve import stop_on_sigterm, wait_for_database
    from bot.serve import worker as run_worker

    logs.configure()
    _check_platforms(serving=False)
    require_keys()
    stop = stop_on_sigterm()
    if not wait_for_database(State.settings.database_url, stop):
        return
    _require_schema()
    run_worker(State.settings, stop=stop, health_file=health_file,
               metrics_at=(metrics_host, metrics_port) if metrics_port else None)


@jobs_app.command("list")
def jobs_list() -> None:
    """The jobs `oneday worker` runs every minute."""
    from bot.scheduler import JOBS

    table = Table("job", "what it does")
    for job in JOBS.values():
        table.add_row(job.name, job.what)
    out.print(table)


@jobs_app.command("run")
def jobs_run(
    name: Annotated[str, typer.Argument(metavar="JOB", help="A job's name, from `oneday jobs list`.")],
    now: Annotated[str | None, typer.Option("--now", metavar="ISO-TIME", help="Run as if at this time (ISO, e.g. "
                                            "2026-12-07T09:05+00:00); replays a missed window.")] = None,
) -> None:
    """Run one job now and deliver its messages before exiting."""
    from datetime import datetime

    from bot.clock import TickingClock
    from bot.scheduler import JOBS

    job = JOBS.get(name)
    if job is None:
        fail(OnedayError(f"no job '{name}'; jobs: {', '.join(JOBS)}", example="oneday jobs run reminders"))
        return
    when = system_clock()
    if now:
        try:
            when = datetime.fromisoformat(now)
        except ValueError:
            fail(OnedayError(f"'{now}' is not an ISO date-time", example="--now 2026-12-07T09:05:00+00:00"))
            return
        if when.tzinfo is None:
            fail(OnedayError(f"'{now}' has no time zone offset", example="--now 2026-12-07T09:05:00+00:00"))
            return
    _require_schema()
    engine = db.make_engine(State.settings.database_url)
    factory = db.session_factory(engine)
    if name != "outbox":
        out.print(f"{name}: {job.run(factory, when, State.settings.commands)}")
    from bot import platforms
    from bot.serve import sender_for

    s = State.settings
    chosen = platforms.configured(s)
    if not chosen:
        problem = platforms.PLATFORMS[0].problem(s, serving=False)
        err.print(f"{problem.message if problem else 'no chat platform is configured'}: messages stay queued for "
                  "`oneday worker`", highlight=False, markup=False)
        return
    # The sender runs on the job's clock too: rows the job queued "at" --now are due for it at once.
    sender = sender_for(s, chosen, engine, factory, clock=TickingClock(when))
    delivered = sender.drain(timeout=300)
    out.print("outbox: all queued messages delivered" if delivered else "outbox: some messages still queued")


@app.command()
def demo(
    quiet: Annotated[bool, typer.Option("--quiet", help="Only the need-to-know check, not every screen.")] = False,
    person: Annotated[str | None, typer.Option("--person", metavar="KEY",
                                               help="Show one member's screens (member key).")] = None,
    platform: Annotated[str, typer.Option("--platform", metavar="slack|teams",
                                          help="Run it through the Slack adapter against an in-process Slack, or "
                                               "through the Teams adapter against loopback Bot Framework, "
                                               "Bot Connector and Graph servers.")] = "slack",
) -> None:
    """The sample partnership's meeting day end to end on SQLite, against an in-process Slack (or Teams); then
    what each person saw."""
    from bot.demo import run

    if platform not in ("slack", "teams"):
        raise typer.BadParameter("slack or teams", param_hint="--platform")
    raise typer.Exit(run(out=out, person=person, quiet=quiet, platform=platform))


@app.command()
def console(
    as_: Annotated[str, typer.Option("--as", metavar="KEY", help="Member key to act as, e.g. sam.patel.")],
) -> None:
    """Type slash commands as one member on a scratch copy of the (SQLite) database and see what they would
    see; the database itself is never changed."""
    from bot.console import run
    from bot.scratch import scratch_copy

    url = State.settings.database_url
    try:
        with scratch_copy(url) as copy_url:
            if db.current_revision(copy_url) is None:
                raise OnedayError(f"the database at {safe_url(url)} is empty", example=LOAD_SAMPLE)
            engine = db.make_engine(copy_url)
            try:
                factory = db.session_factory(engine)
                with db.unit_of_work(factory) as session:
                    partnership_cmd.select_partnership(session, State.settings.partnership)
                out.print(f"Working on a scratch copy of {safe_url(url)}: nothing done here changes it or "
                          "reaches Slack.", markup=False, highlight=False, soft_wrap=True)
                code = run(factory, as_, out=out, partnership=State.settings.partnership,
                           names=State.settings.commands)
            finally:
                engine.dispose()
    except OnedayError as exc:
        fail(exc)
        return
    raise typer.Exit(code)


def main() -> None:
    # Settings are checked before typer parses anything, so `--help` too reports a bad value in one line.
    try:
        config.from_env()
    except config.ConfigError as exc:
        config_error(exc)
    from sqlalchemy.exc import StatementError

    from models.sealed import SealedError

    try:
        app()
    except (SealedError, StatementError) as exc:  # a wrong or missing data key: one line, not a traceback
        sealed = exc if isinstance(exc, SealedError) else exc.orig
        if not isinstance(sealed, SealedError):
            raise
        sys.stderr.write(f"error: {sealed}\n")
        raise SystemExit(2) from None


_register_subapps()


if __name__ == "__main__":
    main()
