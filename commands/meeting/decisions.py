"""`/decision REF [status] [what was decided]`: the record of a target at the meeting.

- `/decision OCG-07 escalated refer to ROCU tasking`: sets the status and records the decision.
- `/decision OCG-07 discussed`: the status alone. `/decision OCG-07 licence recall requested`: a decision alone.
- `/decision OCG-07`: what is recorded for the target at its latest meeting.
- `/decision`: a form (target, status, decision).

Statuses: discussed, no-update, deferred, escalated, closed. Those who run the day (chair, coordinator) and the
target's lead officer record; anyone entitled to the target may read. The record is against the latest published
meeting, on or before today, that had the target on its agenda; the minutes are built from it. Recorded as
collection in the processing log; nothing is sent to anyone.

A decision that holds personal data is shown to its author first, as an action's wording is
(commands/actions/personal.py): nothing (neither the decision nor the status given with it) is saved until they
edit it or save it as written. The buttons are stateless (`Pending`); a decision too long for a button's value,
and the form, ask through the form instead (its context carries what was found).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select

from commands.actions import personal
from commands.core import access
from commands.core.context import Caller
from commands.core.dates import day_label
from commands.core.errors import FormInvalid, Refused, UsageError
from commands.core.names import command
from commands.core.replies import Button, Form, FormField, Reply, Result
from commands.meeting.sections import latest_section
from models import Decision, DiscussionStatus, Section, Target, TargetDiscussion
from models.audit import record
from models.personal_data import Finding

MAX_TEXT = 2000
STATUS_WORDS = {s.value: s for s in DiscussionStatus} | {"no_update": DiscussionStatus.NO_UPDATE,
                                                         "noupdate": DiscussionStatus.NO_UPDATE}


def _example(caller: Caller) -> str:
    return command(caller.names, "decision", "OCG-07 escalated refer to ROCU tasking")


FORM = "decision.record"
KEEP = "decision.keep"
EDIT = "decision.edit"
NOUN = "The decision"


@dataclass(frozen=True)
class Pending:
    """A decision not yet saved, as it travels in a button value: `kept` is the personal data its author chose
    to keep (personal.token), '' for none."""

    ref: str
    status: DiscussionStatus | None
    text: str
    kept: str = ""

    def value(self, *, kept: str = "") -> str:
        data = {"r": self.ref, "s": self.status.value if self.status else "", "t": self.text}
        return json.dumps(data | ({"p": kept} if kept else {}), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def parse(cls, value: str, caller: Caller) -> Pending:
        try:
            data = json.loads(value)
            return cls(str(data["r"]), DiscussionStatus(data["s"]) if data["s"] else None, str(data["t"]),
                       str(data.get("p", "")))
        except (ValueError, KeyError, TypeError) as exc:
            raise UsageError("this button is out of date: run the command again", example=_example(caller)) from exc


def run(caller: Caller, text: str) -> Result:
    words = text.split(None, 1)
    if not words:
        return Result(Reply(lines=("Opening the decision form.",)), form=_form(caller))
    ref = words[0].strip().upper()
    target = access.require_target(caller, ref, purpose="decision")
    rest = words[1].strip() if len(words) > 1 else ""
    section = latest_section(caller, target)
    if not rest:
        return _show(caller, target, section)
    _require_recorder(caller, target)
    first, _, after = rest.partition(" ")
    status = STATUS_WORDS.get(first.lower().rstrip(":,"))
    decided = after.strip() if status else rest
    return _record(caller, target, section, status, decided)


def _form(caller: Caller, pending: Pending | None = None, found: tuple[Finding, ...] = ()) -> Form:
    """The decision form; with `pending`, filled in, and with `found`, asking about the personal data in it."""
    targets = access.visible_targets(caller)
    if not targets:
        raise UsageError("there is no target you may see, so there is nothing to record a decision on",
                         example=_example(caller))
    intro = "Recorded against the target's latest published meeting, on or before today."
    return Form(callback=FORM, title="Record a decision", submit=personal.KEEP if found else "Record", fields=(
        FormField("target", "Target", "choice", tuple((t.ref, t.ref) for t in targets),
                  initial=pending.ref if pending else None),
        FormField("status", "Status at the meeting", "choice",
                  tuple((s.value, s.value.replace("-", " ")) for s in DiscussionStatus), required=False,
                  initial=pending.status.value if pending and pending.status else None),
        FormField("decision", "What was decided", "multiline", required=False, initial=pending.text if pending else None,
                  hint=f"Up to {MAX_TEXT} characters; it goes into the minutes for those entitled to the target. "
                       "No personal details: they stay in the pack."),
    ), context=personal.context_word(found), intro=f"{intro}\n\n{personal.intro(found, NOUN)}" if found else intro)


def submitted(caller: Caller, values: dict[str, str], context: str) -> Result:
    ref = values.get("target", "").strip()
    status = STATUS_WORDS.get(values.get("status", "").strip().lower()) if values.get("status") else None
    decided = values.get("decision", "").strip()
    errors = {}
    if not ref:
        errors["target"] = "choose a target"
    if status is None and not decided:
        errors["decision"] = "choose a status or write what was decided"
    if len(decided) > MAX_TEXT:
        errors["decision"] = f"at most {MAX_TEXT} characters (this is {len(decided)})"
    if errors:
        raise FormInvalid(errors)
    target = access.require_target(caller, ref, purpose="decision")
    _require_recorder(caller, target)
    return _record(caller, target, latest_section(caller, target), status, decided,
                   kept=personal.context_kept(context), by_form=True)


def keep(caller: Caller, value: str) -> Result:
    """"Save as written": everything is checked again (the button may be old or forged, the text other than
    what its author saw)."""
    pending = Pending.parse(value, caller)
    if pending.status is None and not pending.text.strip():
        raise UsageError("this button is out of date: run the command again", example=_example(caller))
    target = access.require_target(caller, pending.ref, purpose="decision")
    _require_recorder(caller, target)
    return _record(caller, target, latest_section(caller, target), pending.status, pending.text, kept=pending.kept)


def edit(caller: Caller, value: str) -> Result:
    """"Edit": the form, filled in with the decision as typed."""
    pending = Pending.parse(value, caller)
    target = access.require_target(caller, pending.ref, purpose="decision")
    return Result(Reply(lines=("Opening the decision form.",)),
                  form=_form(caller, Pending(target.ref, pending.status, pending.text)))


BUTTONS = {KEEP: keep, EDIT: edit}
FORM_BUTTONS = frozenset({EDIT})  # its answer is the decision form (see commands/core/router.py)


def _ask(caller: Caller, pending: Pending, found: tuple[Finding, ...], *, by_form: bool) -> Result:
    """Nothing saved: the author is told what was found and chooses. Through the form when they used the form,
    or when the decision is too long to travel in a button."""
    kept = pending.value(kept=personal.token(found))
    if by_form or len(kept) > personal.BUTTON_VALUE_MAX:
        return Result(Reply(title=personal.TITLE, lines=personal.lines(found, NOUN)),
                      form=_form(caller, pending, found))
    fields = (("Reference", pending.ref), ("Status", pending.status.value if pending.status else "unchanged"),
              ("Decision", pending.text))
    return personal.ask(found, noun="This decision", fields=fields, edit=Button(personal.EDIT, EDIT, pending.value()),
                        keep=Button(personal.KEEP, KEEP, kept))


def _record(caller: Caller, target: Target, section: Section | None, status: DiscussionStatus | None,
            decided: str, *, kept: str = "", by_form: bool = False) -> Result:
    if len(decided) > MAX_TEXT:
        raise UsageError(f"a decision is at most {MAX_TEXT} characters (this one is {len(decided)}); record the "
                         "detail in the target's file and the decision here", example=_example(caller))
    if section is None:
        raise UsageError(f"{target.ref} has not been on a published agenda up to today: decisions are recorded "
                         "against the meeting that discussed the target", example=_example(caller))
    found = personal.check(caller, decided) if decided else ()
    if not personal.accepted(found, kept):
        return _ask(caller, Pending(target.ref, status, decided), found, by_form=by_form)
    s, pid = caller.session, caller.partnership.id
    said: list[str] = []
    if status is not None:
        row = s.scalar(select(TargetDiscussion).where(TargetDiscussion.section_id == section.id,
                                                      TargetDiscussion.target_id == target.id))
        if row is None:
            row = TargetDiscussion(partnership_id=pid, section_id=section.id, target_id=target.id, status=status,
                                   set_by_id=caller.member.id, at=caller.now)
            s.add(row)
        else:
            row.status, row.set_by_id, row.at = status, caller.member.id, caller.now
        said.append(f"status: {status.value}")
    if decided:
        s.add(Decision(partnership_id=pid, section_id=section.id, target_id=target.id, text=decided,
                       recorded_by_id=caller.member.id, at=caller.now))
        said.append(f"decision: {decided}")
    when = day_label(section.meeting.date, long=True, year=True)
    record(s, at=caller.now, partnership_id=pid, kind="collection", actor=caller.actor,
           actor_member_id=caller.member.id, target_id=target.id, target_ref=target.ref, recipients=[],
           what=f"meeting record: {'status ' + status.value if status else 'decision'}"
                f"{' and decision' if status and decided else ''}{personal.kept_note(found)}",
           justification=f"{section.meeting.date.isoformat()} {section.cohort.key} meeting record")
    return Result(Reply(title=f"Recorded for {target.ref}", lines=(
        f"{section.cohort.name}, {when}.", *said),
        footer=f"The minutes are built from this record. See it again: {command(caller.names, 'decision', target.ref)}"))


def _require_recorder(caller: Caller, target: Target) -> None:
    member = caller.member
    if member.has_role("chair", "coordinator") or target.lead_id == member.id:
        return
    access.log_refusal(caller, target_id=target.id, target_ref=target.ref, what=f"decision: {target.ref}",
                       justification="chair, coordinator or lead officer required")
    raise Refused(f"Only the chair, a coordinator or {target.ref}'s lead officer records its status and "
                  "decisions. Say it at the meeting, or ask the chair to record it.")


def _show(caller: Caller, target: Target, section: Section | None) -> Result:
    if section is None:
        return Result(Reply(title=f"{target.ref}: no meeting record yet", lines=(
            f"{target.ref} has not been on a published agenda up to today.",)))
    s = caller.session
    status = s.scalar(select(TargetDiscussion).where(TargetDiscussion.section_id == section.id,
                                                     TargetDiscussion.target_id == target.id))
    decisions = s.scalars(select(Decision).where(Decision.section_id == section.id, Decision.target_id == target.id)
                          .order_by(Decision.at, Decision.id)).all()
    lines = [f"{section.cohort.name}, {day_label(section.meeting.date, long=True, year=True)}.",
             f"Status: {status.status.value} (set by {status.set_by.name})" if status else "Status: not set yet"]
    lines += [f"Decision ({d.recorded_by.name}): {d.text}" for d in decisions] or ["No decisions recorded yet."]
    record(s, at=caller.now, partnership_id=caller.partnership.id, kind="consultation", actor=caller.actor,
           actor_member_id=caller.member.id, target_id=target.id, target_ref=target.ref,
           recipients=[caller.member.key], what="meeting record shown",
           justification=f"{section.meeting.date.isoformat()} {section.cohort.key} meeting record")
    return Result(Reply(title=f"{target.ref}: meeting record", lines=tuple(lines)))
