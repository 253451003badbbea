"""Prove the PostgreSQL fixtures are real: a live server, isolated databases, restartable."""

from __future__ import annotations

from pathlib import Path

import pytest
from pgserver import ThrowawayPostgres
from sqlalchemy import create_engine, inspect, text

pytestmark = pytest.mark.postgres


def test_select_version_is_postgresql(pg_url: str) -> None:
    engine = create_engine(pg_url)
    try:
        with engine.connect() as conn:
            version = conn.execute(text("select version()")).scalar_one()
    finally:
        engine.dispose()
    assert version.startswith("PostgreSQL"), version


def test_each_test_gets_its_own_database(postgres: ThrowawayPostgres, pg_url: str) -> None:
    other_url = postgres.create_database("t_other_for_isolation_check")
    assert other_url != pg_url
    first, second = create_engine(pg_url), create_engine(other_url)
    try:
        with first.begin() as conn:
            conn.execute(text("create table only_here (id integer primary key)"))
        assert inspect(first).has_table("only_here")
        assert not inspect(second).has_table("only_here")
        with first.connect() as a, second.connect() as b:
            assert a.execute(text("select current_database()")).scalar_one() != b.execute(
                text("select current_database()")
            ).scalar_one()
    finally:
        first.dispose()
        second.dispose()
        postgres.drop_database("t_other_for_isolation_check")


def test_restart_keeps_data_and_server_answers(postgres: ThrowawayPostgres, pg_url: str) -> None:
    port = postgres.port
    engine = create_engine(pg_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("create table survivor (id integer primary key, note text)"))
            conn.execute(text("insert into survivor values (1, 'before restart')"))
        engine.dispose()  # restart -m fast disconnects clients; don't keep stale pooled ones

        postgres.restart()

        assert postgres.port == port
        with engine.connect() as conn:
            note = conn.execute(text("select note from survivor where id = 1")).scalar_one()
            assert conn.execute(text("select 1")).scalar_one() == 1
    finally:
        engine.dispose()
    assert note == "before restart"


def test_start_failure_raises_instead_of_skipping(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="Could not start"):
        ThrowawayPostgres(bindir=tmp_path).start()
