"""The minutes of each section, built from the meeting's record, edited by the chair and released per member.

- `/agenda minutes 2026-12-08`: the chair's (or a coordinator's) preview of every section's minutes and whether
  they have been released.
- `/agenda minutes 2026-12-08 note gangs <text>`: the chair's note for everyone in that section. It goes to every
  member of the section, so it may not name a target (name targets with `/decision`, which reaches only those
  entitled to them); a note holding personal data is shown to the chair first (commands/actions/personal.py),
  saved only when they press Save as written (checked again then), or sent again edited.
- `/agenda minutes 2026-12-08 release`: each member of each section (and those who run the day) gets, by direct
  message, a Markdown file of that section's minutes holding exactly the targets they are entitled to now (the one
  rule, commands/core/access.py), under the section's handling marking. Each is a notice `about` those targets:
  the outbox asks need-to-know again at delivery and logs each as a disclosure. Releasing again sends only
  minutes that changed.

Minutes are rendered from a Jinja2 template (commands/meeting/templates.py). `document()` gives the same text for
the CLI (Markdown or PDF).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select

from commands.actions import personal
from commands.core import access
from commands.core.context import Caller
from commands.core.dates import day_label
from commands.core.errors import Refused, UsageError
from commands.core.help import example_day
from commands.core.names import command
from commands.core.replies import Attachment, Button, Destination, Notice, Reply, Result
from commands.meeting.sections import meeting_day, published_meeting
from commands.meeting.templates import MINUTES, render_ours
from models import (
    Action,
    ActionStatus,
    Attendance,
    AttendanceStatus,
    Decision,
    Meeting,
    Member,
    Minutes,
    Section,
    Target,
    TargetDiscussion,
)
from models.audit import record
from models.personal_data import Finding

MAX_NOTE = 3000


@dataclass(frozen=True)
class TargetMinute:
    ref: str
    status: str | None
    decisions: tuple[tuple[str, str], ...]  # (recorded by, text)
    actions: tuple[tuple[int, str, str, str], ...]  # (number, text, owner, due or "")


def run(caller: Caller, rest: str) -> Result:
    example = command(caller.names, "agenda", "minutes", example_day(caller.local_now.date()))
    _require_chair(caller)
    words = rest.split(None, 3)
    if not words:
        raise UsageError("say which meeting (its date)", example=example)
    meeting = published_meeting(caller, meeting_day(words[0], example), example)
    if len(words) == 1:
        return _preview(caller, meeting)
    verb = words[1].lower()
    if verb == "release" and len(words) == 2:
        return _release(caller, meeting)
    if verb == "note":
        return _note(caller, meeting, words[2] if len(words) > 2 else "", words[3] if len(words) > 3 else "")
    raise UsageError("after the date: nothing (preview), 'note <section> <text>' or 'release'", example=example)


def _require_chair(caller: Caller) -> None:
    if caller.member.active and caller.member.has_role("chair", "coordinator"):
        return
    access.log_refusal(caller, what="agenda minutes", justification="chair or coordinator role required")
    raise Refused("Only the chair or a coordinator prepares and releases the minutes; you receive yours by direct "
                  "message when they are released.")


def _minutes_row(caller: Caller, section: Section) -> Minutes:
    row = caller.session.scalar(select(Minutes).where(Minutes.section_id == section.id))
    if row is None:
        row = Minutes(partnership_id=caller.partnership.id, section_id=section.id, note="")
        caller.session.add(row)
    return row


def _note(caller: Caller, meeting: Meeting, key: str, text: str, *, kept: str = "") -> Result:
    example = command(caller.names, "agenda", "minutes", meeting.date.isoformat(), "note", "gangs",
                      "next meeting moves to the town hall")
    section = next((s for s in meeting.sections if s.cohort.key == key.lower()), None)
    if section is None:
        keys = ", ".join(s.cohort.key for s in meeting.sections)
        raise UsageError(f"'{key[:40]}' is not a section of that meeting (its sections: {keys})", example=example)
    text = text.strip()
    if len(text) > MAX_NOTE:
        raise UsageError(f"a note is at most {MAX_NOTE} characters (this one is {len(text)})", example=example)
    named = _refs_in(caller, text)
    if named:
        raise UsageError(f"the note names {', '.join(named)}: a note goes to everyone in the section, so name "
                         f"targets with {command(caller.names, 'decision', named[0], '...')} instead, which reaches "
                         "only those entitled to them", example=example)
    found = personal.check(caller, text)
    if not personal.accepted(found, kept):
        return _ask(caller, meeting, section, text, found)
    row = _minutes_row(caller, section)
    row.note, row.edited_by_id, row.edited_at = text, caller.member.id, caller.now
    said = "Note removed" if not text else "Note saved"
    return Result(Reply(lines=(f"{said} for the {section.cohort.name} minutes. Release them with "
                               f"{command(caller.names, 'agenda', 'minutes', meeting.date.isoformat(), 'release')}.",)))


def _value(meeting: Meeting, section: Section, text: str, kept: str = "") -> str:
    data = {"d": meeting.date.isoformat(), "k": section.cohort.key, "t": text} | ({"p": kept} if kept else {})
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _ask(caller: Caller, meeting: Meeting, section: Section, text: str, found: tuple[Finding, ...]) -> Result:
    """Nothing saved: the chair is told what was found and chooses. A note too long to travel in a button can
    only be edited."""
    kept = _value(meeting, section, text, personal.token(found))
    ask = personal.ask(found, noun="This note", fields=(("Section", section.cohort.name), ("Note", text)),
                       edit=Button(personal.EDIT, NOTE_EDIT, _value(meeting, section, text)),
                       keep=Button(personal.KEEP, NOTE_KEEP, kept))
    if len(kept) <= personal.BUTTON_VALUE_MAX:
        return ask
    return Result(replace(ask.reply, lines=(
        *ask.reply.lines[:2], f"It is too long ({len(text)} characters) to save as written from a button: edit it "
                              "to take them out. Nothing is saved until you do."), buttons=ask.reply.buttons[:1]))


def _pressed(caller: Caller, value: str) -> tuple[Meeting, str, str, str]:
    """(meeting, section key, text, kept) from a note's button, the chair's role and the meeting checked again."""
    _require_chair(caller)
    example = command(caller.names, "agenda", "minutes", example_day(caller.local_now.date()))
    try:
        data = json.loads(value)
        day, key, text, kept = str(data["d"]), str(data["k"]), str(data["t"]), str(data.get("p", ""))
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError("this button is out of date: run the command again", example=example) from exc
    return published_meeting(caller, meeting_day(day, example), example), key, text, kept


def keep_note(caller: Caller, value: str) -> Result:
    """"Save as written": checked again; saved only if it holds just what the chair saw."""
    meeting, key, text, kept = _pressed(caller, value)
    return _note(caller, meeting, key, text, kept=kept)


def edit_note(caller: Caller, value: str) -> Result:
    """"Edit": the command to send again, each detail found replaced by what kind it was."""
    meeting, key, text, _kept = _pressed(caller, value)
    return Result(Reply(title="Edit the note", lines=(
        "Nothing was saved. Send it again without the personal details, for example:",
        command(caller.names, "agenda", "minutes", meeting.date.isoformat(), "note", key,
                personal.redacted(text, personal.check(caller, text))))))


NOTE_KEEP = "minutes.note.keep"
NOTE_EDIT = "minutes.note.edit"
BUTTONS = {NOTE_KEEP: keep_note, NOTE_EDIT: edit_note}


def _refs_in(caller: Caller, text: str) -> list[str]:
    words = {w.upper() for w in re.findall(r"[A-Za-z0-9][A-Za-z0-9-]*", text)}
    refs = caller.session.scalars(select(Target.ref).where(Target.partnership_id == caller.partnership.id))
    return sorted(r for r in refs if r.upper() in words)


# ------------------------------------------------------------------------------------------ building


def _targets(caller: Caller, section: Section) -> list[Target]:
    refs = list(section.target_refs or [])
    found = {t.ref: t for t in caller.session.scalars(select(Target).where(
        Target.partnership_id == caller.partnership.id, Target.ref.in_(refs)))}
    return [found[r] for r in refs if r in found]


def _target_minutes(caller: Caller, section: Section, targets: list[Target]) -> dict[str, TargetMinute]:
    s, ids = caller.session, [t.id for t in targets]
    tz = ZoneInfo(caller.partnership.timezone)
    statuses = {d.target_id: d.status.value for d in s.scalars(select(TargetDiscussion).where(
        TargetDiscussion.section_id == section.id))}
    decisions: dict[int, list[tuple[str, str]]] = {}
    for d in s.scalars(select(Decision).where(Decision.section_id == section.id).order_by(Decision.at, Decision.id)):
        decisions.setdefault(d.target_id, []).append((d.recorded_by.name, d.text))
    day = section.meeting.date
    actions: dict[int, list[tuple[int, str, str, str]]] = {}
    for a in s.scalars(select(Action).where(Action.partnership_id == caller.partnership.id,
                                            Action.target_id.in_(ids),
                                            or_(Action.status == ActionStatus.OPEN,
                                                Action.created_at >= section.starts_at))
                       .order_by(Action.number)):
        if a.status != ActionStatus.OPEN and a.created_at.astimezone(tz).date() != day:
            continue
        due = day_label(a.due, day, weekday=False) if a.due else ""
        actions.setdefault(a.target_id, []).append((a.number, a.text, a.owner.name, due))
    return {t.ref: TargetMinute(t.ref, statuses.get(t.id), tuple(decisions.get(t.id, ())),
                                tuple(actions.get(t.id, ()))) for t in targets}


def document(caller: Caller, section: Section, member: Member) -> tuple[str, tuple[str, ...]]:
    """The section's minutes as `member` may read them: (Markdown text, the target references it holds)."""
    targets = _targets(caller, section)
    mine = [t for t in targets if access.member_may_see(caller, member, t)]
    minutes = _target_minutes(caller, section, mine)
    s = caller.session
    tz = ZoneInfo(caller.partnership.timezone)
    present: dict[str, list[str]] = {}
    apologies: list[str] = []
    for a in s.scalars(select(Attendance).where(Attendance.section_id == section.id)):
        if a.status == AttendanceStatus.PRESENT:
            present.setdefault(a.member.agency.name, []).append(a.member.name)
        else:
            apologies.append(f"{a.member.name} ({a.member.agency.name})"
                             + (f", substitute {a.substitute.name}" if a.substitute else ""))
    note = s.scalar(select(Minutes.note).where(Minutes.section_id == section.id)) or ""
    text = render_ours(MINUTES, {
        "handling": section.cohort.handling, "section": section.cohort.name,
        "day": day_label(section.meeting.date, long=True, year=True), "partnership": caller.partnership.name,
        "times": f"{section.starts_at.astimezone(tz):%H:%M}-{section.ends_at.astimezone(tz):%H:%M}",
        "present": sorted((k, sorted(v)) for k, v in present.items()), "apologies": sorted(apologies),
        "note": note, "targets": [minutes[t.ref] for t in mine]})
    return text, tuple(t.ref for t in mine)


def _recipients(caller: Caller, section: Section) -> list[Member]:
    invited = {i.member_id for i in section.invitations if i.member_id is not None and not i.excluded}
    runners = {m.id for m in access.active_with_role(caller.session, caller.partnership.id, "chair")}
    runners |= {m.id for m in access.active_with_role(caller.session, caller.partnership.id, "coordinator")}
    members = caller.session.scalars(select(Member).where(Member.id.in_(invited | runners), Member.active.is_(True))
                                     .order_by(Member.key))
    return [m for m in members if access.may_see_section(replace(caller, member=m), section)]


# ------------------------------------------------------------------------------------------ preview, release


def _preview(caller: Caller, meeting: Meeting) -> Result:
    lines: list[str] = []
    for section in meeting.sections:
        row = caller.session.scalar(select(Minutes).where(Minutes.section_id == section.id))
        state = "draft"
        if row is not None and row.released_at is not None:
            released = row.released_at.astimezone(ZoneInfo(caller.partnership.timezone)).date()
            state = f"released {day_label(released, meeting.date, weekday=False)}"
        text, refs = document(caller, section, caller.member)
        lines += [f"--- {section.cohort.name} ({state})", *text.splitlines()]
        for ref in refs:
            target = next(t for t in _targets(caller, section) if t.ref == ref)
            record(caller.session, at=caller.now, partnership_id=caller.partnership.id, kind="consultation",
                   actor=caller.actor, actor_member_id=caller.member.id, target_id=target.id, target_ref=ref,
                   recipients=[caller.member.key], what="minutes preview",
                   justification=f"{meeting.date.isoformat()} {section.cohort.key} minutes")
    release = command(caller.names, "agenda", "minutes", meeting.date.isoformat(), "release")
    return Result(Reply(title=f"Minutes for {day_label(meeting.date, long=True, year=True)} (preview)",
                        lines=tuple(lines),
                        footer=f"Release: {release}. Each member gets only the targets they are entitled to."))


def _release(caller: Caller, meeting: Meeting) -> Result:
    notices: list[Notice] = []
    when = day_label(meeting.date, long=True, year=True)
    for section in meeting.sections:
        row = _minutes_row(caller, section)
        row.released_by_id, row.released_at = caller.member.id, caller.now
        for member in _recipients(caller, section):
            text, refs = document(caller, section, member)
            digest = hashlib.sha256(text.encode()).hexdigest()[:16]
            notices.append(Notice(
                to=Destination.member(member.key), key=f"minutes:{section.id}:{member.key}:{digest}", about=refs,
                message=Reply(title=f"Minutes: {section.cohort.name}, {when}",
                              lines=(f"{section.cohort.handling}. The minutes of the section, with the targets you "
                                     "are entitled to, are attached.",)),
                attachment=Attachment(filename=f"minutes-{meeting.date.isoformat()}-{section.cohort.key}.md",
                                      content=text,
                                      title=f"Minutes {section.cohort.name} {meeting.date.isoformat()}")))
    return Result(Reply(title="Minutes released", lines=(
        f"{len(notices)} copies of the minutes for {when} queued, each with only the targets its reader is entitled "
        "to. Releasing again sends only minutes that changed.",)), notices=tuple(notices))
