"""`/inform REF <information>`: a partner brings information about a target to the table.

It goes to the target's lead officer by direct message (never to a channel), is kept for the next pack, where
those entitled to the target see it, and is recorded as collection. Only someone entitled to the target can
inform about it: the refusal is the same whether or not the reference exists, so `/inform` cannot be used to
find out which references are live.

Information that holds personal data is shown to its author first, as an action's wording is
(commands/actions/personal.py): nothing is kept or sent until they send it as written (a stateless button:
everything is checked again when it is pressed) or edit it ("Edit" shows the command again with the details
taken out, to send instead).
"""

from __future__ import annotations

import json

from commands.actions import personal
from commands.core import access
from commands.core.context import Caller
from commands.core.errors import UsageError
from commands.core.names import command
from commands.core.replies import Button, Destination, Notice, Reply, Result
from models import PartnerInformation, Target
from models.audit import record
from models.personal_data import Finding

MAX_TEXT = 2000
KEEP = "inform.keep"
EDIT = "inform.edit"


def _example(caller: Caller) -> str:
    return command(caller.names, "inform", "OCG-07 seen at the Riverside flats with a new vehicle")


def run(caller: Caller, text: str) -> Result:
    words = text.split(None, 1)
    if not words:
        raise UsageError("say which target, then the information", example=_example(caller))
    target = access.require_target(caller, words[0], purpose="inform")
    return _inform(caller, target, words[1].strip() if len(words) > 1 else "")


def _value(target: Target, info: str, kept: str = "") -> str:
    data = {"r": target.ref, "t": info} | ({"p": kept} if kept else {})
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _parse(caller: Caller, value: str) -> tuple[Target, str, str]:
    """(the target, the information, the personal data its author chose to keep) from a button's value, the
    target checked again: the button may outlive the right to press it."""
    try:
        data = json.loads(value)
        ref, info, kept = str(data["r"]), str(data["t"]), str(data.get("p", ""))
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError("this button is out of date: run the command again", example=_example(caller)) from exc
    return access.require_target(caller, ref, purpose="inform"), info, kept


def keep(caller: Caller, value: str) -> Result:
    """"Send as written": checked again; sent only if it holds just what its author saw."""
    target, info, kept = _parse(caller, value)
    return _inform(caller, target, info, kept=kept)


def edit(caller: Caller, value: str) -> Result:
    """"Edit": the command to send again, each detail found replaced by what kind it was."""
    target, info, _kept = _parse(caller, value)
    return Result(Reply(title="Edit the information", lines=(
        "Nothing was sent. Send it again without the personal details, for example:",
        command(caller.names, "inform", target.ref, personal.redacted(info, personal.check(caller, info))))))


BUTTONS = {KEEP: keep, EDIT: edit}


def _ask(caller: Caller, target: Target, info: str, found: tuple[Finding, ...]) -> Result:
    kept = _value(target, info, personal.token(found))
    ask = personal.ask(found, noun="This information", fields=(("Reference", target.ref), ("Information", info)),
                       edit=Button(personal.EDIT, EDIT, _value(target, info)), keep=Button(personal.KEEP, KEEP, kept))
    if len(kept) <= personal.BUTTON_VALUE_MAX:
        return ask
    return Result(Reply(title=ask.reply.title, lines=(
        *personal.lines(found, "This information")[:2],
        f"It is too long ({len(info)} characters) to send as written from a button: edit it to take them out, "
        "or shorten it. Nothing is sent until you choose."), fields=ask.reply.fields,
        buttons=ask.reply.buttons[:1]))


def _inform(caller: Caller, target: Target, info: str, *, kept: str = "") -> Result:
    if not info:
        raise UsageError(f"say what you know about {target.ref} after its reference", example=_example(caller))
    if len(info) > MAX_TEXT:
        raise UsageError(f"information is at most {MAX_TEXT} characters (this is {len(info)}); send the rest to "
                         f"the lead officer, {target.lead.name}, through your agency's usual route",
                         example=_example(caller))
    found = personal.check(caller, info)
    if not personal.accepted(found, kept):
        return _ask(caller, target, info, found)
    s, pid, member = caller.session, caller.partnership.id, caller.member
    row = PartnerInformation(partnership_id=pid, target_id=target.id, text=info, from_id=member.id, at=caller.now)
    s.add(row)
    s.flush()
    lead = target.lead
    notices: tuple[Notice, ...] = ()
    if lead.id != member.id:
        notices = (Notice(
            to=Destination.member(lead.key), key=f"inform:{row.id}", about=(target.ref,),
            message=Reply(title=f"Information on {target.ref} from {member.name} ({member.agency.name})",
                          lines=(info,),
                          footer="Brought to the table through Oneday; it will be in the next pack for those "
                                 "entitled to this target.")),)
    record(s, at=caller.now, partnership_id=pid, kind="collection", actor=caller.actor, actor_member_id=member.id,
           target_id=target.id, target_ref=target.ref, recipients=[lead.key],
           what=f"information from a partner{personal.kept_note(found)}",
           justification="brought to the meeting for the lead officer")
    to = "you (the lead officer)" if lead.id == member.id else f"{lead.name}, the lead officer"
    return Result(Reply(title=f"Information on {target.ref} passed on", lines=(
        f"Sent to {to}, and kept for the next pack, where only those entitled to {target.ref} see it.",)),
        notices=notices)
