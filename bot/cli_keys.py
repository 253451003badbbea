"""`oneday keys ...`: the data keys that seal target details at rest (models/sealed.py).

- `generate` prints a new key (for ONEDAY_DATA_KEY or a key file).
- `status` says which key seals, and how many stored values are not yet under it.
- `rotate` re-seals every stored value under a new key. With a key file (ONEDAY_DATA_KEY_FILE, or a SQLite
  database's own `.key` file) it writes the new key first in the file, the old one kept after it to read with,
  re-seals in batches (each committed, so a stopped run is run again and carries on), then drops the old key.
  With ONEDAY_DATA_KEY the operator puts the new key first (`NEW,OLD`), runs rotate, then removes OLD.
  Rotation runs best with `serve` and `worker` stopped: a running process keeps sealing with the key it
  started with (it learns a new key for reading from a key file, but not to write with it).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from bot import config, db
from models import Base, sealed

keys_app = typer.Typer(help="Data keys: encryption at rest of target details and free text.", no_args_is_help=True)


def _settings() -> config.Settings:
    from bot import cli

    return cli.State.settings


def _key_file(settings: config.Settings) -> Path | None:
    """The key file this configuration reads (and rotate may rewrite); None when keys come from ONEDAY_DATA_KEY."""
    if settings.data_keys:
        return None
    return settings.data_key_file or config.default_key_file(settings.database_url)


def write_key_file(path: Path, keys: tuple[bytes, ...]) -> None:
    """Replace a key file whole (0600, written beside it then renamed over it), so a crash leaves the old or the
    new file, never half of one."""
    temp = path.with_name(path.name + ".new")
    lines = ["# Oneday data keys: the first seals, the others only open (a rotation in progress)."]
    db.write_private(temp, "\n".join([*lines, *(sealed.encode_key(k) for k in keys)]) + "\n")
    os.replace(temp, path)


@keys_app.command("generate")
def generate(output: Annotated[Path | None, typer.Option("-o", "--output", help="Write a new key file (0600) "
                                                         "instead of printing; never overwrites one.")] = None) -> None:
    """Print a new random data key (base64 of 32 bytes), or write it as a new key file."""
    from bot.cli import fail
    from commands.core.errors import OnedayError

    key = sealed.encode_key(sealed.new_key())
    if output is None:
        sys.stdout.write(key + "\n")
        return
    try:
        fd = os.open(output, os.O_CREAT | os.O_EXCL | os.O_WRONLY, db.PRIVATE)
    except FileExistsError:
        fail(OnedayError(f"{output} exists: a key file is never overwritten (its key may be the only way to read a "
                         "database)", example="oneday keys generate -o data.key"))
        return
    except OSError as exc:
        fail(OnedayError(f"cannot write {output}: {exc.strerror or exc}"))
        return
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(f"# Oneday data key: the first key seals, any others only open.\n{key}\n")


def _columns() -> list[tuple[str, str]]:
    return sealed.sealed_columns(Base.metadata.tables.values())


def _require_database(settings: config.Settings) -> bool:
    """Keys apply to a database with Oneday's tables; an empty one is said so (and nothing is created)."""
    from bot.cli import fail, require_keys
    from commands.core.errors import OnedayError

    require_keys()
    if db.current_revision(settings.database_url) is None:
        fail(OnedayError("the database is empty: nothing is sealed yet", example="oneday db upgrade"))
        return False
    return True


@keys_app.command("status")
def status() -> None:
    """Which key seals, and how many stored values are not yet under it (clear text or an older key)."""
    from bot.cli import out

    settings = _settings()
    if not _require_database(settings):
        return
    ring = sealed.ring()
    engine = db.make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            pending = sealed.pending(conn, _columns(), ring)
    finally:
        engine.dispose()
    out.print(f"sealing with key {ring.current_id}" + (f"; also opening with {', '.join(ring.ids[1:])}"
                                                       if len(ring.ids) > 1 else ""), highlight=False)
    left = sum(pending.values())
    for column, count in pending.items():
        if count:
            out.print(f"  {column}: {count} not under key {ring.current_id}", highlight=False)
    out.print(f"{left} stored values to re-seal" if left else "every stored value is sealed with the current key",
              highlight=False)


@keys_app.command("rotate")
def rotate(batch: Annotated[int, typer.Option(min=1, help="Values re-sealed per committed batch.")] = 500) -> None:
    """Re-seal every stored value under a new key (resumable: run it again after a stop)."""
    from bot.cli import fail, out
    from commands.core.errors import OnedayError

    settings = _settings()
    if not _require_database(settings):
        return
    ring = sealed.ring()
    path = _key_file(settings)
    if len(ring.keys) == 1:
        if path is None:
            fail(OnedayError("ONEDAY_DATA_KEY holds one key: put a new one first and keep the old one after it, "
                             "then run rotate again", example='ONEDAY_DATA_KEY="$(oneday keys generate),OLD_KEY" '
                                                              "oneday keys rotate"))
            return
        ring = sealed.KeyRing((sealed.new_key(), *ring.keys))
        write_key_file(path, ring.keys)
        out.print(f"new key {ring.current_id} written first in {path}; old key {ring.ids[1]} kept to read with",
                  highlight=False)
    else:
        out.print(f"carrying on: sealing with key {ring.current_id}, opening with {', '.join(ring.ids[1:])} too",
                  highlight=False)
    sealed.use(ring)
    engine = db.make_engine(settings.database_url)
    total = 0
    try:
        for table_name, column_name in _columns():
            after = 0
            while True:
                with engine.begin() as conn:  # one committed batch: a stop loses at most this batch's work
                    done, last = sealed.reseal_batch(conn, table_name, column_name, keys=ring, batch=batch,
                                                     after_id=after)
                if last is None:
                    break
                total, after = total + done, last
        with engine.connect() as conn:
            left = sum(sealed.pending(conn, _columns(), ring).values())
    finally:
        engine.dispose()
    if left:  # written meanwhile by a process still sealing with an old key
        fail(OnedayError(f"{left} values were written with an old key during the rotation: stop serve and worker, "
                         "then run rotate again", example="oneday keys rotate"))
        return
    out.print(f"re-sealed {total} values with key {ring.current_id}", highlight=False)
    if path is not None and len(ring.keys) > 1:
        write_key_file(path, ring.keys[:1])
        out.print(f"old key{'s' if len(ring.keys) > 2 else ''} {', '.join(ring.ids[1:])} removed from {path}",
                  highlight=False)
    elif len(ring.keys) > 1:
        out.print(f"every value is sealed with {ring.current_id}: now remove the old key"
                  f"{'s' if len(ring.keys) > 2 else ''} from ONEDAY_DATA_KEY", highlight=False)
    sealed.use(sealed.KeyRing(ring.keys[:1]))
