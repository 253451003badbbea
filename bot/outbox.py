"""Queue messages in the database and deliver them from a worker thread, never from a listener.

- `enqueue()` writes a row in the caller's transaction; the idempotency key makes a second enqueue of the
  same notice a no-op, so re-running a job or re-publishing never sends twice.
- Each row carries its platform (chosen by `enqueue` from the destination). `Sender` holds one port per
  platform it sends for and claims only those platforms' rows, so a row whose platform is not configured
  stays queued.
- `Sender` claims due rows with a lease (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite has one writer),
  paces each conversation to its platform's declared limits (bot/pacing.py; Slack: about one message a second
  per channel) counting the sends of every sender together in the database, so N workers keep one channel's
  rate; honours Retry-After (for every sender), retries transient failures with backoff and gives up on
  permanent ones, recording why.
- Each row goes out as its own workspace: a port that speaks for several (Slack OAuth installs, `PerPartnership`)
  is asked for the row's partnership's port, so a row of workspace A is never sent with B's token.
- Exactly once across crashes, where the platform can look up what was sent (its LOOKS_UP_SENT capability):
  every post carries the row's key (`dedupe_key`, Slack message metadata). Before a post the row is marked
  `check_before_send` and its channel committed; a worker killed between the platform accepting a post and
  recording it leaves that mark, and the next attempt (after the lease) asks the platform whether the message
  arrived (`already_sent`) and records it instead of posting it again. A platform that cannot look up is never
  asked: such a row is posted again, with a warning that it may arrive twice (at least once, not exactly once).
- Need-to-know again at delivery: a row about targets (`Notice.about`; only ever to one member) is delivered only
  if its recipient is still entitled to each of them now (`models.planning.not_entitled`, the one rule). If not,
  it is `withheld` (final; a `withheld` audit event per target) and the partnership's coordinators are told by a
  DM queued in the same transaction. A row about targets that is sent writes one `disclosure` audit event per
  target, in the transaction that records it sent.
- A file drawn at delivery (the report's chart, commands/reports/delivery.py) is queued as what to draw, not as
  bytes: the request that queues it does not pay for drawing it. The sender that first takes the row draws it,
  outside any transaction, and stores the file in the row in its place; then it goes out like any file. Its
  recipient is asked again at every attempt whether they may still have it; if not, it is `withheld` (final, a
  `withheld` audit event).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select, type_coerce, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot import metrics, platforms
from bot.clock import system_clock
from bot.pacing import SharedPacer
from bot.platform import LOOKS_UP_SENT
from bot.port import ChatPort, DeliveryError, PerPartnership, SentLookup
from commands.agenda.reach import email_address
from commands.core.access import active_with_role
from commands.core.replies import Attachment, Destination, Notice, Reply
from commands.reports import delivery
from models import ChatIdentity, Member, OutboxMessage, Partnership, Section, Target, Workspace
from models.audit import record
from models.base import UTCDateTime
from models.planning import not_entitled

log = logging.getLogger("oneday.outbox")

MAX_ATTEMPTS = 8
MAX_REMEMBERED_DMS = 10_000


def partnership_platform(session: Session, partnership_id: int, known: list[str]) -> str:
    """The platform a partnership lives on: the first (in bot/platforms.py's order) it has a linked workspace on,
    else the first platform (a single-workspace set-up links none)."""
    linked = set(session.scalars(select(Workspace.platform).where(Workspace.partnership_id == partnership_id)))
    return next((name for name in known if name in linked), known[0])


def destination_platform(session: Session, partnership_id: int, to: Destination) -> str:
    """Which platform delivers a notice: a space or a section's space is the partnership's; a member's DM goes
    to the partnership's platform if the member has an identity there, else to the platform of an identity they
    have (else the partnership's: the sender looks the member up by email). An email destination (an address,
    commands/agenda/reach.py) goes by email, and only it: email is never a space's or a member's platform."""
    if email_address(to) is not None:
        return "email"
    known = [name for name in platforms.names() if name != "email"]
    if len(known) == 1:
        return known[0]
    # remembered for the unit of work: a command that queues several notices asks once per partnership and member
    # (within one transaction: the next one asks again)
    tx = session.get_transaction()
    held = session.info.get("oneday.destination_platform")
    if held is None or held[0] is not tx:
        held = session.info["oneday.destination_platform"] = (tx, {})
    memo: dict[tuple[int, str, str], str] = held[1]
    home_key = (partnership_id, "home", "")
    if home_key not in memo:
        memo[home_key] = partnership_platform(session, partnership_id, known)
    home = memo[home_key]
    if to.kind != "member":
        return home
    key = (partnership_id, "member", to.ref)
    if key not in memo:
        theirs = set(session.scalars(select(ChatIdentity.platform).join(Member, ChatIdentity.member_id == Member.id)
                                     .where(Member.partnership_id == partnership_id, Member.key == to.ref)))
        memo[key] = home if home in theirs else next((name for name in known if name in theirs), home)
    return memo[key]


def enqueue(session: Session, partnership_id: int, notice: Notice, *, now: datetime, actor: str | None = None,
            actor_member_id: int | None = None) -> bool:
    """Add a notice to the outbox, for the platform of its destination. Returns False when one with the same
    key was already queued. A notice about targets goes to one member only: a channel carries nothing about a
    target (ValueError).

    `actor` is who caused the message ("member:jo", "os:alice", "job:reminders"): its delivery is recorded as a
    disclosure by them (the worker only carries it out)."""
    if notice.about and notice.to.kind != "member":
        raise ValueError(f"notice {notice.key} is about {', '.join(notice.about)}: it may go to a member only, "
                         f"not to a {notice.to.kind}")
    payload: dict[str, Any] = {"message": notice.message.to_dict()}
    if notice.attachment:
        payload["attachment"] = asdict(notice.attachment)
    if notice.space:
        payload["space"] = {"name": notice.space.name, "members": list(notice.space.members)}
    if actor:
        payload["actor"] = {"label": actor, "member_id": actor_member_id}
    values = {"partnership_id": partnership_id, "idempotency_key": notice.key,
              "platform": destination_platform(session, partnership_id, notice.to),
              "destination_kind": notice.to.kind, "destination_ref": notice.to.ref, "payload": payload,
              "about": list(notice.about), "status": "pending", "next_attempt_at": now, "created_at": now}
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        # one statement, and a key already queued (by this command's retry or a concurrent one) is simply not
        # inserted: no look-up first, no savepoint
        insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
        result = session.execute(insert(OutboxMessage).values(**values).on_conflict_do_nothing(
            index_elements=["partnership_id", "idempotency_key"]))
        return bool(result.rowcount)  # type: ignore[attr-defined]
    exists = session.scalar(select(OutboxMessage.id).where(
        OutboxMessage.partnership_id == partnership_id, OutboxMessage.idempotency_key == notice.key))
    if exists is not None:
        return False
    try:
        with session.begin_nested():
            session.add(OutboxMessage(**values))
    except IntegrityError:  # a concurrent enqueue of the same key won
        return False
    return True


WITHHELD_PREFIX = "withheld:"


def withheld_notice(coordinator: str, row: OutboxMessage, name: str, refs: list[str]) -> Notice:
    """What a coordinator is told of a message withheld at delivery (coordinators are entitled to every target;
    the notice names its targets, so it is checked again when it is delivered too)."""
    about = ", ".join(refs)
    message = Reply(title=f"A message about {about} to {name} was not sent",
                    lines=(f"{name} is no longer entitled to {about}, so the message queued for them was withheld "
                           "when it was due to be sent.",
                           "If they should still be told, check their membership, their agency's information "
                           "sharing agreement and the target's cohort."))
    return Notice(Destination.member(coordinator), message, f"{WITHHELD_PREFIX}{row.id}:{coordinator}",
                  about=tuple(refs))


def backoff(attempt: int) -> float:
    return min(2.0 ** attempt, 300.0)


@dataclass(frozen=True)
class Outlet:
    """How the sender reaches one platform: its port, its pacing, and its look-up when it declares one."""

    port: ChatPort
    pacer: SharedPacer
    lookup: SentLookup | None  # None: the platform cannot tell whether a message arrived

    def for_partnership(self, partnership_id: int) -> Outlet:
        """The outlet that sends as the partnership's own workspace (itself for a single-workspace port)."""
        if not isinstance(self.port, PerPartnership):
            return self
        port = self.port.for_partnership(partnership_id)
        if port is self.port:
            return self
        lookup = port if self.lookup is not None and isinstance(port, SentLookup) else None
        return Outlet(port, self.pacer, lookup)


def outlet(port: ChatPort) -> Outlet:
    """An outlet for a port, by what its platform declares (bot/platforms.py)."""
    platform = platforms.get(port.platform)
    lookup = None
    if LOOKS_UP_SENT in platform.capabilities:
        if not isinstance(port, SentLookup):
            raise TypeError(f"{platform.name} declares it can look up what was sent, but its port has no already_sent")
        lookup = port
    return Outlet(port, SharedPacer(platform.name, platform.limits), lookup)


class Sender:
    def __init__(self, factory: sessionmaker[Session], ports: ChatPort | Sequence[ChatPort], *,
                 worker_id: str | None = None, clock: Callable[[], datetime] = system_clock, batch: int = 20,
                 lease_seconds: float = 60.0) -> None:
        """`ports`: one per platform whose rows this sender delivers (rows of other platforms stay queued).
        `clock` stamps rows and paces sends (every sender of one database must share it: the system clock in
        production)."""
        ports = list(ports) if isinstance(ports, Sequence) else [ports]
        self.outlets: dict[str, Outlet] = {}
        for port in ports:
            if port.platform in self.outlets:
                raise ValueError(f"two ports for {port.platform}")
            self.outlets[port.platform] = outlet(port)
        self.factory, self.clock, self.batch = factory, clock, batch
        self.lease = timedelta(seconds=lease_seconds)
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        # Direct-message conversations this sender has opened, by (platform, partnership, user): the conversation
        # of a bot and a person does not change, and opening it for every message cost a conversations.open each
        # (Slack allows about 50 a minute; a meeting day's notices to one person were one each).
        self._dms: dict[tuple[str, int, str], str] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- claiming ----------------------------------------------------------------------------------
    def claim(self) -> list[int]:
        now = self.clock()
        with self.factory() as session, session.begin():
            due = or_(and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
                      and_(OutboxMessage.status == "sending", OutboxMessage.lease_until < now))
            # The oldest due row of each destination only: its conversation takes about one message a second, so
            # claiming the rest as well only paced them back (a hundred notices queued for one person were each
            # claimed, paced and written back every second, each a write against the commands' own).
            first = (select(func.min(OutboxMessage.id)).where(due, self._mine())
                     .group_by(OutboxMessage.platform, OutboxMessage.partnership_id,
                               OutboxMessage.destination_kind, OutboxMessage.destination_ref))
            ids = list(session.scalars(select(OutboxMessage.id).where(OutboxMessage.id.in_(first))
                                       .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                                       .limit(self.batch).with_for_update(skip_locked=True)))
            if ids:  # the update asks again whether each is due: on SQLite another sender may have taken it
                # between our select and this write (its reads take no lock); only what we updated is ours
                ids = sorted(session.scalars(
                    update(OutboxMessage).where(OutboxMessage.id.in_(ids), due)
                    .values(status="sending", lease_until=now + self.lease, claimed_by=self.worker_id)
                    .returning(OutboxMessage.id)))
        return ids

    def _mine(self) -> ColumnElement[bool]:
        """Rows of the platforms this sender has a port for."""
        return OutboxMessage.platform.in_(sorted(self.outlets))

    # -- delivering --------------------------------------------------------------------------------
    def _user(self, session: Session, port: ChatPort, partnership_id: int, key: str) -> str | None:
        """A member's user id on the port's platform: stored, else looked up by email once and stored."""
        member = session.scalar(select(Member).where(Member.partnership_id == partnership_id, Member.key == key))
        if member is None or not member.active:
            return None
        user = member.identity(port.platform)
        if user is None:
            user = port.user_for_email(member.email)
            if user is None:
                return None
            try:
                with session.begin_nested():  # another worker may store the same lookup at the same time
                    session.add(ChatIdentity(partnership_id=member.partnership_id, member_id=member.id,
                                             platform=port.platform, user_id=user))
            except IntegrityError:
                log.info("chat identity of %s was stored by another worker", key)
        return user

    def _section(self, session: Session, row: OutboxMessage) -> Section:
        section = session.get(Section, int(row.destination_ref))
        if section is None or section.partnership_id != row.partnership_id:
            raise DeliveryError(f"section {row.destination_ref} no longer exists", permanent=True)
        return section

    def _space_coming(self, session: Session, row: OutboxMessage) -> bool:
        """Whether a space sync for this row's section is still queued (so waiting for it makes sense)."""
        queued = session.scalars(select(OutboxMessage).where(
            OutboxMessage.partnership_id == row.partnership_id, OutboxMessage.destination_kind == "section",
            OutboxMessage.destination_ref == row.destination_ref, OutboxMessage.id != row.id,
            OutboxMessage.status.in_(("pending", "sending"))))
        return any("space" in other.payload for other in queued)

    def _channel(self, session: Session, port: ChatPort, row: OutboxMessage) -> str:
        if row.channel:
            return row.channel
        if row.destination_kind == "space":
            return row.destination_ref
        if row.destination_kind == "section":
            section = self._section(session, row)
            space = section.space_ref
            if space is None:
                if self._space_coming(session, row):  # an earlier row is creating it: try again shortly
                    raise DeliveryError("section space not created yet", retry_after=2.0)
                # Another sender may have created it (and marked its row sent) between the two reads: look again
                # before giving up for good.
                session.refresh(section)
                if section.space_ref is not None:
                    return section.space_ref
                raise DeliveryError(f"section {row.destination_ref} has no space and none is being created",
                                    permanent=True)
            return space
        user = self._user(session, port, row.partnership_id, row.destination_ref)
        if user is None:
            raise DeliveryError(f"no {port.platform} account for {row.destination_ref}", permanent=True)
        key = (port.platform, row.partnership_id, user)
        if key not in self._dms:
            if len(self._dms) >= MAX_REMEMBERED_DMS:
                self._dms.clear()
            self._dms[key] = port.open_dm(user)
        return self._dms[key]

    def _sync_space(self, session: Session, port: ChatPort, row: OutboxMessage) -> str:
        """Create the section's private space, or set its members to exactly the list. Returns the space ref."""
        section = self._section(session, row)
        spec = row.payload["space"]
        users = [u for u in (self._user(session, port, row.partnership_id, k) for k in spec["members"]) if u]
        if section.space_ref is None:
            section.space_ref = port.create_private_space(spec["name"], users)
            session.flush()
        else:
            port.set_space_members(section.space_ref, users)
        return section.space_ref

    def deliver(self, row_id: int) -> str:
        """Try one claimed row; returns its new status ("sent", "paced", "retry", "failed", "skipped", ...).

        Two short transactions. The first resolves and commits the channel and marks the row
        `check_before_send` (a post may be about to land), so a worker killed during the post leaves enough
        behind for the next one to look the message up instead of posting it again. The second holds the
        row's lock (FOR UPDATE on PostgreSQL) across the post: a live worker's row is never re-claimed, even
        past its lease; a dead worker's lock goes with its connection. A file still to draw is drawn first, between
        transactions (`_draw`).
        """
        drawn = self._draw(row_id)
        if drawn is not None:
            return drawn
        with self.factory() as session, session.begin():
            row = session.get(OutboxMessage, row_id, with_for_update=True)
            if row is None or row.status != "sending" or row.claimed_by != self.worker_id:
                return "skipped"
            out = self._outlet(row)  # claimed by this sender: one of its platforms
            if row.channel and "space" not in row.payload:  # a conversation another send has just used: cheaply
                wait = out.pacer.peek(session, row.channel, self.clock())  # hand it back, before entitlement
                if wait > 0:
                    return self._paced(row, wait)
            if row.about:
                refused = self._not_entitled(session, row)
                if refused:
                    return self._withhold(session, out, row, refused)
            what = delivery.kind(row.payload)
            if what is not None:
                reason = delivery.refusal(session, row.partnership_id, row.destination_kind, row.destination_ref,
                                          what)
                if reason is not None:
                    return self._withhold_file(session, out, row, reason)
                if delivery.to_draw(row.payload):  # drawn by `_draw` unless it was refused then: try again
                    return self._failed(row, DeliveryError("its file is not drawn yet"))
            try:
                if "space" in row.payload:
                    ref = self._sync_space(session, out.port, row)
                    row.status, row.sent_ref, row.sent_at, row.lease_until = "sent", ref, self.clock(), None
                    return "sent"
                channel = self._channel(session, out.port, row)
            except DeliveryError as exc:  # nothing was posted: an earlier uncertain post stays to be checked
                return self._failed(row, exc, may_have_landed=row.check_before_send)
            row.channel = channel
            reserved = self.clock()
            wait = out.pacer.reserve(session, channel, reserved)
            if wait > 0:  # this conversation is paced (by any sender): hand the row back for later
                return self._paced(row, wait)
            look_first = row.check_before_send
            row.check_before_send = True
        return self._send(row_id, channel, look_first, reserved)

    def _draw(self, row_id: int) -> str | None:
        """Draw a claimed row's file if it is still to draw (the report's chart), outside any transaction (it takes
        a second or more), and store it in the row. None when there is nothing to draw or it is drawn now; else the
        row's new status. A recipient who may not have it is not drawn for: the next step withholds the row."""
        with self.factory() as session:
            row = session.get(OutboxMessage, row_id)
            if row is None or row.status != "sending" or row.claimed_by != self.worker_id:
                return "skipped"
            payload = dict(row.payload)
            what = delivery.kind(payload)
            if what is None or not delivery.to_draw(payload) or delivery.refusal(
                    session, row.partnership_id, row.destination_kind, row.destination_ref, what) is not None:
                return None
        started = time.perf_counter()
        try:
            drawn = delivery.draw(payload)
            error = None
        except Exception as exc:  # figures that do not read back never will; anything else may pass next time
            log.exception("outbox row %s: cannot draw its file", row_id)
            drawn, error = None, DeliveryError(f"cannot draw its file: {type(exc).__name__}: {exc}",
                                               permanent=isinstance(exc, ValueError | TypeError | KeyError))
        with self.factory() as session, session.begin():
            row = session.get(OutboxMessage, row_id, with_for_update=True, populate_existing=True)
            if row is None or row.status != "sending" or row.claimed_by != self.worker_id:
                return "skipped"  # our lease ran out while drawing and another sender took the row
            if drawn is None:
                assert error is not None
                return self._failed(row, error)
            row.payload = drawn
        log.info("outbox row %s: drew its file in %.2f s", row_id, time.perf_counter() - started)
        return None

    def _paced(self, row: OutboxMessage, wait: float) -> str:
        row.status, row.lease_until = "pending", None
        row.next_attempt_at = self.clock() + timedelta(seconds=wait)
        return "paced"

    def _outlet(self, row: OutboxMessage) -> Outlet:
        """How this row goes out: its platform's outlet, speaking as the row's partnership's workspace."""
        return self.outlets[row.platform].for_partnership(row.partnership_id)

    def _send(self, row_id: int, channel: str, look_first: bool, reserved: datetime) -> str:
        with self.factory() as session, session.begin():
            row = session.get(OutboxMessage, row_id, with_for_update=True, populate_existing=True)
            if row is None or row.status != "sending" or row.claimed_by != self.worker_id:
                return "skipped"  # our lease ran out between the two steps and another worker took the row
            out = self._outlet(row)
            message = Reply.from_dict(row.payload["message"])
            attachment = Attachment(**row.payload["attachment"]) if "attachment" in row.payload else None
            posting = False
            try:
                ref = None
                if look_first:
                    ref = self._look(out, row, channel, attachment)
                    if ref is not None:
                        log.info("outbox row %s had reached %s before its last attempt ended; not sent again",
                                 row.id, row.platform)
                posting = ref is None
                if ref is None and attachment is not None:
                    ref = out.port.upload(channel, attachment, message)
                elif ref is None:
                    ref = out.port.post(channel, message, row.idempotency_key, dedupe_id=row.id)
            except DeliveryError as exc:
                # The look-up failed: still unknown. The post failed: unknown only if no answer came (network,
                # timeout, 5xx); an answer (429, an error code) means the platform did not take it.
                return self._failed(row, exc, may_have_landed=exc.uncertain if posting else True)
            out.pacer.confirm(session, channel, reserved, self.clock())
            return self._sent(session, row, ref)

    def _sent(self, session: Session, row: OutboxMessage, ref: str | None) -> str:
        """Record a row as sent; a row about targets is a disclosure of each, logged in the same transaction."""
        now = self.clock()
        row.status, row.sent_ref, row.sent_at, row.lease_until = "sent", ref, now, None
        row.last_error, row.check_before_send = None, False
        metrics.delivered(row.platform, "sent")
        what = f"message: {Reply.from_dict(row.payload['message']).fallback or row.idempotency_key}"[:500]
        if "attachment" in row.payload:
            what = f"{what[:400]} (with file {row.payload['attachment'].get('filename', '')})"
        by = row.payload.get("actor") or {}
        for target_ref in row.about:
            record(session, at=now, partnership_id=row.partnership_id, kind="disclosure",
                   actor=by.get("label") or "worker", actor_member_id=by.get("member_id"),
                   target_id=self._target_id(session, row.partnership_id, target_ref), target_ref=target_ref,
                   what=what, recipients=[row.destination_ref],
                   justification=f"entitled at delivery; notice {row.idempotency_key}; delivered by the worker")
        return "sent"

    # -- need-to-know at delivery --------------------------------------------------------------------
    @staticmethod
    def _target_id(session: Session, partnership_id: int, ref: str) -> int | None:
        return session.scalar(select(Target.id).where(Target.partnership_id == partnership_id, Target.ref == ref))

    def _not_entitled(self, session: Session, row: OutboxMessage) -> list[str]:
        """The targets of a row's `about` its recipient is not entitled to now (all of them for a row that is
        not to one member: such a row is never queued)."""
        partnership = session.get(Partnership, row.partnership_id)
        if row.destination_kind != "member" or partnership is None:
            return list(row.about)
        return not_entitled(session, partnership, row.destination_ref, list(row.about), now=self.clock())

    def _withhold(self, session: Session, out: Outlet, row: OutboxMessage, refs: list[str]) -> str:
        """Do not send a row whose recipient is no longer entitled to `refs`; log it and tell the coordinators.

        An earlier attempt may have posted it already (`check_before_send`): then it is looked up first, and one
        that did arrive is recorded sent (and disclosed), since withholding it now would undo nothing. A platform
        that cannot look up is not asked: the row is withheld, noting that it may have arrived."""
        landed = self._landed_before_withholding(session, out, row)
        if landed is not None:
            return landed
        now = self.clock()
        key = row.destination_ref
        member = session.scalar(select(Member).where(Member.partnership_id == row.partnership_id, Member.key == key))
        name = member.name if member is not None else key
        row.status, row.lease_until = "withheld", None
        metrics.delivered(row.platform, "withheld")
        row.last_error = (f"withheld: {key} is no longer entitled to {', '.join(refs)}"
                          + (" (an earlier attempt may have reached them)" if row.check_before_send else ""))[:500]
        log.warning("outbox row %s withheld: its recipient is no longer entitled to a target it is about", row.id)
        for target_ref in refs:
            record(session, at=now, partnership_id=row.partnership_id, kind="withheld", actor="worker",
                   target_id=self._target_id(session, row.partnership_id, target_ref), target_ref=target_ref,
                   what=f"queued message {row.idempotency_key} not sent", recipients=[key],
                   justification="recipient no longer entitled to the target at delivery")
        if not row.idempotency_key.startswith(WITHHELD_PREFIX):  # a withheld "withheld" notice tells nobody
            for coordinator in active_with_role(session, row.partnership_id, "coordinator"):
                enqueue(session, row.partnership_id, withheld_notice(coordinator.key, row, name, refs), now=now)
        return "withheld"

    def _landed_before_withholding(self, session: Session, out: Outlet, row: OutboxMessage) -> str | None:
        """Before a row is withheld: if an earlier attempt may have posted it, look; one that arrived is recorded
        sent (its new status returned), as is a look-up that cannot answer yet (to try again). None: withhold it."""
        if row.check_before_send and row.channel and out.lookup is not None and not delivery.to_draw(row.payload):
            try:  # (a file still to draw was never posted)
                ref = self._look(out, row, row.channel, None if "attachment" not in row.payload
                                 else Attachment(**row.payload["attachment"]))
            except DeliveryError as exc:  # cannot tell yet: try again later
                return self._failed(row, exc, may_have_landed=True)
            if ref is not None:
                log.info("outbox row %s had reached %s before its last attempt ended; its recipient is no longer "
                         "entitled, but it cannot be unsent", row.id, row.platform)
                return self._sent(session, row, ref)
        return None

    def _withhold_file(self, session: Session, out: Outlet, row: OutboxMessage, reason: str) -> str:
        """Do not send a row whose recipient may no longer have the file it carries (the report's chart: nothing
        about a target, so no target is named and nobody else is told); log it as withheld."""
        landed = self._landed_before_withholding(session, out, row)
        if landed is not None:
            return landed
        key = row.destination_ref
        row.status, row.lease_until = "withheld", None
        metrics.delivered(row.platform, "withheld")
        row.last_error = (f"withheld: {key} is {reason}"
                          + (" (an earlier attempt may have reached them)" if row.check_before_send else ""))[:500]
        log.warning("outbox row %s withheld: its recipient may no longer have the file it carries", row.id)
        filename = (row.payload.get("attachment") or {}).get("filename", "")
        record(session, at=self.clock(), partnership_id=row.partnership_id, kind="withheld", actor="worker",
               what=f"queued message {row.idempotency_key} not sent (with file {filename})"[:500], recipients=[key],
               justification=f"recipient is {reason} at delivery")
        return "withheld"

    def _look(self, out: Outlet, row: OutboxMessage, channel: str, attachment: Attachment | None) -> str | None:
        """Did an earlier attempt reach the platform? A platform that cannot look up is not asked, and a
        look-up that can never work (e.g. a missing scope) does not block the message: either way it is posted,
        and may then arrive twice."""
        if out.lookup is None:
            log.warning("outbox row %s may have reached %s before its last attempt ended, and %s cannot look up "
                        "what was sent: sending it again, it may arrive twice", row.id, row.platform, row.platform)
            return None
        try:
            return out.lookup.already_sent(channel, row.idempotency_key, self.clock() - row.created_at,
                                           dedupe_id=row.id, attachment=attachment)
        except DeliveryError as exc:
            if not exc.permanent:
                raise
            log.warning("outbox row %s: cannot check whether it already arrived (%s); sending it, it may arrive "
                        "twice", row.id, exc)
            return None

    def _failed(self, row: OutboxMessage, exc: DeliveryError, *, may_have_landed: bool = False) -> str:
        if row.channel and row.destination_kind == "member":  # a remembered conversation that failed: open it again
            self._dms = {k: c for k, c in self._dms.items() if c != row.channel}
        row.lease_until = None
        row.last_error = str(exc)[:500]
        row.check_before_send = may_have_landed  # then the next attempt looks before it posts
        if exc.retry_after is not None:
            session = Session.object_session(row)
            if row.channel and row.platform in self.outlets and session is not None:
                self.outlets[row.platform].pacer.hold(session, row.channel, exc.retry_after, self.clock())
            row.status = "pending"
            row.next_attempt_at = self.clock() + timedelta(seconds=exc.retry_after)
            metrics.delivered(row.platform, "ratelimited")
            return "ratelimited"
        row.attempts += 1
        if exc.permanent or row.attempts >= MAX_ATTEMPTS:
            row.status = "failed"
            log.error("outbox message %s failed for good after %s attempts: %s", row.id, row.attempts, exc)
            metrics.delivered(row.platform, "failed")
            return "failed"
        row.status = "pending"
        row.next_attempt_at = self.clock() + timedelta(seconds=backoff(row.attempts))
        metrics.delivered(row.platform, "retry")
        return "retry"

    def run_once(self) -> int:
        """Claim and try one batch. Returns how many were sent."""
        sent = 0
        for row_id in self.claim():
            try:
                sent += self.deliver(row_id) == "sent"
            except Exception:  # keep the loop alive; the lease returns the row to the queue
                log.exception("outbox delivery of row %s crashed", row_id)
        return sent

    def seconds_until_due(self) -> float | None:
        """Seconds until a row of this sender's platforms can be claimed (a claimed row: when its lease runs out);
        None when none is left."""
        due_at = type_coerce(case((OutboxMessage.status == "sending",
                                   func.coalesce(OutboxMessage.lease_until, OutboxMessage.next_attempt_at)),
                                  else_=OutboxMessage.next_attempt_at), UTCDateTime())
        with self.factory() as session:
            nxt = session.scalar(select(due_at).where(OutboxMessage.status.in_(("pending", "sending")), self._mine())
                                 .order_by(due_at).limit(1))
        if nxt is None:
            return None
        return max((nxt - self.clock()).total_seconds(), 0.0)

    def drain(self, timeout: float = 60.0) -> bool:
        """Deliver until nothing is pending (True) or the timeout passes (False). For jobs and tests."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.run_once()
            wait = self.seconds_until_due()
            if wait is None:
                return True
            time.sleep(min(max(wait, 0.02), 1.0, max(deadline - time.monotonic(), 0)))
        return self.seconds_until_due() is None

    # -- background thread -------------------------------------------------------------------------
    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="oneday-outbox", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        """The background thread is started and alive (the worker's heartbeat asks)."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
                wait = self.seconds_until_due()
            except Exception:
                log.exception("outbox loop error; retrying in 5 s")
                wait = 5.0
            self._wake.wait(timeout=5.0 if wait is None else min(max(wait, 0.02), 5.0))
            self._wake.clear()
