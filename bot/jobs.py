"""The per-partnership job runner: every scheduled job (bot/scheduler.py) runs through it, with one error policy.

Each partnership gets its own unit of work, and the notices a job plans for it are queued in the outbox in that
same transaction (the outbox sender delivers them). So:

- one partnership's failure is logged with its trace and does not stop the others (the next run tries again);
- a unique key another worker wrote first (e.g. the reminder round's marks: several workers ran the same round)
  rolls that partnership back and is a normal skip, not an error;
- the database unavailable (OperationalError) is a warning: nothing was committed, the next run retries.

`publish_agenda_job` publishes each meeting's agenda once its publish date (N working days before) has arrived.
`review_job` DMs each target's lead officer and the coordinators once its review date has come (retention).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot import db
from bot.outbox import enqueue
from commands.agenda.schedule import follow, publish_due
from commands.core.names import DEFAULT_NAMES
from commands.core.replies import Notice, Result
from commands.governance.retention import review_notices
from models import Partnership

log = logging.getLogger("oneday.jobs")

Plan = Callable[[Session, Partnership, datetime], Sequence[Notice]]


def for_each_partnership(factory: sessionmaker[Session], now: datetime, name: str, plan: Plan) -> int:
    """Run `plan` for every partnership, each in its own transaction with the notices it returns; returns how
    many notices were queued (in transactions that committed)."""
    with factory() as session:
        ids = list(session.scalars(select(Partnership.id).order_by(Partnership.id)))
    queued = 0
    for pid in ids:
        try:
            with db.unit_of_work(factory) as session:
                p = session.get(Partnership, pid)
                if p is None:  # deleted since the list was read
                    continue
                n = sum(enqueue(session, pid, notice, now=now, actor=f"job:{name}") for notice in plan(session, p, now))
            queued += n
        except IntegrityError:  # another worker ran this round first: its marks won, ours rolled back
            log.info("%s: partnership %s already handled by another worker", name, pid)
        except OperationalError:
            log.warning("%s: database unavailable for partnership %s; will retry next run", name, pid,
                        exc_info=True)
        except Exception:  # one partnership's failure must not stop the others; the next run retries
            log.exception("%s failed for partnership %s; the others go on", name, pid)
    return queued


def logged(step: Callable[[Session, Partnership, datetime], Result]) -> Plan:
    """A command-level step as a job's plan: its reply's lines are logged, its notices queued."""

    def plan(session: Session, p: Partnership, at: datetime) -> Sequence[Notice]:
        result = step(session, p, at)
        for line in result.reply.lines:
            log.info("%s: %s", p.key, line)
        return result.notices

    return plan


def publish_agenda_job(factory: sessionmaker[Session], now: datetime) -> int:
    """Publish every due agenda in every partnership. Returns how many messages were queued."""
    return for_each_partnership(factory, now, "publish-agenda", logged(publish_due))


def follow_partnership_job(factory: sessionmaker[Session], now: datetime) -> int:
    """Keep every published meeting still to come in step with its partnership. Returns messages queued."""
    return for_each_partnership(factory, now, "follow-partnership", logged(follow))


def review_job(factory: sessionmaker[Session], now: datetime, names: dict[str, str] | None = None) -> int:
    """Ask for every target whose review date has come to be reviewed: one DM per person per target per review
    date (the idempotency key), in working hours. Returns messages queued."""
    return for_each_partnership(factory, now, "review",
                                lambda s, p, t: review_notices(s, p, t, names or DEFAULT_NAMES))
