"""`make bench`'s mix table and error report (benchmarks/): a missed goal is marked, a failed request is reported
(the exit code depends on it), from results shaped as benchmarks/mix.py returns them. No timing is measured here."""

from __future__ import annotations

import sys
from typing import Any

from paths import REPO
from rich.console import Console

if str(REPO) not in sys.path:  # benchmarks/ is not installed with the package: import it from the repository
    sys.path.insert(0, str(REPO))

from benchmarks import mix  # noqa: E402
from benchmarks.__main__ import errors_of, mix_table  # noqa: E402


def run(p50: float, p99: float, rps: float, errors: int = 0) -> dict[str, Any]:
    return {"p50_ms": p50, "p99_ms": p99, "throughput_rps": rps, "errors": errors,
            "first_error": "HTTP 500: b''" if errors else None}


def results(big_p50: float, errors: int = 0) -> dict[str, Any]:
    floor = {"c1": run(1.0, 2.0, 1000.0), "c16": run(10.0, 20.0, 2000.0)}
    sizes = {label: {"members": 40 * f, "targets": 50 * f, "open_actions": 650 * f, "commands": {
        "/oneday whoami": {"c1": run(p50, 3.0, 900.0), "c16": run(5.0, 24.0, 1500.0, errors)}}}
        for label, f, p50 in (("1x", 1, 2.0), ("10x", 10, big_p50))}
    return {"meta": {"sequential": 10, "concurrent": 20, "concurrency": 16, "warmup": 2, "load_before": 1.0,
                     "load_after": 1.0},
            "floor": {"1x": floor, "10x": floor}, "sizes": sizes,
            "growth": {"/oneday whoami": round(big_p50 / 2.0, 2)}, "fake_slack_rejected": 0}


def text_of(r: dict[str, Any]) -> str:
    console = Console(width=250, record=True)
    console.print(mix_table(r))
    return console.export_text()


def test_goals_met_are_not_marked_and_missed_ones_are() -> None:
    met = text_of(results(big_p50=2.2))
    assert "1.10x" in met and "1.10x *" not in met  # 10x / 1x within 1.2x
    assert "2.00x" in met and "2.00x *" not in met  # p50 against the floor within 3x
    missed = text_of(results(big_p50=4.0))
    assert "2.00x *" in missed  # 10x / 1x beyond 1.2x
    assert "4.00x *" in missed  # and 4x the floor


def test_failed_requests_are_reported() -> None:
    assert mix.errors_of(results(2.0)) == []
    found = errors_of({"mix": results(2.0, errors=3)})
    assert len(found) == 2 and all("3 errors" in line and "c16" in line for line in found)
