"""The coordinator's overrides: add or drop an agency for one target or one meeting, skip a target at a meeting;
shown in the plan with the reason, logged, honoured by every showing; refused to anyone else; bad input answered."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from actions_support import NOW, audit_kinds, counts, make_runner, reply_text, run
from sqlalchemy import select

from commands.core import access
from commands.core.context import Caller
from models import AuditEvent, Member, Partnership
from models.planning import plan_day

DAY = date(2026, 12, 8)


def _slot(factory: Any, ref: str, day: date = DAY) -> Any:
    with factory() as session:
        plan = plan_day(session, session.scalar(select(Partnership)), day)
        return next((sl for s in plan.sections for sl in s.slots if sl.target == ref), None)


def _may_see(factory: Any, agency: str, ref: str, when: Any = NOW) -> set[str]:
    """Members of `agency` the access check lets see `ref` at `when`."""
    with factory() as session:
        p = session.scalar(select(Partnership))
        members = list(session.scalars(select(Member)))
        caller = Caller(session, p, next(m for m in members if m.key == "jo.bloggs"), when)
        target = access.find_target(caller, ref)
        assert target is not None
        return {m.key for m in members if m.agency.key == agency and access.member_may_see(caller, m, target)}


def test_add_brings_an_agency_to_one_targets_slot_with_its_reason(northtown_loaded: Any) -> None:
    runner = make_runner(northtown_loaded)
    before = _slot(northtown_loaded, "OCG-07")
    assert "trading-standards" not in {a.key for a in before.relevance.agencies}
    assert not _may_see(northtown_loaded, "trading-standards", "OCG-07")
    result = run(runner, "jo", "agenda", "add trading-standards OCG-07 counterfeit goods seen at the addresses")
    assert result.reply.title == "Override saved", reply_text(result)
    after = _slot(northtown_loaded, "OCG-07")
    reasons = {a.key: a.reasons for a in after.relevance.agencies}
    assert reasons["trading-standards"] == ("added:counterfeit goods seen at the addresses (OCG-07)",)
    assert _may_see(northtown_loaded, "trading-standards", "OCG-07")  # the pack, lists and buttons follow
    with northtown_loaded() as session:
        plan = plan_day(session, session.scalar(select(Partnership)), DAY)
    others = [sl for s in plan.sections for sl in s.slots if sl.target != "OCG-07"]
    assert others and not [sl.target for sl in others
                           if any(r.startswith("added:") for a in sl.relevance.agencies for r in a.reasons)]
    with northtown_loaded() as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert event is not None and event.kind == "alteration" and event.target_ref == "OCG-07"
        # the log keeps the reason's length, never its words: erasure never rewrites the log
        reason = "counterfeit goods seen at the addresses"
        assert event.what.endswith(f"trading-standards for OCG-07 (every meeting): reason given, {len(reason)} "
                                   "characters"), event.what
        assert event.justification == "coordinator's decision"


def test_drop_for_one_meeting_applies_until_that_meeting_has_passed(northtown_loaded: Any) -> None:
    runner = make_runner(northtown_loaded)
    assert _may_see(northtown_loaded, "dwp", "OCG-07")
    result = run(runner, "jo", "agenda", f"drop dwp {DAY.isoformat()} regional staff unavailable")
    assert result.reply.title == "Override saved", reply_text(result)
    slot = _slot(northtown_loaded, "OCG-07")
    assert "dwp" not in {a.key for a in slot.relevance.agencies}
    assert ("dwp", "dropped: regional staff unavailable") in {(e.key, e.reason) for e in slot.relevance.excluded}
    assert not _may_see(northtown_loaded, "dwp", "OCG-07")
    assert "dwp" in {a.key for a in _slot(northtown_loaded, "OCG-07", date(2027, 1, 19)).relevance.agencies}
    assert _may_see(northtown_loaded, "dwp", "OCG-07", datetime(2026, 12, 9, 10, tzinfo=UTC))


def test_skip_keeps_a_target_off_one_meeting_and_clear_brings_it_back(northtown_loaded: Any) -> None:
    runner = make_runner(northtown_loaded)
    assert _slot(northtown_loaded, "N-0412") is not None
    run(runner, "jo", "agenda", f"skip N-0412 {DAY.isoformat()} in custody until January")
    assert _slot(northtown_loaded, "N-0412") is None
    assert _slot(northtown_loaded, "N-0412", date(2027, 1, 19)) is not None
    listed = run(runner, "jo", "agenda", "overrides")
    line = next(x for x in listed.reply.lines if "skip N-0412" in x)
    number = line.split()[0].lstrip("#")
    cleared = run(runner, "jo", "agenda", f"clear {number}")
    assert cleared.reply.title == "Override cleared"
    assert _slot(northtown_loaded, "N-0412") is not None
    assert run(runner, "jo", "agenda", "overrides").reply.lines == (
        "No overrides: every meeting follows the rule as it stands.",)


@pytest.mark.parametrize(("text", "message"), [
    ("add nowhere OCG-07 because", "'nowhere' is not an agency key; the keys are: "),
    ("add dwp OCG-99 because", "no target 'OCG-99' in Northtown CSP"),
    ("drop dwp 2026-11-01 too late", "2026-11-01 has passed: choose a meeting still to come"),
    ("drop dwp 2026-13-01 bad", "'2026-13-01' is not a date; write it as YYYY-MM-DD"),
    ("add dwp OCG-07", "say the agency, the target or meeting date, and why (add)"),
    ("skip N-0412 2026-12-08", "say the target, the meeting date and why it does not come up"),
    ("clear x", "say which override to clear: its number from the overrides list"),
    ("clear 999", "there is no override #999: see the list"),
])
def test_bad_input_is_answered_and_changes_nothing(northtown_loaded: Any, text: str, message: str) -> None:
    runner = make_runner(northtown_loaded)
    before = counts(northtown_loaded)
    result = run(runner, "jo", "agenda", text)
    assert result.reply.lines[0].startswith(message[0].upper() + message[1:]) or message in reply_text(result)
    assert "Example: /agenda" in reply_text(result)
    assert counts(northtown_loaded) == before


def test_only_a_coordinator_may_override_and_the_refusal_is_logged(northtown_loaded: Any) -> None:
    runner = make_runner(northtown_loaded)
    before = counts(northtown_loaded)
    result = run(runner, "tom", "agenda", "add trading-standards OCG-07 counterfeit goods")
    assert "Only a coordinator can do that" in reply_text(result)
    after = counts(northtown_loaded)
    assert after["agenda_override"] == before["agenda_override"]
    assert audit_kinds(northtown_loaded)[-1] == "refusal"


def test_the_processing_log_never_holds_an_override_reason(northtown_loaded: Any) -> None:
    """Saving, listing and clearing: the coordinator sees the reason each time; the log only its length."""
    runner = make_runner(northtown_loaded)
    reason = "Jane Smith at 14 Acacia Road is moving in"
    run(runner, "jo", "agenda", f"skip N-0412 {DAY.isoformat()} {reason}")
    line = next(x for x in run(runner, "jo", "agenda", "overrides").reply.lines if "skip N-0412" in x)
    assert line.endswith(reason)
    cleared = run(runner, "jo", "agenda", f"clear {line.split()[0].lstrip('#')}")
    assert reason in reply_text(cleared)
    with northtown_loaded() as session:
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.what.like("agenda override%"))
                                      .order_by(AuditEvent.id)))
    assert [e.what.split(":", 1)[0] for e in events] == ["agenda override #1 skip N-0412 at the meeting of "
                                                          f"{DAY.isoformat()}",
                                                          "agenda override cleared"]
    assert all(e.what.endswith(f"reason given, {len(reason)} characters") for e in events)
    assert not [e for e in events if "Acacia" in e.what + e.justification]
