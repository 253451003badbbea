"""Need-to-know answers cached per version of the partnership, so that a command's cost does not grow with the
partnership (targets, open actions, members) while the rule is still applied "now" at every showing and sending.

What is cached is the rule's *result* for a whole section (models.relevance: a cohort's section, which "am I in
this section" asks) and the part of its input every answer shares (`models.planning.RuleBase`: agencies, members,
cohorts, overrides). The rule is not changed and is not bypassed: a cached answer is the answer the rule gave for
exactly the same input.

**The version lives in the database**, so that a change made by any process (a `partnership load` from the CLI,
a `/action` answered by another replica, the worker closing an action) is seen by the very next request
everywhere:

* `partnership.rule_version` changes when anything every target's answer reads changes: the partnership row
  (ISP version, time zone, meeting settings), agencies, members, chat identities, cohorts, the coordinator's
  overrides, meetings and their sections (the day's plan reads when each target was last discussed), and targets
  added, removed or renamed;
* `cohort.rule_version` changes when one of the cohort's targets or one of their actions changes (in the rule's
  terms: number, target, owner, status, due), so recording an action leaves the other sections' answers warm.

Both are bumped by a SQLAlchemy `before_flush` hook, in the same transaction as the change (they commit or roll
back with it), and by a `do_orm_execute` hook for bulk `insert()/update()/delete()` statements on those entities
(which bypass the flush; those bump every partnership of the database: rare, and never wrong). Why a hook rather
than a cheap `max()` over the tables: the rule's input is seven tables without an updated-at column, deletes leave
no trace to take a max of, and a hook cannot be forgotten by the next command that writes (every write goes through
a session). Why a random token rather than a counter: a transaction that bumped a counter and then rolled back
would leave the next writer to produce the same number for different content, and two databases (a test's copy,
a restored backup) would share numbers; a 62-bit random token is never reused.

Each request reads the tokens once (one small query: the partnership row joined to its cohorts) and keeps them
for its duration, as it already kept the sections it had computed. A session that has itself written any of the
rule's input in its transaction (flushed, or pending while autoflush is off) neither reads nor fills the shared
cache: its answers must include its own uncommitted writes, and must never be served to anyone else (the
transaction may still roll back). The key also holds the day (`today`: a meeting's overrides apply until its day)
and the engine (one cache per database). A question about one target is answered from its section when that is
cached, else from the target's own open actions (one indexed query) on the cached shared part: right after a change
to a section, a command about one of its targets does not pay for reading the whole section. The caches are LRUs
with fixed sizes: memory is bounded whatever the number of partnerships, days or versions.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, TypeVar

from sqlalchemy import bindparam, event, inspect, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from models.action import Action
from models.agenda_override import AgendaOverride
from models.meeting import Meeting, Section
from models.partnership import Agency, ChatIdentity, Cohort, Member, Partnership, new_rule_version
from models.relevance import SectionRelevance, TargetRelevance
from models.target import Target

V = TypeVar("V")

# Entities every answer reads: a change bumps the partnership's version.
# Meetings and their sections are read by the day's plan (when each target was last discussed).
PARTNERSHIP_WIDE: tuple[type, ...] = (Partnership, Agency, Member, ChatIdentity, Cohort, AgendaOverride, Meeting,
                                      Section)
# Action columns the rule reads (an update of anything else, e.g. its wording, leaves the answers valid).
ACTION_RULE_COLUMNS = ("number", "target_id", "owner_id", "status", "due", "partnership_id")
RULE_ENTITIES: tuple[type, ...] = (*PARTNERSHIP_WIDE, Target, Action)

_CHANGED = "oneday.rule_input_changed"  # session.info: this transaction wrote the rule's input
_OWN_BUMP = "oneday_rule_bump"  # execution option on the hook's own statements

SIZES = {"bases": 64, "sections": 256, "plans": 8}  # entries per database, per process (README: Capacity)
# From this many references of one cohort in one request, the whole section is computed (and cached) rather than
# each slot on its own.
SECTION_AFTER = 4

Indexed = tuple[SectionRelevance, dict[str, TargetRelevance]]
NO_INDEX: dict[str, TargetRelevance] = {}
NOT_CACHED: Indexed = (SectionRelevance("", (), {}, (), (), ()), NO_INDEX)


class LRU(Generic[V]):
    """A small thread-safe LRU (uvicorn and bolt answer requests on several threads)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            value = self._data.get(key)
            if value is None:
                self.misses += 1
                return None
            self.hits += 1
            self._data.move_to_end(key)
            return value

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


@dataclass
class Store:
    """One database's cached answers."""

    bases: LRU[Any] = field(default_factory=lambda: LRU(SIZES["bases"]))
    sections: LRU[Indexed] = field(default_factory=lambda: LRU(SIZES["sections"]))
    plans: LRU[Any] = field(default_factory=lambda: LRU(SIZES["plans"]))


_stores: weakref.WeakKeyDictionary[Engine, Store] = weakref.WeakKeyDictionary()
_stores_lock = threading.Lock()


def store_for(session: Session) -> Store:
    bind = session.get_bind()
    engine: Engine = bind.engine if isinstance(bind, Connection) else bind  # a Connection-bound session: its engine
    with _stores_lock:
        store = _stores.get(engine)
        if store is None:
            store = _stores[engine] = Store()
        return store


def clear() -> None:
    """Forget every cached answer (tests compare a cold answer with a warm one)."""
    with _stores_lock:
        _stores.clear()


# ------------------------------------------------------------------------------------- the version


def _values(obj: object, attr: str) -> list[Any]:
    """The attribute's current value and, for an update, the value it had (a target moved between cohorts, an
    action moved between targets: both sides change)."""
    state = inspect(obj)
    history = state.attrs[attr].history
    return [v for v in (*history.added, *history.unchanged, *history.deleted) if v is not None]


def _changed(obj: object, columns: Iterable[str]) -> bool:
    state = inspect(obj)
    return any(state.attrs[c].history.has_changes() for c in columns)


def _partnership_of(session: Session, obj: Any) -> Partnership | None:
    if isinstance(obj, Partnership):
        return obj
    pid = getattr(obj, "partnership_id", None)
    if pid is not None:
        return session.get(Partnership, pid)
    related = getattr(obj, "partnership", None)  # a new row linked by relationship, id not yet assigned
    return related if isinstance(related, Partnership) else None


def _cohorts_of(session: Session, obj: Target | Action) -> tuple[list[Cohort], bool]:
    """The cohorts whose sections this target or action touches; False if one could not be resolved."""
    targets: list[Target] = []
    complete = True
    if isinstance(obj, Action):
        for tid in _values(obj, "target_id"):
            t = session.get(Target, tid)
            if t is not None:
                targets.append(t)
        if not targets:
            t = obj.target if "target" not in inspect(obj).unloaded else None
            if t is None:
                return [], False
            targets.append(t)
    else:
        targets.append(obj)
    cohorts: list[Cohort] = []
    for t in targets:
        ids = _values(t, "cohort_id")
        found = [c for c in (session.get(Cohort, i) for i in ids) if c is not None]
        if not found and "cohort" not in inspect(t).unloaded and t.cohort is not None:
            found = [t.cohort]
        complete = complete and bool(found)
        cohorts += found
    return cohorts, complete


def _before_flush(session: Session, flush_context: UOWTransaction, instances: object) -> None:
    """Bump the versions of what this flush changes (see the module docstring)."""
    partnerships: dict[int, Partnership] = {}
    cohorts: dict[int, Cohort] = {}
    everything = False
    deleted = set(session.deleted)
    with session.no_autoflush:
        for obj in [*session.new, *session.dirty, *deleted]:
            if not isinstance(obj, RULE_ENTITIES):
                continue
            if obj in session.dirty and obj not in session.new and not session.is_modified(obj):
                continue
            if isinstance(obj, Action) and obj in session.dirty and obj not in deleted \
                    and not _changed(obj, ACTION_RULE_COLUMNS):
                continue
            wide = isinstance(obj, PARTNERSHIP_WIDE) or (
                isinstance(obj, Target) and (obj in deleted or obj in session.new or _changed(obj, ("ref",))))
            if isinstance(obj, Target | Action):
                found, complete = _cohorts_of(session, obj)
                cohorts.update((id(c), c) for c in found)
                wide = wide or not complete
            if wide:
                p = _partnership_of(session, obj)
                if p is None:
                    everything = True
                else:
                    partnerships[id(p)] = p
        if not (partnerships or cohorts or everything):
            return
        session.info[_CHANGED] = True
        for p in partnerships.values():
            if p not in deleted:
                p.rule_version = new_rule_version()
        for c in cohorts.values():
            if c not in deleted:
                c.rule_version = new_rule_version()
        if everything:
            _bump_all(session)


def _bump_all(session: Session) -> None:
    session.execute(update(Partnership).values(rule_version=new_rule_version()),
                    execution_options={_OWN_BUMP: True, "synchronize_session": False})
    for p in session.identity_map.values():
        if isinstance(p, Partnership):
            session.expire(p, ["rule_version"])


def _on_execute(state: ORMExecuteState) -> None:
    """Bulk ORM statements on the rule's entities skip the flush: bump every partnership of the database."""
    if state.execution_options.get(_OWN_BUMP) or not (state.is_insert or state.is_update or state.is_delete):
        return
    if any(issubclass(m.class_, RULE_ENTITIES) for m in state.all_mappers):
        state.session.info[_CHANGED] = True
        _bump_all(state.session)


def _transaction_over(session: Session, *_: object) -> None:
    session.info.pop(_CHANGED, None)


event.listen(Session, "before_flush", _before_flush)
event.listen(Session, "do_orm_execute", _on_execute)
event.listen(Session, "after_commit", _transaction_over)
event.listen(Session, "after_rollback", _transaction_over)


def wrote_rule_input(session: Session) -> bool:
    """Whether this session's transaction has written (or holds, unflushed with autoflush off) the rule's input."""
    if session.info.get(_CHANGED):
        return True
    if session.autoflush:
        return False  # the next query flushes whatever is pending, and the hook marks it
    return any(isinstance(o, RULE_ENTITIES) for o in [*session.new, *session.dirty, *session.deleted])


# ------------------------------------------------------------------------------------- one request's view


@dataclass(frozen=True)
class Versions:
    partnership: int
    cohorts: dict[int, int]


# Built once: every request asks it, and building a statement costs more than running this one (SQLAlchemy also
# keeps a built statement's cache key).
_VERSIONS = (select(Partnership.rule_version, Cohort.id, Cohort.rule_version).select_from(Partnership)
             .outerjoin(Cohort, Cohort.partnership_id == Partnership.id)
             .where(Partnership.id == bindparam("partnership_id")))


def read_versions(session: Session, partnership_id: int) -> Versions:
    """The versions now: one query (the partnership row and its cohorts')."""
    rows = session.execute(_VERSIONS, {"partnership_id": partnership_id}).all()
    return Versions(rows[0][0] if rows else 0, {cid: v for _, cid, v in rows if cid is not None})


class RuleView:
    """One request's (or one delivery's) reading of the rule: answers memoised for the request, and taken from /
    put into the shared cache under the versions read at its first question.

    `compute_*` are the uncached readers (models.planning); they are passed in so that this module depends on
    the entities only, and models.planning can use the view without an import cycle.
    """

    def __init__(self, session: Session, partnership: Partnership, today: date | None) -> None:
        self.session, self.partnership, self.today = session, partnership, today
        self._versions: Versions | None = None
        self._base: Any = None
        self._sections: dict[int, Indexed] = {}
        self._slots: dict[tuple[int, str], TargetRelevance | None] = {}
        self._asked: dict[int, int] = {}
        self._store = store_for(session)

    def _shared(self) -> Versions | None:
        """The versions to key the shared cache with, or None if this transaction must not use it."""
        if wrote_rule_input(self.session):
            return None
        if self._versions is None:
            self._versions = read_versions(self.session, self.partnership.id)
        return None if wrote_rule_input(self.session) else self._versions  # the query may have flushed

    def base(self, compute: Callable[[], Any]) -> Any:
        if self._base is None:
            v = self._shared()
            key = (self.partnership.id, v.partnership, self.today) if v else None
            self._base = self._store.bases.get(key) if key else None
            if self._base is None:
                self._base = compute()
                if key:
                    self._store.bases.put(key, self._base)
        return self._base

    def plan(self, day: date, compute: Callable[[], V]) -> V:
        """The day's plan (models.planning.plan_day): it reads the whole partnership, so it is keyed by the
        partnership's version and every cohort's (the follow-partnership job asks for each upcoming meeting every
        minute: unchanged, it costs the versions query)."""
        v = self._shared()
        key = (self.partnership.id, v.partnership, tuple(sorted(v.cohorts.items())), day) if v else None
        found = self._store.plans.get(key) if key else None
        if found is None:
            found = compute()
            if key:
                self._store.plans.put(key, found)
        return found  # type: ignore[no-any-return]

    def section(self, cohort_id: int, compute: Callable[[], SectionRelevance]) -> SectionRelevance:
        return self._indexed(cohort_id, compute)[0]

    def _indexed(self, cohort_id: int, compute: Callable[[], SectionRelevance] | None) -> Indexed:
        """The section with its slots by ref: memoised, else from the shared cache, else computed (if `compute`
        is given; otherwise an empty marker is returned and nothing is computed)."""
        if cohort_id not in self._sections:
            key = self._section_key(cohort_id)
            found = self._store.sections.get(key) if key else None
            if found is None:
                if compute is None:
                    return NOT_CACHED
                section = compute()
                found = (section, {s.ref: s for s in section.slots})
                if key:
                    self._store.sections.put(key, found)
            self._sections[cohort_id] = found
        return self._sections[cohort_id]

    def _section_key(self, cohort_id: int) -> Hashable | None:
        v = self._shared()
        if v is None:
            return None
        return (self.partnership.id, v.partnership, cohort_id, v.cohorts.get(cohort_id), self.today)

    def slot(self, cohort_id: int, ref: str, compute_slot: Callable[[], TargetRelevance],
             compute_section: Callable[[], SectionRelevance]) -> TargetRelevance | None:
        """One reference's slot in its cohort's section now (None: not on it, e.g. a closed target).

        From the section when this request or the shared cache has it (no query); else, for the first few
        references of a cohort, computed alone (`compute_slot`: one indexed query, the reference's own open
        actions: a command about one target does not read its whole section after every change to it); from
        the SECTION_AFTER-th reference of the same cohort in one request (a pack, a list), the whole section is
        computed once and cached instead. A reference that does not exist goes the same way, by the cohort it is
        assigned to, so a refusal's work does not depend on whether the reference exists.
        """
        memo = (cohort_id, ref)
        if memo in self._slots:
            return self._slots[memo]
        self._asked[cohort_id] = self._asked.get(cohort_id, 0) + 1
        compute = compute_section if self._asked[cohort_id] >= SECTION_AFTER else None
        _, index = self._indexed(cohort_id, compute)
        found = index.get(ref) if index is not NO_INDEX else compute_slot()
        self._slots[memo] = found
        return found
