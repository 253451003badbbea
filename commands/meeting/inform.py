"""`/inform REF <information>`: a partner brings information about a target to the table.

It goes to the target's lead officer by direct message (never to a channel), is kept for the next pack, where
those entitled to the target see it, and is recorded as collection. Only someone entitled to the target can
inform about it: the refusal is the same whether or not the reference exists, so `/inform` cannot be used to
find out which references are live.
"""

from __future__ import annotations

from commands.core import access
from commands.core.context import Caller
from commands.core.errors import UsageError
from commands.core.names import command
from commands.core.replies import Destination, Notice, Reply, Result
from models import PartnerInformation
from models.audit import record

MAX_TEXT = 2000


def run(caller: Caller, text: str) -> Result:
    example = command(caller.names, "inform", "OCG-07 seen at the Riverside flats with a new vehicle")
    words = text.split(None, 1)
    if not words:
        raise UsageError("say which target, then the information", example=example)
    target = access.require_target(caller, words[0], purpose="inform")
    info = words[1].strip() if len(words) > 1 else ""
    if not info:
        raise UsageError(f"say what you know about {target.ref} after its reference", example=example)
    if len(info) > MAX_TEXT:
        raise UsageError(f"information is at most {MAX_TEXT} characters (this is {len(info)}); send the rest to "
                         f"the lead officer, {target.lead.name}, through your agency's usual route", example=example)
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
           target_id=target.id, target_ref=target.ref, recipients=[lead.key], what="information from a partner",
           justification="brought to the meeting for the lead officer")
    to = "you (the lead officer)" if lead.id == member.id else f"{lead.name}, the lead officer"
    return Result(Reply(title=f"Information on {target.ref} passed on", lines=(
        f"Sent to {to}, and kept for the next pack, where only those entitled to {target.ref} see it.",)),
        notices=notices)
