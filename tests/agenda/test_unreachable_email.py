"""Nobody invited is left out silently (issue 15): invitees with no chat identity on any platform are named in
the publish answer and the coordinator's Home, and get their itinerary by email (times and slots, handling
marking, .ics; no target reference) through the outbox and a real SMTP server on 127.0.0.1 (tests/fake_smtp.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from fake_smtp import FakeSmtp
from slack_harness import SECRET
from slack_requests import send_event
from sqlalchemy import select

from bot.email.port import EmailPort
from bot.email.settings import from_env
from bot.outbox import MAX_ATTEMPTS, Sender
from commands.agenda import reach
from models import AuditEvent, Member, OutboxMessage, Partnership, Target
from models.planning import plan_day

DAY = "2026-12-08"
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # a week before the meeting
LONDON = ZoneInfo("Europe/London")
# The sample's invitees on DAY without a chat identity (CPS, ICB, planning; DVLA and victim service are not invited).
NO_CHAT = {"fay.moss", "paul.kerr", "liz.grey"}


@pytest.fixture
def smtp() -> Iterator[FakeSmtp]:
    with FakeSmtp() as server:
        yield server


@pytest.fixture
def env(slack_env, monkeypatch):  # type: ignore[no-untyped-def]
    slack_env.clock.set(NOW)
    monkeypatch.setattr(reach, "MAIL", reach.MailSetting())  # as configured: nothing set unless a test says so
    return slack_env


def mail_sender(env, smtp: FakeSmtp) -> Sender:  # type: ignore[no-untyped-def]
    """The outbox sender for email rows, on the stack's clock (which also paces: every address is a conversation
    of its own, so a first send never waits)."""
    return Sender(env.factory, EmailPort(from_env({"SMTP_URL": smtp.url, "SMTP_FROM": "oneday@northtown.example"})),
                  clock=env.clock)


def invitees_without_chat(factory) -> dict[str, Member]:  # type: ignore[no-untyped-def]
    with factory() as session:
        p = session.scalar(select(Partnership))
        invited = set(plan_day(session, p, date.fromisoformat(DAY)).itineraries)
        members = {m.key: m for m in session.scalars(select(Member)) if m.key in invited and not m.identities}
        session.expunge_all()
        return members


def every_ref_and_detail(factory) -> list[str]:  # type: ignore[no-untyped-def]
    with factory() as session:
        targets = session.scalars(select(Target)).all()
        return [t.ref for t in targets] + [t.details.summary for t in targets if t.details and t.details.summary]


def open_home(env, user: str) -> str:  # type: ignore[no-untyped-def]
    event = {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home", "event_ts": "1.000001"}
    status, _, _ = send_event(env.url, SECRET, event)
    assert status == 200
    views = [c.args["view"] for c in env.fake.calls_to("views.publish") if c.args["user_id"] == user]
    assert views, f"no home published for {user}"
    return json.dumps(views[-1])


def test_sample_has_five_invitees_without_chat(northtown_loaded) -> None:  # type: ignore[no-untyped-def]
    assert set(invitees_without_chat(northtown_loaded)) == NO_CHAT


def test_publish_names_them_and_emails_itineraries_without_target_references(env, smtp: FakeSmtp) -> None:  # type: ignore[no-untyped-def]
    reach.MAIL.configured = True
    missing = invitees_without_chat(env.factory)
    answer = env.command("U0JO", "/agenda", f"publish {DAY}")
    assert answer.status == 200
    for m in missing.values():
        assert m.name in answer.text and m.email in answer.text
    assert f"{len(missing)} invitees have no chat account" in answer.text
    assert "sent by email" in answer.text
    env.drain()
    assert mail_sender(env, smtp).drain(timeout=30)

    received = {tuple(r.rcpt_tos): r for r in smtp.messages}
    assert sorted(received) == sorted((m.email,) for m in missing.values())
    with env.factory() as session:
        p = session.scalar(select(Partnership))
        day_plan = plan_day(session, p, date.fromisoformat(DAY))
    secrets = every_ref_and_detail(env.factory)
    assert len(secrets) > 10
    for key, member in missing.items():
        r = received[(member.email,)]
        mail = r.message
        assert r.mail_from == "oneday@northtown.example"
        assert mail["To"] == member.email
        subject = str(mail["Subject"]).strip()  # a long subject is folded onto its own line
        assert subject.startswith("[OFFICIAL")
        assert "Tuesday 8 December 2026: your slots" in subject
        body = mail.get_body(("plain",)).get_content()
        assert body.splitlines()[0] in ("OFFICIAL", "OFFICIAL-SENSITIVE")  # the marking at the top
        stops = day_plan.itineraries[key]
        assert stops
        for stop in stops:
            section_time = f"{stop.start.astimezone(LONDON):%H:%M}-{stop.end.astimezone(LONDON):%H:%M}"
            assert section_time in body
            for slot in stop.slots:
                assert f"{slot.start.astimezone(LONDON):%H:%M}-{slot.end.astimezone(LONDON):%H:%M}" in body
        ics_parts = [part for part in mail.iter_attachments() if part.get_content_type() == "text/calendar"]
        assert len(ics_parts) == 1 and ics_parts[0].get_filename() == f"oneday-{DAY}.ics"
        cal = icalendar.Calendar.from_ical(ics_parts[0].get_content())
        events = [e for e in cal.walk("VEVENT")]
        assert sorted(e.decoded("dtstart") for e in events) == sorted(s.start.astimezone(LONDON) for s in stops)
        whole = r.raw.decode("utf-8", "replace") + body + ics_parts[0].get_content()
        leaked = [s for s in secrets if re.search(rf"(?<![\w-]){re.escape(s)}(?![\w-])", whole)]
        assert leaked == [], f"{key}'s email carries {leaked}"

    with env.factory() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.platform == "email")).all()
        assert len(rows) == len(missing) and {r.status for r in rows} == {"sent"}
        assert all(r.about == [] for r in rows)
        # nothing about a target went to them, so nothing was recorded as disclosed to them
        told = {who for e in session.scalars(select(AuditEvent).where(AuditEvent.kind == "disclosure"))
                for who in e.recipients}
        assert not told & (set(missing) | {m.email for m in missing.values()})

    home = open_home(env, "U0JO")
    assert f"no chat platform reaches ({len(missing)})" in home
    for m in missing.values():
        assert f"{m.name} (" in home
    assert home.count("itinerary emailed") == len(missing)


def test_publishing_again_sends_no_second_email(env, smtp: FakeSmtp) -> None:  # type: ignore[no-untyped-def]
    reach.MAIL.configured = True
    env.command("U0JO", "/agenda", f"publish {DAY}")
    env.drain()
    sender = mail_sender(env, smtp)
    assert sender.drain(timeout=30)
    again = env.command("U0JO", "/agenda", f"publish {DAY}")
    assert "already published" in again.text and f"{len(NO_CHAT)} invitees have no chat account" in again.text
    env.drain()
    assert sender.drain(timeout=30)
    assert len(smtp.messages) == len(NO_CHAT)


def test_without_email_the_answer_says_so_and_names_them(env) -> None:  # type: ignore[no-untyped-def]
    missing = invitees_without_chat(env.factory)
    answer = env.command("U0JO", "/agenda", f"publish {DAY}")
    assert "SMTP_URL is not set" in answer.text and "contact them by hand" in answer.text
    for m in missing.values():
        assert m.name in answer.text
    with env.factory() as session:
        assert session.scalars(select(OutboxMessage).where(OutboxMessage.platform == "email")).all() == []
    home = open_home(env, "U0JO")
    assert home.count("not emailed (email is not set up)") == len(missing)


def test_a_partner_does_not_see_the_list(env) -> None:  # type: ignore[no-untyped-def]
    env.command("U0JO", "/agenda", f"publish {DAY}")
    home = open_home(env, "U0SAM")
    assert "no chat platform reaches" not in home
    assert not any(name in home for name in ("Liz Grey", "Fay Moss", "Paul Kerr"))


def email_rows(env) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    with env.factory() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.platform == "email")
                                    .order_by(OutboxMessage.id)))


def test_a_failing_smtp_server_is_retried_then_delivers_once(env, smtp: FakeSmtp) -> None:  # type: ignore[no-untyped-def]
    reach.MAIL.configured = True
    env.command("U0JO", "/agenda", f"publish {DAY}")
    smtp.fail_next(3)
    sender = mail_sender(env, smtp)
    for _ in range(10):
        sender.run_once()
        env.clock.advance(timedelta(minutes=10))  # past any backoff
        if all(r.status == "sent" for r in email_rows(env)):
            break
    rows = email_rows(env)
    assert {r.status for r in rows} == {"sent"}
    assert sum(r.attempts for r in rows) == 3  # each refusal counted against its row
    assert smtp.attempts == len(NO_CHAT) + 3 and len(smtp.messages) == len(NO_CHAT)


def test_a_server_that_keeps_refusing_fails_the_row_with_its_reason(env, smtp: FakeSmtp) -> None:  # type: ignore[no-untyped-def]
    reach.MAIL.configured = True
    env.command("U0JO", "/agenda", f"publish {DAY}")
    smtp.fail_next(1000)
    sender = mail_sender(env, smtp)
    for _ in range(MAX_ATTEMPTS + 2):
        sender.run_once()
        env.clock.advance(timedelta(minutes=10))
    rows = email_rows(env)
    assert {r.status for r in rows} == {"failed"}
    assert {r.attempts for r in rows} == {MAX_ATTEMPTS}
    assert all("451" in (r.last_error or "") for r in rows)
    assert smtp.messages == []
    home = open_home(env, "U0JO")
    assert home.count("itinerary email FAILED") == len(NO_CHAT) and "451" in home


def test_a_mailbox_refused_for_good_fails_at_once(env, smtp: FakeSmtp) -> None:  # type: ignore[no-untyped-def]
    reach.MAIL.configured = True
    env.command("U0JO", "/agenda", f"publish {DAY}")
    smtp.fail_next(1, "550 5.1.1 No such mailbox")
    mail_sender(env, smtp).run_once()
    rows = email_rows(env)
    failed = [r for r in rows if r.status == "failed"]
    assert len(failed) == 1 and failed[0].attempts == 1 and "550" in (failed[0].last_error or "")
    assert len(smtp.messages) == len(NO_CHAT) - 1


def test_an_unreachable_server_is_retried(env) -> None:  # type: ignore[no-untyped-def]
    from processes import free_port

    reach.MAIL.configured = True
    env.command("U0JO", "/agenda", f"publish {DAY}")
    port = EmailPort(from_env({"SMTP_URL": f"smtp://127.0.0.1:{free_port()}"}))  # nothing listens there
    Sender(env.factory, port, clock=env.clock).run_once()
    rows = email_rows(env)
    assert {r.status for r in rows} == {"pending"} and {r.attempts for r in rows} == {1}
    assert all("not reachable" in (r.last_error or "") for r in rows)


def test_an_email_can_never_carry_anything_about_a_target(northtown_loaded) -> None:  # type: ignore[no-untyped-def]
    from bot import db
    from bot.outbox import destination_platform, enqueue
    from commands.core.replies import Destination, Notice, Reply

    to = reach.email_destination("liz.grey@cps.example")
    with db.unit_of_work(northtown_loaded) as session:
        p = session.scalar(select(Partnership))
        assert destination_platform(session, p.id, to) == "email"
        assert destination_platform(session, p.id, Destination.member("liz.grey")) == "slack"  # looked up by email
        assert destination_platform(session, p.id, Destination.space("C0MEET")) == "slack"
        with pytest.raises(ValueError, match="may go to a member only"):
            enqueue(session, p.id, Notice(to, Reply(title="OCG-07"), "test:leak", about=("OCG-07",)), now=NOW)


def test_a_changed_plan_sends_an_updated_email_and_no_repeat(env, smtp: FakeSmtp) -> None:  # type: ignore[no-untyped-def]
    reach.MAIL.configured = True
    env.command("U0JO", "/agenda", f"publish {DAY}")
    sender = mail_sender(env, smtp)
    assert sender.drain(timeout=30)
    first = len(smtp.messages)
    with env.factory() as session:
        p = session.scalar(select(Partnership))
        stops = plan_day(session, p, date.fromisoformat(DAY)).itineraries["fay.moss"]
    skipped = stops[0].slots[0].target  # one of Fay Moss's slots does not come up
    assert env.command("U0JO", "/agenda", f"skip {skipped} {DAY} in custody").status == 200
    with env.factory() as session:
        p = session.scalar(select(Partnership))
        still = "fay.moss" in plan_day(session, p, date.fromisoformat(DAY)).itineraries
    again = env.command("U0JO", "/agenda", f"publish {DAY}")
    assert ("Fay Moss" in again.text) == still  # named while she is invited
    assert sender.drain(timeout=30)
    fay = [r for r in smtp.messages if r.rcpt_tos == ["fay.moss@health.example"]]
    assert len(fay) == 2 and len(smtp.messages) == first + 1  # only the one whose itinerary changed
    latest = fay[-1].message
    assert ("Updated:" if still else "no longer invited") in str(latest["Subject"])
    body = latest.get_body(("plain",)).get_content()
    assert skipped not in body
    ics = next(part for part in latest.iter_attachments()).get_content()
    assert "SEQUENCE:1" in ics
    env.command("U0JO", "/agenda", f"publish {DAY}")  # nothing changed since: nothing sent
    assert sender.drain(timeout=30)
    assert len(smtp.messages) == first + 1


def test_a_publication_by_the_worker_tells_the_coordinators_once(northtown_loaded, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from bot.jobs import follow_partnership_job, publish_agenda_job

    monkeypatch.setattr(reach, "MAIL", reach.MailSetting(configured=True))
    with northtown_loaded() as session:
        p = session.scalar(select(Partnership))
        p.meeting = {**(p.meeting or {}), "dates": [DAY]}
        session.commit()
    assert publish_agenda_job(northtown_loaded, datetime(2026, 12, 3, 9, 0, tzinfo=UTC)) > 0
    follow_partnership_job(northtown_loaded, datetime(2026, 12, 3, 9, 1, tzinfo=UTC))  # re-syncs tell nobody
    with northtown_loaded() as session:
        told = session.scalars(select(OutboxMessage).where(
            OutboxMessage.idempotency_key.like(f"publish:{DAY}:unreachable:%"))).all()
        coordinators = [m.key for m in session.scalars(select(Member)) if m.has_role("coordinator") and m.active]
        assert sorted(r.destination_ref for r in told) == sorted(coordinators) and coordinators
        lines = " ".join(told[0].payload["message"]["lines"])
        for key in NO_CHAT:
            member = session.scalar(select(Member).where(Member.key == key))
            assert member is not None and member.name in lines and member.email in lines
        assert "sent by email" in lines
        assert all(r.about == [] for r in told)
        emails = session.scalars(select(OutboxMessage).where(OutboxMessage.platform == "email")).all()
        assert sorted(r.destination_ref for r in emails) == sorted(
            f"mailto:{session.scalar(select(Member.email).where(Member.key == k))}" for k in NO_CHAT)
