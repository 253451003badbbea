"""`/oneday whoami` names exactly the sections the need-to-know rule gives the member: the same entitlement the
access checks use, so the same sections the day's plan (models.planning.plan_day) puts them in."""

from __future__ import annotations

from datetime import date

import pytest
from actions_support import make_runner, run
from sqlalchemy import select

from models import Member, Partnership
from models.planning import plan_day
from models.relevance import MemberInfo, runs_the_day

EVERYONE = "all sections (coordinator/chair)"


def sections_shown(factory, user: str) -> str:  # type: ignore[no-untyped-def]
    result = run(make_runner(factory), user, "oneday", "whoami")
    return dict(result.reply.fields)["Sections"]


def planned_sections(factory, key: str) -> set[str]:  # type: ignore[no-untyped-def]
    """The sections of the day's plan whose members (or target leads) include the member."""
    with factory() as session:
        p = session.scalar(select(Partnership))
        assert p is not None
        day_plan = plan_day(session, p, date(2026, 12, 8))
    return {s.name for s in day_plan.sections if key in s.members or key in s.relevance.leads.values()}


@pytest.mark.parametrize(("key", "user"), [
    ("sam.patel", "U0SAM"),  # DWP: its flags bring it into sections beyond the cohorts sam attends
    ("owen.price", "U0OWEN"),  # probation is in cohorts owen does not attend: not his sections
    ("tom.ashby", "U0TOM"),  # a lead officer
    ("priya.shah", "U0PRIYA"),
    ("sol.adams", "U0SOL"),
    ("kim.lau", "U0KIM"),  # an analyst: no section
    ("dan.fox", "U0DAN"),
])
def test_whoami_names_the_sections_the_plan_gives(northtown_loaded, key: str, user: str) -> None:  # type: ignore[no-untyped-def]
    expected = planned_sections(northtown_loaded, key)
    shown = sections_shown(northtown_loaded, user)
    assert set(shown.split(", ")) == expected if expected else shown == "none yet"


@pytest.mark.parametrize("user", ["U0ROSE", "U0JO"])  # the chair and the coordinator run the day
def test_whoami_gives_those_who_run_the_day_every_section(northtown_loaded, user: str) -> None:  # type: ignore[no-untyped-def]
    assert sections_shown(northtown_loaded, user) == EVERYONE


def test_the_sections_are_in_cohort_order(northtown_loaded) -> None:  # type: ignore[no-untyped-def]
    assert sections_shown(northtown_loaded, "U0SAM") == ("Organised crime groups, County lines and exploitation, "
                                                         "High crime causers, Prolific and priority offenders")


def test_only_active_coordinators_and_chairs_run_the_day(northtown_loaded) -> None:  # type: ignore[no-untyped-def]
    assert runs_the_day(MemberInfo("c", "police", roles=("chair",)))
    assert not runs_the_day(MemberInfo("c", "police", roles=("chair",), active=False))
    assert not runs_the_day(MemberInfo("l", "police", roles=("lead", "partner")))
    with northtown_loaded() as session:
        rose = session.scalar(select(Member).where(Member.key == "rose.gill"))
        assert rose is not None and runs_the_day(rose)
        rose.active = False
        assert not runs_the_day(rose)
