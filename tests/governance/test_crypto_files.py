"""File modes and handling markings: the SQLite database (with its -wal, -shm, -journal files), its key file and
every export are readable by their owner only (0600), whatever the umask; every export starts with its marking."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from moments import FILE_LOADED
from sqlalchemy import text

from bot import db
from commands.partnership import file as partnership
from models import sealed

ONEDAY = Path(sys.executable).parent / "oneday"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The most permissive usual umask: files would otherwise be created world-readable (-rw-r--r--)."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_the_database_and_its_wal_are_created_0600(tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "oneday.db"
    db.upgrade(f"sqlite:///{path}")
    assert mode(path) == 0o600
    engine = db.make_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE scratch (x INTEGER)"))
        with engine.connect() as conn:  # held open: the WAL and shared-memory files exist now
            conn.execute(text("SELECT count(*) FROM scratch"))
            side = [p for p in (tmp_path / "oneday.db-wal", tmp_path / "oneday.db-shm") if p.exists()]
            assert side, "SQLite made no -wal or -shm file to check"
            assert {p.name: mode(p) for p in side} == {p.name: 0o600 for p in side}
    finally:
        engine.dispose()


def test_an_existing_database_readable_by_others_is_narrowed(tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "old.db"
    db.upgrade(f"sqlite:///{path}")
    path.chmod(0o644)
    db.make_engine(f"sqlite:///{path}").dispose()
    assert mode(path) == 0o600


def _exported(tmp_path: Path, northtown_text: str) -> str:
    path = tmp_path / "x.db"
    db.upgrade(f"sqlite:///{path}")
    engine = db.make_engine(f"sqlite:///{path}")
    try:
        with db.unit_of_work(db.session_factory(engine)) as session:
            partnership.load(session, northtown_text, source="northtown.yaml", now=FILE_LOADED)
    finally:
        engine.dispose()
    return f"sqlite:///{path}"


def test_partnership_export_is_0600_and_starts_with_its_marking(tmp_path: Path, northtown_text: str,
                                                                open_umask: None) -> None:
    url = _exported(tmp_path, northtown_text)
    out = tmp_path / "export.yaml"
    out.write_text("an older export\n", encoding="utf-8")
    out.chmod(0o644)  # overwriting a file others could read narrows it first
    env = {**os.environ, "DATABASE_URL": url, "COLUMNS": "300", "NO_COLOR": "1"}
    env.pop("ONEDAY_PARTNERSHIP", None)
    done = subprocess.run([str(ONEDAY), "partnership", "export", "-o", str(out)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert mode(out) == 0o600
    first, second = out.read_text(encoding="utf-8").splitlines()[:2]
    assert first == "# OFFICIAL-SENSITIVE"  # the sample has OFFICIAL-SENSITIVE sections
    assert "Northtown" in second and "need-to-know only" in second
    to_stdout = subprocess.run([str(ONEDAY), "partnership", "export"], env=env, cwd=tmp_path, capture_output=True,
                               text=True, timeout=60)
    assert to_stdout.stdout.startswith("# OFFICIAL-SENSITIVE\n")


def test_the_marking_is_the_highest_of_the_sections() -> None:
    class C:
        def __init__(self, handling: str) -> None:
            self.handling = handling

    assert partnership.marking([C("OFFICIAL"), C("OFFICIAL")]) == "OFFICIAL"
    assert partnership.marking([C("OFFICIAL"), C("OFFICIAL-SENSITIVE")]) == "OFFICIAL-SENSITIVE"
    assert partnership.marking([]) == "OFFICIAL-SENSITIVE"  # nothing known: the stricter one


def test_a_generated_key_file_is_0600_and_never_overwritten(tmp_path: Path, open_umask: None) -> None:
    env = {**os.environ, "COLUMNS": "300", "NO_COLOR": "1"}
    made = subprocess.run([str(ONEDAY), "keys", "generate", "-o", "data.key"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    key_file = tmp_path / "data.key"
    assert mode(key_file) == 0o600
    first = key_file.read_text(encoding="ascii")
    again = subprocess.run([str(ONEDAY), "keys", "generate", "-o", "data.key"], env=env, cwd=tmp_path,
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 2 and "is never overwritten" in again.stderr
    assert key_file.read_text(encoding="ascii") == first
    used = subprocess.run([str(ONEDAY), "keys", "status"], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env={**env, "ONEDAY_DATA_KEY": "", "ONEDAY_DATA_KEY_FILE": str(key_file),
                               "DATABASE_URL": f"sqlite:///{tmp_path / 'k.db'}"})
    assert used.returncode == 2 and "the database is empty: nothing is sealed yet" in used.stderr
    db.upgrade(f"sqlite:///{tmp_path / 'k.db'}")
    used = subprocess.run([str(ONEDAY), "keys", "status"], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env={**env, "ONEDAY_DATA_KEY": "", "ONEDAY_DATA_KEY_FILE": str(key_file),
                               "DATABASE_URL": f"sqlite:///{tmp_path / 'k.db'}"})
    assert used.returncode == 0, used.stderr
    assert "every stored value is sealed with the current key" in used.stdout
    assert sealed.KeyRing((sealed.decode_key(first.splitlines()[-1]),)).current_id in used.stdout
