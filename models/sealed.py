"""Encryption at rest of what the database holds about targets (details, action and outcome wording, notes, the
outbox's message bodies): AES-256-GCM column types.

Why here, as column types: every read and write of those columns goes through SQLAlchemy, so sealing them in a
`TypeDecorator` means no feature can forget it, and the raw database file, a dump or a backup shows no detail in
clear. A stored value is `enc1:<key id>:<base64 of nonce + ciphertext + tag>`: the key id says which key of the
ring opens it, so keys rotate (`oneday keys rotate` re-seals every value under the current key while the old
one is still there to read with), and the nonce is fresh for every write. The column's name is bound in as
associated data, so a value copied from one column into another fails to open instead of being shown there.

What stays in clear, on purpose: NULL and the empty string (SQL `!= ''` filters keep working, and "no text" is
not a secret). Equality and LIKE on a sealed column never match (each write has a new nonce): such filters are
done in Python after the rows are read (see commands/actions/record.py `duplicate`).

models/ never reads the environment: the process's edge (bot/db.py `use_keys`) hands this module a *source*
of the key ring, called on first use (so a command that never touches a sealed column never creates a key file).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, Integer, Text, bindparam, column, select, table, update
from sqlalchemy.types import TypeDecorator

PREFIX = "enc1:"
KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # GCM's standard nonce; random per value (2^-32 collision bound is far beyond our volumes)


class SealedError(Exception):
    """A sealed value cannot be opened (key missing from the ring, wrong key, altered data) or no ring is set.
    `str()` is one line that says what to do; it never quotes the value."""


def key_id(key: bytes) -> str:
    """A key's public name: 8 hex digits of its SHA-256. Stable, derived, so no one has to name keys."""
    return hashlib.sha256(key).hexdigest()[:8]


@dataclass(frozen=True)
class KeyRing:
    """The data keys a process may use: the first seals (current), every one opens (old ones, during rotation)."""

    keys: tuple[bytes, ...]
    # Each key's id and cipher, made once: every sealed value read or written asks for one (a pack opens hundreds),
    # and hashing the keys and building a cipher each time was half the cost of opening a value.
    _by_id: dict[str, tuple[bytes, AESGCM]] = field(init=False, repr=False, compare=False)
    _current: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise SealedError("a key ring needs at least one key")
        for key in self.keys:
            if len(key) != KEY_BYTES:
                raise SealedError(f"a data key is {KEY_BYTES} bytes (AES-256), got {len(key)}")
        object.__setattr__(self, "_by_id", {key_id(k): (k, AESGCM(k)) for k in reversed(self.keys)})
        object.__setattr__(self, "_current", key_id(self.keys[0]))

    def __repr__(self) -> str:  # never the keys themselves
        return f"KeyRing({', '.join(self.ids)})"

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(key_id(k) for k in self.keys)

    @property
    def current_id(self) -> str:
        return self._current

    def key(self, kid: str) -> bytes | None:
        found = self._by_id.get(kid)
        return found[0] if found else None

    def cipher(self, kid: str) -> AESGCM | None:
        """The cipher of the key named `kid` (None: not on this ring)."""
        found = self._by_id.get(kid)
        return found[1] if found else None

    def sealing(self) -> tuple[str, AESGCM]:
        """The current key's id and cipher: what a new value is sealed with."""
        return self._current, self._by_id[self._current][1]

    @staticmethod
    def generate() -> KeyRing:
        return KeyRing((new_key(),))


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def encode_key(key: bytes) -> str:
    return base64.b64encode(key).decode("ascii")


def decode_key(text: str) -> bytes:
    """A base64 data key; raises ValueError with the reason."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not base64") from None
    if len(key) != KEY_BYTES:
        raise ValueError(f"{len(key)} bytes once decoded, not {KEY_BYTES}")
    return key


# ------------------------------------------------------------------ the process's key ring

_lock = threading.Lock()
_source: Callable[[], KeyRing] | None = None
_ring: KeyRing | None = None


def use(source: Callable[[], KeyRing] | KeyRing) -> None:
    """Install the process's key ring (or a function that loads it on first use). Called by the edge only."""
    global _source, _ring
    with _lock:
        if isinstance(source, KeyRing):
            ring_value = source
            _source, _ring = (lambda: ring_value), ring_value
        else:
            _source, _ring = source, None


@contextmanager
def using(keys: KeyRing) -> Iterator[None]:
    """Use `keys` inside the block and the process's own ring again after it (the demo's throwaway database)."""
    global _source, _ring
    with _lock:
        saved = _source, _ring
        _source, _ring = (lambda: keys), keys
    try:
        yield
    finally:
        with _lock:
            _source, _ring = saved


def ring() -> KeyRing:
    global _ring
    found = _ring  # set once per process (and on a reload): read without the lock
    if found is not None:
        return found
    with _lock:
        if _ring is None:
            if _source is None:
                raise SealedError("no data key is set for this process: start Oneday through `oneday ...` (which "
                                  "reads ONEDAY_DATA_KEY or ONEDAY_DATA_KEY_FILE), or call models.sealed.use()")
            _ring = _source()
        return _ring


def _reload() -> KeyRing:
    global _ring
    with _lock:
        if _source is not None:
            _ring = _source()
    return ring()


# ------------------------------------------------------------------ sealing one value


def seal(plain: str, context: str, keys: KeyRing | None = None) -> str:
    kid, cipher = (keys or ring()).sealing()
    nonce = os.urandom(NONCE_BYTES)
    body = cipher.encrypt(nonce, plain.encode("utf-8"), context.encode("ascii"))
    return f"{PREFIX}{kid}:{base64.b64encode(nonce + body).decode('ascii')}"


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)


def sealed_with(stored: str) -> str | None:
    """The key id a stored value was sealed with; None for clear text (written before migration 0017)."""
    if not is_sealed(stored):
        return None
    return stored[len(PREFIX):].split(":", 1)[0]


def open_(stored: str, context: str, keys: KeyRing | None = None) -> str:
    """The clear text of a stored value. Clear text (a value from before encryption at rest, not yet converted by
    migration 0017 or `oneday keys rotate`) comes back as it is."""
    if not is_sealed(stored):
        return stored
    own = keys is None
    keys = keys or ring()
    kid, _, body = stored[len(PREFIX):].partition(":")
    cipher = keys.cipher(kid)
    if cipher is None and own:  # a rotation may have written a new key file since this process loaded its ring
        keys = _reload()
        cipher = keys.cipher(kid)
    if cipher is None:
        raise SealedError(f"{context} holds data sealed with data key {kid}, which this process does not have (it "
                          f"has {', '.join(keys.ids)}): ONEDAY_DATA_KEY or ONEDAY_DATA_KEY_FILE is not the key this "
                          "database was written with")
    try:
        raw = base64.b64decode(body, validate=True)
        plain = cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode("ascii"))
    except (InvalidTag, binascii.Error, ValueError):
        raise SealedError(f"a value in {context} sealed with data key {kid} fails its integrity check: it was "
                          "altered or copied from another column") from None
    return plain.decode("utf-8")


# ------------------------------------------------------------------ the column types


class SealedText(TypeDecorator[str]):
    """Text sealed with the process's current data key. `context` is "table.column" (bound in as associated
    data; tests/governance/test_crypto.py checks every sealed column names itself)."""

    impl = Text
    cache_ok = True

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context

    def process_bind_param(self, value: str | None, dialect: object) -> str | None:
        if value is None or value == "":
            return value
        return seal(value, self.context)

    def process_result_value(self, value: str | None, dialect: object) -> str | None:
        if value is None or value == "":
            return value
        return open_(value, self.context)


class SealedJSON(TypeDecorator[Any]):
    """A JSON value (dict or list) sealed as text: the outbox's message bodies, a target's structured details."""

    impl = Text
    cache_ok = True

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context

    def process_bind_param(self, value: Any, dialect: object) -> str | None:
        if value is None:
            return None
        return seal(json.dumps(value, ensure_ascii=False, separators=(",", ":")), self.context)

    def process_result_value(self, value: str | None, dialect: object) -> Any:
        if value is None:
            return None
        return json.loads(open_(value, self.context))


# ------------------------------------------------------------------ re-sealing stored values (rotation, migration)


def sealed_columns(tables: Iterable[Any]) -> list[tuple[str, str]]:
    """(table, column) of every sealed column of these SQLAlchemy tables."""
    found = []
    for t in tables:
        for c in t.columns:
            if isinstance(c.type, SealedText | SealedJSON):
                found.append((t.name, c.name))
    return found


def pending(conn: Connection, columns: Iterable[tuple[str, str]], keys: KeyRing | None = None) -> dict[str, int]:
    """How many stored values of each column are not yet sealed under the current key (clear or an old key)."""
    keys = keys or ring()
    counts = {}
    for table_name, column_name in columns:
        col = column(column_name, Text)
        t = table(table_name, column("id"), col)
        counts[f"{table_name}.{column_name}"] = conn.scalar(
            select(_count()).select_from(t).where(col.is_not(None), col != "",
                                                  col.not_like(f"{PREFIX}{keys.current_id}:%"))) or 0
    return counts


def _count() -> Any:
    from sqlalchemy import func

    return func.count()


def reseal_batch(conn: Connection, table_name: str, column_name: str, *, keys: KeyRing | None = None,
                 batch: int = 500, after_id: int = 0) -> tuple[int, int | None]:
    """Re-seal up to `batch` values of one column (clear text, or sealed with an old key) under the current key,
    in id order after `after_id`. Returns (how many, last id seen or None when the column is done).

    Works on raw stored text, so it needs no model and runs inside a migration too. Each value is opened with
    whichever key of the ring sealed it, so a run stopped half-way is simply run again (idempotent, resumable)."""
    keys = keys or ring()
    context = f"{table_name}.{column_name}"
    col = column(column_name, Text)
    ident = column("id", Integer)
    t = table(table_name, ident, col)
    rows = conn.execute(select(ident, col).where(ident > after_id, col.is_not(None), col != "",
                                                 col.not_like(f"{PREFIX}{keys.current_id}:%"))
                        .order_by(ident).limit(batch)).all()
    if not rows:
        return 0, None
    stmt = update(t).where(ident == bindparam("row_id")).values({column_name: bindparam("sealed")})
    conn.execute(stmt, [{"row_id": row_id, "sealed": seal(open_(stored, context, keys), context, keys)}
                        for row_id, stored in rows])
    return len(rows), rows[-1][0]


def reseal_column(conn: Connection, table_name: str, column_name: str, keys: KeyRing | None = None) -> int:
    """Re-seal every value of one column under the current key, batch by batch, in the caller's transaction."""
    total, after = 0, 0
    while True:
        done, last = reseal_batch(conn, table_name, column_name, keys=keys, after_id=after)
        if last is None:
            return total
        total, after = total + done, last


def unseal_all(conn: Connection, columns: Iterable[tuple[str, str]], keys: KeyRing | None = None) -> None:
    """Write every sealed value back in clear (migration 0017's downgrade only)."""
    keys = keys or ring()
    for table_name, column_name in columns:
        context = f"{table_name}.{column_name}"
        col = column(column_name, Text)
        ident = column("id", Integer)
        t = table(table_name, ident, col)
        rows = conn.execute(select(ident, col).where(col.like(f"{PREFIX}%"))).all()
        if rows:
            conn.execute(update(t).where(ident == bindparam("row_id")).values({column_name: bindparam("plain")}),
                         [{"row_id": i, "plain": open_(s, context, keys)} for i, s in rows])
