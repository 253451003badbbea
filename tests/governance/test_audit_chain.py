"""The processing log is hash-chained per partnership: an edited, deleted or reordered row is found and named."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from moments import FILE_LOADED
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from bot import db
from models import AuditEvent, Partnership
from models.audit import GENESIS, Head, head, record, row_hash, verify


def _pid(factory: sessionmaker[Session]) -> int:
    with factory() as s:
        pid = s.scalar(select(Partnership.id).where(Partnership.key == "northtown"))
        assert pid is not None
        return pid


def _add(factory: sessionmaker[Session], pid: int, n: int = 3) -> None:
    with db.unit_of_work(factory) as s:
        for i in range(n):
            record(s, at=FILE_LOADED + timedelta(minutes=i), partnership_id=pid, kind="consultation",
                   actor="member:jo", target_ref="OCG-07", what=f"pack shown {i}", recipients=["jo"],
                   justification="2026-12-08 ocg section pack")


def _ids(factory: sessionmaker[Session], pid: int) -> list[int]:
    with factory() as s:
        return list(s.scalars(select(AuditEvent.id).where(AuditEvent.partnership_id == pid).order_by(AuditEvent.seq)))


def _verify(factory: sessionmaker[Session], pid: int, kept: Head | None = None):  # type: ignore[no-untyped-def]
    with factory() as s:
        return verify(s, pid, kept=kept)


def _raw(factory: sessionmaker[Session], sql: str, **params: object) -> None:
    with db.unit_of_work(factory) as s:
        s.execute(text(sql), params)


def test_a_clean_log_verifies_and_its_rows_chain(northtown_loaded: sessionmaker[Session]) -> None:
    pid = _pid(northtown_loaded)
    _add(northtown_loaded, pid)
    result = _verify(northtown_loaded, pid)
    assert result.ok, result.broken
    with northtown_loaded() as s:
        rows = list(s.scalars(select(AuditEvent).where(AuditEvent.partnership_id == pid).order_by(AuditEvent.seq)))
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:], strict=False))
    assert all(r.hash == row_hash(r) for r in rows)
    assert result.rows == len(rows) and result.head == Head(pid, rows[-1].seq, rows[-1].hash)


def test_an_edited_row_is_named(northtown_loaded: sessionmaker[Session]) -> None:
    pid = _pid(northtown_loaded)
    _add(northtown_loaded, pid)
    victim = _ids(northtown_loaded, pid)[-2]
    _raw(northtown_loaded, "UPDATE audit_event SET what = 'nothing to see' WHERE id = :id", id=victim)
    broken = _verify(northtown_loaded, pid).broken
    assert broken is not None and broken.row_id == victim and "edited" in broken.problem


@pytest.mark.parametrize("column, value", [("actor", "member:someone-else"), ("recipients", '["nobody"]'),
                                           ("at", "2020-01-01 00:00:00.000000"), ("kind", "erasure")])
def test_any_recorded_field_edited_is_found(northtown_loaded: sessionmaker[Session], column: str,
                                            value: str) -> None:
    pid = _pid(northtown_loaded)
    _add(northtown_loaded, pid)
    victim = _ids(northtown_loaded, pid)[3]
    _raw(northtown_loaded, f"UPDATE audit_event SET {column} = :v WHERE id = :id", v=value, id=victim)  # noqa: S608
    broken = _verify(northtown_loaded, pid).broken
    assert broken is not None and broken.row_id == victim


def test_an_edit_that_also_recomputes_the_rows_hash_is_found_at_the_next_row(
        northtown_loaded: sessionmaker[Session]) -> None:
    """Someone who knows the scheme rewrites a row and its hash: the next row no longer follows it."""
    pid = _pid(northtown_loaded)
    _add(northtown_loaded, pid)
    ids = _ids(northtown_loaded, pid)
    with db.unit_of_work(northtown_loaded) as s:
        row = s.get(AuditEvent, ids[-2])
        assert row is not None
        row.what = "rewritten"
        row.hash = row_hash(row)
    broken = _verify(northtown_loaded, pid).broken
    assert broken is not None and broken.row_id == ids[-1] and "does not follow" in broken.problem


def test_a_deleted_row_is_named_by_the_row_after_the_gap(northtown_loaded: sessionmaker[Session]) -> None:
    pid = _pid(northtown_loaded)
    _add(northtown_loaded, pid)
    ids = _ids(northtown_loaded, pid)
    _raw(northtown_loaded, "DELETE FROM audit_event WHERE id = :id", id=ids[4])
    broken = _verify(northtown_loaded, pid).broken
    assert broken is not None and broken.row_id == ids[5] and "deleted" in broken.problem
    assert "seq 5 expected" in broken.problem


def test_the_first_row_deleted_is_found(northtown_loaded: sessionmaker[Session]) -> None:
    pid = _pid(northtown_loaded)
    ids = _ids(northtown_loaded, pid)
    _raw(northtown_loaded, "DELETE FROM audit_event WHERE id = :id", id=ids[0])
    broken = _verify(northtown_loaded, pid).broken
    assert broken is not None and broken.row_id == ids[1]


def test_two_rows_swapped_in_the_chain_are_found(northtown_loaded: sessionmaker[Session]) -> None:
    pid = _pid(northtown_loaded)
    _add(northtown_loaded, pid)
    ids = _ids(northtown_loaded, pid)
    a, b = ids[2], ids[3]
    _raw(northtown_loaded, "UPDATE audit_event SET seq = -1 WHERE id = :a", a=a)
    _raw(northtown_loaded, "UPDATE audit_event SET seq = 3 WHERE id = :b", b=b)
    _raw(northtown_loaded, "UPDATE audit_event SET seq = 4 WHERE id = :a", a=a)
    broken = _verify(northtown_loaded, pid).broken
    assert broken is not None and broken.row_id == b


def test_two_rows_whose_whole_contents_were_swapped_are_found(northtown_loaded: sessionmaker[Session]) -> None:
    """Swapping everything but the ids (seq and hashes included) keeps every hash valid: ids out of chain order
    give it away."""
    pid = _pid(northtown_loaded)
    _add(northtown_loaded, pid)
    ids = _ids(northtown_loaded, pid)
    a, b = ids[-3], ids[-2]
    cols = ["seq", "prev_hash", "hash", "at", "kind", "actor", "what", "recipients", "justification", "target_ref"]
    with db.unit_of_work(northtown_loaded) as s:
        ra = s.execute(text(f"SELECT {', '.join(cols)} FROM audit_event WHERE id = :id"), {"id": a}).one()  # noqa: S608
        rb = s.execute(text(f"SELECT {', '.join(cols)} FROM audit_event WHERE id = :id"), {"id": b}).one()  # noqa: S608
        s.execute(text("UPDATE audit_event SET seq = -1 WHERE id = :id"), {"id": a})
        sets = ", ".join(f"{c} = :{c}" for c in cols)
        s.execute(text(f"UPDATE audit_event SET {sets} WHERE id = :id"), {**ra._asdict(), "id": b})  # noqa: S608
        s.execute(text(f"UPDATE audit_event SET {sets} WHERE id = :id"), {**rb._asdict(), "id": a})  # noqa: S608
    broken = _verify(northtown_loaded, pid).broken
    assert broken is not None and broken.row_id == a and "reordered" in broken.problem


def test_rows_deleted_from_the_end_are_found_against_a_kept_head(northtown_loaded: sessionmaker[Session]) -> None:
    pid = _pid(northtown_loaded)
    _add(northtown_loaded, pid)
    with northtown_loaded() as s:
        kept = head(s, pid)
    assert Head.parse(str(kept)) == kept
    _add(northtown_loaded, pid, 1)
    assert _verify(northtown_loaded, pid, kept).ok  # the log still extends the kept head
    _raw(northtown_loaded, "DELETE FROM audit_event WHERE partnership_id = :p AND seq >= :s", p=pid, s=kept.seq)
    assert _verify(northtown_loaded, pid).ok  # a shorter chain holds by itself...
    broken = _verify(northtown_loaded, pid, kept).broken  # ...but not against the head kept elsewhere
    assert broken is not None and broken.row_id is None and "deleted from the end" in broken.problem


def test_a_rewritten_log_does_not_extend_the_kept_head(northtown_loaded: sessionmaker[Session]) -> None:
    pid = _pid(northtown_loaded)
    with northtown_loaded() as s:
        kept = head(s, pid)
    forged = Head(pid, kept.seq, hashlib.sha256(b"another history").hexdigest())
    broken = _verify(northtown_loaded, pid, forged).broken
    assert broken is not None and broken.seq == kept.seq and "rewritten" in broken.problem


@pytest.mark.parametrize("bad", ["", "1:2", "x:1:" + "a" * 64, "1:2:" + "g" * 64, "1:2:abc"])
def test_a_malformed_head_is_refused_with_an_example(bad: str) -> None:
    with pytest.raises(ValueError, match="PARTNERSHIP:SEQ:SHA256"):
        Head.parse(bad)


def test_chains_are_per_partnership_and_appends_in_one_transaction_follow_each_other(
        northtown_loaded: sessionmaker[Session]) -> None:
    pid = _pid(northtown_loaded)
    with db.unit_of_work(northtown_loaded) as s:
        other = Partnership(key="southtown", name="Southtown", isp_version="1", meeting={}, reminders={},
                            created_at=FILE_LOADED)
        s.add(other)
        s.flush()
        first = record(s, at=FILE_LOADED, partnership_id=other.id, kind="alteration", actor="os:alice", what="a",
                       justification="test")
        with s.no_autoflush:
            second = record(s, at=FILE_LOADED, partnership_id=other.id, kind="alteration", actor="os:alice",
                            what="b", justification="test")
        oid = other.id
    assert (first.seq, second.seq, second.prev_hash) == (1, 2, first.hash)
    assert _verify(northtown_loaded, oid).ok and _verify(northtown_loaded, pid).ok


def test_a_rolled_back_append_leaves_no_gap(northtown_loaded: sessionmaker[Session]) -> None:
    pid = _pid(northtown_loaded)
    with pytest.raises(RuntimeError), db.unit_of_work(northtown_loaded) as s:
        record(s, at=FILE_LOADED, partnership_id=pid, kind="alteration", actor="os:alice", what="a",
               justification="test")
        raise RuntimeError("the change failed")
    _add(northtown_loaded, pid, 1)
    assert _verify(northtown_loaded, pid).ok


def test_the_migration_chains_rows_written_before_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    db.upgrade(url, "0012")
    engine = db.make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO partnership (id, key, name, timezone, isp_version, meeting, reminders, "
                              "created_at) VALUES (1, 'p', 'P', 'Europe/London', '1', '{}', '{}', "
                              "'2026-09-01 09:00:00.000000')"))
            for i in range(3):
                conn.execute(text("INSERT INTO audit_event (partnership_id, at, kind, actor, target_ref, what, "
                                  "recipients, justification) VALUES (1, :at, 'collection', 'cli', 'OCG-07', :w, "
                                  "'[]', 'partnership file load')"), {"at": f"2026-09-01 09:00:0{i}.000000",
                                                                      "w": f"row {i}"})
    finally:
        engine.dispose()
    db.upgrade(url)
    engine = db.make_engine(url)
    try:
        factory = db.session_factory(engine)
        with factory() as s:
            assert verify(s, 1).ok and verify(s, 1).rows == 3
            rows = s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
            assert [r.seq for r in rows] == [1, 2, 3]
        with db.unit_of_work(factory) as s:  # and new rows carry on from there
            record(s, at=FILE_LOADED, partnership_id=1, kind="alteration", actor="os:alice", what="new",
                   justification="test")
        with factory() as s:
            assert verify(s, 1).ok and s.scalar(sa.func.max(AuditEvent.seq)) == 4
    finally:
        engine.dispose()


def test_concurrent_writers_on_postgresql_never_fork_the_chain(pg_db_url: str) -> None:
    """Several processes' worth of writers append to one partnership at once: the FOR NO KEY UPDATE lock serialises
    them, so the chain stays one line (a fork would fail the unique (partnership, seq) constraint or verify)."""
    import threading

    engine = db.make_engine(pg_db_url)
    try:
        factory = db.session_factory(engine)
        with db.unit_of_work(factory) as s:
            p = Partnership(key="p", name="P", isp_version="1", meeting={}, reminders={}, created_at=FILE_LOADED)
            s.add(p)
            s.flush()
            pid = p.id
        errors: list[BaseException] = []
        start = threading.Barrier(4)

        def writer(n: int) -> None:
            try:
                start.wait()
                for i in range(15):
                    with db.unit_of_work(factory) as s:
                        for j in range(2):
                            record(s, at=FILE_LOADED, partnership_id=pid, kind="consultation", actor=f"member:w{n}",
                                   target_ref="OCG-07", what=f"{n}:{i}:{j}", justification="test")
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        with factory() as s:
            result = verify(s, pid)
        assert result.ok, result.broken
        assert result.rows == 4 * 15 * 2 and result.head.seq == 120
    finally:
        engine.dispose()
