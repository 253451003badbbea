"""Scheduled jobs. Each opens one unit of work per partnership, never one for the whole run, and queues its
messages in the outbox in that same transaction; the outbox sender delivers them.

`publish_agenda_job` is meant to run from the worker's scheduler (e.g. every 15 minutes): it publishes each
meeting's agenda once its publish date (N working days before) has arrived.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot import db
from bot.outbox import enqueue
from commands.agenda.schedule import publish_due
from models import Partnership

log = logging.getLogger("oneday.jobs")


def publish_agenda_job(factory: sessionmaker[Session], now: datetime) -> int:
    """Publish every due agenda in every partnership. Returns how many messages were queued."""
    with factory() as session:
        ids = list(session.scalars(select(Partnership.id).order_by(Partnership.id)))
    queued = 0
    for pid in ids:
        try:
            with db.unit_of_work(factory) as session:
                p = session.get(Partnership, pid)
                assert p is not None
                result = publish_due(session, p, now)
                queued += sum(enqueue(session, pid, n, now=now) for n in result.notices)
                for line in result.reply.lines:
                    log.info("%s: %s", p.key, line)
        except Exception:  # one partnership's failure must not stop the others; the next run retries
            log.exception("agenda publication failed for partnership %s", pid)
    return queued
