"""Who may preview the day, and what `/agenda show` says when typed in the wrong place (issue 18).

A chair runs the day and sees every target, so previewing the plan (which saves and sends nothing) is theirs as
well as the coordinator's; publishing stays the coordinator's. `/agenda show` outside a section channel says where
it works instead of "you are not in that section", naming no section or target.
"""

from __future__ import annotations

from datetime import UTC, datetime

from actions_support import reply_text
from sqlalchemy import func, select

from bot.config import DEFAULT_COMMANDS
from bot.runner import Request, Runner
from models import AuditEvent, Meeting

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def agenda(runner: Runner, user: str, text: str, channel: str | None = None) -> str:
    return reply_text(runner.run(Request("slack", "T0TEST", user, "agenda", text, channel=channel), lambda _u: None))


def refusals(factory) -> int:  # type: ignore[no-untyped-def]
    with factory() as session:
        return session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.kind == "refusal")) or 0


def test_a_chair_previews_the_plan_but_only_a_coordinator_publishes(northtown_loaded) -> None:  # type: ignore[no-untyped-def]
    runner = Runner(factory=northtown_loaded, names=dict(DEFAULT_COMMANDS), clock=lambda: NOW)
    preview = agenda(runner, "U0ROSE", "plan 2026-12-08")  # rose.gill chairs
    assert "Agenda plan for Tuesday 8 December 2026 (preview)" in preview
    assert "Nothing is sent until you publish" in preview
    refused = agenda(runner, "U0ROSE", "publish 2026-12-08")
    assert "Only a coordinator can do that" in refused
    with northtown_loaded() as session:
        assert session.scalar(select(func.count(Meeting.id))) == 0  # nothing saved by either


def test_a_partner_is_told_who_may_preview_and_the_refusal_is_logged(northtown_loaded) -> None:  # type: ignore[no-untyped-def]
    runner = Runner(factory=northtown_loaded, names=dict(DEFAULT_COMMANDS), clock=lambda: NOW)
    before = refusals(northtown_loaded)
    said = agenda(runner, "U0BEA", "plan 2026-12-08")
    assert "Only a coordinator or a chair can preview the agenda." in said
    assert "Agenda plan" not in said
    assert refusals(northtown_loaded) == before + 1


def test_agenda_show_outside_a_section_channel_says_where_to_type_it(northtown_loaded) -> None:  # type: ignore[no-untyped-def]
    runner = Runner(factory=northtown_loaded, names=dict(DEFAULT_COMMANDS), clock=lambda: NOW)
    for channel in ("CMAIN", None):  # the main channel; a DM has no section either
        said = agenda(runner, "U0SAM", "show", channel=channel)
        assert "shows a section's pack in that section's own channel, and this is not a section channel" in said
        assert "press View pack in your itinerary" in said
        assert "Example: /agenda show" in said
        assert "not in that section" not in said
