"""`python -m benchmarks` (`make bench`): slash-command ack latency, Oneday against bare bolt baselines.

Prints a table; `--json PATH` also saves the results. Exits 1 if any request failed. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks import ack


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


def errors_of(results: dict[str, Any]) -> list[str]:
    found = []
    for subject, by_conc in results["runs"].items():
        for conc, run in by_conc.items():
            if run["errors"]:
                found.append(f"{subject} {conc}: {run['errors']} errors, first: {run['first_error']}")
    for label, run in results["growth"].items():
        if isinstance(run, dict) and run["errors"]:
            found.append(f"growth {label}: {run['errors']} errors, first: {run['first_error']}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--json", metavar="PATH", type=Path, help="also write the results as JSON to PATH")
    parser.add_argument("--sequential", type=int, default=500, help="requests at concurrency 1 (default 500)")
    parser.add_argument("--concurrent", type=int, default=2000, help="requests at concurrency C (default 2000)")
    parser.add_argument("--concurrency", type=int, default=16, help="client threads for the concurrent run")
    parser.add_argument("--warmup", type=int, default=50, help="unmeasured requests before each run")
    args = parser.parse_args(argv)

    ack._tests_on_path()
    from slack_requests import clear_proxy_env

    clear_proxy_env()  # slack_sdk honours HTTP(S)_PROXY even for 127.0.0.1; the load client inherits this env
    console = Console(stderr=True)
    results = ack.run_benchmark(sequential=args.sequential, concurrent=args.concurrent,
                                concurrency=args.concurrency, warmup=args.warmup,
                                progress=lambda msg: console.print(f"[dim]... {msg}[/dim]"))
    out = Console()
    if not out.is_terminal:
        out = Console(width=140)  # a log or a pipe: keep the tables on one line per row
    out.print(ack_table(results))
    out.print(growth_table(results))
    retries = sum(r.get("connect_retries", 0) for by_conc in results["runs"].values() for r in by_conc.values())
    retries += sum(r.get("connect_retries", 0) for r in results["growth"].values() if isinstance(r, dict))
    out.print(f"total {results['meta']['duration_s']} s; connection set-up retries (not measured): {retries}")
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
