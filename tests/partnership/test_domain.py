"""Domain invariants: aware UTC times, the s.62 processing log, and what a load records in it."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from moments import FILE_LOADED
from sqlalchemy import func, select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session, sessionmaker

from bot import db
from commands.partnership import file as partnership
from models import AuditEvent, Partnership, Target
from models.audit import KINDS, record

LONDON = ZoneInfo("Europe/London")


def new_partnership(session: Session, key: str = "p", **kwargs: object) -> Partnership:
    kwargs.setdefault("created_at", FILE_LOADED)
    p = Partnership(key=key, name=key.upper(), isp_version="1", meeting={}, reminders={}, **kwargs)
    session.add(p)
    session.flush()
    return p


# ------------------------------------------------------------------------------------- UTCDateTime


def test_naive_datetime_is_refused_on_write(factory: sessionmaker[Session]) -> None:
    naive = datetime(2026, 10, 25, 1, 30)  # noqa: DTZ001 - the point of the test
    with pytest.raises(StatementError) as info, db.unit_of_work(factory) as session:
        new_partnership(session, created_at=naive)
    assert isinstance(info.value.orig, ValueError)
    assert "naive datetime" in str(info.value.orig)
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Partnership)) == 0


@pytest.mark.parametrize("local", [
    datetime(2026, 7, 1, 12, 0, 0, 123456, tzinfo=LONDON),   # BST, UTC+1
    datetime(2026, 12, 1, 9, 30, tzinfo=LONDON),             # GMT, UTC+0
    datetime(2026, 10, 25, 1, 30, fold=1, tzinfo=LONDON),    # the repeated hour, second time (GMT)
])
def test_aware_london_time_round_trips_as_utc(factory: sessionmaker[Session], local: datetime) -> None:
    with db.unit_of_work(factory) as session:
        pid = new_partnership(session, created_at=local).id

    with factory() as session:  # a new session: the value comes from the database, not the identity map
        back = session.scalar(select(Partnership.created_at).where(Partnership.id == pid))
        raw = session.execute(text("SELECT created_at FROM partnership WHERE id = :i"), {"i": pid}).scalar()

    # (PEP 495: a fold=1 time never compares equal across zones, so compare instants too.)
    assert back == local.astimezone(UTC)
    assert back is not None and back.timestamp() == local.timestamp()
    assert local.fold or back == local
    assert back.tzinfo is not None and back.utcoffset().total_seconds() == 0
    assert back.replace(tzinfo=None) == local.astimezone(UTC).replace(tzinfo=None)
    # SQLite holds the UTC wall time.
    assert str(raw).startswith(local.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"))


@pytest.mark.postgres
def test_aware_london_time_round_trips_on_postgresql(pg_db_url: str) -> None:
    engine = db.make_engine(pg_db_url)
    try:
        factory = db.session_factory(engine)
        local = datetime(2026, 7, 1, 12, 0, tzinfo=LONDON)
        with db.unit_of_work(factory) as session:
            pid = new_partnership(session, created_at=local).id
        with factory() as session:
            back = session.scalar(select(Partnership.created_at).where(Partnership.id == pid))
        assert back == local and back is not None and back.utcoffset().total_seconds() == 0
        assert back.hour == 11
    finally:
        engine.dispose()


# ------------------------------------------------------------------------------------------- record


def test_record_rejects_unknown_kind_and_empty_justification(factory: sessionmaker[Session]) -> None:
    with db.unit_of_work(factory) as session:
        p = new_partnership(session)
        with pytest.raises(ValueError, match="unknown audit kind 'viewing'"):
            record(session, at=FILE_LOADED, partnership_id=p.id, kind="viewing", actor="cli", what="x", justification="why")
        for blank in ("", "   ", "\n\t"):
            with pytest.raises(ValueError, match="needs a justification"):
                record(session, at=FILE_LOADED, partnership_id=p.id, kind="consultation", actor="cli", what="x",
                       justification=blank)
        assert [o for o in session.new if isinstance(o, AuditEvent)] == []

        event = record(session, at=FILE_LOADED, partnership_id=p.id, kind="consultation", actor="member:jo",
                       what="viewed OCG-07", justification="meeting prep", recipients=["member:jo"])
        assert event in session.new  # added, not committed
    with factory() as session:
        [stored] = session.scalars(select(AuditEvent)).all()
        assert (stored.kind, stored.actor, stored.what, stored.recipients, stored.justification) == (
            "consultation", "member:jo", "viewed OCG-07", ["member:jo"], "meeting prep")
        assert stored.at == FILE_LOADED  # the caller's clock, never the wall clock
    assert set(KINDS) >= {"collection", "alteration", "consultation", "disclosure", "combination", "erasure"}


def test_record_lands_with_the_change_or_not_at_all(factory: sessionmaker[Session]) -> None:
    with db.unit_of_work(factory) as session:
        pid = new_partnership(session).id

    class Boom(Exception):
        pass

    with pytest.raises(Boom), db.unit_of_work(factory) as session:
        record(session, at=FILE_LOADED, partnership_id=pid, kind="disclosure", actor="cli", what="sent",
               justification="test")
        session.flush()
        raise Boom
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0


# ---------------------------------------------------------------------------------- load and audit


def test_load_records_one_alteration_plus_one_collection_per_target(factory: sessionmaker[Session],
                                                                     northtown_text: str) -> None:
    with db.unit_of_work(factory) as session:
        changes = partnership.load(session, northtown_text, source="northtown.yaml", now=FILE_LOADED,
                                   actor="member:jo.bloggs")

    with factory() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        target_ids = {t.ref: t.id for t in session.scalars(select(Target))}

    collections = [e for e in events if e.kind == "collection"]
    alterations = [e for e in events if e.kind == "alteration"]
    assert len(events) == 51
    assert len(collections) == 50 and len(alterations) == 1
    assert {e.target_ref for e in collections} == set(target_ids)
    assert all(e.target_id == target_ids[e.target_ref] for e in collections)
    assert all(e.actor == "member:jo.bloggs" and e.justification == "partnership file load" for e in events)

    [file_event] = alterations
    assert file_event.target_id is None and file_event.target_ref is None
    assert file_event.what == f"partnership file northtown.yaml loaded: {len(changes)} changes"
    assert file_event.id == events[-1].id  # recorded after the targets it describes

    # A second, identical load records nothing.
    with db.unit_of_work(factory) as session:
        assert partnership.load(session, northtown_text, source="northtown.yaml", now=FILE_LOADED) == []
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 51
