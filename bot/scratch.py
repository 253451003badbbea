"""A throwaway copy of a SQLite database, for `oneday console` (why: see bot/console.py).

The copy is made with SQLite's online backup API from a read-only connection: it is consistent even while
`oneday serve` or a worker is writing (WAL included), and opening the original can neither create nor change
it. Other databases cannot be copied this cheaply, so they are refused with what to do instead.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.redact import safe_url
from commands.core.errors import OnedayError
from commands.partnership.file import LOAD_SAMPLE

NOT_SQLITE_EXAMPLE = ("oneday partnership export -o partnership.yaml && oneday --database-url sqlite:///try.db "
                      "partnership load partnership.yaml && oneday --database-url sqlite:///try.db console --as KEY")


def sqlite_file(url: str) -> Path:
    """The database file behind a SQLite URL; refuses any other database, and SQLite in memory."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise OnedayError(f"oneday console works on a scratch copy of a SQLite database and will not run against "
                          f"{safe_url(url)}: its outbox and chat identities belong to a real deployment. Copy the "
                          f"partnership into a SQLite file and try it there", example=NOT_SQLITE_EXAMPLE)
    if not parsed.database or parsed.database == ":memory:":
        raise OnedayError(f"the database at {safe_url(url)} is empty (not a file)", example=LOAD_SAMPLE)
    path = Path(parsed.database)
    if not path.is_file():
        raise OnedayError(f"the database at {safe_url(url)} is empty (no such file)", example=LOAD_SAMPLE)
    return path


@contextmanager
def scratch_copy(url: str) -> Iterator[str]:
    """The URL of a temporary copy of the SQLite database at `url`, deleted when the block ends."""
    source = sqlite_file(url)
    with tempfile.TemporaryDirectory(prefix="oneday-console-") as tmp:
        copy = Path(tmp) / source.name
        try:
            with closing(sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)) as src, \
                    closing(sqlite3.connect(copy)) as dst:
                src.backup(dst)
        except sqlite3.Error as exc:
            raise OnedayError(f"cannot copy the database at {safe_url(url)}: {exc}") from exc
        yield make_url(url).set(database=str(copy)).render_as_string(hide_password=False)
