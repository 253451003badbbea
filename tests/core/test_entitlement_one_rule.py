"""One entitlement rule: what every showing and sending checks (commands.core.access) is what the day's plan says
(models.relevance.is_entitled over models.planning.plan_day), for every member and every target of the sample."""

from __future__ import annotations

from datetime import date

from moments import STACK_START
from sqlalchemy import select

from commands.core import access
from commands.core.context import Caller
from models import Member, Partnership, Target, TargetStatus
from models.planning import plan_day
from models.relevance import is_entitled


def test_access_and_the_plan_agree_for_every_member_and_target(northtown_loaded) -> None:  # type: ignore[no-untyped-def]
    with northtown_loaded() as session:
        p = session.scalar(select(Partnership))
        assert p is not None
        plan = plan_day(session, p, date(2026, 12, 8))
        members = list(session.scalars(select(Member).where(Member.active.is_(True))))
        targets = list(session.scalars(select(Target).where(Target.status == TargetStatus.ACTIVE)))
        caller = Caller(session, p, members[0], STACK_START)
        disagree = [(m.key, t.ref) for m in members for t in targets
                    if access.member_may_see(caller, m, t) != is_entitled(m.key, t.ref, plan)]
        seen = sum(access.member_may_see(caller, m, t) for m in members for t in targets)
    assert disagree == []
    assert 0 < seen < len(members) * len(targets)  # the rule lets some through and keeps some out
