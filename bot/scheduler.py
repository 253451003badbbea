"""Named scheduled jobs: what `oneday worker` runs every minute and `oneday jobs run NAME` runs once.

Each job runs through bot/jobs.py's runner: one unit of work per partnership, one error policy (one
partnership's failure never blocks another's), its messages queued in the outbox. Running a job twice, or on
several workers at once, is safe: reminder rounds are marked under a unique key and every notice has an
idempotency key.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from bot import metrics
from bot.clock import system_clock
from bot.config import DEFAULT_COMMANDS
from bot.jobs import follow_partnership_job, for_each_partnership, logged, publish_agenda_job, review_job
from commands.agenda import attendance
from commands.chasing import digest
from commands.chasing import rounds as chasing

log = logging.getLogger("oneday.jobs")


def reminders(factory: sessionmaker[Session], now: datetime, names: Mapping[str, str] = DEFAULT_COMMANDS) -> str:
    n = for_each_partnership(factory, now, "reminders",
                             lambda s, p, t: chasing.run_round(s, p, t, names=names).notices)
    metrics.reminder_round(n)
    return f"{n} reminder messages queued"


def weekly_digest(factory: sessionmaker[Session], now: datetime, names: Mapping[str, str] = DEFAULT_COMMANDS) -> str:
    n = for_each_partnership(factory, now, "digest", lambda s, p, t: digest.weekly_digest(s, p, t, names=names))
    return f"{n} digests queued"


def publish_agenda(factory: sessionmaker[Session], now: datetime, names: Mapping[str, str] = DEFAULT_COMMANDS) -> str:
    return f"{publish_agenda_job(factory, now)} agendas published"


def follow_partnership(factory: sessionmaker[Session], now: datetime,
                       names: Mapping[str, str] = DEFAULT_COMMANDS) -> str:
    return f"{follow_partnership_job(factory, now)} messages queued to keep published meetings in step"


def section_start(factory: sessionmaker[Session], now: datetime, names: Mapping[str, str] = DEFAULT_COMMANDS) -> str:
    n = for_each_partnership(factory, now, "section-start", logged(attendance.section_starts))
    return f"{n} section start posts queued"


def review(factory: sessionmaker[Session], now: datetime, names: Mapping[str, str] = DEFAULT_COMMANDS) -> str:
    return f"{review_job(factory, now, dict(names))} review messages queued"


@dataclass(frozen=True)
class Job:
    name: str
    what: str
    run: Callable[[sessionmaker[Session], datetime, Mapping[str, str]], str]  # (factory, now, command names)


JOBS: dict[str, Job] = {j.name: j for j in (
    Job("reminders", "chase action owners (one DM per owner per round), escalate, pause for out of office",
        reminders),
    Job("digest", "weekly digest of overdue and completed actions by agency, to each chair", weekly_digest),
    Job("publish-agenda", "publish the next meeting's agenda N working days before it", publish_agenda),
    Job("follow-partnership", "keep published meetings' section spaces, invitations, itineraries and statements "
        "in step with the partnership (members, ISPs, roles, flags, actions)", follow_partnership),
    Job("section-start", "post I'm here in each section's channel when the section starts (attendance)",
        section_start),
    Job("review", "ask each target's lead officer and the coordinators to review it once its review date has come "
        "(once per target per review date, in working hours)", review),
    Job("outbox", "deliver queued messages (paced per channel, retried, exactly once per key)",
        lambda f, now, names: "the outbox is delivered by the sender"),
)}


def run_scheduled(factory: sessionmaker[Session], stop: threading.Event, *, every: float = 60.0,
                  clock: Callable[[], datetime] = system_clock, names: Mapping[str, str] = DEFAULT_COMMANDS) -> None:
    """Run every scheduled job once a minute until stopped (the outbox has its own thread)."""
    while not stop.is_set():
        for job in JOBS.values():
            if job.name == "outbox":
                continue
            try:
                log.info("job %s: %s", job.name, job.run(factory, clock(), names))
                metrics.job_ran(job.name, "ok")
            except Exception:
                log.exception("job %s failed; will run again next minute", job.name)
                metrics.job_ran(job.name, "error")
        stop.wait(every)
