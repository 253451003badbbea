"""`/agenda share <REF> full | summary <text> | ask <text>`: what partners see of one target in the pack.

The lead officer decides, per target, what partners outside the core agencies are shown: the full details, a
partner summary the lead writes, or only the reference and what is asked of them (models.target.PartnerView).
The lead officer, the coordinator and chair, and members of core agencies keep the full details
(commands/core/access.partner_view_for). Only the target's lead officer, a coordinator or a chair may set it;
anyone else is refused as elsewhere (the refusal logged). Each change is an alteration in the processing log,
which names the view and which text was rewritten, never the text itself.
"""

from __future__ import annotations

from sqlalchemy import select

from commands.core import access
from commands.core.context import Caller
from commands.core.errors import Refused, UsageError
from commands.core.names import command
from commands.core.replies import Reply, Result
from models import Agency, PartnerView, Target, TargetDetails
from models.audit import record

SUMMARY_LIMIT = 4000  # as a target's details summary in the partnership file
ASK_LIMIT = 1000
EXAMPLE_TEXT = {"full": "", "summary": "Cannabis grows in rented houses; benefit claims at those addresses",
                "ask": "tell us of any benefit claims at Riverside addresses"}


def example(caller: Caller, view: str = "summary") -> str:
    return command(caller.names, "agenda", "share", "OCG-07", view, *([EXAMPLE_TEXT[view]] if EXAMPLE_TEXT[view] else []))


def _parse(caller: Caller, text: str) -> tuple[str, PartnerView, str]:
    """'OCG-07 summary some text' -> ('OCG-07', SUMMARY, 'some text'); syntax only, nothing looked up."""
    parts = text.split(None, 2)
    if len(parts) < 2:
        raise UsageError(f"'{command(caller.names, 'agenda', 'share')}' takes a target reference and what partners "
                         "see: full, summary <text> or ask <text>", example=example(caller))
    ref, word, rest = parts[0].upper()[:32], parts[1].lower(), (parts[2].strip() if len(parts) > 2 else "")
    if word not in {v.value for v in PartnerView}:
        raise UsageError(f"'{word[:20]}' is not a view: write full, summary <text> or ask <text>",
                         example=example(caller))
    view = PartnerView(word)
    if view == PartnerView.FULL and rest:
        raise UsageError("'full' takes nothing after it: partners see the target's details",
                         example=example(caller, "full"))
    if view == PartnerView.SUMMARY and not rest:
        raise UsageError("write the partner summary after 'summary'", example=example(caller, "summary"))
    if view == PartnerView.ASK and not rest:
        raise UsageError("write what is asked of partners after 'ask'", example=example(caller, "ask"))
    limit = SUMMARY_LIMIT if view == PartnerView.SUMMARY else ASK_LIMIT
    if len(rest) > limit:
        noun = "partner summary" if view == PartnerView.SUMMARY else "ask"
        raise UsageError(f"The {noun} is too long ({len(rest)} characters): the limit is {limit}",
                         example=example(caller, view.value))
    return ref, view, rest


def run(caller: Caller, text: str) -> Result:
    ref, view, written = _parse(caller, text)
    target = access.require_target(caller, ref, purpose="agenda share")
    if not access.may_set_partner_view(caller.member, target):
        access.log_refusal(caller, target_id=target.id, target_ref=target.ref,
                           what=f"agenda share: {target.ref} {view.value}",
                           justification="not the lead officer, a coordinator or a chair")
        raise Refused(f"Only the lead officer of {target.ref} ({target.lead.name}) or a coordinator or chair can set "
                      "what partners see of it. Ask them if it should change.")
    changed = _apply(caller, target, view, written)
    if changed:
        by = ("the lead officer" if caller.member.id == target.lead_id
              else "a coordinator" if caller.member.has_role("coordinator") else "a chair")
        record(caller.session, at=caller.now, partnership_id=caller.partnership.id, kind="alteration",
               actor=caller.actor, actor_member_id=caller.member.id, target_id=target.id, target_ref=target.ref,
               what=f"what partners see: {', '.join(changed)}", justification=f"set by {by} (agenda share)")
    return Result(_confirmation(caller, target, view, written, changed))


def _apply(caller: Caller, target: Target, view: PartnerView, written: str) -> list[str]:
    """Set the view (and its text); what changed, as the processing log names it (never the text itself)."""
    changed = []
    if target.partner_view != view:
        changed.append(f"partner view {target.partner_view.value} -> {view.value}")
        target.partner_view = view
    if view == PartnerView.FULL:
        return changed
    if target.details is None:
        target.details = TargetDetails(partnership_id=target.partnership_id, summary="")
    field = "partner_summary" if view == PartnerView.SUMMARY else "ask"
    if getattr(target.details, field) != written:
        setattr(target.details, field, written)
        changed.append("partner summary rewritten" if view == PartnerView.SUMMARY else "ask rewritten")
    return changed


def _confirmation(caller: Caller, target: Target, view: PartnerView, written: str, changed: list[str]) -> Reply:
    core = caller.session.scalars(select(Agency.name).where(Agency.partnership_id == caller.partnership.id,
                                                            Agency.core.is_(True), Agency.active.is_(True))
                                  .order_by(Agency.name)).all()
    now = "now see" if changed else "already see"
    if view == PartnerView.FULL:
        lines: tuple[str, ...] = (f"Partners in {target.ref}'s section {now} its full details in the pack.",)
    elif view == PartnerView.SUMMARY:
        lines = (f"Partners outside the core agencies {now} this partner summary instead of {target.ref}'s details:",
                 written)
    else:
        lines = (f"Partners outside the core agencies {now} only the reference {target.ref}, the lead officer "
                 f"({target.lead.name}) and what is asked of them:", written)
    keep = ", ".join(core) if core else "none named in the partnership file"
    return Reply(title=f"What partners see of {target.ref}", lines=lines,
                 footer=f"The lead officer, the coordinator and chair, and members of core agencies ({keep}) see the "
                        f"full details. To change it: {command(caller.names, 'agenda', 'share', target.ref)} "
                        "full | summary <text> | ask <text>")
