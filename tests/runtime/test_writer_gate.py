"""SQLite writers queue at one gate per database file, across processes too (models/engine.py `WriterGate`).

`oneday serve --workers N` runs N processes on one SQLite file: without a gate shared between them, their writers
met SQLite's busy handler (sleeps of up to 100 ms per try) and `/action` waited seconds at 16 concurrent
requests. These tests hold a write open in another process and check what this process's writers do meanwhile.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from paths import REPO
from sqlalchemy import text

from models.engine import WriterGate, make_engine

# Another process: opens a write transaction on the file, says "held", waits for a line, then commits.
HOLDER = """
import sys
from sqlalchemy import text
from models.engine import make_engine
engine = make_engine(sys.argv[1])
with engine.connect() as conn:
    conn.execute(text("INSERT INTO log (who) VALUES ('other process')"))
    print("held", flush=True)
    sys.stdin.readline()
    conn.commit()
print("committed", flush=True)
"""


def _database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'gate.db'}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE log (id INTEGER PRIMARY KEY, who TEXT)"))
    engine.dispose()
    return url


def _holder(url: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, url], cwd=REPO, text=True, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_write_open_in_another_process_holds_the_gate_until_it_commits(tmp_path: Path) -> None:
    url = _database(tmp_path)
    holder = _holder(url)
    try:
        gate = WriterGate(str(tmp_path / "gate.db"))  # what another process's engine on the file takes
        assert gate.acquire(timeout=0.05) is False  # held by the other process's open transaction
        assert holder.stdin is not None and holder.stdout is not None
        holder.stdin.write("go\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "committed"
        assert gate.acquire(timeout=30) is True  # given back at its commit
        gate.release()
    finally:
        holder.kill()
        holder.wait()
    assert (tmp_path / "gate.db-gate").exists()  # the lock file sits beside the database


def test_a_writer_here_waits_for_the_other_process_and_then_writes_after_it(tmp_path: Path) -> None:
    url = _database(tmp_path)
    holder = _holder(url)
    engine = make_engine(url)
    done = threading.Event()

    def write() -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO log (who) VALUES ('this process')"))
        done.set()

    writer = threading.Thread(target=write)
    try:
        writer.start()
        assert not done.wait(0.2)  # queued behind the other process's open write, not failed
        assert holder.stdin is not None
        holder.stdin.write("go\n")
        holder.stdin.flush()
        writer.join(timeout=60)
        assert done.is_set()
    finally:
        holder.kill()
        holder.wait()
    with engine.connect() as conn:
        assert list(conn.execute(text("SELECT who FROM log ORDER BY id")).scalars()) == [
            "other process", "this process"]
    engine.dispose()


def test_an_in_memory_database_has_a_gate_of_its_own_and_no_lock_file(tmp_path: Path) -> None:
    gate = WriterGate(None)
    assert gate.acquire(timeout=1) is True
    assert gate.acquire(timeout=0.01) is False  # one writer at a time in this process still
    gate.release()
    assert gate.acquire(timeout=1) is True
    gate.release()
    assert list(tmp_path.iterdir()) == []
