"""Real commands through the served app, at the sample size and at 10x, each against the bare bolt floor.

Subjects, all on the production edge (bot/asgi.py on uvicorn, as `oneday serve` runs it; benchmarks/ack.py's
`serve`), in this process, driven by the separate load-client process over keep-alive connections:

* ``floor``: a bare ``slack_bolt.App(process_before_response=True)`` whose listener only acks a slash command
  (benchmarks/ack.py baseline A): what this server and bolt cost before any Oneday work. Measured in the same run,
  before each size, at c=1 and c=16; each size's rows are compared with its own floor.
* Oneday at ``1x``: bot/sample/northtown.yaml with open actions added up to OPEN_PER_X (650), and at ``10x``: ten
  times the members (generated, as benchmarks/ack.py's growth run), ten times the targets (benchmarks/plan.py's
  generator) and 6,500 open actions. Both have the next meeting published (`commands.agenda.publish`) so that
  packs are open.

The mix, as Tom Ashby (a police lead officer; U0TOM), in this order at each size:

* ``/oneday whoami`` (his sections: every section's rule);
* ``/actions OCG-07`` (one target's actions, ~13 at either size);
* ``Done`` on a reminder (button ``action.done``: entitlement, then the outcome form through ``views.open``);
* ``View pack`` (button ``pack.view``: the section's rule, the pack of his targets through ``views.open``);
* ``/action REF @sam.patel check the claim by <date>`` over (up to 8) targets he and Sam may see (each one writes
  an action: the next request finds that section's version changed);
* ``/outcome N checked nfa`` closing the actions the /action runs created (back to the open count).

Latency is from just before the request is written to the end of the body, c=1 then c=16; throughput is the
c=16 run's. The table's "10x / 1x" is the c=1 p50 ratio.

With ``workers`` > 1 (``python -m benchmarks --only mix --workers 2``) neither subject is served in this process:
both run as the production server does with ``oneday serve --workers N``, i.e. ``bot.serve.run_app`` with N uvicorn
worker processes and the edge's limits. The floor is ``python -m benchmarks.ack --bare PORT N`` (each worker builds
``benchmarks.ack.bare_edge_app``); Oneday is ``oneday serve --workers N --port P`` on the same prepared SQLite file,
with the fake Slack as ``SLACK_API_URL``, the bench's bot token and signing secret and this run's data key (so each
worker also runs its outbox sender, as in production). The benchmark waits until every worker has started (one
"Application startup complete" per worker in the server's log, then /readyz), and stops each server with SIGTERM,
recording its exit status (not 0 is reported as an error). The load client, the commands and the checks are the
same; the load client shares the machine's cores with the N workers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from benchmarks import ack
from benchmarks.plan import add_targets

OPEN_PER_X = 650  # open actions at the sample size (the figure the issue measured at)
ME, ME_KEY = "U0TOM", "tom.ashby"
OWNER = "sam.patel"
LISTED = "OCG-07"


@dataclass
class Command:
    name: str
    expect: str | None  # in the ack body (commands); buttons are checked through the fake Slack's views.open
    what: dict[str, Any] = field(default_factory=dict)  # run_load's command/texts/button/values
    opens_view: bool = False
    closes_from: int | None = None  # /outcome: closes the open actions numbered from here (what /action made)
    share: float = 1.0  # of the requests (the pack's own cost grows with its section: fewer keep make bench short)


ONEDAY = Path(sys.executable).parent / "oneday"  # the installed console script, as in production
STARTED = "Application startup complete"  # uvicorn logs this once per worker process
START_SECONDS = 60  # a safety net for a slow machine, not a speed claim


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(base_url: str, **extra: str) -> dict[str, str]:
    """This process's environment (the run's ONEDAY_DATA_KEY included) with the fake Slack, the bench's token and
    signing secret; no proxy (slack_sdk ignores NO_PROXY), no Socket Mode."""
    env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper()}
    for name in ("SLACK_APP_TOKEN", "ONEDAY_WORKERS", "ONEDAY_PARTNERSHIP"):
        env.pop(name, None)
    env.update(SLACK_API_URL=base_url, SLACK_BOT_TOKEN=ack.TOKEN, SLACK_SIGNING_SECRET=ack.SECRET, **extra)
    return env


@contextmanager
def server_process(name: str, cmd: list[str], env: dict[str, str], port: int, workers: int, log: Path,
                   exits: dict[str, int | None]) -> Iterator[str]:
    """Start a server of `workers` worker processes; yield its events URL once every worker has logged its startup
    and /readyz answers 200. Always stopped on exit: SIGTERM, then its exit status goes into `exits[name]` (None:
    it had to be killed)."""
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=ack.ROOT, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if log.read_text(errors="replace").count(STARTED) >= workers and _ready(base):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} ({' '.join(cmd)}) did not start with {workers} workers:\n"
                                   f"{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.1)
        yield f"{base}/slack/events"
    finally:
        code: int | None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # its own session: the workers go too
            proc.wait(10)
            code = None
        exits[name] = code


def _ready(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/readyz", timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False


@dataclass
class Prepared:
    url: str
    members: int
    targets: int
    open_actions: int
    commands: list[Command]
    factory: Any


def _add_open_actions(session: Any, total: int, due: date) -> None:
    """Open actions round-robin over the active targets (owners: members of the target's lead's agency or the
    lead), until the partnership has `total` open actions."""
    from sqlalchemy import func, insert, select

    from bot.clock import system_clock
    from models import Action, ActionStatus, Member, Partnership, Target, TargetStatus

    now = system_clock()
    p = session.scalar(select(Partnership))
    have = session.scalar(select(func.count()).select_from(Action).where(Action.status == ActionStatus.OPEN)) or 0
    targets = list(session.execute(select(Target.id, Target.lead_id).where(
        Target.partnership_id == p.id, Target.status == TargetStatus.ACTIVE).order_by(Target.id)))
    number = (session.scalar(select(func.max(Action.number))) or 0) + 1
    members = list(session.scalars(select(Member.id).where(Member.active.is_(True)).order_by(Member.id)))
    rows = []
    for i in range(max(total - have, 0)):
        target_id, lead_id = targets[i % len(targets)]
        rows.append({"partnership_id": p.id, "number": number + i, "target_id": target_id, "owner_id": lead_id,
                     "created_by_id": members[0], "text": f"bench open action {number + i}",
                     "due": due + timedelta(days=(i % 29) - 14), "status": ActionStatus.OPEN, "created_at": now,
                     "updated_at": now})
    for start in range(0, len(rows), 5000):
        session.execute(insert(Action), rows[start:start + 5000])


def _closable(factory: Any, first: int) -> list[int]:
    """The numbers of the open actions made since `first` (those the /action runs recorded)."""
    from sqlalchemy import select

    from models import Action, ActionStatus

    with factory() as session:
        return list(session.scalars(select(Action.number).where(Action.number >= first,
                                                                Action.status == ActionStatus.OPEN)
                                    .order_by(Action.number)))


def _meeting_day(today: date) -> date:
    day = today + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _commands(session: Any, today: date, requests: int) -> tuple[list[Command], dict[str, Any]]:
    """The mix's requests for this database (targets, numbers, section), and figures about it."""
    from sqlalchemy import func, select

    from bot.clock import system_clock
    from commands.agenda.publish import PACK_VIEW, publish
    from commands.core import access
    from commands.core.context import Caller
    from models import Action, ActionStatus, Invitation, Member, Partnership, Section, Target, TargetStatus
    from models.planning import not_entitled

    p = session.scalar(select(Partnership))
    me = session.scalar(select(Member).where(Member.key == ME_KEY))
    day = _meeting_day(today)
    published = publish(session, p, day, actor="bench", now=system_clock())
    caller = Caller(session, p, me, system_clock())
    sections = list(session.scalars(select(Section).where(Section.meeting_id == published.meeting_id)
                                    .order_by(Section.position)))
    mine = next(s for s in sections if LISTED in (s.target_refs or []) and access.may_see_section(caller, s))
    invitation = session.scalar(select(Invitation).where(Invitation.section_id == mine.id,
                                                         Invitation.member_id == me.id))
    if invitation is None:
        invitation = Invitation(partnership_id=p.id, section_id=mine.id, member_id=me.id, reasons=["bench"])
        session.add(invitation)
    invitation.confidentiality_accepted_at = system_clock()  # accepted once: View pack shows the pack
    active = [t.ref for t in session.scalars(select(Target).where(Target.status == TargetStatus.ACTIVE)
                                             .order_by(Target.id)) if t.ref != LISTED]
    refused = set(not_entitled(session, p, OWNER, active, now=system_clock()))
    refused |= set(not_entitled(session, p, ME_KEY, active, now=system_clock()))
    for_action = [r for r in active if r not in refused][:8]
    if not for_action:
        raise RuntimeError(f"no target that both {ME_KEY} and {OWNER} may see")
    by = (today + timedelta(days=21)).strftime("%-d %B %Y")
    done = list(session.scalars(select(Action.number).join(Target, Action.target_id == Target.id).where(
        Target.ref == LISTED, Action.status == ActionStatus.OPEN).order_by(Action.number)))[:8]
    first_new = (session.scalar(select(func.max(Action.number))) or 0) + 1
    commands = [
        Command("/oneday whoami", "Tom Ashby", {"command": "/oneday", "text": "whoami"}),
        Command(f"/actions {LISTED}", LISTED, {"command": "/actions", "text": LISTED}),
        Command("Done (reminder button)", None, {"button": "action.done", "values": [str(n) for n in done]},
                opens_view=True),
        Command("View pack", None, {"button": PACK_VIEW, "values": [str(mine.id)]}, opens_view=True, share=0.25),
        Command("/action REF @member ... by <date>", "recorded", {"command": "/action", "texts": [
            f"{for_action[i % len(for_action)]} @{OWNER} check claim {i} and the tenancy by {by}"
            for i in range(requests)]}),
        Command("/outcome N ...", "closed", {"command": "/outcome"}, closes_from=first_new),
    ]
    return commands, {"meeting": day.isoformat(), "section": mine.id, "pack_targets": len(mine.target_refs or [])}


@contextmanager
def prepared(base_url: str, workdir: Path, factor: int, requests: int, say: Callable[[str], None], *,
             workers: int = 1, apart: bool = False, exits: dict[str, int | None] | None = None) -> Iterator[Prepared]:
    """A migrated SQLite file at `factor` x the sample, the Oneday app on it, served; yields the subject. With
    `apart` the app is `oneday serve --workers N` on that file (its exit status goes into `exits`); otherwise it
    is served in this process (one worker)."""
    from sqlalchemy import func, select

    from bot import db
    from bot.clock import system_clock
    from bot.config import DEFAULT_COMMANDS, sqlite_url
    from bot.runner import Runner
    from bot.slack.app import build_app, make_client
    from commands.partnership.file import load
    from models import Action, ActionStatus, Member, Target, TargetStatus

    say(f"mix: building the {factor}x partnership")
    url = sqlite_url(workdir / f"mix-{factor}x.db")
    db.upgrade(url)
    engine = db.make_engine(url)
    try:
        factory = db.session_factory(engine)
        today = system_clock().date()
        with db.unit_of_work(factory) as session:
            load(session, ack.partnership_text(0), source="northtown.yaml", actor="bench", now=system_clock())
        with db.unit_of_work(factory) as session:
            base_members = session.scalar(select(func.count()).select_from(Member)) or 0
            base_targets = session.scalar(select(func.count()).select_from(Target)
                                          .where(Target.status == TargetStatus.ACTIVE)) or 0
        if factor > 1:
            with db.unit_of_work(factory) as session:
                load(session, ack.partnership_text(base_members * (factor - 1)), source="northtown.yaml",
                     actor="bench", now=system_clock())
            with db.unit_of_work(factory) as session:
                add_targets(session, base_targets * factor)
        with db.unit_of_work(factory) as session:
            _add_open_actions(session, OPEN_PER_X * factor, today)
        with db.unit_of_work(factory) as session:
            commands, info = _commands(session, today, requests)
        with db.unit_of_work(factory) as session:
            members = session.scalar(select(func.count()).select_from(Member).where(Member.active.is_(True))) or 0
            targets = session.scalar(select(func.count()).select_from(Target)
                                     .where(Target.status == TargetStatus.ACTIVE)) or 0
            open_actions = session.scalar(select(func.count()).select_from(Action)
                                          .where(Action.status == ActionStatus.OPEN)) or 0
        with ExitStack() as stack:
            if apart:
                port = free_port()
                say(f"mix: starting oneday serve --workers {workers} on port {port} ({factor}x)")
                served = stack.enter_context(server_process(
                    f"oneday {factor}x", [str(ONEDAY), "serve", "--workers", str(workers), "--host", "127.0.0.1",
                                          "--port", str(port)],
                    server_env(base_url, DATABASE_URL=url), port, workers, workdir / f"oneday-{factor}x.log",
                    exits if exits is not None else {}))
            else:
                runner = Runner(factory=factory, names=dict(DEFAULT_COMMANDS))
                app = build_app(runner=runner, client=make_client(ack.TOKEN, base_url), signing_secret=ack.SECRET)
                stack.callback(ack.shutdown_app, app)
                served = stack.enter_context(ack.serve(app))
            say(f"mix: {factor}x ready: {members} members, {targets} targets, {open_actions} open actions, {info}")
            yield Prepared(served, members, targets, open_actions, commands, factory)
    finally:
        engine.dispose()


def run_benchmark(workdir: Path, *, sequential: int = 100, concurrent: int = 200, concurrency: int = 16,
                  warmup: int = 20, workers: int = 1, apart: bool | None = None,
                  progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Every command of the mix at 1x and 10x, c=1 and c=16, each size after its own floor run; both subjects in
    this process (workers=1) or each a server of `workers` uvicorn worker processes. `apart=True` with workers=1
    serves both as separate one-worker processes (`oneday serve --workers 1`: a control that separates the cost of
    the production process, outbox sender included, from that of a second worker)."""
    apart = workers > 1 if apart is None else apart
    if workers > 1 and not apart:
        raise ValueError("workers > 1 are separate processes")
    ack._tests_on_path()
    from fake_slack import FakeSlack

    say = progress or (lambda msg: None)
    started = time.perf_counter()
    # /action's texts (each its own: the same words twice on a target ask "record again?"), for every request of
    # both runs (each connection's opening request too); /outcome closes what they created
    requests = sequential + warmup + 1 + concurrent + warmup + concurrency
    results: dict[str, Any] = {"sizes": {}, "floor": {}, "meta": {
        "sequential": sequential, "concurrent": concurrent, "concurrency": concurrency, "warmup": warmup,
        "workers": workers, "served": "separate processes" if apart else "in this process",
        "load_before": round(os.getloadavg()[0], 1)}}
    exits: dict[str, int | None] = {}
    with ExitStack() as stack:
        client = ack.LoadClient()
        stack.callback(client.close)
        fake = stack.enter_context(FakeSlack())
        if apart:
            port = free_port()
            say(f"mix: starting the floor (bare bolt) with {workers} workers on port {port}")
            floor_url = stack.enter_context(server_process(
                "floor", [sys.executable, "-m", "benchmarks.ack", "--bare", str(port), str(workers)],
                server_env(fake.base_url), port, workers, workdir / "floor.log", exits))
        else:
            floor_app = ack.bare_app(fake.base_url, process_before_response=True)
            stack.callback(ack.shutdown_app, floor_app)
            floor_url = stack.enter_context(ack.serve(floor_app))
        for factor in (1, 10):
            label = f"{factor}x"
            say(f"mix: floor (bare bolt) before {label}")
            results["floor"][label] = {
                f"c{c}": ack.summarize("floor", c, client.run(floor_url, requests=n, concurrency=c, warmup=warmup,
                                                              expect=None)).as_dict()
                for c, n in ((1, sequential), (concurrency, concurrent))}
            with prepared(fake.base_url, workdir, factor, requests, say, workers=workers, apart=apart,
                          exits=exits) as subject:
                size: dict[str, Any] = {"members": subject.members, "targets": subject.targets,
                                        "open_actions": subject.open_actions, "commands": {}}
                for cmd in subject.commands:
                    runs = {}
                    closable = _closable(subject.factory, cmd.closes_from) if cmd.closes_from else []
                    used = 0  # texts are cut per run: each run's requests (its opening ones too) get their own
                    for c, n in ((1, max(int(sequential * cmd.share), 10)),
                                 (concurrency, max(int(concurrent * cmd.share), 2 * concurrency))):
                        say(f"mix {label}: {cmd.name}, c={c}, {n} requests")
                        views_before = len(fake.calls_to("views.open"))
                        what = dict(cmd.what)
                        need = n + warmup + c
                        if closable:
                            # fewer than needed if some /action requests failed: those are closed twice, and
                            # the second answer counts as an error (reported, never hidden)
                            mine = closable[used:used + need] or closable[-1:]
                            what["texts"] = [f"{k} checked, nothing further nfa" for k in mine]
                        elif "texts" in what:
                            what["texts"] = what["texts"][used:used + need]
                        used += need
                        raw = client.run(subject.url, requests=n, concurrency=c, warmup=warmup, expect=cmd.expect,
                                         user_id=ME, **what)
                        run = ack.summarize(cmd.name, c, raw).as_dict()
                        if cmd.opens_view:
                            opened = len(fake.calls_to("views.open")) - views_before
                            sent = n + warmup + c
                            if opened != sent:
                                run["errors"] += max(sent - opened, 1)
                                run["first_error"] = run["first_error"] or f"views.open {opened} of {sent}"
                        runs[f"c{c}"] = run
                    size["commands"][cmd.name] = runs
                results["sizes"][label] = size
        results["fake_slack_rejected"] = len(fake.rejected)
        results["fake_slack_calls"] = dict(Counter(c.method for c in list(fake.calls)))  # e.g. the outbox's posts
        results["fake_slack_rejected_first"] = (f"{fake.rejected[0].method}: {fake.rejected[0].error}"
                                                if fake.rejected else None)
    results["server_exits"] = exits  # workers > 1: each server's exit status after SIGTERM (0 expected)
    one, ten = results["sizes"]["1x"]["commands"], results["sizes"]["10x"]["commands"]
    results["growth"] = {name: round(ten[name]["c1"]["p50_ms"] / one[name]["c1"]["p50_ms"], 2) for name in one}
    results["duration_s"] = round(time.perf_counter() - started, 1)
    results["meta"]["load_after"] = round(os.getloadavg()[0], 1)  # a shared machine: say how busy it was
    return results


def errors_of(results: dict[str, Any]) -> list[str]:
    found = []
    for label, size in results["sizes"].items():
        for name, runs in size["commands"].items():
            for conc, run in runs.items():
                if run["errors"]:
                    found.append(f"mix {label} {name} {conc}: {run['errors']} errors, first: {run['first_error']}")
    for label, runs in results["floor"].items():
        for conc, run in runs.items():
            if run["errors"]:
                found.append(f"mix floor {label} {conc}: {run['errors']} errors, first: {run['first_error']}")
    if results.get("fake_slack_rejected"):
        found.append(f"mix: the fake Slack rejected {results['fake_slack_rejected']} calls, first: "
                     f"{results.get('fake_slack_rejected_first')}")
    for name, code in results.get("server_exits", {}).items():
        if code != 0:
            found.append(f"mix: {name} server exited {'after SIGKILL' if code is None else code} after SIGTERM "
                         "(0 expected)")
    return found
