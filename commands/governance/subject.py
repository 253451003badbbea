"""Subject access for the DPO: find a person in everything held on targets, and export all held on one target.

Free text and target details are encrypted at rest (a TypeDecorator decrypts them when loaded), so nothing here
filters on them in SQL: the partnership's targets, details, actions, notes and outcomes are loaded through the ORM
and matched in Python. Every structured detail column is searched and exported, whatever columns TargetDetails
grows (read from the mapper, not listed here). A search that finds a target is a consultation of it, and an
export a disclosure: each recorded with the actor.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, selectinload

from commands.core.errors import NotFound, UsageError
from commands.governance.actor import Actor
from commands.governance.marking import target_marking
from models.action import Action, Outcome
from models.action_note import ActionNote
from models.audit import AuditEvent, as_dict, record
from models.partnership import Partnership
from models.target import Target, TargetDetails

MIN_TEXT = 3  # a search for "a" would return everything: it is not a subject search
SNIPPET = 40  # characters shown each side of a match
_NOT_DETAILS = {"id", "target_id", "partnership_id"}


@dataclass(frozen=True)
class Hit:
    ref: str
    where: str  # "details.summary", "action #3", "action #3 note", "action #3 outcome"
    snippet: str


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def detail_fields(details: TargetDetails | None) -> dict[str, Any]:
    """Every column of a target's details (name, aliases, addresses, ... as the model has them), JSON-ready."""
    if details is None:
        return {}
    return {attr.key: _plain(getattr(details, attr.key)) for attr in inspect(TargetDetails).column_attrs
            if attr.key not in _NOT_DETAILS}


def _texts(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """Every string inside a value (structured details may be lists and mappings), with where it sits."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _texts(v, f"{where}.{k}")
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from _texts(v, f"{where}[{i}]")


def _snippet(text: str, at: int, length: int) -> str:
    start, end = max(0, at - SNIPPET), min(len(text), at + length + SNIPPET)
    return ("..." if start else "") + " ".join(text[start:end].split()) + ("..." if end < len(text) else "")


def _targets(session: Session, partnership: Partnership) -> list[Target]:
    return list(session.scalars(select(Target).where(Target.partnership_id == partnership.id)
                                .options(selectinload(Target.details), selectinload(Target.cohort))
                                .order_by(Target.ref)))


def _actions(session: Session, partnership: Partnership, target_ids: list[int]) -> list[Action]:
    if not target_ids:
        return []
    return list(session.scalars(select(Action).where(Action.partnership_id == partnership.id,
                                                     Action.target_id.in_(target_ids))
                                .options(selectinload(Action.outcome), selectinload(Action.owner))
                                .order_by(Action.number)))


def _notes(session: Session, partnership: Partnership, action_ids: list[int]) -> dict[int, list[ActionNote]]:
    found: dict[int, list[ActionNote]] = {}
    if action_ids:
        for note in session.scalars(select(ActionNote).where(ActionNote.partnership_id == partnership.id,
                                                             ActionNote.action_id.in_(action_ids))
                                    .order_by(ActionNote.at, ActionNote.id)):
            found.setdefault(note.action_id, []).append(note)
    return found


def _sources(target: Target, actions: list[Action], notes: dict[int, list[ActionNote]]) -> Iterator[tuple[str, str]]:
    yield "ref", target.ref
    for key, value in detail_fields(target.details).items():
        yield from _texts(value, f"details.{key}")
    for a in actions:
        yield f"action #{a.number}", a.text
        for note in notes.get(a.id, []):
            yield f"action #{a.number} note ({note.kind})", note.text
        if a.outcome is not None:
            yield f"action #{a.number} outcome", f"{a.outcome.category}: {a.outcome.text}"


def search(session: Session, partnership: Partnership, text: str, *, actor: Actor, now: datetime,
           reason: str) -> list[Hit]:
    """Every place the text occurs (case and spacing ignored), per target; each target found is a consultation."""
    wanted = " ".join(text.split()).casefold()
    if len(wanted) < MIN_TEXT:
        raise UsageError(f"search for at least {MIN_TEXT} characters (got '{text}')",
                         example='oneday subject search "Smith" --as dpo.key')
    targets = _targets(session, partnership)
    actions = _actions(session, partnership, [t.id for t in targets])
    notes = _notes(session, partnership, [a.id for a in actions])
    by_target: dict[int, list[Action]] = {}
    for a in actions:
        by_target.setdefault(a.target_id, []).append(a)
    hits: list[Hit] = []
    for t in targets:
        found = []
        for where, value in _sources(t, by_target.get(t.id, []), notes):
            flat = " ".join(value.split())
            at = flat.casefold().find(wanted)
            if at >= 0:
                found.append(Hit(t.ref, where, _snippet(flat, at, len(wanted))))
        if found:
            hits.extend(found)
            record(session, at=now, partnership_id=partnership.id, kind="consultation", actor=actor.label,
                   actor_member_id=actor.member_id, target_id=t.id, target_ref=t.ref,
                   what=f"subject search: {len(found)} match{'es' if len(found) != 1 else ''} "
                        f"({', '.join(dict.fromkeys(h.where for h in found))})",
                   recipients=[actor.label], justification=reason)
    return hits


def _member_key(member: Any) -> str | None:
    return None if member is None else member.key


def holding(session: Session, partnership: Partnership, ref: str) -> dict[str, Any]:
    """Everything held on one target: its record, its details, its actions with their notes and outcomes, and its
    processing log."""
    target = session.scalar(select(Target).where(Target.partnership_id == partnership.id, Target.ref == ref)
                            .options(selectinload(Target.details), selectinload(Target.cohort),
                                     selectinload(Target.lead)))
    if target is None:
        raise NotFound(f"no target '{ref}' in {partnership.name}", example="oneday subject export OCG-07 -o ocg-07.json")
    actions = _actions(session, partnership, [target.id])
    notes = _notes(session, partnership, [a.id for a in actions])
    log = session.scalars(select(AuditEvent).where(AuditEvent.partnership_id == partnership.id,
                                                   AuditEvent.target_ref == target.ref).order_by(AuditEvent.seq))
    return {
        "marking": target_marking(target),
        "partnership": partnership.key,
        "target": {"ref": target.ref, "kind": target.kind, "cohort": target.cohort.key, "lead": target.lead.key,
                   "flags": list(target.flags or []), "priority": target.priority, "status": _plain(target.status),
                   "review": _plain(target.review), "partner_view": _plain(target.partner_view)},
        "details": detail_fields(target.details),
        "actions": [_action(a, notes.get(a.id, [])) for a in actions],
        "log": [as_dict(e) for e in log],
    }


def _action(a: Action, notes: list[ActionNote]) -> dict[str, Any]:
    outcome: Outcome | None = a.outcome
    return {
        "number": a.number, "text": a.text, "status": _plain(a.status), "due": _plain(a.due),
        "owner": a.owner.key, "created_at": _plain(a.created_at), "updated_at": _plain(a.updated_at),
        "notes": [{"kind": n.kind, "text": n.text, "author": _member_key(n.author), "at": _plain(n.at)} for n in notes],
        "outcome": None if outcome is None else {
            "category": outcome.category, "text": outcome.text, "recorded_at": _plain(outcome.recorded_at)},
    }


def export(session: Session, partnership: Partnership, ref: str, *, actor: Actor, now: datetime, destination: str,
           reason: str) -> str:
    """All held on the target as JSON (first key: its handling marking); recorded as a disclosure of it."""
    held = holding(session, partnership, ref)
    held = {"marking": held.pop("marking"), "exported_at": now.isoformat(), "exported_by": actor.label, **held}
    target_id = session.scalar(select(Target.id).where(Target.partnership_id == partnership.id, Target.ref == ref))
    record(session, at=now, partnership_id=partnership.id, kind="disclosure", actor=actor.label,
           actor_member_id=actor.member_id, target_id=target_id, target_ref=ref,
           what=f"subject export: details, {len(held['actions'])} actions, {len(held['log'])} log rows",
           recipients=[actor.label, f"file:{destination}"], justification=reason)
    return json.dumps(held, indent=2, ensure_ascii=False) + "\n"
