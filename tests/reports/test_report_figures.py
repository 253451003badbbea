"""The figures' rules on their own: the period's days are the partnership's (Europe/London, also in summer time),
p90 is the nearest rank, another partnership's actions never count, and a period must not end before it starts."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from report_support import pdf_text
from sqlalchemy import select

from bot import db
from commands.reports.figures import PeriodError, compute, p90
from models import Action, ActionStatus, Member, Outcome, Partnership, Target

NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("values", "expected"), [
    ([], None), ([5], 5), ([3, 1], 3), (list(range(1, 11)), 9), (list(range(1, 12)), 10), ([0, 0, 0, 40], 40),
])
def test_p90_is_the_nearest_rank(values: list[int], expected: int | None) -> None:
    assert p90(values) == expected


def _action(session, p: Partnership, number: int, created: datetime, *, done: datetime | None = None,  # type: ignore[no-untyped-def]
            category: str = "arrest") -> None:
    owner = session.scalars(select(Member).where(Member.key == "sam.patel")).one()
    target = session.scalars(select(Target).where(Target.ref == "OCG-07")).one()
    action = Action(partnership_id=p.id, number=number, target_id=target.id, owner_id=owner.id, text="x", due=None,
                    status=ActionStatus.DONE if done else ActionStatus.OPEN, created_at=created, updated_at=created)
    session.add(action)
    if done:
        session.add(Outcome(partnership_id=p.id, action=action, text="y", category=category, recorded_at=done))


def test_days_are_the_partnerships_in_summer_time_too(northtown_loaded) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work(northtown_loaded) as session:
        p = session.scalars(select(Partnership)).one()
        _action(session, p, 1, datetime(2026, 5, 31, 23, 30, tzinfo=UTC))  # 00:30 on 1 June in London
        _action(session, p, 2, datetime(2026, 6, 30, 23, 30, tzinfo=UTC))  # 00:30 on 1 July in London
        _action(session, p, 3, datetime(2026, 6, 10, 22, 0, tzinfo=UTC), done=datetime(2026, 6, 10, 23, 30, tzinfo=UTC),
                category="diversion")  # raised 23:00, closed 00:30 the next day in London: one calendar day
    with northtown_loaded() as session:
        p = session.scalars(select(Partnership)).one()
        june = compute(session, p, date(2026, 6, 1), date(2026, 6, 30), now=NOW)
    assert (june.totals.raised, june.totals.completed) == (2, 1)
    assert [(m.month, m.raised, m.completed) for m in june.months] == [("2026-06", 2, 1)]
    assert (june.time_to_outcome.median_days, june.time_to_outcome.p90_days) == (1, 1)
    assert dict(june.outcomes_by_group)["prevention"] == 1


def test_another_partnerships_actions_do_not_count(northtown_loaded) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work(northtown_loaded) as session:
        northtown = session.scalars(select(Partnership)).one()
        _action(session, northtown, 1, datetime(2026, 11, 2, 10, 0, tzinfo=UTC))
        other = Partnership(key="southtown", name="Southtown CSP", isp_version="1", created_at=NOW)
        session.add(other)
    with northtown_loaded() as session:
        p = {x.key: x for x in session.scalars(select(Partnership))}
        assert compute(session, p["northtown"], date(2026, 11, 1), date(2026, 11, 30), now=NOW).totals.raised == 1
        south = compute(session, p["southtown"], date(2026, 11, 1), date(2026, 11, 30), now=NOW)
    assert (south.totals.raised, south.actions, south.isp, south.meetings_held) == (0, (), (), 0)


def test_a_period_that_ends_before_it_starts_is_refused(northtown_loaded) -> None:  # type: ignore[no-untyped-def]
    with northtown_loaded() as session:
        p = session.scalars(select(Partnership)).one()
        with pytest.raises(PeriodError, match=r"the period starts \(2026-12-02\) after it ends \(2026-12-01\)"):
            compute(session, p, date(2026, 12, 2), date(2026, 12, 1), now=NOW)


def test_agency_names_are_escaped_in_html_and_never_run_as_a_spreadsheet_formula() -> None:
    from commands.reports import render
    from commands.reports.figures import GROUPS, AgencyActions, Figures, TimeToOutcome

    f = Figures(partnership="North & South", start=date(2026, 11, 1), end=date(2026, 11, 30), as_of=date(2026, 12, 1),
                meetings_held=0, sections_held=0, actions=(AgencyActions("<b>Ops</b>", 1, 0, 0, 0),
                                                          AgencyActions("Gwasanaeth Tân a Dŵr 北", 1, 0, 0, 0),
                                                          AgencyActions("=HYPERLINK(1)", 2, 0, 0, 0)),
                months=(), time_to_outcome=TimeToOutcome(0, None, None), outcomes_by_category=(),
                outcomes_by_group=tuple((g, 0) for g in GROUPS), attendance=(), isp=())
    page = render.html(f, with_chart=False)
    assert "&lt;b&gt;Ops&lt;/b&gt;" in page and "<b>Ops" not in page and "North &amp; South" in page
    assert "<img" not in page
    text = render.csv_text(f)
    assert "'=HYPERLINK(1)" in text and ",=HYPERLINK" not in text
    document = pdf_text(render.pdf(f, with_chart=False))
    assert "(Gwasanaeth T\xe2n a Dwr ?)" in document  # Latin-1 kept, accents outside it dropped, the rest '?'
    assert "(<b>Ops</b>)" in document
