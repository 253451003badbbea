"""Prometheus metrics: what `GET /metrics` on `oneday serve` (and `oneday worker --metrics-port`) answers.

Two kinds, so that the numbers are right however many processes there are:
- **counted where it happens** (prometheus_client): command latency by command, outbox deliveries and failures by
  platform, job runs and reminder rounds. Under `oneday serve --workers N` each uvicorn worker process writes its
  counts to a directory of its run (prometheus_client's multiprocess mode, `PROMETHEUS_MULTIPROC_DIR`, set up by
  `serve` before the workers start) and a scrape of any worker adds them all up. The worker process, which sends
  and runs the jobs, serves its own on `--metrics-port`.
- **read from the database at scrape** (`DatabaseCollector`): the outbox's queue depth and the age of its oldest
  pending message by platform, messages by platform and status, reminders recorded by round. These are the
  whole deployment's, whichever process did the work, so any replica's scrape gives the same figures.

Labels are bounded: a command label is a known command, button or form name, else "other".
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from commands.core import router
from commands.core.help import HELP
from models import OutboxMessage, ReminderMark

log = logging.getLogger("oneday.metrics")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# Slack's ack deadline is 3 s: buckets resolve the milliseconds a command takes, up to well past it.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

COMMAND_SECONDS = Histogram("oneday_command_seconds", "Time to handle one command, button or form (one unit of "
                            "work, commit included)", ("command", "outcome"), buckets=LATENCY_BUCKETS)
DELIVERIES = Counter("oneday_outbox_deliveries", "Outbox delivery attempts by platform and what came of them "
                     "(sent, withheld, ratelimited, retry, failed)", ("platform", "outcome"))
JOB_RUNS = Counter("oneday_job_runs", "Scheduled job runs", ("job", "outcome"))
REMINDER_ROUNDS = Counter("oneday_reminder_rounds", "Reminder rounds run (all partnerships, once a minute)")
REMINDER_MESSAGES = Counter("oneday_reminder_messages", "Reminder and escalation messages queued by the rounds")


def command_label(intent: str) -> str:
    """The command's name as a label: a slash command, `button:<id>` or `form:<id>` we know, else "other" (so a
    label never carries free text and their number stays small)."""
    kind, _, name = intent.partition(":")
    if not name:
        return intent if intent in HELP else "other"
    known = router.BUTTONS if kind == "button" else router.FORMS if kind == "form" else {}
    return intent if name in known else f"{kind}:other" if kind in ("button", "form") else "other"


def observe_command(intent: str, outcome: str, seconds: float) -> None:
    COMMAND_SECONDS.labels(command_label(intent), outcome).observe(seconds)


def delivered(platform: str, outcome: str) -> None:
    DELIVERIES.labels(platform, outcome).inc()


def job_ran(job: str, outcome: str) -> None:
    JOB_RUNS.labels(job, outcome).inc()


def reminder_round(messages: int) -> None:
    REMINDER_ROUNDS.inc()
    REMINDER_MESSAGES.inc(messages)


def _round_kind(round_name: str) -> str:
    """'overdue-3' -> 'overdue': one series per kind of round, not per chase number."""
    return round_name.split("-", 1)[0][:16]


def _aware(value: object) -> datetime | None:
    """A stored time as an aware datetime (an aggregate may come back naive, or as text on SQLite)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class DatabaseCollector(Collector):
    """Gauges computed from the database at each scrape (see the module's docstring). `clock` is the edge's."""

    def __init__(self, factory: sessionmaker[Session], clock: Callable[[], datetime]) -> None:
        self.factory, self.clock = factory, clock

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily("oneday_outbox_queue_depth", "Outbox messages waiting to be sent (pending or "
                                  "being sent)", labels=("platform",))
        oldest = GaugeMetricFamily("oneday_outbox_oldest_pending_seconds", "Age of the oldest message waiting "
                                   "to be sent (0 when none)", labels=("platform",))
        statuses = GaugeMetricFamily("oneday_outbox_messages", "Outbox messages by platform and status",
                                     labels=("platform", "status"))
        marks = GaugeMetricFamily("oneday_reminders_recorded", "Reminders recorded by the rounds (all workers), "
                                  "by kind of round", labels=("round",))
        up = GaugeMetricFamily("oneday_database_up", "1 when the database answered this scrape's queries")
        try:
            now = self.clock()
            with self.factory() as session:
                # One query, so that depth, age and statuses are one snapshot of the table.
                waiting: dict[str, tuple[int, datetime | None]] = {}
                for platform, status, count, first in session.execute(
                        select(OutboxMessage.platform, OutboxMessage.status, func.count(),
                               func.min(OutboxMessage.created_at))
                        .group_by(OutboxMessage.platform, OutboxMessage.status)):
                    statuses.add_metric([platform, status], count)
                    if status in ("pending", "sending"):
                        n, earliest = waiting.get(platform, (0, None))
                        at = _aware(first)
                        if earliest is None or (at is not None and at < earliest):
                            earliest = at
                        waiting[platform] = (n + count, earliest)
                for platform, (count, since) in sorted(waiting.items()):
                    depth.add_metric([platform], count)
                    oldest.add_metric([platform], max((now - since).total_seconds(), 0.0) if since else 0.0)
                by_kind: dict[str, int] = {}
                for round_name, count in session.execute(
                        select(ReminderMark.round, func.count()).group_by(ReminderMark.round)):
                    by_kind[_round_kind(round_name)] = by_kind.get(_round_kind(round_name), 0) + count
                for kind, count in sorted(by_kind.items()):
                    marks.add_metric([kind], count)
        except Exception as exc:  # a scrape never fails for want of a database: it says so instead
            log.warning("metrics: database not readable (%s)", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield from (depth, oldest, statuses, marks, up)


def render(extra: Iterable[Collector] = ()) -> bytes:
    """The text exposition of this process's (or, in multiprocess mode, every worker's) counts plus `extra`."""
    scrape = CollectorRegistry()
    for collector in extra:
        scrape.register(collector)
    if os.environ.get(MULTIPROC_ENV):
        MultiProcessCollector(scrape)
        return generate_latest(scrape)
    return generate_latest(REGISTRY) + generate_latest(scrape)


def multiprocess_dir() -> Path:
    """A fresh, empty directory for this run's multiprocess counts (PROMETHEUS_MULTIPROC_DIR when the operator
    chose one, emptied: counts of an earlier run must not add up with this one's)."""
    chosen = os.environ.get(MULTIPROC_ENV)
    if chosen:
        path = Path(chosen)
        path.mkdir(parents=True, exist_ok=True)
        for old in path.glob("*.db"):
            old.unlink()
        return path
    return Path(tempfile.mkdtemp(prefix="oneday-metrics-"))


def remove_multiprocess_dir(path: Path, *, chosen: bool) -> None:
    if chosen:
        for old in path.glob("*.db"):
            old.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


def serve_worker_metrics(port: int, host: str, factory: sessionmaker[Session],
                         clock: Callable[[], datetime]) -> None:
    """`oneday worker --metrics-port`: this process's counts and the database's gauges on http://host:port/."""
    from prometheus_client import start_http_server

    registry = CollectorRegistry()
    registry.register(_Joined(DatabaseCollector(factory, clock)))
    start_http_server(port, addr=host, registry=registry)
    log.info("metrics on http://%s:%d/metrics", host, port)


class _Joined(Collector):
    """The default registry's metrics followed by `extra`'s, as one collector."""

    def __init__(self, extra: Collector) -> None:
        self.extra = extra

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()
        yield from self.extra.collect()
