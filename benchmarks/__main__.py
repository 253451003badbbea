"""`python -m benchmarks` (`make bench`): Oneday's performance scenarios, each against a baseline from the same run.

Scenarios (`--only NAME,...` runs a subset): ack (slash-command ack latency), mix (the real commands, buttons
and View pack at the sample size and 10x, against the bare bolt floor), plan (agenda plan + render at 600
and 6,000 targets), reminders (a reminder round over 20,000 and 200,000 actions, SQLite and PostgreSQL), outbox
(delivery rate against a fake Slack enforcing 1 message/s per channel), memory (RSS of `oneday serve` idle and
after 10,000 commands). `--workers N` serves the mix's floor and Oneday each with N uvicorn worker processes,
as `oneday serve --workers N` does (default 1: in this process). Prints one table per scenario; `--json PATH`
also saves the results. Exits 1 if any measured request or delivery failed. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks import ack, memory, mix, outbox, plan, reminders

SCENARIOS = ("ack", "mix", "plan", "reminders", "outbox", "memory")


def _use_one_data_key() -> None:
    """One data key for the whole run, in this process and every `oneday` process it starts (they read it from
    the environment): the databases built here hold sealed columns that the served app must open."""
    from models import sealed

    if not os.environ.get("ONEDAY_DATA_KEY"):
        os.environ["ONEDAY_DATA_KEY"] = sealed.encode_key(sealed.new_key())
    sealed.use(sealed.KeyRing((sealed.decode_key(os.environ["ONEDAY_DATA_KEY"].split(",")[0]),)))


def _fmt(value: float, unit: str) -> str:
    return f"{value:,.0f} {unit}" if unit == "req/s" else f"{value:.2f} {unit}"


def _ratio(ours: float, base: float) -> str:
    return f"{ours / base:.2f}x" if base else "-"


METRICS = (("p50_ms", "p50", "ms"), ("p99_ms", "p99", "ms"), ("throughput_rps", "throughput", "req/s"))


def _scenarios(meta: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    conc = meta["concurrency"]
    return (("c1", f"c=1, N={meta['sequential_requests']}"),
            (f"c{conc}", f"c={conc}, N={meta['concurrent_requests']}"))


def ack_table(results: dict[str, Any]) -> Table:
    meta, runs = results["meta"], results["runs"]
    table = Table(title=f"Slash-command ack over loopback HTTP (keep-alive): {meta['nproc']} cores, "
                        f"Python {meta['python']}, slack_bolt {meta['slack_bolt']}",
                  caption="ratio = Oneday / baseline (latency: >1 is slower; throughput: <1 is fewer req/s). "
                          "Baselines measured in the same run.")
    table.add_column("scenario")
    for subject in ("oneday", "bare_pbr"):
        table.add_column(ack.SUBJECTS[subject], justify="right")
    table.add_column("ratio A", justify="right")
    table.add_column(ack.SUBJECTS["bare_default"], justify="right")
    table.add_column("ratio B", justify="right")
    for key, label in _scenarios(meta):
        for field, name, unit in METRICS:
            ours, a, b = (runs[s][key][field] for s in ("oneday", "bare_pbr", "bare_default"))
            table.add_row(f"{label}: {name}", _fmt(ours, unit), _fmt(a, unit), _ratio(ours, a),
                          _fmt(b, unit), _ratio(ours, b))
        table.add_section()
    return table


def growth_table(results: dict[str, Any]) -> Table:
    growth = results["growth"]
    labels = [k for k in growth if k != "p50_ratio"]
    table = Table(title="Growth: Oneday whoami, c=1, partnership at 1x and 10x members",
                  caption=f"p50 ratio {labels[-1]} / {labels[0]} = {growth['p50_ratio']:.2f}x")
    for column in ("size", "members", "p50", "p99", "throughput"):
        table.add_column(column, justify="right" if column != "size" else "left")
    for label in labels:
        g = growth[label]
        table.add_row(label, str(g["members"]), _fmt(g["p50_ms"], "ms"), _fmt(g["p99_ms"], "ms"),
                      _fmt(g["throughput_rps"], "req/s"))
    return table


GOALS = {"p50_vs_floor": 3.0, "p99_c16_ms": 25.0, "throughput_vs_bare": 0.5, "growth": 1.2}


def mix_table(r: dict[str, Any]) -> Table:
    meta = r["meta"]
    conc = meta["concurrency"]
    workers = meta.get("workers", 1)
    if meta.get("served", "in this process") == "in this process":
        server = "1 uvicorn worker in the benchmark process"
    else:
        server = (f"{workers} uvicorn worker process{'es' if workers > 1 else ''} each (oneday serve --workers "
                  f"{workers}; floor: run_app workers={workers})")
    table = Table(title=f"Command mix through the served app (uvicorn edge, {server}, SQLite file): "
                        f"c=1 N={meta['sequential']}, "
                        f"c={conc} N={meta['concurrent']}; floor = bare bolt ack on the same server, same run; "
                        f"load average {meta['load_before']} -> {meta['load_after']} on {os.cpu_count()} cores",
                  caption=f"goals: p50 <= {GOALS['p50_vs_floor']:.0f}x floor; p99 at c={conc} <= "
                          f"{GOALS['p99_c16_ms']:.0f} ms; throughput >= {GOALS['throughput_vs_bare']:.0%} of bare; "
                          f"10x / 1x <= {GOALS['growth']}x (c=1 p50). * = goal missed")
    for col in ("size", "command", "p50 c=1", "p99 c=1", "x floor", f"p99 c={conc}", f"req/s c={conc}",
                "vs bare", "10x / 1x"):
        table.add_column(col, justify="left" if col in ("size", "command") else "right")

    def mark(text: str, missed: bool) -> str:
        return text + (" *" if missed else "")

    for label, size in r["sizes"].items():
        floor = r["floor"][label]
        f1, fc = floor["c1"], floor[f"c{conc}"]
        table.add_row(f"{label}: {size['members']:,} members, {size['targets']:,} targets, "
                      f"{size['open_actions']:,} open actions", "floor: bare bolt ack", _ms(f1["p50_ms"]),
                      _ms(f1["p99_ms"]), "1.00x", _ms(fc["p99_ms"]), _fmt(fc["throughput_rps"], "req/s"), "1.00x", "")
        for name, runs in size["commands"].items():
            one, many = runs["c1"], runs[f"c{conc}"]
            x_floor = one["p50_ms"] / f1["p50_ms"]
            vs_bare = many["throughput_rps"] / fc["throughput_rps"]
            growth = r["growth"][name] if label != "1x" else None
            table.add_row("", name, _ms(one["p50_ms"]), _ms(one["p99_ms"]),
                          mark(f"{x_floor:.2f}x", x_floor > GOALS["p50_vs_floor"]),
                          mark(_ms(many["p99_ms"]), many["p99_ms"] > GOALS["p99_c16_ms"]),
                          _fmt(many["throughput_rps"], "req/s"),
                          mark(f"{vs_bare:.2f}x", vs_bare < GOALS["throughput_vs_bare"]),
                          "" if growth is None else mark(f"{growth:.2f}x", growth > GOALS["growth"]))
        table.add_section()
    return table


def _ms(value: float) -> str:
    return f"{value:,.2f} ms"


def plan_table(r: dict[str, Any]) -> Table:
    sizes = list(r["sizes"])
    base = r["sizes"][sizes[0]]
    table = Table(title="Agenda plan + render (plan_day, to_json + json.dumps, /agenda plan preview, Block Kit), "
                        "SQLite file, median",
                  caption=f"baseline = the {int(sizes[0]):,}-target case from the same run; size ratio "
                          f"{r['size_ratio']:.0f}x, time ratio {r['ratio']:.2f}x. Parts (ms): "
                          "read (plan_input queries) / plan (pure) / json / preview / render.")
    for col in ("case", "median", "parts (ms)", "per target", "baseline", "ratio", "preview blocks"):
        table.add_column(col, justify="left" if col in ("case", "parts (ms)") else "right")
    for size in sizes:
        m = r["sizes"][size]
        parts = " / ".join(f"{m['parts_ms'][k]:.1f}" for k in plan.PARTS)
        blocks = f"{m['blocks']}" + (" (cut)" if m.get("truncated") else "")
        table.add_row(f"{m['active_targets']:,} targets, {m['open_actions']:,} open actions (n={m['repeats']})",
                      _ms(m["median_ms"]), parts, f"{m['per_target_us']:.1f} µs", _ms(base["median_ms"]),
                      _ratio(m["median_ms"], base["median_ms"]), blocks)
        table.add_row("  per target", f"{m['per_target_us']:.1f} µs", "", "", f"{base['per_target_us']:.1f} µs",
                      _ratio(m["per_target_us"], base["per_target_us"]), "")
    return table


VARIANT_LABELS = {"plain": "as migrated", "composite": "+ (partnership_id, status, due)",
                  "partial": "+ (partnership_id, due) WHERE status='open'"}


def reminders_table(r: dict[str, Any]) -> Table:
    small, big = (str(s) for s in (r["sizes"][0], r["sizes"][-1]))
    when = datetime.fromisoformat(r["now"]).strftime("%a %-d %b %Y %H:%M")
    table = Table(title=f"Reminder round (run_round + flush of marks, rolled back) at {when} Europe/London: "
                        f"{r['due_in_window']} actions due in the window",
                  caption=f"baseline = the {int(small):,}-action database from the same run; the ratio should be "
                          "~1x (cost follows what is due). query = the candidate-actions SELECT alone. "
                          "Index variants are created by the benchmark only.")
    for col in ("database / indexes", f"{int(small):,} actions (baseline)", f"{int(big):,} actions", "ratio",
                f"query {int(small):,}", f"query {int(big):,}", "query ratio", "reminded / notices"):
        table.add_column(col, justify="left" if col == "database / indexes" else "right")
    for backend, out in r["backends"].items():
        for variant in reminders.VARIANTS:
            a, b = out[variant][small], out[variant][big]
            table.add_row(f"{'SQLite' if backend == 'sqlite' else 'PostgreSQL'}, {VARIANT_LABELS[variant]}",
                          _ms(a["median_ms"]), _ms(b["median_ms"]), _ratio(b["median_ms"], a["median_ms"]),
                          f"{a['query_ms']:.2f} ms", f"{b['query_ms']:.2f} ms", _ratio(b["query_ms"], a["query_ms"]),
                          f"{b['actions_reminded']} / {b['notices']}")
        table.add_section()
    return table


def outbox_table(r: dict[str, Any]) -> Table:
    table = Table(title=f"Outbox delivery: {r['channels']} channels x {r['per_channel']} messages, one Sender, fake "
                        f"Slack allowing {r['allowed_per_second']:.0f} message/s per channel (429 + Retry-After)",
                  caption="baseline = the limit (1 message/s per channel; ideal drain = (messages per channel - 1) s; "
                          "0 rate-limit answers)")
    for col in ("measure", "Oneday", "baseline", "ratio"):
        table.add_column(col, justify="left" if col == "measure" else "right")
    allowed = r["allowed_per_second"]
    table.add_row("rate per channel, mean", f"{r['rate_mean']:.3f} msg/s", f"{allowed:.3f} msg/s",
                  _ratio(r["rate_mean"], allowed))
    table.add_row("rate per channel, slowest", f"{r['rate_min']:.3f} msg/s", f"{allowed:.3f} msg/s",
                  _ratio(r["rate_min"], allowed))
    table.add_row("drain wall time", f"{r['wall_s']:.2f} s", f"{r['ideal_s']:.2f} s", _ratio(r["wall_s"], r["ideal_s"]))
    table.add_row("429s sent by the fake", str(r["ratelimited_429"]), "0", "-")
    table.add_row("delivered", f"{r['delivered']} / {r['messages']}", str(r["messages"]),
                  _ratio(r["delivered"], r["messages"]))
    return table


def memory_table(r: dict[str, Any]) -> Table:
    one, bare = r["subjects"]["oneday"], r["subjects"]["bare"]
    table = Table(title=f"Resident memory (VmRSS), {r['commands']:,} signed /oneday whoami at c={r['concurrency']}",
                  caption="baseline = a bare bolt app (pbr=True) process on the same bot.http server, same run")
    for col in ("measure", memory.SUBJECTS["oneday"], memory.SUBJECTS["bare"], "ratio"):
        table.add_column(col, justify="left" if col == "measure" else "right")

    def mib(kb: float) -> str:
        return f"{kb / 1024:.1f} MiB"

    table.add_row("idle (after start-up)", mib(one["idle_kb"]), mib(bare["idle_kb"]),
                  _ratio(one["idle_kb"], bare["idle_kb"]))
    table.add_row(f"after {r['commands']:,} commands", mib(one["after_kb"]), mib(bare["after_kb"]),
                  _ratio(one["after_kb"], bare["after_kb"]))
    table.add_row("growth", mib(one["growth_kb"]), mib(bare["growth_kb"]), "-")
    steps = [s for s in one["samples"] if s["commands"]]
    if len(steps) >= 2:
        late = steps[-1]["rss_kb"] - steps[0]["rss_kb"]
        late_bare = bare["samples"][-1]["rss_kb"] - bare["samples"][1]["rss_kb"]
        table.add_row(f"growth after the first {steps[0]['commands']:,}", mib(late), mib(late_bare), "-")
    table.add_row("peak (VmHWM)", mib(one["peak_kb"]), mib(bare["peak_kb"]), _ratio(one["peak_kb"], bare["peak_kb"]))
    table.add_row("throughput", _fmt(one["throughput_rps"], "req/s"), _fmt(bare["throughput_rps"], "req/s"),
                  _ratio(one["throughput_rps"], bare["throughput_rps"]))
    return table


def errors_of(results: dict[str, Any]) -> list[str]:
    found = []
    a = results.get("ack")
    if a:
        for subject, by_conc in a["runs"].items():
            for conc, run in by_conc.items():
                if run["errors"]:
                    found.append(f"ack {subject} {conc}: {run['errors']} errors, first: {run['first_error']}")
        for label, run in a["growth"].items():
            if isinstance(run, dict) and run["errors"]:
                found.append(f"ack growth {label}: {run['errors']} errors, first: {run['first_error']}")
    if results.get("mix"):
        found += mix.errors_of(results["mix"])
    o = results.get("outbox")
    if o and (not o["drained"] or o["delivered"] != o["messages"] or o["rejected"]):
        found.append(f"outbox: delivered {o['delivered']} of {o['messages']} (drained: {o['drained']}, "
                     f"rejected calls: {o['rejected']})")
    m = results.get("memory")
    if m:
        for name, run in m["subjects"].items():
            if run["errors"]:
                found.append(f"memory {name}: {run['errors']} errors, first: {run['first_error']}")
        if m["fake_slack_rejected"]:
            found.append(f"memory: the fake Slack rejected {m['fake_slack_rejected']} calls")
    return found


def parse_only(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown scenario(s) {', '.join(unknown) or '(none)'}; "
                                         f"choose from {','.join(SCENARIOS)}")
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", metavar="PATH", type=Path, help="also write the results as JSON to PATH")
    parser.add_argument("--only", type=parse_only, default=SCENARIOS, metavar="NAME[,NAME...]",
                        help=f"run only these scenarios (default: all of {','.join(SCENARIOS)})")
    parser.add_argument("--sequential", type=int, default=500, help="ack: requests at concurrency 1 (default 500)")
    parser.add_argument("--concurrent", type=int, default=2000, help="ack: requests at concurrency C (default 2000)")
    parser.add_argument("--concurrency", type=int, default=16, help="ack: client threads for the concurrent run")
    parser.add_argument("--warmup", type=int, default=50, help="ack: unmeasured requests before each run")
    parser.add_argument("--mix-sequential", type=int, default=100, help="mix: requests per command at c=1")
    parser.add_argument("--mix-concurrent", type=int, default=200, help="mix: requests per command at c=C")
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="mix: serve the floor and Oneday each with N uvicorn worker processes (bot.serve.run_app, "
                             "as `oneday serve --workers N`); default 1: both served in this process")
    parser.add_argument("--commands", type=int, default=10_000, help="memory: commands sent (default 10000)")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")

    ack._tests_on_path()
    from slack_requests import clear_proxy_env

    clear_proxy_env()  # slack_sdk honours HTTP(S)_PROXY even for 127.0.0.1; the load client inherits this env
    _use_one_data_key()
    console = Console(stderr=True)

    def say(msg: str) -> None:
        console.print(f"[dim]... {msg}[/dim]")

    started = time.perf_counter()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="oneday-bench-") as tmp:
        workdir = Path(tmp)
        runs: dict[str, Callable[[], dict[str, Any]]] = {
            "ack": lambda: ack.run_benchmark(sequential=args.sequential, concurrent=args.concurrent,
                                             concurrency=args.concurrency, warmup=args.warmup, progress=say),
            "mix": lambda: mix.run_benchmark(workdir, sequential=args.mix_sequential,
                                             concurrent=args.mix_concurrent, concurrency=args.concurrency,
                                             warmup=args.warmup // 2, workers=args.workers, progress=say),
            "plan": lambda: plan.run_benchmark(workdir, progress=say),
            "reminders": lambda: reminders.run_benchmark(workdir, progress=say),
            "outbox": lambda: outbox.run_benchmark(workdir, progress=say),
            "memory": lambda: memory.run_benchmark(workdir, commands=args.commands,
                                                   step=max(args.commands // 5, 1), progress=say),
        }
        for name in SCENARIOS:
            if name in args.only:
                results[name] = runs[name]()
    results["meta"] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "nproc": os.cpu_count(),
        "python": sys.version.split()[0],
        "slack_bolt": ack._version("slack_bolt"),
        "sqlalchemy": ack._version("sqlalchemy"),
        "scenarios": [n for n in SCENARIOS if n in results],
        "duration_s": round(time.perf_counter() - started, 1),
    }

    out = Console()
    if not out.is_terminal:
        out = Console(width=160)  # a log or a pipe: keep the tables on one line per row
    timings = []
    if "ack" in results:
        out.print(ack_table(results["ack"]))
        out.print(growth_table(results["ack"]))
        a = results["ack"]
        retries = sum(r.get("connect_retries", 0) for by_conc in a["runs"].values() for r in by_conc.values())
        retries += sum(r.get("connect_retries", 0) for r in a["growth"].values() if isinstance(r, dict))
        out.print(f"ack: connection set-up retries (not measured): {retries}")
        timings.append(f"ack {a['meta']['duration_s']} s")
    if "mix" in results:
        out.print(mix_table(results["mix"]))
        timings.append(f"mix {results['mix']['duration_s']} s")
    for name, table in (("plan", plan_table), ("reminders", reminders_table), ("outbox", outbox_table),
                        ("memory", memory_table)):
        if name in results:
            out.print(table(results[name]))
            timings.append(f"{name} {results[name]['duration_s']} s")
    meta = results["meta"]
    out.print(f"total {meta['duration_s']} s ({'; '.join(timings)}) on {meta['nproc']} cores, "
              f"Python {meta['python']}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        out.print(f"results written to {args.json}")
    problems = errors_of(results)
    for problem in problems:
        console.print(f"[red]{problem}[/red]")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
