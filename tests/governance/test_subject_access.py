"""Subject access and the DPO's log export, called as the CLI calls them: what they find, what they write, and
that each is recorded with its actor. Bad input gets a specific answer with an example, and writes nothing."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from actions_support import make_runner, run
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot import db
from commands.core.errors import NotFound, UsageError
from commands.governance import actor as actors
from commands.governance import log_export, subject
from commands.partnership import file as partnership
from models import AuditEvent, Partnership

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
DPO = actors.Actor("os:dpo")


@pytest.fixture
def worked(northtown_loaded: sessionmaker[Session]) -> sessionmaker[Session]:
    """The sample with action #1 on OCG-07 (a note, then an outcome) through the real commands."""
    runner = make_runner(northtown_loaded)
    assert run(runner, "tom", "action", "OCG-07 @sam.patel check the Gatehouse tenancy claim").reply.title \
        == "Action #1 recorded"
    assert run(runner, "sam", "action", "update 1 landlord confirms the Zephyr lettings arrangement").reply.title \
        == "Note added to action #1"
    assert run(runner, "sam", "outcome", "1 claim on the Quillon flat suspended benefit-sanction").reply.title \
        == "Action #1 closed"
    return northtown_loaded


def _events(factory: sessionmaker[Session]) -> list[AuditEvent]:
    with factory() as s:
        return list(s.scalars(select(AuditEvent).order_by(AuditEvent.seq)))


def _search(factory: sessionmaker[Session], text: str, who: actors.Actor = DPO) -> list[subject.Hit]:
    with db.unit_of_work(factory) as s:
        p = partnership.select_partnership(s, None)
        return subject.search(s, p, text, actor=who, now=NOW, reason="SAR 2026/14")


@pytest.mark.parametrize("text, where", [
    ("riverside", "details.summary"),  # OCG-07's details, case ignored
    ("GATEHOUSE", "action #1"),
    ("zephyr   lettings", "action #1 note (note)"),  # spacing ignored
    ("quillon", "action #1 outcome"),
])
def test_search_finds_details_actions_notes_and_outcomes_and_logs_a_consultation(worked: sessionmaker[Session],
                                                                                  text: str, where: str) -> None:
    before = len(_events(worked))
    hits = _search(worked, text)
    assert [(h.ref, h.where) for h in hits if h.ref == "OCG-07"] == [("OCG-07", where)]
    assert " ".join(text.split()).lower() in hits[0].snippet.lower()
    new = _events(worked)[before:]
    assert {e.target_ref for e in new} == {h.ref for h in hits}
    assert all(e.kind == "consultation" and e.actor == "os:dpo" and e.recipients == ["os:dpo"]
               and e.justification == "SAR 2026/14" and e.at == NOW for e in new)


def test_a_search_that_finds_nothing_records_nothing(worked: sessionmaker[Session]) -> None:
    before = len(_events(worked))
    assert _search(worked, "no such person anywhere") == []
    assert len(_events(worked)) == before


@pytest.mark.parametrize("text", ["", "  ", "ab"])
def test_a_search_too_short_is_refused_with_an_example(worked: sessionmaker[Session], text: str) -> None:
    with pytest.raises(UsageError) as info:
        _search(worked, text)
    assert "at least 3 characters" in info.value.message and info.value.example


def _export(factory: sessionmaker[Session], ref: str) -> dict[str, Any]:
    with db.unit_of_work(factory) as s:
        p = partnership.select_partnership(s, None)
        return json.loads(subject.export(s, p, ref, actor=DPO, now=NOW, destination="sar.json", reason="SAR 2026/14"))


def test_subject_export_holds_everything_on_the_target_with_its_log(worked: sessionmaker[Session]) -> None:
    doc = _export(worked, "OCG-07")
    assert next(iter(doc)) == "marking" and doc["marking"] == "OFFICIAL-SENSITIVE"
    assert doc["target"]["ref"] == "OCG-07" and doc["target"]["lead"] == "tom.ashby"
    assert "Riverside" in doc["details"]["summary"]
    [action] = doc["actions"]
    assert "Gatehouse" in action["text"] and action["owner"] == "sam.patel"
    assert any("Zephyr" in n["text"] for n in action["notes"])
    assert "Quillon" in action["outcome"]["text"]
    kinds = [e["kind"] for e in doc["log"]]
    assert kinds[0] == "collection" and "alteration" in kinds  # loaded, then the outcome
    assert all(e["target_ref"] == "OCG-07" for e in doc["log"])
    last = _events(worked)[-1]
    assert (last.kind, last.target_ref, last.actor, last.recipients) == ("disclosure", "OCG-07", "os:dpo",
                                                                          ["os:dpo", "file:sar.json"])


def test_subject_export_carries_its_cohorts_marking(worked: sessionmaker[Session]) -> None:
    assert _export(worked, "N-0444")["marking"] == "OFFICIAL"  # the ppo cohort is OFFICIAL


def test_subject_export_of_an_unknown_reference_is_refused_and_logs_nothing(worked: sessionmaker[Session]) -> None:
    before = len(_events(worked))
    with pytest.raises(NotFound) as info:
        _export(worked, "OCG-99")
    assert "no target 'OCG-99'" in info.value.message and info.value.example
    assert len(_events(worked)) == before


def _log(factory: sessionmaker[Session], f: log_export.LogFilter, fmt: str = "json") -> dict[str, Any] | str:
    with db.unit_of_work(factory) as s:
        p = partnership.select_partnership(s, None)
        text = log_export.export_log(s, p, f, fmt=fmt, actor=DPO, now=NOW, destination="log.json",
                                     reason="DPO review").text
    return json.loads(text) if fmt == "json" else text


def test_log_export_filters_by_target_member_and_london_days(worked: sessionmaker[Session]) -> None:
    by_target = _log(worked, log_export.LogFilter(target="OCG-07"))
    assert isinstance(by_target, dict) and {e["target_ref"] for e in by_target["events"]} == {"OCG-07"}
    by_member = _log(worked, log_export.LogFilter(member="sam.patel"))
    assert isinstance(by_member, dict) and by_member["events"]
    assert all(e["actor"] == "member:sam.patel" or "sam.patel" in e["recipients"] for e in by_member["events"])
    with worked() as s:  # the actions ran at 2026-11-20 10:00 UTC; the sample was loaded on 2026-09-01
        days = {e.at.date().isoformat() for e in s.scalars(select(AuditEvent))}
    assert {"2026-09-01", "2026-11-20"} <= days
    one_day = _log(worked, log_export.LogFilter(start=date(2026, 11, 20), end=date(2026, 11, 20)))
    assert isinstance(one_day, dict) and one_day["events"]
    assert {e["at"][:10] for e in one_day["events"]} == {"2026-11-20"}


def test_log_export_as_csv_starts_with_the_marking_and_defuses_formulas(worked: sessionmaker[Session]) -> None:
    with db.unit_of_work(worked) as s:
        p = s.scalar(select(Partnership))
        assert p is not None
        from models.audit import record
        record(s, at=NOW, partnership_id=p.id, kind="alteration", actor="os:x", what="=HYPERLINK(\"http://x\")",
               justification="test")
    text = _log(worked, log_export.LogFilter(), fmt="csv")
    assert isinstance(text, str)
    lines = text.splitlines()
    assert lines[0] == "OFFICIAL-SENSITIVE" and lines[1].startswith("id,seq,at,kind,actor")
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text


@pytest.mark.parametrize("call, message", [
    (lambda: log_export.parse_day("01/12/2026", "--from"), "--from: '01/12/2026' is not a date"),
    (lambda: log_export.check_format("xml"), "--format: 'xml' is not one of csv, json"),
])
def test_bad_export_options_are_named_with_an_example(call: Any, message: str) -> None:
    with pytest.raises(UsageError) as info:
        call()
    assert message in info.value.message and info.value.example == log_export.EXAMPLE


def test_bad_filters_are_refused_and_nothing_is_logged(worked: sessionmaker[Session]) -> None:
    with worked() as s:
        before = s.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(UsageError, match="--member: no member 'nobody'"):
        _log(worked, log_export.LogFilter(member="nobody"))
    with pytest.raises(UsageError, match="--to 2026-11-01 is before --from 2026-12-01"):
        _log(worked, log_export.LogFilter(start=date(2026, 12, 1), end=date(2026, 11, 1)))
    with worked() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_as_names_an_active_member_or_is_refused(worked: sessionmaker[Session]) -> None:
    with worked() as s:
        p = partnership.select_partnership(s, None)
        jo = actors.resolve(s, p, "jo.bloggs", "alice")
        assert jo.label == "member:jo.bloggs" and jo.member_id is not None
        assert actors.resolve(s, p, None, "alice") == actors.Actor("os:alice")
        with pytest.raises(UsageError, match="--as: no active member 'jo.blogs'"):
            actors.resolve(s, p, "jo.blogs", "alice")
