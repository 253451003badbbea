"""The partnership's write lock: what makes "read the last number, write the next" safe with several writers.

Used where a transaction appends to a per-partnership sequence (action numbers, the processing log's hash chain).
PostgreSQL: FOR NO KEY UPDATE on the partnership's row, held until commit (NO KEY: other inserts' foreign-key
checks are not blocked, so no deadlock with them). SQLite: its driver reads outside any transaction until the
first write, so a "last number" read first can be stale by the time of the insert; a no-op write takes SQLite's
one writer lock first (waiting for it), so what is read next is read inside the transaction that writes. Plain
SQL: it changes nothing and must not look like a change to the partnership (the entitlement cache watches ORM
writes to it).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def lock_partnership(session: Session, partnership_id: int) -> None:
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("UPDATE partnership SET id = id WHERE id = :pid"), {"pid": partnership_id})
    else:
        session.execute(text("SELECT id FROM partnership WHERE id = :pid FOR NO KEY UPDATE"), {"pid": partnership_id})
