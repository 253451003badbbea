"""Outbox delivery rate against a fake Slack that enforces one message a second per channel.

`tests/fake_slack.FakeSlack` with ``limit_per_channel(1.0)`` answers 429 with Retry-After when a channel is
posted to sooner than 1 s after its previous accepted post. 5 channels x 6 messages are queued with
``bot.outbox.enqueue`` (each channel's messages one after another, as publishing queues them) in a SQLite file
DB (migrated, bot/sample/northtown.yaml loaded), then one ``bot.outbox.Sender`` on ``SlackPort`` drains them.

Figures: per channel, accepted posts per second between its first and last accepted post ((n - 1) / span), as a
fraction of the allowed 1/s; the whole drain's wall time against the ideal ((messages per channel - 1) s at
exactly 1/s, every channel in parallel); and how many 429s the fake sent (pacing should keep that at 0).
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.ack import TOKEN, _tests_on_path
from benchmarks.plan import loaded_db

ALLOWED_PER_SECOND = 1.0


def run_benchmark(workdir: Path, *, channels: int = 5, per_channel: int = 6, timeout: float = 120.0,
                  progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    _tests_on_path()
    from fake_slack import FakeSlack
    from sqlalchemy import select

    from bot import db
    from bot.clock import system_clock
    from bot.config import sqlite_url
    from bot.outbox import Sender, enqueue
    from bot.slack.app import make_client
    from bot.slack.port import SlackPort
    from commands.core.replies import Destination, Notice, Reply
    from models import Partnership

    say = progress or (lambda msg: None)
    started = time.perf_counter()
    with FakeSlack() as fake, loaded_db(sqlite_url(workdir / "outbox.db")) as factory:
        fake.limit_per_channel(ALLOWED_PER_SECOND)
        names = [f"C0BENCH{c + 1}" for c in range(channels)]
        with db.unit_of_work(factory) as session:
            pid = session.scalar(select(Partnership.id))
            assert pid is not None, "the sample partnership was not loaded"
            for ch in names:
                for n in range(per_channel):
                    reply = Reply(title=f"Bench message {n + 1} of {per_channel}", lines=(f"channel {ch}",))
                    enqueue(session, pid, Notice(Destination.space(ch), reply, f"bench:{ch}:{n}"), now=system_clock())
        total = channels * per_channel
        say(f"outbox: draining {channels} channels x {per_channel} messages through the Sender")
        sender = Sender(factory, SlackPort(make_client(TOKEN, fake.base_url)))
        t0 = time.perf_counter()
        drained = sender.drain(timeout=timeout)
        wall = time.perf_counter() - t0
        posts = [c for c in fake.calls_to("chat.postMessage") if not c.error]
        by_channel: dict[str, list[float]] = defaultdict(list)
        for call in posts:
            by_channel[str(call.args.get("channel"))].append(call.at)
        rates = {}
        for ch, times in sorted(by_channel.items()):
            times.sort()
            span = times[-1] - times[0]
            rates[ch] = round((len(times) - 1) / span, 3) if span > 0 else float("nan")
        throttled = len(fake.ratelimited) + sum(1 for f in fake.faults if f.fault == "ratelimited")
        rejected = len(fake.rejected)
    values = list(rates.values())
    ideal = (per_channel - 1) / ALLOWED_PER_SECOND
    return {
        "channels": channels, "per_channel": per_channel, "messages": total, "delivered": len(posts),
        "drained": drained, "wall_s": round(wall, 2), "ideal_s": ideal,
        "rate_per_channel": rates,
        "rate_mean": round(statistics.mean(values), 3) if values else 0.0,
        "rate_min": round(min(values), 3) if values else 0.0,
        "allowed_per_second": ALLOWED_PER_SECOND,
        "ratelimited_429": throttled, "rejected": rejected,
        "duration_s": round(time.perf_counter() - started, 1),
    }
