"""Minutes through the runner on the Northtown sample, after a meeting cycle (publish, attendance, decisions,
actions): the chair previews, notes and releases; each member's copy holds exactly the targets they are entitled
to (checked against the one rule, models.planning.entitled_to, not the code that built the copies), under the
handling marking; a note naming a target is refused; releasing again sends nothing new.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from actions_support import reply_text
from sqlalchemy import func, select

from bot import db
from bot.clock import TickingClock
from bot.config import DEFAULT_COMMANDS
from bot.runner import Request, Runner
from commands.core.replies import Result
from commands.meeting.templates import render_theirs
from models import OutboxMessage, Partnership, Section, Target
from models.planning import entitled_to

PUBLISHED = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def say(runner: Runner, user: str, intent: str, text: str, channel: str | None = None) -> Result:
    return runner.run(Request("slack", "T0TEST", user, intent, text, channel=channel), lambda _u: None)


@pytest.fixture
def cycle(northtown_loaded):  # type: ignore[no-untyped-def]
    clock = TickingClock(PUBLISHED)
    runner = Runner(factory=northtown_loaded, names=dict(DEFAULT_COMMANDS), clock=clock)
    assert "Published the agenda" in reply_text(say(runner, "U0JO", "agenda", "publish 2026-12-08"))
    with db.unit_of_work(northtown_loaded) as session:
        for s in session.scalars(select(Section)):
            s.space_ref = f"C0{s.cohort.key.upper().replace('-', '')}"
        ocg = session.scalar(select(Section).where(Section.space_ref == "C0OCG"))
        assert ocg is not None
        starts = ocg.starts_at
    clock.set(starts + timedelta(minutes=5))
    say(runner, "U0SAM", "agenda", "here", channel="C0OCG")
    say(runner, "U0TOM", "agenda", "here", channel="C0OCG")
    assert "Recorded for OCG-07" in reply_text(say(runner, "U0ROSE", "decision", "OCG-07 escalated refer to ROCU"))
    assert "recorded" in reply_text(say(runner, "U0TOM", "action", "OCG-07 @sam.patel check benefits claim by Friday"))
    return runner, clock


def outbox(factory, pattern: str) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    with factory() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key.like(pattern))))


def test_each_member_gets_exactly_the_targets_they_are_entitled_to(cycle) -> None:  # type: ignore[no-untyped-def]
    runner, _clock = cycle
    released = say(runner, "U0ROSE", "agenda", "minutes 2026-12-08 release")
    assert "copies of the minutes for Tuesday 8 December 2026 queued" in reply_text(released)
    notices = released.notices
    assert notices
    with runner.factory() as session:
        p = session.scalar(select(Partnership))
        assert p is not None
        all_refs = set(session.scalars(select(Target.ref)))
        sections = {s.id: s for s in session.scalars(select(Section))}
        checked = 0
        for n in notices:
            assert n.attachment is not None and n.to.kind == "member"
            section_id = int(n.key.split(":")[1])
            section = sections[section_id]
            expected = {r for r in section.target_refs if entitled_to(session, p, n.to.ref, r, now=PUBLISHED)}
            assert set(n.about) == expected, (n.to.ref, section.cohort.key)
            text = n.attachment.content
            shown = {w for w in re.findall(r"[A-Z]+-\d+", text)} & all_refs
            assert shown == expected, (n.to.ref, section.cohort.key, shown ^ expected)
            assert text.startswith(section.cohort.handling) and text.rstrip().endswith("Do not pass it on.")
            checked += 1
        # someone in the OCG section who is not entitled to every one of its targets got a copy without them
        ocg = next(s for s in sections.values() if s.space_ref == "C0OCG")
        partial = [n for n in notices if n.key.startswith(f"minutes:{ocg.id}:") and set(n.about) < set(ocg.target_refs)]
        assert partial, "the sample should have a member entitled to only some OCG targets"
    sam = next(n for n in notices if n.to.ref == "sam.patel" and n.key.startswith(f"minutes:{ocg.id}:"))
    assert sam.attachment is not None
    assert "- Status: escalated" in sam.attachment.content and "refer to ROCU" in sam.attachment.content
    assert "check benefits claim" in sam.attachment.content and "(Sam Patel, due" in sam.attachment.content
    assert "Department for Work and Pensions: Sam Patel" in sam.attachment.content
    assert checked == len(notices)


def test_releasing_again_sends_only_what_changed(cycle) -> None:  # type: ignore[no-untyped-def]
    runner, _clock = cycle
    say(runner, "U0ROSE", "agenda", "minutes 2026-12-08 release")
    first = len(outbox(runner.factory, "minutes:%"))
    say(runner, "U0ROSE", "agenda", "minutes 2026-12-08 release")
    assert len(outbox(runner.factory, "minutes:%")) == first
    # a note changes every copy of that section's minutes, and only those
    said = reply_text(say(runner, "U0ROSE", "agenda", "minutes 2026-12-08 note ocg next meeting at the town hall"))
    assert "Note saved for the Organised crime groups minutes" in said
    say(runner, "U0ROSE", "agenda", "minutes 2026-12-08 release")
    with runner.factory() as session:
        ocg = session.scalar(select(Section).where(Section.space_ref == "C0OCG"))
        assert ocg is not None
        ocg_copies = session.scalar(select(func.count(OutboxMessage.id)).where(
            OutboxMessage.idempotency_key.like(f"minutes:{ocg.id}:%"))) or 0
    added = len(outbox(runner.factory, "minutes:%")) - first
    assert added > 0 and added == ocg_copies // 2


def test_a_note_naming_a_target_is_refused_and_only_the_chair_prepares(cycle) -> None:  # type: ignore[no-untyped-def]
    runner, _clock = cycle
    said = reply_text(say(runner, "U0ROSE", "agenda", "minutes 2026-12-08 note ocg OCG-07 is moving away"))
    assert "the note names OCG-07: a note goes to everyone in the section" in said
    assert "Only the chair or a coordinator prepares and releases the minutes" in reply_text(
        say(runner, "U0SAM", "agenda", "minutes 2026-12-08"))
    assert "no meeting is published for" in reply_text(say(runner, "U0ROSE", "agenda", "minutes 2026-12-09"))
    preview = reply_text(say(runner, "U0ROSE", "agenda", "minutes 2026-12-08"))
    assert "--- Organised crime groups (draft)" in preview and "### OCG-07" in preview
    assert outbox(runner.factory, "minutes:%") == []


def test_partnership_wording_renders_sandboxed() -> None:
    assert render_theirs("Shared for {{ meeting }} only & in confidence", {"meeting": "8 Dec"}) == (
        "Shared for 8 Dec only & in confidence")  # chat text: the platform renderer escapes it
    assert render_theirs("{{ name }}", {"name": "<b>&</b>"}, html=True) == "&lt;b&gt;&amp;&lt;/b&gt;"
    unsafe = "{{ ''.__class__.__mro__[1].__subclasses__() }}"
    assert render_theirs(unsafe, {}) == unsafe  # the sandbox refuses; the text stands as written
    assert render_theirs("{% broken", {}) == "{% broken"


def test_the_samples_statement_is_a_template_filled_for_the_section(cycle) -> None:  # type: ignore[no-untyped-def]
    from commands.agenda.pack import statement

    runner, _clock = cycle
    with runner.factory() as session:
        ocg = session.scalar(select(Section).where(Section.space_ref == "C0OCG"))
        assert ocg is not None
        assert statement(ocg).startswith("Information shared in the Organised crime groups section on Tuesday 8 "
                                         "December 2026 is OFFICIAL-SENSITIVE, shared under the Northtown ISP")


def test_the_cli_writes_one_members_copy_as_pdf_0600_and_logs_the_disclosure(  # type: ignore[no-untyped-def]
        cycle, sqlite_db_url: str, tmp_path, monkeypatch) -> None:
    import stat

    import typer
    from typer.testing import CliRunner

    from bot import cli
    from bot.cli_agenda import agenda_app
    from models import AuditEvent

    monkeypatch.setattr(cli.State, "settings", cli.State.settings)
    root = typer.Typer()
    root.callback()(cli._global)
    root.add_typer(agenda_app, name="agenda")
    args = ["--database-url", sqlite_db_url, "agenda", "minutes", "--date", "2026-12-08", "--member", "sam.patel",
            "--section", "ocg"]
    md = CliRunner().invoke(root, args)
    assert md.exit_code == 0, md.output
    assert md.stdout.startswith("OFFICIAL-SENSITIVE") and "### OCG-07" in md.stdout
    pdf_path = tmp_path / "minutes.pdf"
    pdf = CliRunner().invoke(root, [*args, "--format", "pdf", "-o", str(pdf_path)])
    assert pdf.exit_code == 0, pdf.output
    assert pdf_path.read_bytes().startswith(b"%PDF-")
    assert stat.S_IMODE(pdf_path.stat().st_mode) == 0o600
    with cycle[0].factory() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.kind == "disclosure",
                                                          AuditEvent.what == "minutes exported (pdf)")).all()
        assert events and all(e.recipients == ["sam.patel"] and e.actor.startswith("os:") for e in events)
        assert "OCG-07" in {e.target_ref for e in events}
    bad = CliRunner().invoke(root, [*args, "--format", "docx"])
    assert bad.exit_code == 2 and "--format is md or pdf, not 'docx'" in bad.output
    nobody = CliRunner().invoke(root, [*args[:6], "--member", "nobody", "--section", "ocg"])
    assert nobody.exit_code == 2 and "'nobody' is not an active member of" in nobody.output


def _note(factory) -> str | None:  # type: ignore[no-untyped-def]
    from models import Minutes

    with factory() as session:
        return session.scalar(select(Minutes.note).join(Section, Minutes.section_id == Section.id)
                              .where(Section.space_ref == "C0OCG"))


def test_a_note_with_personal_data_is_shown_to_the_chair_first(cycle) -> None:  # type: ignore[no-untyped-def]
    from actions_support import press

    runner, _clock = cycle
    asked = say(runner, "U0ROSE", "agenda", "minutes 2026-12-08 note ocg call the venue on 07700 900123")
    assert asked.reply.title == "Check for personal details"
    assert asked.reply.lines[0] == "This note contains a phone number (07700 900123)."
    buttons = {b.label: (b.action, b.value) for b in asked.reply.buttons}
    assert list(buttons) == ["Edit", "Save as written"]
    assert _note(runner.factory) is None  # nothing saved
    edit = press(runner, "rose", *buttons["Edit"])
    assert edit.reply.lines[-1] == "/agenda minutes 2026-12-08 note ocg call the venue on [phone number]"
    assert _note(runner.factory) is None
    # only the chair or a coordinator may save it, even with the button
    assert "Only the chair or a coordinator" in reply_text(press(runner, "sam", *buttons["Save as written"]))
    assert _note(runner.factory) is None
    action_id, value = buttons["Save as written"]
    again = press(runner, "rose", action_id, value.replace("900123", "900999"))  # not what the chair saw
    assert again.reply.title == "Check for personal details" and _note(runner.factory) is None
    saved = press(runner, "rose", action_id, value)
    assert "Note saved for the Organised crime groups minutes" in reply_text(saved)
    assert _note(runner.factory) == "call the venue on 07700 900123"
