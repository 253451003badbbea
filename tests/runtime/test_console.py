"""`oneday console --as <member>` driven through a pseudo-terminal, as a person at a keyboard would.

priya.shah (housing) is in the high crime causers section but not the organised crime one; jim.lane (DVLA) and
fay.moss (health) have no Slack id in the partnership file, so the console makes one up and Oneday links it by
email.
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from models import Member, OutboxMessage, Section

ONEDAY = Path(sys.executable).parent / "oneday"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r")
REFUSAL = "You can't see 'OCG-07': either it doesn't exist or you are not in its section."


class Pty:
    def __init__(self, *args: str) -> None:
        master, slave = os.openpty()
        env = {**os.environ, "COLUMNS": "200", "LINES": "50", "TERM": "dumb", "NO_COLOR": "1"}
        self.proc = subprocess.Popen([str(ONEDAY), *args], stdin=slave, stdout=slave, stderr=slave, env=env,
                                     start_new_session=True, close_fds=True)
        os.close(slave)
        self.fd, self.seen = master, ""

    def read_until(self, marker: str, timeout: float = 30.0) -> str:
        """Everything printed up to and including `marker`; what follows stays for the next read."""
        deadline = time.monotonic() + timeout
        while marker not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"no {marker!r} within {timeout}s; got:\n{self.seen[-2000:]}"
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:  # the child closed the terminal
                    chunk = b""
                assert chunk, f"the console ended before {marker!r}; got:\n{self.seen[-2000:]}"
                self.seen += ANSI.sub("", chunk.decode("utf-8", "replace"))
        head, _, self.seen = self.seen.partition(marker)
        return head + marker

    def type(self, line: str) -> None:
        os.write(self.fd, line.encode() + b"\n")

    def close(self) -> int:
        try:
            return self.proc.wait(timeout=15)
        finally:
            os.close(self.fd)
            if self.proc.poll() is None:
                self.proc.kill()


def flat(text: str) -> str:
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def test_console_refuses_outside_the_members_sections_and_answers_inside(sqlite_db_url: str,
                                                                       northtown_loaded) -> None:  # type: ignore[no-untyped-def]
    prompt = "priya.shah in #oneday-meeting> "
    term = Pty("--database-url", sqlite_db_url, "console", "--as", "priya.shah")
    try:
        intro = term.read_until(prompt)
        assert "You are Priya Shah (Northtown Council Housing Services), Slack user U0PRIYA" in intro
        term.type("/actions OCG-07")
        refused = flat(term.read_until(prompt))
        assert REFUSAL in refused
        assert "Actions on" not in refused
        term.type("/actions N-0418")
        answered = flat(term.read_until(prompt))
        assert "Actions on N-0418" in answered and "can't see" not in answered
        term.type("quit")
    finally:
        code = term.close()
    assert code == 0


def test_console_links_a_member_without_a_slack_id_by_email(sqlite_db_url: str, northtown_loaded) -> None:  # type: ignore[no-untyped-def]
    prompt = "jim.lane in #oneday-meeting> "
    term = Pty("--database-url", sqlite_db_url, "console", "--as", "jim.lane")
    try:
        intro = flat(term.read_until(prompt))
        assert "made up here: Oneday links it by email" in intro
        term.type("/oneday whoami")
        whoami = flat(term.read_until(prompt))
        assert "Member: Jim Lane (jim.lane)" in whoami
        term.type("/actions OCG-07")
        assert REFUSAL in flat(term.read_until(prompt))
        term.type("quit")
    finally:
        code = term.close()
    assert code == 0


def test_console_on_an_empty_database_says_how_to_load_the_sample(tmp_path: Path) -> None:
    result = subprocess.run([str(ONEDAY), "--database-url", f"sqlite:///{tmp_path / 'empty.db'}", "console",
                             "--as", "sam.patel"], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"})
    assert result.returncode == 2
    assert "oneday partnership sample -o northtown.yaml && oneday partnership load northtown.yaml" in result.stderr


def _everything(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order."""
    engine = sa.create_engine(url)
    try:
        meta = sa.MetaData()
        meta.reflect(engine)
        with engine.connect() as conn:
            return {name: [tuple(r) for r in conn.execute(sa.select(t).order_by(*t.primary_key.columns))]
                    for name, t in meta.tables.items()}
    finally:
        engine.dispose()


def test_console_works_on_a_scratch_copy_and_changes_nothing(sqlite_db_url: str, northtown_loaded) -> None:  # type: ignore[no-untyped-def]
    """A published day leaves messages queued for the worker; the console delivers them to its fake Slack
    and links fay.moss by email, but only in its copy: the database keeps every row as it was."""
    published = subprocess.run([str(ONEDAY), "--database-url", sqlite_db_url, "agenda", "publish", "--date",
                                "2030-12-10"], capture_output=True, text=True, timeout=120)
    assert published.returncode == 0, published.stderr
    before = _everything(sqlite_db_url)
    with northtown_loaded() as session:
        statuses = list(session.scalars(sa.select(OutboxMessage.status)))
        assert statuses and set(statuses) == {"pending"}
        fay = session.scalar(sa.select(Member).where(Member.key == "fay.moss"))
        assert fay is not None and fay.identity("slack") is None
        assert all(s.space_ref is None for s in session.scalars(sa.select(Section)))

    prompt = "fay.moss in #oneday-meeting> "
    term = Pty("--database-url", sqlite_db_url, "console", "--as", "fay.moss")
    try:
        intro = flat(term.read_until(prompt))
        assert "scratch copy" in intro
        term.type("/oneday whoami")
        assert "Member: Fay Moss (fay.moss)" in flat(term.read_until(prompt))
        term.type("channels")
        # the queued messages were delivered in the copy: the ppo section's channel exists in the fake Slack
        assert "#oneday-2030-12-10-ppo" in flat(term.read_until(prompt))
        term.type("quit")
    finally:
        code = term.close()
    assert code == 0
    assert _everything(sqlite_db_url) == before


def test_console_refuses_a_database_it_cannot_copy_without_showing_its_password(tmp_path: Path) -> None:
    url = "postgresql+psycopg://oneday:Pw-canary-7781@127.0.0.1:9/oneday"  # nothing listens: never connected
    result = subprocess.run([str(ONEDAY), "--database-url", url, "console", "--as", "sam.patel"],
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"})
    assert result.returncode == 2
    said = flat(result.stderr)
    assert "scratch copy of a SQLite database" in said
    assert "postgresql+psycopg://oneday:***@127.0.0.1:9/oneday" in said
    assert "Pw-canary-7781" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_console_goes_on_as_another_member_in_the_same_simulated_slack(sqlite_db_url: str,
                                                                       northtown_loaded) -> None:  # type: ignore[no-untyped-def]
    term = Pty("--database-url", sqlite_db_url, "console", "--as", "tom.ashby")
    try:
        term.read_until("tom.ashby in #oneday-meeting> ")
        term.type("/action OCG-07 @sam.patel check benefit claims at the two addresses by Friday")
        recorded = flat(term.read_until("tom.ashby in #oneday-meeting> "))
        assert "Action #" in recorded and "recorded" in recorded
        term.type("as sam.patel")
        switched = flat(term.read_until("sam.patel in #oneday-meeting> "))
        assert "You are now Sam Patel" in switched
        assert "check benefit claims at the two addresses" in switched  # the owner's DM, delivered in this run
        term.type("as nobody")
        assert "no active member 'nobody'" in flat(term.read_until("sam.patel in #oneday-meeting> "))
        term.type("as tom.ashby")
        back = flat(term.read_until("tom.ashby in #oneday-meeting> "))
        assert "You are now Tom Ashby" in back and "check benefit claims" not in back.split("You are now")[1]
        term.type("quit")
    finally:
        code = term.close()
    assert code == 0
