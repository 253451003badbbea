"""The per-partnership job runner (bot/jobs.py): the one error policy every scheduled job shares."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bot import db
from bot.jobs import for_each_partnership
from commands.core.replies import Destination, Notice, Reply
from models import OutboxMessage, Partnership, Workspace

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
KEYS = ("east", "north", "west")


@pytest.fixture
def three(factory):  # type: ignore[no-untyped-def]
    with db.unit_of_work(factory) as session:
        for key in KEYS:
            session.add(Partnership(key=key, name=key.title(), isp_version="1", created_at=NOW))
    return factory


def hello(p: Partnership) -> list[Notice]:
    return [Notice(Destination.space("C0MEET"), Reply(title=f"hello {p.key}"), key=f"hello:{p.key}")]


def queued_for(factory) -> list[str]:  # type: ignore[no-untyped-def]
    with factory() as session:
        return sorted(session.scalar(select(Partnership.key).where(Partnership.id == r.partnership_id))
                      for r in session.scalars(select(OutboxMessage)))


def test_one_partnerships_failure_is_logged_and_the_others_go_on(three, caplog) -> None:  # type: ignore[no-untyped-def]
    def plan(session: Session, p: Partnership, now: datetime) -> Sequence[Notice]:
        if p.key == "north":
            session.add(Workspace(partnership_id=p.id, platform="slack", workspace_id="HALFDONE", created_at=now))
            raise RuntimeError("north's data is broken")
        return hello(p)

    with caplog.at_level(logging.INFO, logger="oneday.jobs"):
        assert for_each_partnership(three, NOW, "test-job", plan) == 2
    assert queued_for(three) == ["east", "west"]
    with three() as session:  # the failing partnership's own writes rolled back
        assert session.scalar(select(Workspace)) is None
    [failed] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "test-job failed for partnership" in failed.getMessage() and failed.exc_info


def test_a_round_another_worker_ran_first_is_a_normal_skip(three, caplog) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work(three) as session:  # what the other worker committed first
        east = session.scalar(select(Partnership).where(Partnership.key == "east"))
        session.add(Workspace(partnership_id=east.id, platform="slack", workspace_id="T0SAME", created_at=NOW))

    def plan(session: Session, p: Partnership, now: datetime) -> Sequence[Notice]:
        if p.key == "north":  # the same unique key again: fails at flush or commit
            session.add(Workspace(partnership_id=p.id, platform="slack", workspace_id="T0SAME", created_at=now))
        return hello(p)

    with caplog.at_level(logging.INFO, logger="oneday.jobs"):
        assert for_each_partnership(three, NOW, "test-job", plan) == 2
    assert queued_for(three) == ["east", "west"]  # north's notice rolled back with its marks
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("already handled by another worker" in r.getMessage() for r in caplog.records)


def test_the_database_unavailable_is_a_warning_and_the_next_run_retries(three, caplog) -> None:  # type: ignore[no-untyped-def]
    down = {"north"}

    def plan(session: Session, p: Partnership, now: datetime) -> Sequence[Notice]:
        if p.key in down:
            raise OperationalError("SELECT 1", {}, ConnectionError("server closed the connection"))
        return hello(p)

    with caplog.at_level(logging.INFO, logger="oneday.jobs"):
        assert for_each_partnership(three, NOW, "test-job", plan) == 2
    [warning] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert warning.levelno == logging.WARNING and "will retry next run" in warning.getMessage()
    down.clear()  # the database is back: the next run queues north's, and only north's
    assert for_each_partnership(three, NOW, "test-job", plan) == 1
    assert queued_for(three) == ["east", "north", "west"]
