"""`/agenda onward <REF> @member <reason>`: onward disclosure with the chair's approval (MAPPA-style).

Need-to-know decides who sees a target; sometimes someone outside its slot needs to know (a probation officer
new to the case, a safeguarding lead). A member entitled to the target asks; a chair decides in chat; the
recipient sees the target's pack once, in a private modal; every step is in the processing log:

1. the request (`collection`: who asked, for whom, the reason's length, never the reason itself in the log);
   each active chair gets a DM about it with Approve / Refuse buttons (chairs are entitled to every target);
2. the decision: approval (`alteration`) or refusal (`refusal`); the requester is told either way; on approval
   the recipient gets a DM that names no target (they are not entitled to it: the outbox would withhold a
   message naming it) with a View once button;
3. the disclosure: the recipient presses View once; the pack is shown in a modal and recorded (`disclosure`,
   recipient named, and `consultation`); a second press, or anyone else's, is refused and logged.

The request is checked again at each step: the target must still exist and not be erased, the approver must
still be a chair, and the recipient must still be an active member whose agency has signed the current ISP.
"""

from __future__ import annotations

from sqlalchemy import select

from commands.actions.common import checked
from commands.core import access, mentions
from commands.core.context import Caller
from commands.core.errors import Refused, UsageError
from commands.core.names import command
from commands.core.replies import Button, Destination, Emphasis, Notice, Reply, Result
from models import Member, OnwardRequest, OnwardStatus, PartnerView, Target, TargetErasure
from models.audit import record

APPROVE, REFUSE, VIEW = "onward.approve", "onward.refuse", "onward.view"
REASON_MAX = 500


def example(caller: Caller) -> str:
    return command(caller.names, "agenda", "onward", "OCG-07", "@bea.morris",
                   "new offender manager for two of its members from Monday")


def run(caller: Caller, text: str) -> Result:
    """Ask for a target's pack to be shared with someone outside its slot."""
    words = text.split(None, 2)
    if len(words) < 3:
        raise UsageError(f"'{command(caller.names, 'agenda', 'onward')}' takes a target reference, the person to "
                         "share it with and why", example=example(caller))
    ref_word, who, why = words
    if not mentions.is_mention(who):
        raise UsageError(f"name the person to share it with with @ and their member key, not {mentions.shown(who)}",
                         example=example(caller))
    reason = checked(why, limit=REASON_MAX, missing="why they need it", noun="The reason", example=example(caller))
    target = access.require_target(caller, ref_word, purpose="onward disclosure request")
    recipient = mentions.resolve(caller, who, example=example(caller))
    if access.member_may_see(caller, recipient, target):
        raise UsageError(f"{recipient.name} is already entitled to {target.ref}: they can open its pack themselves",
                         example=example(caller))
    problem = _cannot_receive(caller, recipient)
    if problem:
        raise UsageError(f"{recipient.name} can't receive it: {problem}", example=example(caller))
    chairs = access.active_with_role(caller.session, caller.partnership.id, "chair")
    if not chairs:
        raise UsageError(f"{caller.partnership.name} has no active chair to approve it: ask your coordinator",
                         example=example(caller))
    request = OnwardRequest(partnership_id=caller.partnership.id, target_id=target.id,
                            requested_by_id=caller.member.id, recipient_id=recipient.id, reason=reason,
                            status=OnwardStatus.PENDING, created_at=caller.now)
    caller.session.add(request)
    caller.session.flush()
    record(caller.session, at=caller.now, partnership_id=caller.partnership.id, kind="collection",
           actor=caller.actor, actor_member_id=caller.member.id, target_id=target.id, target_ref=target.ref,
           recipients=[recipient.key], what=f"onward disclosure request {request.id}: {target.ref} to "
                                            f"{recipient.key} ({recipient.agency.key}), awaiting a chair",
           justification=f"asked by {caller.member.key}; reason given ({len(reason)} characters)")
    ask = Reply(title=f"Onward disclosure request: {target.ref}",
                lines=(f"{caller.member.name} ({caller.member.agency.name}) asks to share {target.ref}'s pack "
                       f"with {recipient.name} ({recipient.agency.name}), who is not in its slot.",
                       f"Why: {reason}",
                       "If you approve, they can open it once, privately; it is recorded in the processing log."),
                buttons=(Button("Approve", APPROVE, str(request.id), Emphasis.PRIMARY),
                         Button("Refuse", REFUSE, str(request.id), Emphasis.DESTRUCTIVE)))
    notices = tuple(Notice(Destination.member(c.key), ask, f"onward:{request.id}:ask:{c.key}", about=(target.ref,))
                    for c in chairs)
    return Result(Reply(title="Onward disclosure requested",
                        lines=(f"Request {request.id}: {target.ref}'s pack for {recipient.name}. "
                               f"{', '.join(c.name for c in chairs)} (chair) will approve or refuse it; you will be "
                               "told.",)), notices=notices)


def _cannot_receive(caller: Caller, member: Member) -> str | None:
    if not member.active:
        return "they are not an active member"
    if member.has_role("analyst"):
        return "analysts see depersonalised figures only"
    if not member.agency.active or not member.agency.has_signed(caller.partnership.isp_version):
        return (f"their agency ({member.agency.name}) has not signed the partnership's current information "
                "sharing agreement")
    return None


def _request(caller: Caller, value: str) -> OnwardRequest | None:
    try:
        rid = int(value)
    except ValueError:
        return None
    request = caller.session.get(OnwardRequest, rid)
    return request if request is not None and request.partnership_id == caller.partnership.id else None


def _erased(caller: Caller, target: Target) -> bool:
    return caller.session.scalar(select(TargetErasure.id).where(TargetErasure.target_id == target.id)) is not None


def _decide(caller: Caller, value: str, approve: bool) -> Result:
    request = _request(caller, value)
    if request is None or not (caller.member.active and caller.member.has_role("chair")):
        access.log_refusal(caller, what=f"onward disclosure decision: request {value[:12]}",
                           justification="only a chair decides an onward disclosure",
                           target_id=request.target_id if request else None,
                           target_ref=request.target.ref if request else None)
        raise Refused("Only a chair can approve or refuse an onward disclosure.")
    target = request.target
    if request.status != OnwardStatus.PENDING:
        by = request.decided_by.name if request.decided_by else "a chair"
        return Result(Reply(lines=(f"Request {request.id} was already {request.status.value} by {by}.",)))
    if _erased(caller, target):
        raise UsageError(f"{target.ref} has been erased under the retention policy: there is nothing to share")
    request.decided_by_id, request.decided_at = caller.member.id, caller.now
    recipient, asker = request.recipient, request.requested_by
    problem = _cannot_receive(caller, recipient) if approve else None
    if problem:
        approve = False
        request.decision_note = f"refused automatically: {problem}"
    request.status = OnwardStatus.APPROVED if approve else OnwardStatus.REFUSED
    verdict = "approved" if approve else "refused"
    record(caller.session, at=caller.now, partnership_id=caller.partnership.id,
           kind="alteration" if approve else "refusal", actor=caller.actor, actor_member_id=caller.member.id,
           target_id=target.id, target_ref=target.ref, recipients=[recipient.key],
           what=f"onward disclosure request {request.id} {verdict}: {target.ref} to {recipient.key}",
           justification=(f"chair's decision (MAPPA onward disclosure); asked by {asker.key}"
                          + (f"; {problem}" if problem else "")))
    notices = [Notice(Destination.member(asker.key), Reply(
        title=f"Onward disclosure {verdict}: {target.ref}",
        lines=(f"{caller.member.name} {verdict} sharing {target.ref}'s pack with {recipient.name}."
               + (f" ({problem})" if problem else ""),)), f"onward:{request.id}:{verdict}:{asker.key}",
        about=(target.ref,))]
    if approve:  # names no target: the recipient is not entitled to it, so nothing about it goes in chat
        notices.append(Notice(Destination.member(recipient.key), Reply(
            title="Information shared with you",
            lines=(f"{caller.member.name} (chair) approved sharing a target's pack with you, as {asker.name} asked.",
                   "You can open it once, privately. It is recorded in the processing log; do not copy it into "
                   "chat or pass it on."),
            buttons=(Button("View once", VIEW, str(request.id), Emphasis.PRIMARY),)),
            f"onward:{request.id}:shared:{recipient.key}"))
    return Result(Reply(title=f"Onward disclosure {verdict}",
                        lines=(f"Request {request.id}: {target.ref} for {recipient.name}: {verdict}."
                               + (f" {problem}." if problem else ""),)), notices=tuple(notices))


def approve(caller: Caller, value: str) -> Result:
    return _decide(caller, value, True)


def refuse(caller: Caller, value: str) -> Result:
    return _decide(caller, value, False)


def view(caller: Caller, value: str) -> Result:
    """The recipient opens what was shared, once."""
    request = _request(caller, value)
    if request is None or request.recipient_id != caller.member.id or not caller.member.active:
        access.log_refusal(caller, what=f"onward disclosure view: request {value[:12]}",
                           justification="not the approved recipient",
                           target_id=request.target_id if request else None,
                           target_ref=request.target.ref if request else None)
        raise Refused("This was shared with someone else: you can't open it.")
    target = request.target
    if request.status != OnwardStatus.APPROVED or _erased(caller, target) or _cannot_receive(caller, caller.member):
        access.log_refusal(caller, what=f"onward disclosure view: request {request.id} ({request.status.value})",
                           justification="shown once already, not approved, or no longer allowed",
                           target_id=target.id, target_ref=target.ref)
        raise Refused("This can be opened once only, and it has been (or it is no longer available). Ask for it "
                      "again if you still need it.")
    request.status, request.shown_at = OnwardStatus.SHOWN, caller.now
    shown_view = access.partner_view_for(caller.member, target)
    lead = target.lead
    details = target.details
    if shown_view == PartnerView.ASK:
        body = f"Asked of partners: {details.ask if details and details.ask else '(nothing asked yet)'}"
    elif shown_view == PartnerView.SUMMARY:
        body = f"Partner summary: {details.partner_summary if details and details.partner_summary else '(none)'}"
    else:
        body = details.summary if details and details.summary else "(no details recorded)"
    lines = (f"{target.ref} ({target.kind}, priority {target.priority}; flags: {', '.join(target.flags or []) or 'none'})",
             f"    {body}", f"    Lead officer: {lead.name} ({lead.agency.name})", "",
             f"Shared with you by {request.decided_by.name if request.decided_by else 'a chair'} (chair) at "
             f"{request.requested_by.name}'s request.")
    for kind in ("disclosure", "consultation"):
        record(caller.session, at=caller.now, partnership_id=caller.partnership.id, kind=kind, actor=caller.actor,
               actor_member_id=caller.member.id, target_id=target.id, target_ref=target.ref,
               recipients=[caller.member.key],
               what=f"onward disclosure request {request.id}: {target.ref} shown once ({shown_view.value} view)",
               justification=f"approved by {request.decided_by.key if request.decided_by else 'a chair'} "
                             f"(MAPPA onward disclosure)")
    modal = Reply(title="Shared with you once", lines=lines,
                  footer=f"{target.cohort.handling}. Shown to you alone, once, and recorded in the processing log.")
    return Result(Reply(lines=("Opened. It cannot be opened again.",)), modal=modal)


BUTTONS = {APPROVE: approve, REFUSE: refuse, VIEW: view}
VIEW_BUTTONS = frozenset({VIEW})  # its answer is a private view of a target (see commands/core/router.py)
