"""Entitlement cached per partnership version (models/entitlement_cache.py): never a stale answer.

Each test warms the cache with every member's answers (sections, targets they may see, what the outbox would
withhold), changes the partnership through one kind of writer (a command, a partnership file load, the ORM, a bulk
statement, another engine), then asks again as the very next request would and compares with a cold answer (cache
cleared). The change must show (the answers differ from before), so a cache that served the old answer fails.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from actions_support import NOW, make_runner, run
from sqlalchemy import select, update

from bot import db
from bot.clock import system_clock
from commands.core import access
from commands.core.context import Caller
from commands.partnership.file import load
from models import (
    Action,
    ActionStatus,
    Agency,
    ChatIdentity,
    Cohort,
    Meeting,
    Member,
    Partnership,
    Target,
    TargetStatus,
)
from models import entitlement_cache as cache
from models.planning import not_entitled, plan_day

Answers = dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]]


def answers(factory: Any) -> Answers:
    """Every member's answers, one request (Caller) per member, as the commands and the outbox ask them."""
    with factory() as session:
        p = session.scalar(select(Partnership))
        members = list(session.scalars(select(Member).order_by(Member.key)))
        targets = list(session.scalars(select(Target).order_by(Target.ref)))
        refs = [t.ref for t in targets]
        out: Answers = {}
        for m in members:
            caller = Caller(session, p, m, NOW)
            out[m.key] = (tuple(c.key for c in access.entitled_cohorts(caller, m)),
                          tuple(t.ref for t in targets if access.member_may_see(caller, m, t)),
                          tuple(not_entitled(session, p, m.key, refs, now=NOW)))
        session.rollback()
    return out


def cold(factory: Any) -> Answers:
    cache.clear()
    return answers(factory)


def hits(factory: Any) -> int:
    with factory() as session:
        store = cache.store_for(session)
        return store.sections.hits + store.bases.hits


def changed_through(factory: Any, change: Callable[[], None]) -> tuple[Answers, Answers]:
    """(before, after): answers warmed, the change made and committed, then the next request's answers, checked
    against a cold computation."""
    cold(factory)
    before = answers(factory)
    assert hits(factory) > 0  # the second pass was served from the cache
    change()
    after = answers(factory)
    assert after == cold(factory)
    assert after != before
    return before, after


def a_pair_not_entitled(factory: Any) -> tuple[str, str, str]:
    """(member key, slack id, target ref) for an active partner with a current ISP who may not see the target."""
    answered = cold(factory)
    with factory() as session:
        for m in session.scalars(select(Member).where(Member.active.is_(True)).order_by(Member.key)):
            if m.has_role("coordinator", "chair", "analyst") or m.agency.isp_signed != m.partnership.isp_version:
                continue
            slack = m.identity("slack")
            for t in session.scalars(select(Target).where(Target.status == TargetStatus.ACTIVE)
                                     .order_by(Target.ref)):
                if t.ref not in answered[m.key][1] and slack:
                    return m.key, slack, t.ref
    raise AssertionError("no such pair in the sample")


def add_action(factory: Any, member_key: str, ref: str) -> int:
    with db.unit_of_work(factory) as session:
        p = session.scalar(select(Partnership))
        owner = session.scalar(select(Member).where(Member.key == member_key))
        target = session.scalar(select(Target).where(Target.ref == ref))
        number = max(session.scalars(select(Action.number)), default=0) + 1
        session.add(Action(partnership_id=p.id, number=number, target=target, owner=owner, created_by=target.lead,
                           text="cache test", due=NOW.date() + timedelta(days=7), status=ActionStatus.OPEN,
                           created_at=NOW, updated_at=NOW))
        return number


def test_an_action_added_and_closed_is_seen_by_the_next_request(northtown_loaded: Any) -> None:
    member, slack, ref = a_pair_not_entitled(northtown_loaded)
    number = 0

    def record() -> None:
        nonlocal number
        number = add_action(northtown_loaded, member, ref)

    _, after = changed_through(northtown_loaded, record)
    assert ref in after[member][1]  # the owner of an open action is entitled to its target

    runner = make_runner(northtown_loaded)
    _, closed = changed_through(
        northtown_loaded, lambda: run(runner, slack, "outcome", f"{number} nothing found nfa"))
    assert ref not in closed[member][1]


def test_an_agenda_override_through_the_command_is_seen(northtown_loaded: Any) -> None:
    runner = make_runner(northtown_loaded)
    before, after = changed_through(
        northtown_loaded, lambda: run(runner, "jo", "agenda", "add trading-standards OCG-07 counterfeit goods"))
    assert "OCG-07" in after["ruth.evans"][1] and "OCG-07" not in before["ruth.evans"][1]


def test_a_partnership_file_load_is_seen(northtown_loaded: Any, northtown_text: str) -> None:
    with northtown_loaded() as session:
        dwp = session.scalar(select(Agency).where(Agency.key == "dwp"))
        assert dwp is not None and dwp.isp_signed
        signed = dwp.isp_signed
    lines = [line.replace(f'isp_signed: "{signed}"', 'isp_signed: "2019-1"') if "key: dwp," in line else line
             for line in northtown_text.splitlines()]
    text = "\n".join(lines) + "\n"
    assert text != northtown_text

    def reload() -> None:
        with db.unit_of_work(northtown_loaded) as session:
            load(session, text, source="northtown.yaml", now=system_clock(), actor="test")

    before, after = changed_through(northtown_loaded, reload)
    assert before["sam.patel"][1] and not after["sam.patel"][1]  # DWP lapsed: excluded from every target


def test_members_through_the_orm_are_seen(northtown_loaded: Any) -> None:
    def leave() -> None:
        with db.unit_of_work(northtown_loaded) as session:
            m = session.scalar(select(Member).where(Member.key == "sam.patel"))
            assert m is not None
            m.cohorts = []
            m.spoc = False

    before, after = changed_through(northtown_loaded, leave)
    assert before["sam.patel"][0] != after["sam.patel"][0]


def test_a_target_moved_between_cohorts_is_seen(northtown_loaded: Any) -> None:
    def move() -> None:
        with db.unit_of_work(northtown_loaded) as session:
            t = session.scalar(select(Target).where(Target.ref == "OCG-07"))
            other = session.scalar(select(Cohort).where(Cohort.id != t.cohort_id, Cohort.active.is_(True))
                                   .order_by(Cohort.order))
            assert t is not None and other is not None
            t.cohort_id = other.id
            t.flags = []

    changed_through(northtown_loaded, move)


def test_a_bulk_update_statement_is_seen(northtown_loaded: Any) -> None:
    def lapse_everyone() -> None:
        with db.unit_of_work(northtown_loaded) as session:
            session.execute(update(Agency).values(isp_signed="2019-1"))

    _, after = changed_through(northtown_loaded, lapse_everyone)
    assert not after["sam.patel"][1]


def test_a_change_through_another_engine_is_seen(northtown_loaded: Any) -> None:
    url = northtown_loaded.kw["bind"].url
    other = db.make_engine(url.render_as_string(hide_password=False))
    try:
        def elsewhere() -> None:
            with db.unit_of_work(db.session_factory(other)) as session:
                session.execute(update(Target).where(Target.ref == "OCG-07").values(status=TargetStatus.CLOSED))

        before, after = changed_through(northtown_loaded, elsewhere)
        assert "OCG-07" in before["sam.patel"][1] and "OCG-07" not in after["sam.patel"][1]
    finally:
        other.dispose()


def test_a_rolled_back_write_leaves_nothing_behind(northtown_loaded: Any) -> None:
    """A transaction that writes the rule's input answers from its own writes but never fills the shared cache:
    after it rolls back, everyone gets the answers of the committed state."""
    member, _, ref = a_pair_not_entitled(northtown_loaded)
    before = answers(northtown_loaded)
    with northtown_loaded() as session:
        p = session.scalar(select(Partnership))
        owner = session.scalar(select(Member).where(Member.key == member))
        target = session.scalar(select(Target).where(Target.ref == ref))
        session.add(Action(partnership_id=p.id, number=999, target=target, owner=owner, text="never", due=None,
                           status=ActionStatus.OPEN, created_at=NOW, updated_at=NOW))
        caller = Caller(session, p, owner, NOW)
        assert access.member_may_see(caller, owner, target)  # its own uncommitted action counts for itself
        assert owner.key in access.section_now(caller, target.cohort_id).members
        session.rollback()
    assert answers(northtown_loaded) == before == cold(northtown_loaded)


@pytest.mark.parametrize("writer", ["agency", "member", "identity", "cohort", "partnership", "meeting", "target",
                                    "action", "action wording"])
def test_each_kind_of_write_changes_the_version_it_should(northtown_loaded: Any, writer: str) -> None:
    def versions() -> cache.Versions:
        with northtown_loaded() as session:
            p = session.scalar(select(Partnership))
            return cache.read_versions(session, p.id)

    number = add_action(northtown_loaded, "tom.ashby", "OCG-07")
    before = versions()
    with db.unit_of_work(northtown_loaded) as session:
        target = session.scalar(select(Target).where(Target.ref == "OCG-07"))
        action = session.scalar(select(Action).where(Action.number == number))
        edit: dict[str, Callable[[], None]] = {
            "agency": lambda: setattr(session.scalar(select(Agency).where(Agency.key == "dwp")), "flags", []),
            "member": lambda: setattr(session.scalar(select(Member).where(Member.key == "sam.patel")), "active",
                                      False),
            "identity": lambda: setattr(session.scalar(select(ChatIdentity).limit(1)), "user_id", "U0NEW"),
            "cohort": lambda: setattr(target.cohort, "agencies", []),
            "partnership": lambda: setattr(target.partnership if hasattr(target, "partnership") else
                                           session.scalar(select(Partnership)), "isp_version", "2030-1"),
            "meeting": lambda: session.add(Meeting(partnership_id=target.partnership_id, date=date(2026, 11, 3),
                                                   created_at=NOW)),
            "target": lambda: setattr(target, "flags", ["nothing"]),
            "action": lambda: setattr(action, "status", ActionStatus.DONE),
            "action wording": lambda: setattr(action, "text", "reworded"),
        }
        edit[writer]()
        cohort_id = target.cohort_id
    after = versions()
    wide = writer in ("agency", "member", "identity", "cohort", "partnership", "meeting")
    assert (after.partnership != before.partnership) == wide
    assert (after.cohorts[cohort_id] != before.cohorts[cohort_id]) == (writer in ("target", "action"))
    others = {c: v for c, v in after.cohorts.items() if c != cohort_id}
    assert others == {c: v for c, v in before.cohorts.items() if c != cohort_id}  # other sections stay warm


def test_warm_answers_equal_cold_ones_through_random_changes(northtown_loaded: Any) -> None:
    """A generated sequence of changes to the sample (seeded: the same every run): after each, the answers served
    warm are the cold ones."""
    rng = random.Random(20261205)

    def mutate() -> None:
        with db.unit_of_work(northtown_loaded) as session:
            kind = rng.choice(["flags", "isp", "active", "cohorts", "action", "close", "lead", "cohort"])
            members = list(session.scalars(select(Member).order_by(Member.key)))
            targets = list(session.scalars(select(Target).order_by(Target.ref)))
            agencies = list(session.scalars(select(Agency).order_by(Agency.key)))
            if kind == "flags":
                rng.choice(targets).flags = rng.sample(["drugs", "benefits", "housing", "vehicles", "children",
                                                        "business", "licensed-premises"], k=2)
            elif kind == "isp":
                a = rng.choice(agencies)
                a.isp_signed = None if a.isp_signed else session.scalar(select(Partnership.isp_version))
            elif kind == "active":
                m = rng.choice(members)
                m.active = not m.active
            elif kind == "cohorts":
                rng.choice(members).cohorts = rng.sample(["ocg", "county-lines", "gangs", "hcc", "ppo"], k=2)
            elif kind == "action":
                t, m = rng.choice(targets), rng.choice(members)
                number = max(session.scalars(select(Action.number)), default=0) + 1
                session.add(Action(partnership_id=t.partnership_id, number=number, target=t, owner=m, text="gen",
                                   due=date(2026, 12, 1), status=ActionStatus.OPEN, created_at=NOW,
                                   updated_at=NOW))
            elif kind == "close":
                open_ = list(session.scalars(select(Action).where(Action.status == ActionStatus.OPEN)))
                if open_:
                    rng.choice(open_).status = ActionStatus.DONE
            elif kind == "lead":
                rng.choice(targets).lead = rng.choice(members)
            else:
                c = rng.choice(list(session.scalars(select(Cohort).order_by(Cohort.key))))
                c.agencies = rng.sample([a.key for a in agencies], k=2)

    cold(northtown_loaded)
    served = 0
    for _ in range(12):
        answers(northtown_loaded)  # warm
        mutate()
        before_hits = hits(northtown_loaded)
        warm = answers(northtown_loaded)
        served += hits(northtown_loaded) - before_hits
        assert warm == cold(northtown_loaded)
    assert served > 0


def test_the_days_plan_is_cached_until_its_input_changes(northtown_loaded: Any) -> None:
    """plan_day (what the follow-partnership job asks every minute) is served warm while nothing changed, and is
    the cold plan again after a change to one section's actions and after a meeting is recorded."""
    day = date(2026, 12, 8)

    def planned() -> Any:
        with northtown_loaded() as session:
            return plan_day(session, session.scalar(select(Partnership)), day)

    def cold_plan() -> Any:
        cache.clear()
        return planned()

    first = cold_plan()
    with northtown_loaded() as session:
        plans = cache.store_for(session).plans
    assert planned() is first  # warm: the same object, nothing recomputed
    member, _, ref = a_pair_not_entitled(northtown_loaded)
    add_action(northtown_loaded, member, ref)
    after_action = planned()
    assert after_action is not first and after_action == cold_plan() and after_action != first
    with db.unit_of_work(northtown_loaded) as session:
        p = session.scalar(select(Partnership))
        session.add(Meeting(partnership_id=p.id, date=date(2026, 11, 10), created_at=NOW))
    assert planned() == cold_plan()
    assert plans.hits >= 1
