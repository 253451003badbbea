"""`/actions`: list actions the caller is entitled to see, newest due date first, ten to a page.

- `/actions`: the caller's own open actions;
- `/actions overdue`: open actions past their due date (an action without a due date is never overdue);
- `/actions <ref>`: every action on one target, open or closed (refused like any other look at the target);
- `/actions @member`: that member's open actions, on targets the caller may see.
Add `page N` to see further pages; the "More" button does the same.
"""

from __future__ import annotations

from sqlalchemy import select

from commands.actions.common import describe, today
from commands.core import access, mentions
from commands.core.context import Caller
from commands.core.errors import UsageError
from commands.core.help import example
from commands.core.names import command
from commands.core.replies import Button, Reply, Result
from commands.governance.showing import shown_to_caller
from models import Action, ActionStatus

# A product decision, not a platform limit: ten actions is what a person reads at a glance, and a partnership's
# history can hold thousands, so /actions pages rather than handing a renderer everything to cut.
PAGE = 10


def _order(a: Action) -> tuple[int, int, int]:
    due = a.due.toordinal() if a.due else 0
    return (a.due is None, -due, -a.number)


def run(caller: Caller, text: str) -> Result:
    names, words = caller.names, text.split()
    page = 1
    if len(words) >= 2 and words[-2].lower() == "page":
        if not words[-1].isdecimal() or not 1 <= int(words[-1]) <= 10_000:
            raise UsageError(f"'{words[-1][:20]}' is not a page number",
                             example=command(names, "actions", "overdue", "page", "2"))
        page, words = int(words[-1]), words[:-2]
    if len(words) > 1:
        raise UsageError(f"too many words: '{' '.join(words[1:])[:40]}'. List one thing at a time",
                         example=example("actions", names, 1))
    query = words[0] if words else ""
    s, pid = caller.session, caller.partnership.id
    base = select(Action).where(Action.partnership_id == pid)
    if not query:
        title = "Your open actions"
        actions = s.scalars(base.where(Action.owner_id == caller.member.id, Action.status == ActionStatus.OPEN))
    elif query.lower() == "overdue":
        title = "Overdue actions"
        actions = s.scalars(base.where(Action.status == ActionStatus.OPEN, Action.due.is_not(None),
                                       Action.due < today(caller)))
    elif mentions.is_mention(query):
        member = mentions.resolve(caller, query, example=example("actions", names, 3))
        title = f"Open actions owned by {member.name}"
        actions = s.scalars(base.where(Action.owner_id == member.id, Action.status == ActionStatus.OPEN))
    else:
        target = access.require_target(caller, query, purpose="list actions")
        title = f"Actions on {target.ref}"
        actions = s.scalars(base.where(Action.target_id == target.id))
    shown = sorted(access.visible_actions(caller, list(actions)), key=_order)
    reply = listing(caller, title, shown, query, page)
    last = min(page, max(1, (len(shown) + PAGE - 1) // PAGE))  # as listing() clamps it
    on_page = shown[(last - 1) * PAGE: last * PAGE]
    shown_to_caller(caller, [a.target.ref for a in on_page], what=f"actions listed ({title.lower()}): wording, owner, "
                    "due date", justification=f"the member's request: {command(caller.names, 'actions', *query.split())}")
    return Result(reply)


def listing(caller: Caller, title: str, actions: list[Action], query: str, page: int) -> Reply:
    if not actions:
        return Reply(title=title, lines=("None.",))
    pages = (len(actions) + PAGE - 1) // PAGE
    page = min(page, pages)
    now = today(caller)
    lines = tuple(describe(a, now, owner=True) for a in actions[(page - 1) * PAGE: page * PAGE])
    more = page < pages
    footer = f"Page {page} of {pages} ({len(actions)} actions)" + (
        f". Next: {command(caller.names, 'actions', *query.split(), 'page', str(page + 1))}" if more else "")
    buttons = (Button("More", "actions.page", f"{page + 1} {query}".strip()),) if more else ()
    return Reply(title=title, lines=lines, footer=footer, buttons=buttons)


def page_button(caller: Caller, value: str) -> Result:
    """The "More" button: the same listing, next page, checked again from scratch."""
    page, _, query = value.partition(" ")
    if not page.isdecimal():
        raise UsageError("this button is out of date: run the command again",
                         example=example("actions", caller.names))
    return run(caller, f"{query} page {page}".strip())


BUTTONS = {"actions.page": page_button}
