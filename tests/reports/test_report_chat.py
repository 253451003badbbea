"""`/oneday report` in chat: who may have it, what bad input gets, the figures answered without matplotlib, and
the chart drawn by the outbox and delivered as a PNG file to the requester's DM through Slack's upload (the fake
Slack keeps the bytes)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from actions_support import audit_kinds, counts, reply_text
from sqlalchemy import select

from bot.config import DEFAULT_COMMANDS
from bot.runner import Request, Runner
from commands.core.replies import Result
from models import AuditEvent, OutboxMessage

NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
EXAMPLE = "Example: /oneday report 2026-09-11 2026-12-10"  # the 90 days to NOW
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def runner(northtown_loaded) -> Runner:  # type: ignore[no-untyped-def]
    return Runner(factory=northtown_loaded, names=dict(DEFAULT_COMMANDS), clock=lambda: NOW)


def say(runner: Runner, user: str, text: str) -> Result:
    return runner.run(Request("slack", "T0TEST", user, "oneday", text), lambda _u: None)


@pytest.mark.parametrize("user", ["U0SAM", "U0TOM", "U0HELEN"])
def test_partners_and_lead_officers_are_refused_and_the_refusal_is_logged(runner: Runner, user: str) -> None:
    before = counts(runner.factory)
    said = reply_text(say(runner, user, "report"))
    assert said.strip().startswith("Only an analyst, a chair or a coordinator can have the partnership's figures.")
    after = counts(runner.factory)
    assert after.pop("audit_event") == before.pop("audit_event") + 1 and after == before  # nothing queued
    assert audit_kinds(runner.factory)[-1] == "refusal"
    with runner.factory() as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
    assert (event.what, event.justification, event.target_ref) == (
        "partnership report", "analyst, chair or coordinator role required", None)


@pytest.mark.parametrize(("text", "wrong"), [
    ("report 2026-13-01", "the from date '2026-13-01' is not a date; write it as YYYY-MM-DD"),
    ("report 1/11/2026 2026-12-31", "the from date '1/11/2026' is not a date; write it as YYYY-MM-DD"),
    ("report 2026-11-01 yesterday", "the to date 'yesterday' is not a date; write it as YYYY-MM-DD"),
    ("report 2026-12-31 2026-11-01", "the period starts (2026-12-31) after it ends (2026-11-01); give the earlier "
                                     "date first"),
    ("report 2026-11-01 2026-11-30 pdf", "a report takes at most two dates, from and to (got 3 words)"),
])
def test_bad_dates_get_a_clear_answer_with_an_example_and_change_nothing(runner: Runner, text: str,
                                                                         wrong: str) -> None:
    before = counts(runner.factory)
    result = say(runner, "U0KIM", text)
    said = reply_text(result)
    assert wrong in said and EXAMPLE in said, said
    assert result.notices == () and counts(runner.factory) == before


def test_without_dates_the_last_90_days_with_one_from_then_to_today(runner: Runner) -> None:
    assert "partnership figures, 2026-09-12 to 2026-12-10" in reply_text(say(runner, "U0KIM", "report"))
    assert "partnership figures, 2026-12-01 to 2026-12-10" in reply_text(say(runner, "U0KIM", "report 2026-12-01"))
    assert "report 2026-09-11 2026-12-10" in reply_text(say(runner, "U0KIM", "help"))


def test_the_chart_reaches_the_requester_as_a_png_file(slack_env) -> None:  # type: ignore[no-untyped-def]
    slack_env.clock.set(NOW)
    answer = slack_env.command("U0KIM", "/oneday", "report 2026-11-01 2026-12-31")
    assert answer.status == 200 and "partnership figures, 2026-11-01 to 2026-12-31" in answer.text
    assert "The chart is on its way to your direct messages" in answer.text
    # the answer came with the figures, and the chart is still to draw: the request did not draw it
    assert "Meetings held" in answer.text and "Time to outcome" in answer.text
    with slack_env.factory() as session:
        [row] = session.scalars(select(OutboxMessage).where(OutboxMessage.destination_ref == "kim.lau"))
    assert row.status == "pending" and row.payload["attachment"]["render"] == "report-chart"
    assert slack_env.fake.calls_to("files.getUploadURLExternal") == []
    slack_env.drain()
    [upload] = slack_env.fake.calls_to("files.completeUploadExternal")
    assert upload.args["channel_id"] == slack_env.dm_channel("U0KIM")
    [shared] = upload.args["files"] if isinstance(upload.args["files"], list) else [upload.args["files"]]
    data = slack_env.fake.uploaded(shared["id"])
    assert data is not None and data.startswith(PNG) and len(data) > 10_000
    assert shared["title"] == "Northtown CSP: partnership figures, 2026-11-01 to 2026-12-31"
    slack_env.fake.assert_no_rejections()


def test_the_server_and_the_worker_do_not_load_matplotlib_or_fpdf_until_a_report_is_made() -> None:
    """matplotlib costs about 1.5 s and tens of MB on import: `oneday serve` must not pay it at start."""
    code = ("import sys, bot.cli, bot.serve, bot.slack.app, commands.core.router, commands.reports.chat\n"
            "print(sorted(m for m in ('matplotlib', 'fpdf', 'numpy') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


REQUEST = """
import json, sys, time
import bot.cli, bot.serve, bot.slack.app, commands.core.router  # what `oneday serve` has loaded before a request
from bot import config, db
from bot.config import DEFAULT_COMMANDS
from bot.runner import Request, Runner
from datetime import UTC, datetime
from sqlalchemy import select
from models import OutboxMessage

settings = config.from_env()
db.use_keys(settings)
factory = db.session_factory(db.make_engine(settings.database_url))
runner = Runner(factory=factory, names=dict(DEFAULT_COMMANDS), clock=lambda: datetime(2026, 12, 10, 12, tzinfo=UTC))
before = "matplotlib" in sys.modules
started = time.perf_counter()
result = runner.run(Request("slack", "T0TEST", "U0KIM", "oneday", "report 2026-11-01 2026-12-31"), lambda _u: None)
took = time.perf_counter() - started
after_request = sorted(m for m in ("matplotlib", "numpy", "PIL") if m in sys.modules)
with factory() as session:
    [row] = session.scalars(select(OutboxMessage).where(OutboxMessage.destination_ref == "kim.lau"))
    payload = row.payload
print(json.dumps({"before": before, "after_request": after_request, "seconds": took, "title": result.reply.title,
                  "fields": [list(f) for f in result.reply.fields], "queued": sorted(payload["attachment"])}),
      flush=True)
from commands.reports import delivery
drawn = delivery.draw(payload)  # what the worker does when it delivers the row
print(json.dumps({"after_drawing": "matplotlib" in sys.modules, "png": drawn["attachment"]["content"][:12]}))
"""


def test_the_request_answers_the_figures_without_loading_matplotlib_and_the_delivery_draws_the_chart(
        copy_database, northtown_template) -> None:  # type: ignore[no-untyped-def]
    """A fresh serving process: `/oneday report` answers the figures and queues the chart without importing
    matplotlib (or numpy, or Pillow); drawing the queued row, as the outbox does, is what loads it."""
    import os

    env = {**os.environ, "DATABASE_URL": copy_database(northtown_template)}
    done = subprocess.run([sys.executable, "-c", REQUEST], capture_output=True, text=True, timeout=180, env=env)
    lines = done.stdout.strip().splitlines()
    assert lines, done.stderr
    asked = json.loads(lines[0])
    assert asked["title"] == "Northtown CSP: partnership figures, 2026-11-01 to 2026-12-31"
    assert dict(asked["fields"])["Period"] == "2026-11-01 to 2026-12-31 (as of 2026-12-10)"
    assert asked["before"] is False and asked["after_request"] == []  # the request path never imported them
    assert "render" in asked["queued"]  # it queued what to draw
    assert done.returncode == 0, done.stderr
    drawn = json.loads(lines[1])
    assert drawn["after_drawing"] is True  # the check sees matplotlib once it is loaded
    assert base64.b64decode(drawn["png"]).startswith(PNG)


def test_an_attachment_carries_bytes_as_base64_and_one_queued_before_reads_as_text() -> None:
    """The outbox stores a notice as JSON (asdict): binary travels as base64, and a row queued before binary
    attachments existed has no `encoding` and is still text."""
    from dataclasses import asdict

    from commands.core.replies import Attachment

    png = Attachment.binary("chart.png", PNG + b"\x00\xff", "Chart")
    stored = json.loads(json.dumps(asdict(png)))
    assert Attachment(**stored).data == PNG + b"\x00\xff" and stored["encoding"] == "base64"
    old = Attachment(**{"filename": "a.ics", "content": "BEGIN:VCALENDAR\r\n", "title": "Day"})
    assert old.data == b"BEGIN:VCALENDAR\r\n" and old.encoding == "utf-8"
