"""The report's chart on its way: the outbox draws it when it delivers it (commands/reports/delivery.py), once,
and only for a requester who may still have the partnership's figures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from fake_slack import FakeSlack
from fake_teams import FakeTeams
from fake_teams_stack import TeamsStack
from report_support import PNG, deliver
from slack_requests import clear_proxy_env
from slack_sdk import WebClient
from sqlalchemy import select

from bot import db
from bot.clock import TickingClock
from bot.config import DEFAULT_COMMANDS
from bot.outbox import Sender, enqueue
from bot.runner import Request, Runner
from bot.slack.port import SlackPort
from commands.core.replies import Attachment
from commands.reports import delivery, render
from commands.reports.figures import compute, from_dict, to_dict
from models import AuditEvent, Member, OutboxMessage, Partnership

NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def runner(northtown_loaded) -> Runner:  # type: ignore[no-untyped-def]
    """The runner and the senders share a clock that starts at NOW and moves on as real seconds pass."""
    return Runner(factory=northtown_loaded, names=dict(DEFAULT_COMMANDS), clock=TickingClock(NOW))


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    clear_proxy_env()
    with FakeSlack() as f:
        yield f


def ask(runner: Runner, user: str = "U0KIM") -> None:
    said = runner.run(Request("slack", "T0TEST", user, "oneday", "report 2026-11-01 2026-12-31"), lambda _u: None)
    assert said.reply.title == "Northtown CSP: partnership figures, 2026-11-01 to 2026-12-31"


def chart_row(factory) -> OutboxMessage:  # type: ignore[no-untyped-def]
    with factory() as session:
        [row] = session.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key.startswith("report:")))
        return row


def change(factory, key: str, **values: object) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work(factory) as session:
        member = session.scalars(select(Member).where(Member.key == key)).one()
        for name, value in values.items():
            setattr(member, name, value)


def counting_draws(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    drawn: list[int] = []
    real = render.chart

    def chart(f):  # type: ignore[no-untyped-def]
        drawn.append(1)
        return real(f)

    monkeypatch.setattr(render, "chart", chart)
    return drawn


def test_the_chart_is_drawn_at_delivery_and_reaches_only_the_requester(runner: Runner,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = counting_draws(monkeypatch)
    ask(runner)
    assert drawn == []  # the request queued it undrawn
    [shared] = deliver(runner.factory, runner.clock)
    assert drawn == [1]
    assert shared.data.startswith(PNG) and len(shared.data) > 10_000
    assert shared.filename == "oneday-figures-2026-11-01-2026-12-31.png"
    assert shared.title == "Northtown CSP: partnership figures, 2026-11-01 to 2026-12-31"
    assert shared.user == "U0KIM"  # in Kim's direct messages
    row = chart_row(runner.factory)
    assert row.status == "sent" and row.destination_kind == "member" and row.destination_ref == "kim.lau"
    # the row now holds the file it sent (a retry would send the same bytes) and still says what it carries
    assert row.payload["attachment"]["encoding"] == "base64" and "render" not in row.payload["attachment"]
    assert Attachment(**row.payload["attachment"]).data == shared.data
    assert row.payload[delivery.DRAWN] == delivery.CHART
    with runner.factory() as session:  # names no target: no disclosure, nothing logged for it
        assert list(session.scalars(select(AuditEvent).where(AuditEvent.kind.in_(("disclosure", "withheld"))))) == []


@pytest.mark.parametrize(("values", "why"), [
    ({"roles": ["partner"]}, "no longer an active analyst, chair or coordinator"),
    ({"active": False}, "no longer an active analyst, chair or coordinator"),
])
def test_a_requester_who_may_no_longer_have_the_figures_is_not_sent_the_chart(
        runner: Runner, monkeypatch: pytest.MonkeyPatch, values: dict[str, object], why: str) -> None:
    drawn = counting_draws(monkeypatch)
    ask(runner)
    change(runner.factory, "kim.lau", **values)
    assert deliver(runner.factory, runner.clock) == []
    assert drawn == []  # not even drawn
    row = chart_row(runner.factory)
    assert row.status == "withheld" and row.last_error == f"withheld: kim.lau is {why}"
    with runner.factory() as session:
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.kind == "withheld"))
        assert (event.actor, event.target_ref, event.recipients) == ("worker", None, ["kim.lau"])
        assert event.justification == f"recipient is {why} at delivery"
        assert event.what == f"queued message {row.idempotency_key} not sent (with file " \
                             "oneday-figures-2026-11-01-2026-12-31.png)"


def test_a_role_lost_after_drawing_stops_the_retry(runner: Runner, fake: FakeSlack,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Asked again at every attempt: drawn, then Slack failed the upload, then Kim lost the analyst role."""
    drawn = counting_draws(monkeypatch)
    ask(runner)
    fake.fail_next("files.getUploadURLExternal", 1, "server_error")
    sender = Sender(runner.factory, SlackPort(WebClient(token="xoxb-test", base_url=fake.base_url,
                                                        retry_handlers=[])), clock=runner.clock)
    [row_id] = sender.claim()
    assert sender.deliver(row_id) == "retry" and drawn == [1]
    assert chart_row(runner.factory).payload[delivery.DRAWN] == delivery.CHART
    change(runner.factory, "kim.lau", roles=["partner"])
    runner.clock.advance(timedelta(seconds=30))  # type: ignore[attr-defined]  # due again
    [again] = sender.claim()
    assert sender.deliver(again) == "withheld" and drawn == [1]
    assert fake.calls_to("files.completeUploadExternal") == []


def test_a_retry_sends_the_chart_drawn_the_first_time(runner: Runner, fake: FakeSlack,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = counting_draws(monkeypatch)
    ask(runner)
    fake.fail_next("files.getUploadURLExternal", 2, "ratelimited", retry_after=1)
    sender = Sender(runner.factory, SlackPort(WebClient(token="xoxb-test", base_url=fake.base_url,
                                                        retry_handlers=[])), clock=runner.clock)
    assert sender.drain(timeout=30)
    assert drawn == [1] and len(fake.faults) == 2
    [done] = fake.calls_to("files.completeUploadExternal")
    [shared] = done.args["files"] if isinstance(done.args["files"], list) else [done.args["files"]]
    data = fake.uploaded(shared["id"])
    assert data is not None and data.startswith(PNG)
    fake.assert_no_rejections()


def test_figures_that_do_not_read_back_are_never_drawn_or_sent(runner: Runner) -> None:
    """Whatever rides in a queued chart must be figures: anything else (here a target's reference) stops it."""
    with db.unit_of_work(runner.factory) as session:
        p = session.scalars(select(Partnership)).one()
        figures = compute(session, p, date(2026, 11, 1), date(2026, 12, 31), now=NOW)
        notice = delivery.chart_notice("kim.lau", figures, key="report:odd")
        assert notice.attachment is not None
        spec = json.loads(notice.attachment.content)
        odd = delivery.ChartToDraw(notice.attachment.filename, json.dumps({**spec, "target": "OCG-07"}),
                                   notice.attachment.title)
        enqueue(session, p.id, replace(notice, attachment=odd), now=NOW)
    assert deliver(runner.factory, runner.clock) == []
    row = chart_row(runner.factory)
    assert row.status == "failed" and row.last_error == "cannot draw its file: ValueError: not a figure: target"


def test_the_figures_travel_whole_and_an_undrawn_chart_cannot_be_sent(runner: Runner) -> None:
    with runner.factory() as session:
        p = session.scalars(select(Partnership)).one()
        figures = compute(session, p, date(2026, 9, 1), date(2026, 12, 31), now=NOW)
    assert from_dict(json.loads(json.dumps(to_dict(figures)))) == figures
    notice = delivery.chart_notice("kim.lau", figures, key="k")
    assert isinstance(notice.attachment, delivery.ChartToDraw)
    with pytest.raises(TypeError, match="not drawn yet"):
        _ = notice.attachment.data  # no port can upload the figures' JSON as a picture
    assert notice.message.lines == (render.alt_text(figures),)


@pytest.fixture
def teams(northtown_loaded) -> Iterator[TeamsStack]:  # type: ignore[no-untyped-def]
    clear_proxy_env()
    with FakeTeams() as fake:
        stack = TeamsStack(fake=fake, factory=northtown_loaded).start()
        try:
            yield stack
        finally:
            stack.stop()


def test_a_teams_requester_gets_the_chart_drawn_at_delivery_through_a_consent_card(teams: TeamsStack) -> None:
    teams.clock.set(NOW)
    teams.post(teams.activity("kim.lau", type_="conversationUpdate"))  # Kim installed Oneday
    status, _ = teams.post(teams.activity("kim.lau", "report 2026-11-01 2026-12-31"))
    assert status == 200 and "partnership figures, 2026-11-01 to 2026-12-31" in teams.to("kim.lau")
    assert teams.fake.uploads == {}
    assert teams.inbound is not None and teams.inbound.settle(30)
    assert chart_row(teams.factory).payload["attachment"]["render"] == delivery.CHART  # queued undrawn
    teams.drain()
    kim = teams.fake.personal_of(teams.ids["kim.lau"])
    [consent] = [a for s in teams.fake.sent_to(kim) for a in s.activity.get("attachments") or []
                 if a["contentType"] == "application/vnd.microsoft.teams.card.file.consent"]
    assert consent["name"] == "oneday-figures-2026-11-01-2026-12-31.png"
    accept = {"type": "fileUpload", "action": "accept", "context": consent["content"]["acceptContext"],
              "uploadInfo": {"name": consent["name"], "uploadUrl": teams.fake.upload_url("s1"),
                             "contentUrl": "https://contoso.sharepoint.example/chart.png", "uniqueId": "u1",
                             "fileType": "png"}}
    status, _ = teams.post(teams.activity("kim.lau", type_="invoke", name="fileConsent/invoke", value=accept))
    assert status == 200
    data, _ = teams.fake.uploads["s1"]
    assert data.startswith(PNG) and data == Attachment(**chart_row(teams.factory).payload["attachment"]).data
