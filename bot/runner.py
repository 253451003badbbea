"""Run one request from any platform: resolve the caller, dispatch, queue notices, commit once, and map
typed errors to replies. This is the single error handler; platforms only adapt input and output.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot import metrics
from bot.clock import system_clock
from bot.logs import log_request
from bot.outbox import enqueue
from commands.core import router
from commands.core.context import Caller
from commands.core.errors import FormInvalid, NotFound, OnedayError, Refused, UsageError
from commands.core.identity import resolve_member
from commands.core.replies import Reply, Result
from commands.core.workspaces import partnership_for

log = logging.getLogger("oneday.runner")


def error_reply(exc: OnedayError) -> Reply:
    lines = [exc.message]
    if exc.example:
        lines.append(f"Example: {exc.example}")
    return Reply(lines=tuple(lines))


@dataclass
class Request:
    platform: str
    workspace: str
    user: str
    intent: str
    text: str
    channel: str | None = None


@dataclass
class Runner:
    factory: sessionmaker[Session]
    names: dict[str, str]
    partnership_key: str | None = None
    clock: Callable[[], datetime] = system_clock
    on_queued: Callable[[], None] | None = None

    def caller(self, session: Session, req: Request, email_of: Callable[[str], str | None]) -> Caller:
        p = partnership_for(session, platform=req.platform, workspace_id=req.workspace, fallback_key=self.partnership_key)
        now = self.clock()  # one instant for the whole request: its audit, its rows and its outbox stamps
        member = resolve_member(session, p, platform=req.platform, user_id=req.user, email_of=email_of, now=now)
        return Caller(session=session, partnership=p, member=member, now=now, channel=req.channel, names=self.names)

    def run(self, req: Request, email_of: Callable[[str], str | None],
            action: Callable[[Caller], Result] | None = None) -> Result:
        """Handle one request in one unit of work. Never raises: every failure becomes a Result.

        A unit of work that lost a race with a concurrent one (two `/action`s taking the same number; SQLite's
        single writer busy; PostgreSQL's serialisation or deadlock) is run again from the start, at most
        RETRIES times: nothing of it was committed, so running it again is safe, and the person gets their
        answer instead of an incident."""
        started = time.perf_counter()
        for attempt in range(RETRIES + 1):
            try:
                result, outcome, queued = self._once(req, email_of, action, last=attempt == RETRIES)
                break
            except _LostRace:
                log.info("request lost a race with a concurrent one; running it again (attempt %s)", attempt + 2)
        if queued and self.on_queued:
            self.on_queued()
        elapsed = time.perf_counter() - started
        metrics.observe_command(req.intent, outcome, elapsed)
        log_request(platform=req.platform, intent=req.intent, team=req.workspace, user=req.user,
                    outcome=outcome, latency_ms=round(elapsed * 1000, 2))
        return result

    def _once(self, req: Request, email_of: Callable[[str], str | None],
              action: Callable[[Caller], Result] | None, *, last: bool) -> tuple[Result, str, int]:
        outcome, queued = "ok", 0
        session = self.factory()
        try:
            try:
                caller = self.caller(session, req, email_of)
                result = action(caller) if action else router.dispatch(req.intent, caller, req.text)
                queued = sum(enqueue(session, caller.partnership.id, n, now=caller.now, actor=caller.actor,
                                     actor_member_id=caller.member.id) for n in result.notices)
            except Refused as exc:  # keep the refusal's audit record; a refusing command writes nothing else
                outcome, result = "refused", Result(error_reply(exc))
            # One commit for both. If it fails (the database went away), the handler below answers with an
            # incident id like any other failure: a refusal's failed commit must not escape as an HTTP 500.
            session.commit()
        except FormInvalid as exc:
            session.rollback()
            outcome, result = "usage", Result(error_reply(exc), field_errors=exc.field_errors)
        except (UsageError, NotFound) as exc:
            session.rollback()
            outcome = "usage" if isinstance(exc, UsageError) else "not_found"
            result = Result(error_reply(exc))
        except (IntegrityError, OperationalError) as exc:
            session.rollback()
            if not last and _lost_race(exc):
                raise _LostRace from exc
            outcome, result = "error", _incident(exc)
        except Exception as exc:
            session.rollback()
            outcome, result = "error", _incident(exc)
        finally:
            session.close()
        return result, outcome, queued


RETRIES = 3


class _LostRace(Exception):
    """The unit of work collided with a concurrent one and was rolled back: run it again."""


def _lost_race(exc: IntegrityError | OperationalError) -> bool:
    text = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
    if isinstance(exc, IntegrityError):
        return "unique" in text or "duplicate key" in text  # e.g. two actions numbered at once
    return any(s in text for s in ("database is locked", "could not serialize", "deadlock detected"))


def _incident(exc: BaseException) -> Result:
    incident = uuid.uuid4().hex[:8]
    log.error("unexpected error, incident %s", incident, exc_info=exc, extra={"fields": {"incident": incident}})
    return Result(Reply(lines=(f"Something went wrong on our side (incident {incident}). Nothing was saved. Try "
                               "again, and if it happens again give your coordinator this incident id.",)))

