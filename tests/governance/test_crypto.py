"""Encryption at rest (models/sealed.py): after a whole meeting cycle the raw SQLite file and an SQL dump hold no
target detail, action wording, outcome or note in clear; keys rotate; a wrong key is a clear error."""

from __future__ import annotations

import base64
import io
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from moments import STACK_START
from rich.console import Console
from sqlalchemy import select, text

from bot import config, db
from bot.demo import SAMPLE, Clock, Demo
from bot.demo_stack import LocalSlack
from commands.partnership import file as partnership
from models import Action, ActionNote, OutboxMessage, Outcome, TargetDetails, sealed


@pytest.fixture(scope="module")
def cycle_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file after the demo's meeting cycle (publish, pack, actions, reminders, chases, outcome, feedback)
    on the production stack, with the suite's test key; every connection closed (the WAL checkpointed in)."""
    path = tmp_path_factory.mktemp("cycle") / "cycle.db"
    url = f"sqlite:///{path}"
    db.upgrade(url)
    engine = db.make_engine(url)
    factory = db.session_factory(engine)
    clock = Clock(STACK_START)
    with db.unit_of_work(factory) as session:
        partnership.load(session, SAMPLE.read_text(encoding="utf-8"), source="northtown.yaml", now=clock.now)
    with LocalSlack(factory, clock=clock) as stack:
        Demo(stack, clock, Console(file=io.StringIO()), narrate=False).play()
    engine.dispose()
    return path


def _secrets(path: Path) -> list[str]:
    """Every detail and free text about targets the database holds, read back through the models."""
    engine = db.make_engine(f"sqlite:///{path}")
    try:
        with db.session_factory(engine)() as session:
            found = [d.summary for d in session.scalars(select(TargetDetails))]
            found += [a.text for a in session.scalars(select(Action))]
            found += [o.text for o in session.scalars(select(Outcome))]
            found += [n.text for n in session.scalars(select(ActionNote))]
            counts = (session.scalar(select(text("count(*)")).select_from(Action)),
                      session.scalar(select(text("count(*)")).select_from(Outcome)),
                      session.scalar(select(text("count(*)")).select_from(OutboxMessage)))
    finally:
        engine.dispose()
    assert counts[0] and counts[1] and counts[2], f"the cycle made no actions, outcomes or messages: {counts}"
    return [s for s in found if s]


def _dump(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return "\n".join(conn.iterdump())


def _leaks(haystack: str, secrets: list[str]) -> list[str]:
    # the whole text, and its first 24 characters (a truncated copy, e.g. in a log line, counts too)
    return [s for s in secrets if s in haystack or s[:24] in haystack]


def test_no_detail_or_action_text_in_the_raw_file_or_a_dump(cycle_db: Path) -> None:
    secrets = _secrets(cycle_db)
    assert any("Class A supply network" in s for s in secrets), "the sample's details were not loaded"
    assert any("check benefit claims" in s for s in secrets), "the cycle's action was not recorded"
    raw = cycle_db.read_bytes().decode("latin-1")
    assert not [p for p in cycle_db.parent.iterdir() if p.name.endswith(("-wal", "-journal"))]
    assert _leaks(raw, secrets) == []
    assert _leaks(_dump(cycle_db), secrets) == []
    # and what is stored is sealed, under the suite's key
    dump = _dump(cycle_db)
    assert f"enc1:{sealed.ring().current_id}:" in dump


def test_every_sealed_column_names_itself() -> None:
    """The associated data of a sealed column is "table.column": re-sealing (rotation, migration 0017) relies
    on it, and a value copied into another column then fails to open."""
    from models import Base

    columns = sealed.sealed_columns(Base.metadata.tables.values())
    assert {("target_details", "summary"), ("action", "text"), ("outcome", "text"), ("action_note", "text"),
            ("outbox_message", "payload"), ("target_details", "facts")} <= set(columns)
    for table_name, column_name in columns:
        assert Base.metadata.tables[table_name].c[column_name].type.context == f"{table_name}.{column_name}"


def test_a_value_moved_to_another_column_does_not_open() -> None:
    stored = sealed.seal("visit 12 Acacia Avenue", "action.text")
    assert sealed.open_(stored, "action.text") == "visit 12 Acacia Avenue"
    with pytest.raises(sealed.SealedError, match="outcome.text .* integrity check"):
        sealed.open_(stored, "outcome.text")


@pytest.fixture
def cycle_copy(cycle_db: Path, tmp_path: Path) -> Iterator[Path]:
    copy = tmp_path / "copy.db"
    copy.write_bytes(cycle_db.read_bytes())
    yield copy



# ---------------------------------------------------------------- the real `oneday`, as an operator runs it

ONEDAY = Path(sys.executable).parent / "oneday"


def _oneday(cwd: Path, *args: str, **env: str | None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "COLUMNS": "300", "NO_COLOR": "1"}
    full.pop("ONEDAY_PARTNERSHIP", None)
    for name, value in env.items():
        if value is None:
            full.pop(name, None)
        else:
            full[name] = value
    return subprocess.run([str(ONEDAY), *args], cwd=cwd, env=full, capture_output=True, text=True, timeout=120)


def _summaries(path: Path, keys: sealed.KeyRing) -> list[str]:
    engine = db.make_engine(f"sqlite:///{path}")
    try:
        with sealed.using(keys), db.session_factory(engine)() as session:
            return sorted(d.summary for d in session.scalars(select(TargetDetails)))
    finally:
        engine.dispose()


def _stored_key_ids(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT summary FROM target_details UNION ALL SELECT text FROM action "
                            "UNION ALL SELECT payload FROM outbox_message").fetchall()
    return {sealed.sealed_with(v) or "clear" for (v,) in rows if v}


def test_rotate_with_a_key_file_then_read_back(cycle_copy: Path) -> None:
    old = sealed.ring()
    key_file = cycle_copy.with_name("data.key")
    key_file.write_text(f"# test\n{sealed.encode_key(old.keys[0])}\n", encoding="ascii")
    before = _summaries(cycle_copy, old)
    env = {"DATABASE_URL": f"sqlite:///{cycle_copy}", "ONEDAY_DATA_KEY": None, "ONEDAY_DATA_KEY_FILE": str(key_file)}

    done = _oneday(cycle_copy.parent, "keys", "rotate", "--batch", "7", **env)
    assert done.returncode == 0, done.stderr
    new = sealed.KeyRing(config.read_key_file(key_file))
    assert len(new.keys) == 1 and new.current_id != old.current_id  # the old key is gone once all is re-sealed
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "re-sealed" in done.stdout and new.current_id in done.stdout
    assert _stored_key_ids(cycle_copy) == {new.current_id}
    assert _summaries(cycle_copy, new) == before
    with pytest.raises(sealed.SealedError, match=f"sealed with data key {new.current_id}"):
        _summaries(cycle_copy, old)

    status = _oneday(cycle_copy.parent, "keys", "status", **env)
    assert "every stored value is sealed with the current key" in status.stdout, status.stdout + status.stderr


def test_rotate_resumes_after_a_stop(cycle_copy: Path) -> None:
    """A rotation stopped half-way (new key first in the file, some values re-sealed) is finished by running it
    again: no new key is made, the old one is dropped only when nothing needs it."""
    old = sealed.ring()
    new_key = sealed.new_key()
    both = sealed.KeyRing((new_key, old.keys[0]))
    key_file = cycle_copy.with_name("data.key")
    key_file.write_text(f"{sealed.encode_key(new_key)}\n{sealed.encode_key(old.keys[0])}\n", encoding="ascii")
    engine = db.make_engine(f"sqlite:///{cycle_copy}")
    with engine.begin() as conn:  # what the stopped run got done: one batch of one column
        sealed.reseal_batch(conn, "action", "text", keys=both, batch=1)
    engine.dispose()
    assert _stored_key_ids(cycle_copy) == {old.current_id, both.current_id}

    env = {"DATABASE_URL": f"sqlite:///{cycle_copy}", "ONEDAY_DATA_KEY": None, "ONEDAY_DATA_KEY_FILE": str(key_file)}
    again = _oneday(cycle_copy.parent, "keys", "rotate", **env)
    assert again.returncode == 0, again.stderr
    assert "carrying on" in again.stdout
    assert config.read_key_file(key_file) == (new_key,)
    assert _stored_key_ids(cycle_copy) == {both.current_id}
    assert _summaries(cycle_copy, sealed.KeyRing((new_key,))) == _summaries(cycle_copy, both)


def test_rotate_with_the_key_in_the_environment(cycle_copy: Path) -> None:
    old = sealed.ring()
    old_b64 = sealed.encode_key(old.keys[0])
    env = {"DATABASE_URL": f"sqlite:///{cycle_copy}", "ONEDAY_DATA_KEY": old_b64}
    one = _oneday(cycle_copy.parent, "keys", "rotate", **env)
    assert one.returncode == 2
    assert "put a new one first" in one.stderr and "example:" in one.stderr
    new_b64 = _oneday(cycle_copy.parent, "keys", "generate", **env).stdout.strip()
    done = _oneday(cycle_copy.parent, "keys", "rotate", **{**env, "ONEDAY_DATA_KEY": f"{new_b64},{old_b64}"})
    assert done.returncode == 0, done.stderr
    new = sealed.KeyRing((base64.b64decode(new_b64),))
    assert "remove the old key from ONEDAY_DATA_KEY" in done.stdout
    assert _stored_key_ids(cycle_copy) == {new.current_id}
    assert _summaries(cycle_copy, new) == _summaries(cycle_copy, sealed.KeyRing((base64.b64decode(new_b64),
                                                                                     old.keys[0])))


def test_a_wrong_key_is_one_clear_line(cycle_copy: Path) -> None:
    wrong = sealed.encode_key(sealed.new_key())
    done = _oneday(cycle_copy.parent, "partnership", "export", DATABASE_URL=f"sqlite:///{cycle_copy}",
                   ONEDAY_DATA_KEY=wrong)
    assert done.returncode == 2
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error: target_details.")
    assert f"sealed with data key {sealed.ring().current_id}" in done.stderr
    assert "ONEDAY_DATA_KEY or ONEDAY_DATA_KEY_FILE is not the key this database was written with" in done.stderr
    assert wrong not in done.stderr


def test_a_bad_key_setting_is_refused_before_anything_runs(tmp_path: Path) -> None:
    short = base64.b64encode(b"x" * 16).decode()
    done = _oneday(tmp_path, "--help", ONEDAY_DATA_KEY=short)
    assert done.returncode == 2
    assert done.stderr.startswith("error: ONEDAY_DATA_KEY must be base64 of 32 random bytes")
    assert short not in done.stderr  # a secret is never echoed


@pytest.mark.parametrize("command", [("worker",), ("serve",), ("db", "upgrade"), ("partnership", "export")])
def test_postgresql_without_a_key_refuses_to_start(tmp_path: Path, command: tuple[str, ...]) -> None:
    # Nothing listens on port 9: the refusal comes before any connection (the worker would otherwise wait).
    done = _oneday(tmp_path, *command, DATABASE_URL="postgresql+psycopg://oneday:secret@127.0.0.1:9/oneday",
                   ONEDAY_DATA_KEY=None, SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET="s")
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith("error: ONEDAY_DATA_KEY or ONEDAY_DATA_KEY_FILE must be set when the database is not "
                           "SQLite")
    assert "secret" not in done.stderr
    settings = config.from_env({"DATABASE_URL": "postgresql+psycopg://oneday@db.invalid/oneday"})
    with pytest.raises(config.ConfigError, match="must be set when the database is not SQLite"):
        config.check_keys(settings)
    with pytest.raises(sealed.SealedError, match="must be set when the database is not SQLite"):
        db.key_source(settings)()  # any other way in is refused at the first sealed value


def test_the_sql_for_a_dba_needs_no_key(tmp_path: Path) -> None:
    done = _oneday(tmp_path, "db", "upgrade", "--sql", DATABASE_URL="postgresql+psycopg://o:p@127.0.0.1:9/oneday",
                   ONEDAY_DATA_KEY=None)
    assert done.returncode == 0, done.stderr
    assert "ADD COLUMN facts TEXT" in done.stdout and "ALTER COLUMN payload TYPE TEXT USING payload::text" in done.stdout


def test_sqlite_without_a_key_makes_its_own_private_key_file_on_first_use(tmp_path: Path) -> None:
    """The embedded default (`oneday.db` in the working directory, no setting): a key file beside the database,
    0600, made the first time a sealed value is written; the database and its files 0600 too."""
    sample = _oneday(tmp_path, "partnership", "sample", "-o", "northtown.yaml", DATABASE_URL=None,
                     ONEDAY_DATA_KEY=None)
    assert sample.returncode == 0, sample.stderr
    assert not (tmp_path / "oneday.db.key").exists()  # nothing sealed yet, no key made
    load = _oneday(tmp_path, "partnership", "load", "northtown.yaml", DATABASE_URL=None, ONEDAY_DATA_KEY=None)
    assert load.returncode == 0, load.stderr
    key_file = tmp_path / "oneday.db.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    database = tmp_path / "oneday.db"
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    own = sealed.KeyRing(config.read_key_file(key_file))
    assert own.current_id != sealed.ring().current_id
    assert _stored_key_ids(database) == {own.current_id}
    assert "Class A supply network" not in database.read_bytes().decode("latin-1")
    # the next process reads the same key back
    export = _oneday(tmp_path, "partnership", "export", DATABASE_URL=None, ONEDAY_DATA_KEY=None)
    assert export.returncode == 0, export.stderr
    assert "Class A supply network operating from two addresses" in export.stdout


# ---------------------------------------------------------------- migration 0017 converts what is stored


def _roundtrip_through_0017(url: str, secrets: list[str], dump: Callable[[], str]) -> None:
    db.downgrade(url, "0012")  # before encryption at rest: every value written back in clear
    clear = dump()
    assert [s for s in secrets if s not in clear] == []
    db.upgrade(url)  # 0017 seals them all, with this process's key
    sealed_dump = dump()
    assert _leaks(sealed_dump, secrets) == []
    assert f"enc1:{sealed.ring().current_id}:" in sealed_dump


def test_migration_0017_seals_existing_clear_text_and_its_downgrade_opens_it(cycle_copy: Path) -> None:
    secrets = _secrets(cycle_copy)
    _roundtrip_through_0017(f"sqlite:///{cycle_copy}", secrets, lambda: _dump(cycle_copy))
    assert sorted(_secrets(cycle_copy)) == sorted(secrets)  # and the models read them back


def test_migration_0017_on_postgresql(pg_db_url: str, northtown_text: str) -> None:
    engine = db.make_engine(pg_db_url)
    try:
        with db.unit_of_work(db.session_factory(engine)) as session:
            partnership.load(session, northtown_text, source="northtown.yaml", now=STACK_START)
        with db.session_factory(engine)() as session:
            secrets = [d.summary for d in session.scalars(select(TargetDetails)) if d.summary]
        assert secrets
    finally:
        engine.dispose()

    def fresh_dump() -> str:
        e = db.make_engine(pg_db_url)
        try:
            with e.connect() as conn:
                return "\n".join(conn.execute(text("SELECT summary FROM target_details")).scalars().all())
        finally:
            e.dispose()

    _roundtrip_through_0017(pg_db_url, secrets, fresh_dump)
