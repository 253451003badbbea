"""The processing log (DPA 2018 Part 3, s.62): who did what to whose data, when, and why.

`record()` is the one function every feature calls. It adds to the caller's session and does not commit,
so the log entry and the change it describes land in the same transaction or not at all.
Erasure records carry metadata only: never pass the erased content in `what`.

Kinds: the s.62 operations (collection, alteration, consultation, disclosure, combination, erasure), and two
for what was not done: `refusal` (a person asked to see or do something they may not) and `withheld` (a queued
message about a target was not sent, because at delivery its recipient was no longer entitled to the target).

Tamper evidence. The log is an ordinary table, so anyone with database access could edit it; each partnership's
rows therefore form a hash chain: row n carries `seq` = n, `prev_hash` = the hash of row n-1 (64 zeros for the
first) and `hash` = SHA-256 over a canonical serialisation of every field it records (`canonical()`). Editing a
row breaks its hash, deleting one leaves a gap in `seq` and a `prev_hash` that no longer matches, reordering
breaks `prev_hash`; `verify()` walks the chain and names the first row that does not hold. Deleting rows at the
end leaves a shorter chain that still holds: `head()` is kept elsewhere and `verify(head=...)` checks that the
log still extends it.

Appends are serialised per partnership so that two writers never both extend the same row (a fork): the writer
takes a row lock on the partnership (`FOR NO KEY UPDATE` on PostgreSQL: it does not block the foreign-key checks
of inserts into other tables, which take `FOR KEY SHARE`) before reading the chain head, and holds it until its
transaction ends. Chaining at write time rather than in a later sealing step leaves no window in which a row
exists unsealed (and could be edited unnoticed); the cost is that audited transactions of one partnership commit
one after another, which is the log's own order anyway. The unique (partnership_id, seq) constraint turns any
append that escaped the lock into an error, never into a silent fork. SQLite has one writer at a time already.

`target_id` is the one field outside the hash: it is a convenience link that the database itself sets to NULL
when a target row is deleted (ON DELETE SET NULL), which is not tampering; `target_ref`, which is hashed, names
the target.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import ForeignKey, String, Table, Text, UniqueConstraint, insert, select
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Mapped, Session, SessionTransaction, mapped_column

from models.base import Base, TenantMixin, UTCDateTime
from models.locks import lock_partnership

KINDS = ("collection", "alteration", "consultation", "disclosure", "combination", "erasure", "refusal",
         "withheld")

GENESIS = "0" * 64  # prev_hash of a partnership's first row
_HEADS = "audit_chain_heads"  # session.info key: {partnership_id: (seq, hash)} while this transaction holds the lock


class AuditEvent(TenantMixin, Base):
    __tablename__ = "audit_event"
    __table_args__ = (UniqueConstraint("partnership_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    actor: Mapped[str] = mapped_column(String(128))  # "member:jo", "os:alice", "worker"
    actor_member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    target_id: Mapped[int | None] = mapped_column(ForeignKey("target.id", ondelete="SET NULL"), index=True)
    target_ref: Mapped[str | None] = mapped_column(String(32))
    what: Mapped[str] = mapped_column(Text)
    recipients: Mapped[list[str]] = mapped_column(default=list)
    justification: Mapped[str] = mapped_column(Text, default="")
    # The hash chain (see the module docstring): position in the partnership's log, the previous row's hash and
    # this row's.
    seq: Mapped[int] = mapped_column()
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


def canonical(*, partnership_id: int, seq: int, prev_hash: str, at: datetime, kind: str, actor: str,
              actor_member_id: int | None, target_ref: str | None, what: str, recipients: list[str],
              justification: str) -> bytes:
    """The bytes a row's hash is taken over: every recorded field, as sorted-key JSON (UTF-8, no spaces), the time
    as UTC ISO 8601 with microseconds. Stable across SQLite and PostgreSQL, which both keep microseconds."""
    return json.dumps({
        "partnership_id": partnership_id, "seq": seq, "prev_hash": prev_hash,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"), "kind": kind, "actor": actor,
        "actor_member_id": actor_member_id, "target_ref": target_ref, "what": what,
        "recipients": list(recipients), "justification": justification,
    }, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def row_hash(event: AuditEvent) -> str:
    """The hash a row should carry, from what it holds now."""
    return hashlib.sha256(canonical(
        partnership_id=event.partnership_id, seq=event.seq, prev_hash=event.prev_hash, at=event.at,
        kind=event.kind, actor=event.actor, actor_member_id=event.actor_member_id, target_ref=event.target_ref,
        what=event.what, recipients=list(event.recipients or []), justification=event.justification,
    )).hexdigest()


def record(
    session: Session,
    *,
    at: datetime,
    partnership_id: int,
    kind: str,
    actor: str,
    what: str,
    justification: str,
    actor_member_id: int | None = None,
    target_id: int | None = None,
    target_ref: str | None = None,
    recipients: list[str] | None = None,
) -> AuditEvent:
    """Add one audit event to the session (the caller's transaction commits it with the change), chained onto the
    partnership's log.

    `at` is the request's or job's clock, never the wall clock read here: a replayed job or a test running
    'as of' a day must log that day."""
    _check(kind, justification, at)
    seq, prev = _head_for_append(session, partnership_id)
    event = AuditEvent(
        partnership_id=partnership_id,
        kind=kind,
        actor=actor,
        actor_member_id=actor_member_id,
        target_id=target_id,
        target_ref=target_ref,
        what=what,
        recipients=list(recipients or []),
        justification=justification,
        at=at.astimezone(UTC),
        seq=seq + 1,
        prev_hash=prev,
    )
    event.hash = row_hash(event)
    session.info.setdefault(_HEADS, {})[partnership_id] = (event.seq, event.hash)
    session.add(event)
    return event


def _check(kind: str, justification: str, at: datetime) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown audit kind {kind!r}; expected one of {', '.join(KINDS)}")
    if not justification.strip():
        raise ValueError("an audit event needs a justification")
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at!r}: the processing log stores aware datetimes only")


def record_many(
    session: Session,
    rows: list[tuple[int | None, str | None, str]],
    *,
    at: datetime,
    partnership_id: int,
    kind: str,
    actor: str,
    justification: str,
    actor_member_id: int | None = None,
    recipients: list[str] | None = None,
) -> int:
    """`record` for several targets at once (rows of target id, reference, what), chained in order and written
    as one statement: a pack of a hundred targets is one insert, not a hundred round trips. Returns the count."""
    if not rows:
        return 0
    _check(kind, justification, at)
    seq, prev = _head_for_append(session, partnership_id)
    when = at.astimezone(UTC)
    values = []
    for target_id, target_ref, what in rows:
        seq += 1
        event = AuditEvent(partnership_id=partnership_id, kind=kind, actor=actor, actor_member_id=actor_member_id,
                           target_id=target_id, target_ref=target_ref, what=what,
                           recipients=list(recipients or []), justification=justification, at=when, seq=seq,
                           prev_hash=prev)
        prev = row_hash(event)
        values.append({"partnership_id": partnership_id, "kind": kind, "actor": actor,
                       "actor_member_id": actor_member_id, "target_id": target_id, "target_ref": target_ref,
                       "what": what, "recipients": list(recipients or []), "justification": justification,
                       "at": when, "seq": seq, "prev_hash": event.prev_hash, "hash": prev})
    # Core, not the ORM's bulk insert: the rows are plain values already (the ORM path cost ~0.4 ms more for the
    # one row a consultation writes), and no ORM event concerns the log (its rows are never loaded here).
    session.connection().execute(_INSERT, values)
    session.info.setdefault(_HEADS, {})[partnership_id] = (seq, prev)
    return len(values)


_INSERT = insert(cast(Table, AuditEvent.__table__))


def _head_for_append(session: Session, partnership_id: int) -> tuple[int, str]:
    """The chain head (seq, hash) this transaction appends to, taking the partnership's append lock first.

    Once taken, the lock is held until the transaction ends, so the head this session last wrote stays the head
    (kept in `session.info`, dropped when any transaction of the session ends)."""
    heads: dict[int, tuple[int, str]] = session.info.setdefault(_HEADS, {})
    if partnership_id in heads:
        return heads[partnership_id]
    lock_partnership(session, partnership_id)
    best = (0, GENESIS)
    last = session.execute(select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.partnership_id == partnership_id)
                           .order_by(AuditEvent.seq.desc()).limit(1)).first()
    if last is not None:
        best = (last[0], last[1])
    for pending in session.new:  # rows added inside a no_autoflush block are not in the database yet
        if isinstance(pending, AuditEvent) and pending.partnership_id == partnership_id and pending.seq > best[0]:
            best = (pending.seq, pending.hash)
    heads[partnership_id] = best
    return best


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_heads(session: Session, transaction: SessionTransaction) -> None:
    """The lock ends with the transaction (and a rolled-back savepoint may take rows away): read the head again."""
    session.info.pop(_HEADS, None)


# ------------------------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class Head:
    """Where a partnership's chain ends: print it, keep it elsewhere, check later that the log still extends it."""

    partnership_id: int
    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.partnership_id}:{self.seq}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> Head:
        """`<partnership id>:<seq>:<sha-256 hex>`, as `str()` writes it; ValueError names what is wrong."""
        parts = text.strip().split(":")
        if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit() or len(parts[2]) != 64 \
                or any(c not in "0123456789abcdef" for c in parts[2]):
            raise ValueError(f"not a chain head: {text!r}; expected PARTNERSHIP:SEQ:SHA256 as `oneday audit head` "
                             "prints it, e.g. 1:42:" + "ab" * 32)
        return cls(int(parts[0]), int(parts[1]), parts[2])


@dataclass(frozen=True)
class Break:
    """The first place a partnership's chain does not hold: the row (by id and seq) and what is wrong with it."""

    row_id: int | None
    seq: int
    problem: str

    def __str__(self) -> str:
        where = f"row id {self.row_id} (seq {self.seq})" if self.row_id is not None else f"seq {self.seq}"
        return f"{where}: {self.problem}"


@dataclass(frozen=True)
class Verified:
    partnership_id: int
    rows: int
    head: Head
    broken: Break | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def rows_in_order(session: Session, partnership_id: int) -> Iterator[AuditEvent]:
    """A partnership's log in chain order, streamed (a log of millions of rows is not loaded at once)."""
    yield from session.scalars(select(AuditEvent).where(AuditEvent.partnership_id == partnership_id)
                               .order_by(AuditEvent.seq, AuditEvent.id).execution_options(yield_per=1000))


def head(session: Session, partnership_id: int) -> Head:
    last = session.execute(select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.partnership_id == partnership_id)
                           .order_by(AuditEvent.seq.desc()).limit(1)).first()
    return Head(partnership_id, 0, GENESIS) if last is None else Head(partnership_id, last[0], last[1])


def verify(session: Session, partnership_id: int, *, kept: Head | None = None) -> Verified:
    """Walk a partnership's chain; the first row that was edited, deleted (a gap before it) or moved is named.

    Rows are read in `seq` order; a row's id must also grow with its seq (appends are serialised, so ids are
    allocated in chain order): a row whose whole content, seq and hash included, was swapped with another's is
    found that way. With `kept`, a head printed earlier: the chain must still contain that row with that hash
    (rows deleted from the end, or the log rewritten since, are found)."""
    expected_seq, prev_hash, last_id, rows = 1, GENESIS, 0, 0
    broken: Break | None = None
    kept_found = kept is None or kept.seq == 0
    for event in rows_in_order(session, partnership_id):
        rows += 1
        if broken is not None:
            continue
        if event.seq != expected_seq:
            problem = (f"rows deleted before it: seq {expected_seq} expected, found {event.seq}"
                       if event.seq > expected_seq else f"seq {event.seq} appears again (a copied or moved row)")
            broken = Break(event.id, event.seq, problem)
        elif event.prev_hash != prev_hash:
            broken = Break(event.id, event.seq, "does not follow the row before it (deleted or reordered rows, or "
                                                "an edited prev_hash)")
        elif row_hash(event) != event.hash:
            broken = Break(event.id, event.seq, f"edited: its content no longer matches its hash ({event.kind}, "
                                                f"{event.at.isoformat()}, {event.target_ref or 'no target'})")
        elif event.id < last_id:
            broken = Break(event.id, event.seq, f"reordered: recorded before row id {last_id} but chained after it")
        if kept is not None and event.seq == kept.seq and broken is None:
            kept_found = True
            if event.hash != kept.hash:
                broken = Break(event.id, event.seq, "the log was rewritten since the kept head: this row's hash is "
                                                    "not the one kept")
        expected_seq, prev_hash, last_id = event.seq + 1, event.hash, event.id
    last = Head(partnership_id, expected_seq - 1, prev_hash)
    if broken is None and not kept_found and kept is not None:
        broken = Break(None, kept.seq, f"rows deleted from the end: the kept head is seq {kept.seq}, the log ends at "
                                       f"seq {last.seq}")
    return Verified(partnership_id, rows, last, broken)


def as_dict(event: AuditEvent) -> dict[str, Any]:
    """One row as the DPO's export shows it (every recorded field, and the chain fields to check it by)."""
    return {
        "id": event.id, "seq": event.seq, "at": event.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "kind": event.kind, "actor": event.actor, "target_ref": event.target_ref or "",
        "recipients": list(event.recipients or []), "what": event.what, "justification": event.justification,
        "prev_hash": event.prev_hash, "hash": event.hash,
    }
