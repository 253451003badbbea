"""Recording that target information was shown or sent: one processing-log row per target, with its recipients.

Every place that shows or sends anything about a target (a reference, details, action wording, notes, outcomes)
calls one of these in its own transaction, so the record and the showing stand or fall together. Target ids are
resolved in one query (the log keeps the reference either way, so an erased target's rows still name it).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.core.context import Caller
from models.audit import record_many
from models.partnership import Partnership
from models.target import Target


def record_targets(session: Session, partnership: Partnership, refs: Iterable[str], *, kind: str, actor: str,
                   now: datetime, what: str, justification: str, recipients: list[str],
                   actor_member_id: int | None = None) -> int:
    """One `kind` row per distinct reference, in order; returns how many were written."""
    wanted = list(dict.fromkeys(r for r in refs if r))
    if not wanted:
        return 0
    ids = {ref: id_ for ref, id_ in session.execute(select(Target.ref, Target.id).where(
        Target.partnership_id == partnership.id, Target.ref.in_(wanted)))}
    return record_many(session, [(ids.get(ref), ref, what) for ref in wanted], at=now, partnership_id=partnership.id,
                       kind=kind, actor=actor, actor_member_id=actor_member_id, recipients=recipients,
                       justification=justification)


def shown_to_caller(caller: Caller, refs: Iterable[str], *, what: str, justification: str) -> int:
    """A consultation: the caller alone was shown something about each target (an ephemeral answer, a Home)."""
    return record_targets(caller.session, caller.partnership, refs, kind="consultation", actor=caller.actor,
                          actor_member_id=caller.member.id, now=caller.now, what=what, justification=justification,
                          recipients=[caller.member.key])
