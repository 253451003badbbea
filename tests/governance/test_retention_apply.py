"""`oneday retention apply`: a closed target past its retention period is erased everywhere, the bot's chat
messages about it are deleted (the fake Slack records chat.delete / files.delete for each), the erasure is
recorded; a dry run changes nothing.

Driven on the real stack (tests/slack_harness.py): the Northtown sample is published for Tuesday 8 December 2026,
tom.ashby (lead of OCG-07) records an action for sam.patel, adds a note, sam records the outcome; all of it reaches
Slack through the outbox. Then OCG-07 is closed and the partnership keeps closed targets one month.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from slack_sdk import WebClient
from sqlalchemy import select

from bot import cli_retention
from bot.slack.port import SlackPort
from commands.governance.retention import ERASURE_KEY
from models import (
    Action,
    AuditEvent,
    Base,
    OutboxMessage,
    Partnership,
    Target,
    TargetErasure,
    TargetStatus,
)
from models.retention import ERASED

DAY = "2026-12-08"
LATER = datetime(2027, 2, 1, 10, 0, tzinfo=UTC)  # a month and more after the meeting, the target's last activity
ACTION = "check benefits claim at the Riverside flats"
NOTE = "spoke to the landlord about the second tenancy"
OUTCOME = "claims suspended pending review"
OVERRIDE = "licence conditions at the bail hostel"
ONWARD = "new offender manager for the Riverside brothers"


def _cycle(env: Any) -> str:
    """Publish, record an action with a note and an outcome on OCG-07; deliver everything. The details text."""
    added = env.command("U0JO", "/agenda", f"add probation OCG-07 {OVERRIDE}")
    assert added.status == 200 and OVERRIDE in added.text, added.text
    assert "Published the agenda" in env.command("U0JO", "/agenda", f"publish {DAY}").text
    assert "Action #1 recorded" in env.command("U0TOM", "/action", f"OCG-07 <@U0SAM|sam.patel> {ACTION} in 2 weeks").text
    assert env.command("U0TOM", "/action", f"update 1 {NOTE}").status == 200
    assert env.command("U0SAM", "/outcome", f"1 {OUTCOME} benefit-sanction").status == 200
    assert "Onward disclosure requested" in env.command("U0SAM", "/agenda", f"onward OCG-07 @bea.morris {ONWARD}").text
    env.drain()
    with env.factory() as session:
        return session.scalar(select(Target).where(Target.ref == "OCG-07")).details.summary


def _close_with_one_month(factory: Any) -> None:
    with factory.begin() as session:
        session.scalar(select(Target).where(Target.ref == "OCG-07")).status = TargetStatus.CLOSED
        session.scalar(select(Partnership)).retention = {"keep_months": 1}


def _dump(factory: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, as stored (the database's own view, not the models')."""
    with factory() as session:
        return {t.name: [tuple(r) for r in session.execute(sa.select(t).order_by(*t.primary_key.columns))]
                for t in Base.metadata.sorted_tables}


def _found_anywhere(factory: Any, needles: list[str]) -> list[str]:
    """Each (table.column, needle) where a needle occurs in any stored text or JSON value."""
    hits = []
    for table, rows in _dump(factory).items():
        columns = [c.name for c in Base.metadata.tables[table].columns]
        for row in rows:
            for column, value in zip(columns, row, strict=True):
                text = value if isinstance(value, str) else json.dumps(value, default=str)
                hits += [f"{table}.{column}: {n}" for n in needles if n in text]
    return hits


def _eraser(env: Any) -> dict[str, Any]:
    return {"slack": SlackPort(WebClient(token="xoxb-test", base_url=env.fake.base_url, retry_handlers=[]))}


def _about_ocg07(factory: Any) -> list[OutboxMessage]:
    with factory() as session:
        return [r for r in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)) if "OCG-07" in r.about]


def test_a_dry_run_changes_nothing_and_says_what_would_go(slack_env) -> None:  # type: ignore[no-untyped-def]
    _cycle(slack_env)
    _close_with_one_month(slack_env.factory)
    before = _dump(slack_env.factory)
    report = cli_retention.apply(slack_env.factory, None, now=LATER, erasers=_eraser(slack_env), dry_run=True)
    assert [e["ref"] for e in report.erased] == ["OCG-07"]
    assert "closed; last activity 2026-12-08; kept 1 months" in report.erased[0]["reason"]
    assert _dump(slack_env.factory) == before
    assert slack_env.fake.calls_to("chat.delete") == [] and slack_env.fake.calls_to("files.delete") == []


def test_apply_erases_every_detail_deletes_its_messages_and_records_the_erasure(slack_env, sqlite_db_url) -> None:  # type: ignore[no-untyped-def]
    details = _cycle(slack_env)
    _close_with_one_month(slack_env.factory)
    sent = _about_ocg07(slack_env.factory)
    posts = {(r.channel, r.sent_ref) for r in sent if r.status == "sent" and "attachment" not in r.payload}
    files = {r.sent_ref for r in sent if r.status == "sent" and "attachment" in r.payload}
    assert len(posts) >= 3 and files, "the cycle sent action DMs and itineraries about OCG-07"
    needles = [details, ACTION, NOTE, OUTCOME, OVERRIDE, ONWARD]
    held = {hit.split(": ", 1)[1] for hit in _found_anywhere(slack_env.factory, needles)}
    assert held == set(needles)  # the scan finds each of them while they are held
    other = _found_anywhere(slack_env.factory, ["Class A supply network"])  # OCG-01's details: must stay

    report = cli_retention.apply(slack_env.factory, None, now=LATER, erasers=_eraser(slack_env), as_member="jo.bloggs")

    assert [e["ref"] for e in report.erased] == ["OCG-07"]
    # the processing log, which erasure never rewrites (it is tamper-evident), holds only the length of the
    # coordinator's reason for an override: nothing of it is left anywhere
    assert _found_anywhere(slack_env.factory, needles) == []
    assert _found_anywhere(slack_env.factory, ["Class A supply network"]) == other
    # nothing left in the file itself either (freed pages, the write-ahead log)
    raw = b"".join(p.read_bytes() for p in Path(sqlite_db_url.removeprefix("sqlite:///")).parent.glob("*.db*"))
    assert [n for n in needles if n.encode() in raw] == []

    deleted = {(c.args["channel"], c.args["ts"]) for c in slack_env.fake.calls_to("chat.delete")}
    assert deleted == posts
    assert {c.args["file"] for c in slack_env.fake.calls_to("files.delete")} == files
    assert report.deleted == len(posts) + len(files) and report.left == 0 and report.refused == 0
    slack_env.fake.assert_no_rejections()

    with slack_env.factory() as session:
        action = session.scalar(select(Action).where(Action.number == 1))
        assert (action.text, action.status, action.outcome.category, action.outcome.text) == \
               (ERASED, "done", "benefit-sanction", ERASED)  # depersonalised counts kept
        erasure = session.scalar(select(TargetErasure))
        assert erasure.counts["actions"] == 1 and erasure.counts["outcomes"] == 1 and erasure.counts["notes"] >= 1
        assert erasure.counts["onward_request"] == 1  # found by the sweep of entities that point at the target
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.kind == "erasure",
                                                               AuditEvent.target_ref == "OCG-07")))
        assert events[0].actor == "member:jo.bloggs" and events[0].what.startswith("retention erasure")
        assert "retention period ended" in events[0].justification
        assert len(events) == 1 + len(posts) + len(files)  # the erasure, then one per message taken out of chat
        assert all(r.payload[ERASURE_KEY]["delete"] == "done" for r in session.scalars(select(OutboxMessage))
                   if "OCG-07" in r.about and r.sent_ref)

    again = cli_retention.apply(slack_env.factory, None, now=LATER, erasers=_eraser(slack_env))
    assert again.erased == [] and again.deleted == 0
    assert len(slack_env.fake.calls_to("chat.delete")) == len(posts)


def test_messages_wait_for_a_platform_that_can_delete_them(slack_env) -> None:  # type: ignore[no-untyped-def]
    _cycle(slack_env)
    _close_with_one_month(slack_env.factory)
    first = cli_retention.apply(slack_env.factory, None, now=LATER, erasers={})
    assert [e["ref"] for e in first.erased] == ["OCG-07"] and first.deleted == 0 and first.left > 0
    assert slack_env.fake.calls_to("chat.delete") == []
    second = cli_retention.apply(slack_env.factory, None, now=LATER, erasers=_eraser(slack_env))
    assert second.erased == [] and second.deleted == first.left and second.left == 0


def test_an_active_target_and_one_inside_its_period_are_kept(slack_env) -> None:  # type: ignore[no-untyped-def]
    details = _cycle(slack_env)
    with slack_env.factory.begin() as session:
        session.scalar(select(Partnership)).retention = {"keep_months": 1, "cohorts": {"ocg": 12}}
    report = cli_retention.apply(slack_env.factory, None, now=LATER, erasers=_eraser(slack_env))
    assert report.erased == []  # OCG-07 is still on the agenda
    _close_with_one_month(slack_env.factory)  # sets keep_months 1 and drops the cohort's 12 months
    with slack_env.factory.begin() as session:
        session.scalar(select(Partnership)).retention = {"keep_months": 1, "cohorts": {"ocg": 12}}
    report = cli_retention.apply(slack_env.factory, None, now=LATER, erasers=_eraser(slack_env))
    assert report.erased == []  # closed, but its cohort keeps it a year
    assert _found_anywhere(slack_env.factory, [details]) != []


def test_section_spaces_are_archived_after_the_pack_window(slack_env) -> None:  # type: ignore[no-untyped-def]
    _cycle(slack_env)
    with slack_env.factory() as session:
        from models import Section

        spaces = sorted(s.space_ref for s in session.scalars(select(Section)) if s.space_ref)
    assert spaces
    during = cli_retention.apply(slack_env.factory, None, now=datetime(2026, 12, 15, 12, 0, tzinfo=UTC),
                                 erasers=_eraser(slack_env))
    assert during.archived == []  # the pack is open until Tuesday 15 December (5 working days)
    after = cli_retention.apply(slack_env.factory, None, now=datetime(2026, 12, 16, 12, 0, tzinfo=UTC),
                                erasers=_eraser(slack_env))
    assert len(after.archived) == len(spaces)
    assert sorted(c.args["channel"] for c in slack_env.fake.calls_to("conversations.archive")) == spaces
    with slack_env.factory() as session:
        logged = session.scalars(select(AuditEvent.what).where(AuditEvent.kind == "erasure")).all()
    assert len([w for w in logged if w.startswith("section space archived")]) == len(spaces)
    assert cli_retention.apply(slack_env.factory, None, now=LATER, erasers=_eraser(slack_env)).archived == []
