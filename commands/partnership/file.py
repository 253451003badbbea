"""Load (idempotent upsert) and export the partnership file.

Loading applies exactly the edits: an entity whose fields already match is untouched, so a second load of
the same file reports 0 changes. Entities dropped from the file are deactivated, never deleted, because
actions and the audit log still point at them; targets dropped from the file are closed.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.core.errors import FileErrors, NotFound, UsageError
from commands.core.platforms import PLATFORMS
from commands.partnership import spec as partnership_spec
from commands.partnership import yamlfile
from models import Agency, ChatIdentity, Cohort, Member, Partnership, PartnerView, Target, TargetDetails, TargetStatus
from models.audit import record

PLATFORM_FIELDS = tuple(PLATFORMS)  # a member's chat ids: slack, teams
MAX_BYTES = 5 * 1024 * 1024  # 150 times the sample; checking a file this size takes a few seconds
# How to get a first partnership into an empty database: the sample ships inside the package.
LOAD_SAMPLE = "oneday partnership sample -o northtown.yaml && oneday partnership load northtown.yaml"
MB = 1024 * 1024


def _too_big(source: str, size: int) -> UsageError:
    return UsageError(f"{source} is {size / MB:.1f} MB; a partnership file may be at most {MAX_BYTES // MB} MB")


def read_file(path: Path) -> str:
    """The text of a partnership file, refusing before parsing anything too big, binary or not UTF-8."""
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)  # never more, whatever stat() says (a pipe, /dev/zero)
            if len(raw) > MAX_BYTES:
                size = max(path.stat().st_size, len(raw))
                raise _too_big(str(path), size)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}",
                         example="oneday partnership load northtown.yaml") from exc
    if b"\x00" in raw:
        raise UsageError(f"{path} is not a text file (it contains binary data); a partnership file is YAML text",
                         example="oneday partnership load northtown.yaml")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from exc


def parse_file(text: str, *, source: str) -> dict[str, Any]:
    """YAML text -> validated spec, or FileErrors listing every problem (duplicate YAML keys and validation
    errors together)."""
    if len(text) > MAX_BYTES:
        raise _too_big(source, len(text.encode("utf-8")))
    data, problems = yamlfile.load(text)
    if data is yamlfile.INVALID:
        raise FileErrors(problems, source=source)
    spec, errors = partnership_spec.validate(data)
    if problems or errors or spec is None:
        raise FileErrors(problems + errors, source=source)
    return spec


_FIRST_PARTNERSHIPS = select(Partnership).order_by(Partnership.key).limit(3)  # built once: asked by every request


def select_partnership(session: Session, key: str | None) -> Partnership:
    """The partnership named by key, or the only one in the database."""
    if key:
        found = session.scalar(select(Partnership).where(Partnership.key == key))
        if found is None:
            raise NotFound(f"no partnership '{key}' in this database",
                           example=LOAD_SAMPLE)
        return found
    all_ = session.scalars(_FIRST_PARTNERSHIPS).all()
    if not all_:
        raise NotFound("this database holds no partnership yet",
                       example=LOAD_SAMPLE)
    if len(all_) > 1:
        raise UsageError("this database holds several partnerships; name one with --partnership KEY "
                         "or ONEDAY_PARTNERSHIP", example="oneday --partnership northtown agenda plan ...")
    return all_[0]


def _plain(value: Any) -> Any:
    """A status as the file writes it ('closed'), not as Python shows the enum member."""
    return value.value if isinstance(value, Enum) else value


def _shown(value: Any) -> str:
    """A value as the partnership file writes it: `CMEET`, `[drugs, benefits]`, `true`, `2026-12-08`, `(none)`."""
    value = _plain(value)
    if value is None or value == "":
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_shown(v)}" for k, v in value.items()) + "}"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def describe(path: str, old: Any, new: Any) -> list[str]:
    """What changed at `path`, in the file's own words, one line per setting: a mapping (meeting, reminders) is
    compared key by key, so a change reads `meeting.channel: (none) -> CMEET`, never a Python repr."""
    old, new = _plain(old), _plain(new)
    if isinstance(old, dict | type(None)) and isinstance(new, dict) or isinstance(old, dict) and new is None:
        before, after = old or {}, new or {}
        lines: list[str] = []
        for key in [*before, *(k for k in after if k not in before)]:
            if before.get(key) != after.get(key):
                lines += describe(f"{path}.{key}", before.get(key), after.get(key))
        return lines
    return [f"{path}: {_shown(old)} -> {_shown(new)}"]


def _sync(obj: Any, wanted: dict[str, Any], label: str, changes: list[str]) -> bool:
    changed = False
    for field, value in wanted.items():
        current = getattr(obj, field)
        if current != value:
            changes += describe(f"{label}: {field}", current, value)
            setattr(obj, field, value)
            changed = True
    return changed


class _Loader:
    def __init__(self, session: Session, spec: dict[str, Any], actor: str, now: datetime) -> None:
        self.session, self.spec, self.actor, self.now = session, spec, actor, now
        self.changes: list[str] = []

    def run(self) -> list[str]:
        self.partnership()
        self.agencies = self.entities(Agency, "agencies", "agency", self.agency_fields)
        self.cohorts = self.entities(Cohort, "cohorts", "cohort", lambda s: {
            k: s[k] for k in ("name", "order", "agencies", "minutes_per_target", "handling",
                              "personal_data", "confidentiality")})
        self.members = self.entities(Member, "members", "member", self.member_fields)
        self.session.flush()
        self.identities()
        self.targets()
        self.session.flush()
        return self.changes

    def partnership(self) -> None:
        head = self.spec["partnership"]
        p = self.session.scalar(select(Partnership).where(Partnership.key == head["key"]))
        if p is None:
            p = Partnership(key=head["key"], name=head["name"], timezone=head["timezone"],
                            isp_version=head["isp_version"], meeting={}, reminders={}, retention={},
                            created_at=self.now)
            self.session.add(p)
            self.changes.append(f"partnership {head['key']}: created")
        wanted = {"name": head["name"], "timezone": head["timezone"], "isp_version": head["isp_version"],
                  "meeting": self.spec["meeting"], "reminders": self.spec["reminders"],
                  "retention": self.spec["retention"]}
        _sync(p, wanted, f"partnership {head['key']}", self.changes)
        self.session.flush()
        self.p = p

    def agency_fields(self, s: dict[str, Any]) -> dict[str, Any]:
        return {k: s[k] for k in ("name", "category", "flags", "powers", "information", "isp_signed", "core")}

    def member_fields(self, s: dict[str, Any]) -> dict[str, Any]:
        return {"name": s["name"], "email": s["email"], "agency_id": self.agencies[s["agency"]].id,
                "roles": s["roles"], "cohorts": s["cohorts"], "spoc": s["spoc"],
                "out_of_office_until": s["out_of_office_until"]}

    def entities(self, model: Any, section: str, noun: str, fields: Any) -> dict[str, Any]:
        existing = {e.key: e for e in self.session.scalars(
            select(model).where(model.partnership_id == self.p.id))}
        wanted_keys = set()
        for s in self.spec[section]:
            wanted_keys.add(s["key"])
            obj = existing.get(s["key"])
            if obj is None:
                obj = model(partnership_id=self.p.id, key=s["key"], **fields(s))
                self.session.add(obj)
                existing[s["key"]] = obj
                self.changes.append(f"{noun} {s['key']}: created")
            else:
                _sync(obj, {**fields(s), "active": True}, f"{noun} {s['key']}", self.changes)
            self.session.flush()
        for key, obj in existing.items():
            if key not in wanted_keys and obj.active:
                obj.active = False
                self.changes.append(f"{noun} {key}: deactivated (no longer in the file)")
        return existing

    def identities(self) -> None:
        """Remove every changed chat id before adding any, so two members can swap ids in one load; a member
        who left the file keeps their ids unless one now belongs to someone in it (one id, one member)."""
        wanted = [(self.members[spec["key"]], spec) for spec in self.spec["members"]]
        claimed = {(platform, spec[platform]) for _, spec in wanted for platform in PLATFORM_FIELDS
                   if spec.get(platform)}
        in_file = {member.id for member, _ in wanted}
        for member, spec in wanted:
            for ident in list(member.identities):
                if ident.platform in PLATFORM_FIELDS and ident.user_id != spec.get(ident.platform):
                    member.identities.remove(ident)
                    self.changes.append(f"member {member.key}: {ident.platform}: {ident.user_id} -> (none)")
        for member in self.members.values():
            if member.id in in_file:
                continue
            for ident in list(member.identities):
                if (ident.platform, ident.user_id) in claimed:
                    member.identities.remove(ident)
                    self.changes.append(f"member {member.key}: {ident.platform}: {ident.user_id} -> (none)")
        self.session.flush()
        for member, spec in wanted:
            for platform in PLATFORM_FIELDS:
                want = spec.get(platform)
                if want and member.identity(platform) is None:
                    member.identities.append(ChatIdentity(partnership_id=self.p.id, platform=platform, user_id=want))
                    self.changes.append(f"member {member.key}: {platform}: (none) -> {want}")

    def targets(self) -> None:
        existing = {t.ref: t for t in self.session.scalars(select(Target).where(Target.partnership_id == self.p.id))}
        seen = set()
        for s in self.spec["targets"]:
            seen.add(s["ref"])
            upsert_target(self.session, self.p, s, self.cohorts, self.members, existing, self.actor,
                          self.changes, justification="partnership file load", now=self.now)
        for ref, t in existing.items():
            if ref not in seen and t.status != TargetStatus.CLOSED:
                t.status = TargetStatus.CLOSED
                self.changes.append(f"target {ref}: closed (no longer in the file)")
                record(self.session, at=self.now, partnership_id=self.p.id, kind="alteration", actor=self.actor,
                       what="status -> closed (removed from partnership file)", target_id=t.id, target_ref=ref,
                       justification="partnership file load")


def upsert_target(session: Session, p: Partnership, s: dict[str, Any], cohorts: dict[str, Cohort],
                  members: dict[str, Member], existing: dict[str, Target], actor: str,
                  changes: list[str], *, justification: str, now: datetime) -> None:
    """Create or update one target from a checked spec and record it in the processing log."""
    wanted = {"kind": s["kind"], "cohort_id": cohorts[s["cohort"]].id, "lead_id": members[s["lead"]].id,
              "flags": s["flags"], "priority": s["priority"], "status": TargetStatus(s["status"]), "review": s["review"]}
    if s.get("partner_view") is not None:  # left out: what the lead set stands (commands/agenda/share.py)
        wanted["partner_view"] = PartnerView(s["partner_view"])
    t = existing.get(s["ref"])
    before = len(changes)
    if t is None:
        t = Target(partnership_id=p.id, ref=s["ref"], **wanted)
        session.add(t)
        session.flush()
        existing[s["ref"]] = t
        changes.append(f"target {s['ref']}: created")
        kind = "collection"
    else:
        _sync(t, wanted, f"target {s['ref']}", changes)
        kind = "alteration"
    summary = (s.get("details") or {}).get("summary")
    # the texts for partners, where the file gives them (left out, they stay as they are)
    for_partners = {k: v for k, v in (s.get("details") or {}).items() if k in ("partner_summary", "ask") and v}
    facts = partnership_spec.facts_of(s.get("details"))  # the structured details (s.38); left out: empty
    if s.get("details") is not None or t.details is not None:
        summary = summary or ""
        if t.details is None:
            if summary or for_partners or facts:
                t.details = TargetDetails(partnership_id=p.id, summary=summary, facts=facts, **for_partners)
                changes.append(f"target {s['ref']}: details added")
        else:
            if t.details.summary != summary:
                t.details.summary = summary
                changes.append(f"target {s['ref']}: details changed")
            if (t.details.facts or {}) != facts:
                t.details.facts = facts
                changes.append(f"target {s['ref']}: structured details changed")
            for field, text in for_partners.items():
                if getattr(t.details, field) != text:
                    setattr(t.details, field, text)
                    changes.append(f"target {s['ref']}: {field} changed")
    if len(changes) > before:
        fields = sorted({c.split(": ", 1)[1].split(" ", 1)[0].rstrip(":").split(".", 1)[0] for c in changes[before:]})
        record(session, at=now, partnership_id=p.id, kind=kind, actor=actor, target_id=t.id, target_ref=t.ref,
               what=f"target {kind}: {', '.join(fields)}", justification=justification)


def load(session: Session, text: str, *, source: str, now: datetime, actor: str = "cli") -> list[str]:
    """Validate then apply a partnership file in the caller's transaction. Returns the changes made."""
    spec = parse_file(text, source=source)
    changes = _Loader(session, spec, actor, now).run()
    if changes:
        p = session.scalar(select(Partnership).where(Partnership.key == spec["partnership"]["key"]))
        assert p is not None
        record(session, at=now, partnership_id=p.id, kind="alteration", actor=actor,
               what=f"partnership file {source} loaded: {len(changes)} changes",
               justification="partnership file load")
    return changes


def export(session: Session, p: Partnership) -> str:
    """The partnership as a file that `load` reads back to the same state."""
    def active(model: Any) -> list[Any]:
        return list(session.scalars(select(model).where(model.partnership_id == p.id, model.active.is_(True))
                                    .order_by(model.id)))

    members = active(Member)
    by_id = {m.id: m for m in session.scalars(select(Member).where(Member.partnership_id == p.id))}
    cohorts = {c.id: c for c in session.scalars(select(Cohort).where(Cohort.partnership_id == p.id))}
    doc: dict[str, Any] = {
        "partnership": {"key": p.key, "name": p.name, "timezone": p.timezone, "isp_version": p.isp_version},
        "agencies": [{"key": a.key, "name": a.name, "category": a.category, "flags": a.flags, "powers": a.powers,
                      "information": a.information, "isp_signed": a.isp_signed, "core": a.core}
                     for a in active(Agency)],
        "members": [],
        "cohorts": [{"key": c.key, "name": c.name, "order": c.order, "agencies": c.agencies,
                     "minutes_per_target": c.minutes_per_target, "handling": c.handling,
                     "personal_data": c.personal_data,
                     # no statement is written as no field: load refuses empty text
                     **({"confidentiality": c.confidentiality} if c.confidentiality else {})}
                    for c in active(Cohort)],
        "targets": [],
        "meeting": p.meeting,
        "reminders": p.reminders,
        **({"retention": p.retention} if p.retention else {}),
    }
    for m in members:
        entry = {"key": m.key, "name": m.name, "email": m.email, "agency": m.agency.key, "roles": m.roles,
                 "cohorts": m.cohorts, "spoc": m.spoc}
        for platform in PLATFORM_FIELDS:
            if m.identity(platform):
                entry[platform] = m.identity(platform)
        if m.out_of_office_until:
            entry["out_of_office_until"] = m.out_of_office_until
        doc["members"].append(entry)
    # A closed target whose lead or cohort has left the partnership stays in the database (the audit log points
    # at it) but cannot be written as a valid file entry; leaving it out keeps the export loadable, and loading
    # the export leaves it closed.
    active_members = {m.id for m in members}
    active_cohorts = {c.id for c in cohorts.values() if c.active}
    for t in session.scalars(select(Target).where(Target.partnership_id == p.id).order_by(Target.id)):
        if t.lead_id not in active_members or t.cohort_id not in active_cohorts:
            continue
        entry = {"ref": t.ref, "kind": t.kind, "cohort": cohorts[t.cohort_id].key, "lead": by_id[t.lead_id].key,
                 "flags": t.flags, "priority": t.priority, "status": t.status.value, "review": t.review}
        if t.partner_view != PartnerView.FULL:
            entry["partner_view"] = t.partner_view.value
        # empty texts are written as no field: load refuses empty text
        details = {k: v for k, v in (("summary", t.details.summary), ("partner_summary", t.details.partner_summary),
                                     ("ask", t.details.ask), *(t.details.facts or {}).items()) if v} \
            if t.details is not None else {}
        if details:
            entry["details"] = details
        doc["targets"].append(entry)
    header = handling_header(marking(cohorts.values()), f"{neutralise(p.name)} partnership file")
    return header + yamlfile.dump(neutralise_all(doc))


def marking(cohorts: Any) -> str:
    """The handling marking of a document that may carry anything of these cohorts: the highest of theirs."""
    marks = {c.handling for c in cohorts}
    return "OFFICIAL-SENSITIVE" if "OFFICIAL-SENSITIVE" in marks or not marks else "OFFICIAL"


def handling_header(mark: str, what: str, comment: str = "# ") -> str:
    """The first lines of every export and document (UK Government Security Classifications): its marking, then
    what it is and how to handle it. Written as comments, so the file still loads."""
    return (f"{comment}{mark}\n{comment}{what}: contains police intelligence shared under the partnership's ISP; "
            f"need-to-know only, do not forward or copy.\n")


def neutralise(text: str) -> str:
    """Stop a spreadsheet from running exported text as a formula (CSV/formula injection).

    Loading refuses text that starts with = + - @ (a value that needs one is written with a leading
    apostrophe, which is kept), so only rows written before that rule, or by hand in the database, can
    start with one. Export writes those with a leading apostrophe; loading that export stores the apostrophe
    form (one change per such value), after which export and load are stable.
    """
    return "'" + text if text.startswith(partnership_spec.FORMULA_PREFIXES) else text


def neutralise_all(value: Any) -> Any:
    """neutralise() every string in an exported document (names, information, emails, summaries...)."""
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, dict):
        return {k: neutralise_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [neutralise_all(v) for v in value]
    return value
