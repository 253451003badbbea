"""`oneday audit export`: the processing log read back for the DPO, filtered by target, member and dates.

The export is itself a disclosure of every target it names (the DPO, or whoever ran it, received what the log says
about them), so it is recorded as one, in the same transaction, with the actor and where it went. The rows are
filtered in SQL on the log's own columns only (never on target details or free text, which are encrypted at rest),
except `--member`, which also matches the JSON list of recipients, in Python.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.core.errors import UsageError
from commands.governance.actor import Actor
from commands.governance.marking import partnership_marking
from models.audit import AuditEvent, as_dict, record
from models.partnership import Member, Partnership

FORMATS = ("csv", "json")
COLUMNS = ("id", "seq", "at", "kind", "actor", "target_ref", "recipients", "what", "justification", "prev_hash",
           "hash")
EXAMPLE = "oneday audit export --target OCG-07 --from 2026-12-01 --to 2026-12-31 --format csv -o ocg-07-log.csv"


@dataclass(frozen=True)
class LogFilter:
    target: str | None = None
    member: str | None = None
    start: date | None = None  # first day included (the partnership's time zone)
    end: date | None = None  # last day included

    def describe(self) -> str:
        parts = [f"target {self.target}" if self.target else "", f"member {self.member}" if self.member else "",
                 f"from {self.start.isoformat()}" if self.start else "", f"to {self.end.isoformat()}" if self.end else ""]
        return ", ".join(p for p in parts if p) or "the whole log"


def parse_day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{option}: '{text}' is not a date; write it as YYYY-MM-DD", example=EXAMPLE) from None


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise UsageError(f"--format: '{fmt}' is not one of {', '.join(FORMATS)}", example=EXAMPLE)
    return fmt


def select_events(session: Session, partnership: Partnership, f: LogFilter) -> list[AuditEvent]:
    if f.start and f.end and f.end < f.start:
        raise UsageError(f"--to {f.end.isoformat()} is before --from {f.start.isoformat()}", example=EXAMPLE)
    q = select(AuditEvent).where(AuditEvent.partnership_id == partnership.id)
    tz = ZoneInfo(partnership.timezone)
    if f.target:
        q = q.where(AuditEvent.target_ref == f.target)
    if f.start:
        q = q.where(AuditEvent.at >= datetime.combine(f.start, time(0), tz))
    if f.end:
        q = q.where(AuditEvent.at < datetime.combine(f.end + timedelta(days=1), time(0), tz))
    events = list(session.scalars(q.order_by(AuditEvent.seq)))
    if f.member:
        member = session.scalar(select(Member).where(Member.partnership_id == partnership.id, Member.key == f.member))
        if member is None:
            raise UsageError(f"--member: no member '{f.member}' in {partnership.name}", example=EXAMPLE)
        label = f"member:{member.key}"
        events = [e for e in events
                  if e.actor_member_id == member.id or e.actor == label or member.key in (e.recipients or [])]
    return events


def _cell(value: str) -> str:
    """A spreadsheet runs text starting with = + - @ as a formula: such a cell is written with an apostrophe."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def render(events: Sequence[AuditEvent], fmt: str, *, marking: str, header: dict[str, Any]) -> str:
    """CSV: the marking on the first line, then a header row and one row per event (recipients joined with ';').
    JSON: an object whose first key is the marking."""
    rows = [as_dict(e) for e in events]
    if fmt == "json":
        return json.dumps({"marking": marking, **header, "events": rows}, indent=2, ensure_ascii=False) + "\n"
    buf = io.StringIO()
    buf.write(f"{marking}\n")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(";".join(row[c]) if c == "recipients" else str(row[c])) for c in COLUMNS])
    return buf.getvalue()


@dataclass(frozen=True)
class Export:
    text: str
    rows: int
    targets: tuple[str, ...]


def export_log(session: Session, partnership: Partnership, f: LogFilter, *, fmt: str, actor: Actor, now: datetime,
               destination: str, reason: str) -> Export:
    """The filtered log as text, and one disclosure recorded per target it names."""
    events = select_events(session, partnership, f)
    marking = partnership_marking(session, partnership)
    header = {"partnership": partnership.key, "filter": f.describe(), "exported_at": now.isoformat(),
              "exported_by": actor.label}
    text = render(events, check_format(fmt), marking=marking, header=header)
    refs = tuple(dict.fromkeys(e.target_ref for e in events if e.target_ref))
    ids = {e.target_ref: e.target_id for e in events if e.target_ref}
    for ref in refs:
        record(session, at=now, partnership_id=partnership.id, kind="disclosure", actor=actor.label,
               actor_member_id=actor.member_id, target_id=ids.get(ref), target_ref=ref,
               what=f"processing log export ({f.describe()}; {len(events)} rows, {fmt})",
               recipients=[actor.label, f"file:{destination}"], justification=reason)
    return Export(text, len(events), refs)
