"""Need-to-know asked again when a queued message is delivered, through the real Sender and the fake Slack.

A DM about a target (`Notice.about`) reaches its member only if they are still entitled to the target when it is
sent; the sending is logged as a disclosure. One whose member has since lost the entitlement (deactivated, or
their agency's ISP lapsed) is not posted: the row is withheld, the log says so, and the coordinator is told.
The commands name what their DMs are about, so every such DM is checked.

On the sample, OCG-07 is led by tom.ashby; mark.dunn (housing) is in its section; jo.bloggs coordinates.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from actions_support import make_runner, run
from fake_slack import FakeSlack
from slack_requests import clear_proxy_env
from slack_sdk import WebClient
from sqlalchemy import select

from bot import db
from bot.clock import system_clock
from bot.outbox import Sender, enqueue
from bot.slack.port import SlackPort
from commands.chasing.rounds import run_round
from commands.core.replies import Destination, Notice, Reply
from models import Agency, AuditEvent, Member, OutboxMessage, Partnership, Target
from models.planning import entitled_to

CLOCK = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)  # the sender's clock: what rows and the log are stamped with


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    clear_proxy_env()
    with FakeSlack() as f:
        yield f


def sender(factory, fake: FakeSlack, clock=lambda: CLOCK) -> Sender:  # type: ignore[no-untyped-def]
    return Sender(factory, SlackPort(WebClient(token="xoxb-test", base_url=fake.base_url, retry_handlers=[])),
                  clock=clock)


def about_ocg07(to: str = "mark.dunn", key: str = "t:ocg-07") -> Notice:
    return Notice(Destination.member(to), Reply(title="Action #1 on OCG-07 was updated"), key, about=("OCG-07",))


def queue(factory, notice: Notice, now: datetime = CLOCK) -> int:  # type: ignore[no-untyped-def]
    with db.unit_of_work(factory) as session:
        p = session.scalar(select(Partnership))
        assert enqueue(session, p.id, notice, now=now)
        return session.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == notice.key))


def entitled(factory, member: str, ref: str = "OCG-07") -> bool:  # type: ignore[no-untyped-def]
    with factory() as session:
        return entitled_to(session, session.scalar(select(Partnership)), member, ref)


def events(factory, kind: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with factory() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.id)))


def dm_users(fake: FakeSlack) -> list[str]:
    """Whom the sender opened a DM with, in order."""
    return [str(c.args["users"]) for c in fake.calls_to("conversations.open")]


def deactivate(factory) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work(factory) as session:
        session.scalar(select(Member).where(Member.key == "mark.dunn")).active = False


def lapse_isp(factory) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work(factory) as session:
        session.scalar(select(Agency).where(Agency.key == "housing")).isp_signed = "2025-2"


def test_a_dm_to_an_entitled_member_is_sent_and_logged_as_a_disclosure(northtown_loaded, fake: FakeSlack) -> None:  # type: ignore[no-untyped-def]
    assert entitled(northtown_loaded, "mark.dunn")
    row_id = queue(northtown_loaded, about_ocg07())
    assert sender(northtown_loaded, fake).drain(timeout=10)
    [post] = fake.calls_to("chat.postMessage")
    assert post.args["text"] == "Action #1 on OCG-07 was updated" and dm_users(fake) == ["U0MARK"]
    with northtown_loaded() as session:
        row = session.get(OutboxMessage, row_id)
        assert (row.status, row.about) == ("sent", ["OCG-07"])
        ocg07 = session.scalar(select(Target.id).where(Target.ref == "OCG-07"))
    [disclosure] = events(northtown_loaded, "disclosure")
    assert (disclosure.target_ref, disclosure.target_id, disclosure.recipients) == ("OCG-07", ocg07, ["mark.dunn"])
    assert disclosure.at == CLOCK and disclosure.actor == "worker"
    assert "Action #1 on OCG-07 was updated" in disclosure.what and "t:ocg-07" in disclosure.justification
    assert events(northtown_loaded, "withheld") == []
    fake.assert_no_rejections()


def test_a_message_with_no_target_is_not_logged(northtown_loaded, fake: FakeSlack) -> None:  # type: ignore[no-untyped-def]
    queue(northtown_loaded, Notice(Destination.member("mark.dunn"), Reply(title="Weekly digest"), "t:digest"))
    deactivate(northtown_loaded)  # inactive: no account to send to, but nothing about a target to withhold
    assert sender(northtown_loaded, fake).drain(timeout=10)
    with northtown_loaded() as session:
        assert session.scalar(select(OutboxMessage.status)) == "failed"
    assert events(northtown_loaded, "disclosure") == events(northtown_loaded, "withheld") == []


@pytest.mark.parametrize("lose", [deactivate, lapse_isp], ids=["deactivated", "isp-lapsed"])
def test_a_member_no_longer_entitled_at_delivery_is_not_sent_it_and_the_coordinator_is_told(  # type: ignore[no-untyped-def]
        northtown_loaded, fake: FakeSlack, lose) -> None:
    row_id = queue(northtown_loaded, about_ocg07())
    lose(northtown_loaded)  # between queueing and delivery
    assert not entitled(northtown_loaded, "mark.dunn")
    assert sender(northtown_loaded, fake).drain(timeout=10)

    assert "U0MARK" not in dm_users(fake)  # not even a DM opened with them
    [told] = fake.calls_to("chat.postMessage")  # only the coordinator's DM
    assert dm_users(fake) == ["U0JO"] and told.args["channel"] == fake.calls_to("conversations.open")[0].response[
        "channel"]["id"]
    assert told.args["text"] == "A message about OCG-07 to Mark Dunn was not sent"
    assert "Action #1" not in str(told.args)  # the coordinator is told whom and which target, not what it said
    with northtown_loaded() as session:
        row = session.get(OutboxMessage, row_id)
        assert row.status == "withheld" and row.sent_at is None and row.sent_ref is None
        assert row.last_error == "withheld: mark.dunn is no longer entitled to OCG-07"
        [coordinator_row] = session.scalars(select(OutboxMessage).where(OutboxMessage.id != row_id))
        assert (coordinator_row.destination_ref, coordinator_row.about, coordinator_row.status) == (
            "jo.bloggs", ["OCG-07"], "sent")
        assert coordinator_row.idempotency_key == f"withheld:{row_id}:jo.bloggs"
    [withheld] = events(northtown_loaded, "withheld")
    assert (withheld.target_ref, withheld.recipients, withheld.at, withheld.actor) == (
        "OCG-07", ["mark.dunn"], CLOCK, "worker")
    assert "t:ocg-07" in withheld.what and withheld.justification
    # the coordinator's DM names the target, so it is checked too, and logged as the disclosure it is
    [disclosure] = events(northtown_loaded, "disclosure")
    assert (disclosure.target_ref, disclosure.recipients) == ("OCG-07", ["jo.bloggs"])
    # delivering again changes nothing: withheld is final, the coordinator is told once
    assert sender(northtown_loaded, fake).drain(timeout=10)
    assert len(fake.calls_to("chat.postMessage")) == 1 and len(events(northtown_loaded, "withheld")) == 1
    fake.assert_no_rejections()


def test_a_message_about_several_targets_is_withheld_if_any_is_no_longer_entitled(northtown_loaded, fake: FakeSlack) -> None:  # type: ignore[no-untyped-def]
    with northtown_loaded() as session:
        p = session.scalar(select(Partnership))
        refs = list(session.scalars(select(Target.ref).where(Target.partnership_id == p.id).order_by(Target.ref)))
        other = next(r for r in refs if r != "OCG-07" and not entitled_to(session, p, "mark.dunn", r))
    queue(northtown_loaded, Notice(Destination.member("mark.dunn"), Reply(title="Your actions"), "t:two",
                                   about=("OCG-07", other)))
    assert sender(northtown_loaded, fake).drain(timeout=10)
    assert dm_users(fake) == ["U0JO"]
    [withheld] = events(northtown_loaded, "withheld")
    assert withheld.target_ref == other  # only the target they are not entitled to is named
    with northtown_loaded() as session:
        row = session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == "t:two"))
        assert row.status == "withheld" and row.last_error.endswith(f"no longer entitled to {other}")


def test_a_post_that_landed_before_a_crash_is_recorded_sent_though_the_member_lost_the_entitlement(  # type: ignore[no-untyped-def]
        northtown_loaded, fake: FakeSlack) -> None:
    """Withholding cannot unsend: a row that may have reached Slack is looked up first."""
    row_id = queue(northtown_loaded, about_ocg07(), now=system_clock())
    port = SlackPort(WebClient(token="xoxb-test", base_url=fake.base_url, retry_handlers=[]))
    channel = port.open_dm("U0MARK")
    ts = port.post(channel, Reply(title="Action #1 on OCG-07 was updated"), "t:ocg-07", dedupe_id=row_id)
    with db.unit_of_work(northtown_loaded) as session:  # the worker died between the post and recording it
        row = session.get(OutboxMessage, row_id)
        row.status, row.claimed_by, row.channel, row.check_before_send = "sending", "dead:1:0", channel, True
        row.lease_until = system_clock() - timedelta(seconds=1)
    deactivate(northtown_loaded)
    fake.clear()
    assert sender(northtown_loaded, fake, clock=system_clock).drain(timeout=10)
    assert fake.calls_to("chat.postMessage") == []  # neither posted again nor a coordinator told
    with northtown_loaded() as session:
        row = session.get(OutboxMessage, row_id)
        assert (row.status, row.sent_ref) == ("sent", ts)
    [disclosure] = events(northtown_loaded, "disclosure")
    assert disclosure.recipients == ["mark.dunn"] and events(northtown_loaded, "withheld") == []


@pytest.mark.parametrize("to", [Destination.section(1), Destination.space("C0MEET")], ids=["section", "space"])
def test_a_notice_about_a_target_cannot_be_queued_for_a_channel(northtown_loaded, to: Destination) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work(northtown_loaded) as session:
        p = session.scalar(select(Partnership))
        with pytest.raises(ValueError, match="may go to a member only"):
            enqueue(session, p.id, Notice(to, Reply(title="OCG-07"), "t:channel", about=("OCG-07",)), now=CLOCK)
        assert enqueue(session, p.id, Notice(to, Reply(title="Agenda"), "t:plain"), now=CLOCK)


# -- the commands name what their DMs are about ----------------------------------------------------------


def test_every_dm_from_actions_outcomes_notes_and_reminders_names_its_target(northtown_loaded) -> None:  # type: ignore[no-untyped-def]
    runner = make_runner(northtown_loaded)
    results = [
        run(runner, "tom", "action", "OCG-07 @sam.patel check benefits claim in 2 weeks"),  # owner told
        run(runner, "tom", "action", "update 1 visited, no answer"),  # a note: owner told
        run(runner, "tom", "action", "due 1 11/12 awaiting DWP reply"),  # chair and owner told
        run(runner, "tom", "action", "reassign 1 @mark.dunn"),  # new and old owner told
        run(runner, "mark", "outcome", "1 claim suspended pending review benefit-sanction"),  # creator, partners
    ]
    notices = [n for r in results for n in r.notices]
    assert len(results[0].notices) >= 1 and len(results[4].notices) >= 1, [r.reply for r in results]
    run(runner, "tom", "action", "OCG-07 @sam.patel visit the grow address in 2 weeks")  # action #2, open
    with db.unit_of_work(northtown_loaded) as session:
        p = session.scalar(select(Partnership))
        rounds = [run_round(session, p, datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=9, minutes=30))
                  for day in (date(2026, 12, 2), date(2026, 12, 4), date(2026, 12, 7), date(2026, 12, 9),
                              date(2026, 12, 11), date(2026, 12, 15))]
        sam = session.scalar(select(Member).where(Member.key == "sam.patel"))
        sam.out_of_office_until = date(2026, 12, 31)
        rounds.append(run_round(session, p, datetime(2026, 12, 16, 9, 30, tzinfo=UTC)))
    assert any(r.reminded for r in rounds) and any(r.escalated for r in rounds) and any(r.out_of_office for r in rounds)
    notices += [n for r in rounds for n in r.notices]
    to_members = [n for n in notices if n.to.kind == "member"]
    assert len(to_members) >= 8
    assert all(n.about == ("OCG-07",) for n in to_members), [(n.key, n.about) for n in to_members]
    assert all(n.about == () for n in notices if n.to.kind != "member")
    # and what was queued carries it
    with northtown_loaded() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.destination_kind == "member")).all()
        assert rows and all(r.about == ["OCG-07"] for r in rows)
