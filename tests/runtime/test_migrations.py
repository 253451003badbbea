"""The Alembic history: one linear line, matching the models exactly, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

import models
from bot import db

MODEL_TABLES = set(models.Base.metadata.tables)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each kind (not yet upgraded)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrations.db'}"
    return request.getfixturevalue("pg_url")


def _tables(url: str) -> set[str]:
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            return set(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()


def _diff(url: str) -> list:
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(ctx, models.Base.metadata)
    finally:
        engine.dispose()


def test_the_models_define_the_expected_tables() -> None:
    # Guards the drift test below against an empty metadata (models not imported).
    assert {"partnership", "agency", "member", "cohort", "target", "target_details", "action", "outcome",
            "audit_event", "meeting", "section", "invitation", "chat_identity"} <= MODEL_TABLES


def test_upgrade_to_head_matches_the_models(empty_url: str) -> None:
    db.upgrade(empty_url)
    head = ScriptDirectory.from_config(db.alembic_config(empty_url)).get_current_head()
    assert db.current_revision(empty_url) == head
    assert _diff(empty_url) == []


def test_upgrade_downgrade_upgrade_round_trip(empty_url: str) -> None:
    assert _tables(empty_url) == set()

    db.upgrade(empty_url)
    assert _tables(empty_url) == MODEL_TABLES | {"alembic_version"}

    db.downgrade(empty_url, "base")
    assert _tables(empty_url) <= {"alembic_version"}
    assert db.current_revision(empty_url) is None

    db.upgrade(empty_url)
    assert _tables(empty_url) == MODEL_TABLES | {"alembic_version"}
    assert _diff(empty_url) == []


def test_history_is_linear() -> None:
    script = ScriptDirectory.from_config(db.alembic_config("sqlite://"))
    revisions = list(script.walk_revisions())
    assert revisions, "there must be at least one migration"
    assert len(script.get_heads()) == 1
    assert len(script.get_bases()) == 1
    for rev in revisions:
        down = rev.down_revision
        assert down is None or isinstance(down, str), f"{rev.revision} merges {down!r}"
        assert not rev.branch_labels, f"{rev.revision} starts a branch {rev.branch_labels!r}"
    # Following down_revision from the head visits every revision exactly once.
    chain = []
    current = script.get_revision(script.get_current_head())
    while current is not None:
        chain.append(current.revision)
        current = script.get_revision(current.down_revision) if current.down_revision else None
    assert sorted(chain) == sorted(r.revision for r in revisions)
    assert len(chain) == len(set(chain))


def test_0009_gives_queued_rows_slack_and_leaves_no_default(empty_url: str) -> None:
    """Rows queued before outbox rows carried a platform were all Slack's; after 0009 whoever queues a row
    must name its platform (no default left to hide a forgotten one). Down and up again keeps the history
    whole."""
    db.upgrade(empty_url, "0008")
    engine = db.make_engine(empty_url)
    row = ("insert into outbox_message (partnership_id, idempotency_key, destination_kind, destination_ref, "
           "payload, status, attempts, next_attempt_at, created_at, check_before_send) values "
           "(1, :key, 'space', 'C0MEET', '{}', 'pending', 0, :at, :at, false)")
    at = "2026-12-01 09:00:00+00:00"
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("insert into partnership (id, key, name, timezone, isp_version, meeting, reminders, "
                                 "created_at) values (1, 'p', 'P', 'Europe/London', '1', '{}', '{}', :at)"), {"at": at})
            conn.execute(sa.text(row), {"key": "before-0009", "at": at})
        db.upgrade(empty_url)
        with engine.connect() as conn:
            assert conn.execute(sa.text("select platform from outbox_message")).scalars().all() == ["slack"]
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.text(row), {"key": "no-platform", "at": at})
        db.downgrade(empty_url, "0008")
        with engine.connect() as conn:
            assert "platform" not in {c["name"] for c in sa.inspect(conn).get_columns("outbox_message")}
            assert conn.execute(sa.text("select idempotency_key from outbox_message")).scalars().all() == ["before-0009"]
        db.upgrade(empty_url)
        assert _diff(empty_url) == []
    finally:
        engine.dispose()
