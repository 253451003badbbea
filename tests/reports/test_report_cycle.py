"""The partnership report over a whole meeting cycle (tests/reports/conftest.py): its figures match the actions,
outcomes and attendance recorded, counted here independently, and no format (CSV, HTML, PDF, the PNG chart's
labels and alt text, the chat answer and the DM that carries the chart) holds a target reference, a member's
name, key, email or chat id, or any free text typed during the cycle."""

from __future__ import annotations

import json
import statistics
from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from actions_support import reply_text
from report_support import PNG, deliver, leaks, pdf_text, secrets
from sqlalchemy import select

from commands.reports import render
from commands.reports.figures import GROUPS, OUTCOME_GROUPS, Figures, compute, from_dict
from models import (
    Action,
    ActionStatus,
    Attendance,
    AttendanceStatus,
    AuditEvent,
    Invitation,
    Meeting,
    OutboxMessage,
    Partnership,
    Section,
)
from models.action import OUTCOME_CATEGORIES

START, END = date(2026, 11, 1), date(2026, 12, 31)
LONDON = ZoneInfo("Europe/London")


def figures(cycle) -> Figures:  # type: ignore[no-untyped-def]
    with cycle.factory() as session:
        p = session.scalars(select(Partnership)).one()
        return compute(session, p, START, END, now=cycle.clock())


# ------------------------------------------------------------------------------ the figures match the record


def test_the_figures_match_the_actions_outcomes_and_attendance_recorded(cycle) -> None:  # type: ignore[no-untyped-def]
    f = figures(cycle)
    lo = datetime(2026, 11, 1, tzinfo=LONDON)
    hi = datetime(2027, 1, 1, tzinfo=LONDON)
    today = cycle.clock().astimezone(LONDON).date()
    raised: Counter[str] = Counter()
    completed: Counter[str] = Counter()
    overdue: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    days = []
    with cycle.factory() as session:
        for a in session.scalars(select(Action)):
            agency = a.owner.agency.name
            raised[agency] += lo <= a.created_at < hi
            if a.outcome is not None and lo <= a.outcome.recorded_at < hi:
                completed[agency] += 1
                categories[a.outcome.category] += 1
                days.append((a.outcome.recorded_at.astimezone(LONDON).date() - a.created_at.astimezone(LONDON).date()).days)
            overdue[agency] += a.status == ActionStatus.OPEN and a.due is not None and a.due < today
        held = [m for m in session.scalars(select(Meeting)) if START <= m.date <= today]
        invited: Counter[str] = Counter()
        present: Counter[str] = Counter()
        apologies: Counter[str] = Counter()
        marks = {(a.section_id, a.member_id): a.status for a in session.scalars(select(Attendance))}
        for inv in session.scalars(select(Invitation).join(Section).where(
                Section.meeting_id.in_([m.id for m in held]), Invitation.member_id.is_not(None),
                Invitation.excluded.is_(False))):
            assert inv.member is not None
            name = inv.member.agency.name
            invited[name] += 1
            present[name] += marks.get((inv.section_id, inv.member_id)) == AttendanceStatus.PRESENT
            apologies[name] += marks.get((inv.section_id, inv.member_id)) == AttendanceStatus.APOLOGIES
        sections = sum(len(m.sections) for m in held)

    assert {a.agency: (a.raised, a.completed, a.overdue) for a in f.actions} == {
        k: (raised[k], completed[k], overdue[k]) for k in raised | completed | overdue
        if raised[k] + completed[k] + overdue[k]}
    # the cycle as typed: DWP #1 done in 8 days, housing #2 overdue, police #3 done in 7 days and #5 cancelled,
    # probation #4 done in 2 days
    assert (f.totals.raised, f.totals.completed, f.totals.cancelled, f.totals.overdue) == (5, 3, 1, 1)
    assert f.time_to_outcome.outcomes == 3 == len(days)
    assert f.time_to_outcome.median_days == statistics.median(days) == 7
    assert f.time_to_outcome.p90_days == max(days) == 8
    assert dict(f.outcomes_by_category) == {c: categories[c] for c in OUTCOME_CATEGORIES}
    assert dict(f.outcomes_by_group) == {g: sum(n for c, n in categories.items() if OUTCOME_GROUPS[c] == g)
                                         for g in GROUPS}
    assert dict(f.outcomes_by_group) == {"disruption": 2, "enforcement": 1, "prevention": 0, "other": 0}
    assert [(m.month, m.raised, m.completed) for m in f.months] == [("2026-11", 2, 1), ("2026-12", 3, 2)]
    assert f.meetings_held == len(held) == 1 and f.sections_held == sections > 0
    assert {a.agency: (a.invited, a.present, a.apologies) for a in f.attendance} == {
        k: (invited[k], present[k], apologies[k]) for k in invited}
    assert sum(a.present for a in f.attendance) == 2 and sum(a.apologies for a in f.attendance) >= 1
    assert dict(f.isp)["Driver and Vehicle Licensing Agency"] == "lapsed"
    assert dict(f.isp_counts) == {"signed current": len(f.isp) - 2, "lapsed": 2, "none": 0}


def test_a_period_counts_only_what_happened_in_it(cycle) -> None:  # type: ignore[no-untyped-def]
    with cycle.factory() as session:
        p = session.scalars(select(Partnership)).one()
        november = compute(session, p, date(2026, 11, 1), date(2026, 11, 30), now=cycle.clock())
        later = compute(session, p, date(2026, 12, 11), date(2026, 12, 31), now=cycle.clock())
    # as of 1 December: #1 done, #2 past its due date and open
    assert (november.totals.raised, november.totals.completed, november.totals.overdue) == (2, 1, 1)
    assert november.as_of == date(2026, 12, 1) and november.meetings_held == 0 and november.attendance == ()
    assert [m.month for m in november.months] == ["2026-11"]
    assert (later.totals.raised, later.totals.completed, later.time_to_outcome.median_days) == (0, 0, None)
    # the period is not over: overdue counts as of today, and #2 is still overdue today
    assert later.as_of == date(2026, 12, 10) and later.totals.overdue == 1


def test_every_outcome_category_is_in_exactly_one_group() -> None:
    assert set(OUTCOME_GROUPS) == set(OUTCOME_CATEGORIES)
    assert set(OUTCOME_GROUPS.values()) == set(GROUPS)


# ------------------------------------------------------------------------------ nothing personal in any format


def test_no_format_holds_a_reference_a_name_or_free_text(cycle) -> None:  # type: ignore[no-untyped-def]
    forbidden = secrets(cycle)
    f = figures(cycle)
    chart = render.chart(f)
    assert chart.png.startswith(PNG)
    csv_out, html_out, pdf_out = render.csv_text(f), render.html(f), render.pdf(f)
    pdf_out_text = pdf_text(pdf_out)
    outputs = {"csv": csv_out, "html": html_out, "pdf": pdf_out_text, "chart labels": "\n".join(chart.texts),
               "alt": chart.alt}
    # the scan reads real content: each output shows an agency and its figures...
    for name, text in outputs.items():
        if name != "alt":
            assert "Department for Work and Pensions" in text, name
    assert "Overdue" in pdf_out_text and "(Department for Work and Pensions)" in pdf_out_text
    assert chart.alt in html_out and "5 actions raised" in chart.alt
    # ... and would see a reference or a name there
    assert leaks(pdf_out_text + "OCG-07", forbidden) == ["OCG-07"]
    for name, text in outputs.items():
        assert leaks(text, forbidden) == [], name


def test_the_chat_report_and_its_chart_hold_no_reference_name_or_free_text(cycle) -> None:  # type: ignore[no-untyped-def]
    forbidden = secrets(cycle)
    result = cycle.say("U0KIM", "oneday", "report 2026-11-01 2026-12-31")
    said = reply_text(result) + "\n" + "\n".join(i.text for i in result.reply.items)
    assert "5 raised, 3 completed, 1 cancelled, 1 overdue" in said
    assert "median 7 days, 90th percentile 8 days (3 outcomes)" in said
    assert "Department for Work and Pensions: 1 raised, 1 completed, 0 overdue" in said
    assert leaks(said, forbidden) == []
    with cycle.factory() as session:
        [row] = session.scalars(select(OutboxMessage).where(OutboxMessage.destination_ref == "kim.lau"))
        payload, about = row.payload, row.about
        audit = list(session.scalars(select(AuditEvent).where(AuditEvent.actor == "member:kim.lau")))
    assert about == [] and audit == []  # names no target: not a disclosure
    # queued: the figures to draw (all the chart will show), not yet a picture
    attachment = payload["attachment"]
    assert attachment["render"] == "report-chart" and attachment["filename"].endswith(".png")
    queued = json.loads(attachment["content"])
    assert queued["actions"] and "Department for Work and Pensions" in attachment["content"]  # it reads them...
    assert payload["actor"]["label"] == "member:kim.lau"  # who asked (the outbox's record), not what is shown
    # ... and nothing else: the whole queued message and file
    assert leaks(json.dumps([payload["message"], payload["attachment"]]), forbidden) == []
    # delivered: the worker draws it; its labels and the file it shares hold nothing either
    [shared] = deliver(cycle.factory, cycle.clock, "U0KIM")
    chart = render.chart(from_dict(queued))
    assert shared.data.startswith(PNG) and shared.data == chart.png
    assert "Department for Work and Pensions" in chart.texts
    assert leaks("\n".join(chart.texts), forbidden) == []
    assert leaks(shared.filename + shared.title + shared.comment, forbidden) == []
    with cycle.factory() as session:
        assert [r.status for r in session.scalars(select(OutboxMessage).where(
            OutboxMessage.destination_ref == "kim.lau"))] == ["sent"]
        assert list(session.scalars(select(AuditEvent).where(AuditEvent.actor == "member:kim.lau"))) == []


@pytest.mark.parametrize("user", ["U0ROSE", "U0JO", "U0KIM"])
def test_the_analyst_the_chair_and_the_coordinator_may_have_it(cycle, user: str) -> None:  # type: ignore[no-untyped-def]
    assert "partnership figures, 2026-11-01 to 2026-12-31" in reply_text(
        cycle.say(user, "oneday", "report 2026-11-01 2026-12-31"))
