"""What replicas share through the database instead of each keeping its own (bot/chat_state.py): handled event
ids, with a bounded retention, and whose home page has been drawn. On SQLite and PostgreSQL; each "replica" is
its own engine, as another process would be."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot import db
from bot.chat_state import RETENTION, HomeViews, SeenEvents
from models import SeenEvent

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'state.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    db.upgrade(url)
    return url


@pytest.fixture
def replicas(url: str) -> Iterator[list[sessionmaker[Session]]]:
    engines = [db.make_engine(url) for _ in range(2)]
    yield [db.session_factory(e) for e in engines]
    for e in engines:
        e.dispose()


def test_an_event_id_is_handled_once_whichever_replica_gets_it(replicas: list[sessionmaker[Session]]) -> None:
    clock = Clock()
    a, b = (SeenEvents(f, platform="slack", clock=clock) for f in replicas)
    assert a.claim("Ev1")
    assert not b.claim("Ev1") and not a.claim("Ev1")
    assert b.claim("Ev2")
    assert SeenEvents(replicas[0], platform="teams", clock=clock).claim("Ev1")  # ids are per platform
    b.release("Ev1")  # handling failed on a: the platform's retry must get through, anywhere
    assert b.claim("Ev1")


def test_event_ids_are_kept_for_the_retention_then_deleted(replicas: list[sessionmaker[Session]]) -> None:
    clock = Clock()
    seen = SeenEvents(replicas[0], platform="slack", clock=clock)
    for i in range(5):
        assert seen.claim(f"old-{i}")
    clock.now = T0 + RETENTION - timedelta(seconds=1)
    assert not SeenEvents(replicas[1], platform="slack", clock=clock).claim("old-0")  # still within
    clock.now = T0 + RETENTION + timedelta(minutes=2)
    assert seen.claim("new")  # prunes what is older than the retention
    with replicas[1]() as session:
        assert session.scalar(select(func.count()).select_from(SeenEvent)) == 1
    assert seen.claim("old-0")  # long gone: a repeat this late is handled again (publishing is idempotent)


def test_many_replicas_claiming_one_id_at_once_let_exactly_one_through(url: str) -> None:
    engines = [db.make_engine(url) for _ in range(6)]
    try:
        clock = Clock()
        claimers = [SeenEvents(db.session_factory(e), platform="slack", clock=clock) for e in engines]
        start, results = threading.Barrier(len(claimers)), []

        def claim(seen: SeenEvents) -> None:
            start.wait()
            results.append(seen.claim("EvRACE"))

        threads = [threading.Thread(target=claim, args=(c,)) for c in claimers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(results) == [False] * (len(claimers) - 1) + [True]
    finally:
        for e in engines:
            e.dispose()


def test_a_home_drawn_by_one_replica_is_known_to_the_others(replicas: list[sessionmaker[Session]]) -> None:
    clock = Clock()
    a, b = (HomeViews(f, platform="slack", clock=clock) for f in replicas)
    assert not b.drawn("T1", "U1")
    a.published("T1", "U1")
    assert b.drawn("T1", "U1") and not b.drawn("T2", "U1") and not b.drawn("T1", "U2")
    clock.now += timedelta(hours=1)
    b.published("T1", "U1")  # drawn again: one row, newer time
    assert a.drawn("T1", "U1")
    assert not HomeViews(replicas[0], platform="teams", clock=clock).drawn("T1", "U1")
