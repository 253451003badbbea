"""Validate a partnership file into a normalised spec, collecting every error with its place.

Nothing here touches the database: `validate()` is a pure function from parsed YAML to either a spec or a
list of errors such as ``line 42: members[3].agency: unknown agency 'dwpp' (did you mean 'dwp'?)``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from datetime import date, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from commands.core.platforms import PLATFORMS, Platform, canonical
from models.partnership import CATEGORIES, HANDLING, ROLES
from models.recurrence import ON_BANK_HOLIDAY, WEEKDAYS
from models.target import BASES, KINDS, SUBJECT_STATUSES, PartnerView, TargetStatus

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
REF_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,31}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

TOP_KEYS = ("partnership", "agencies", "members", "cohorts", "targets", "meeting", "reminders", "retention")

DEFAULT_REMINDERS: dict[str, Any] = {
    "first_working_days_before": 2,
    "overdue_every_working_days": 2,
    "escalate_after_chases": 3,
    "working_hours": {"start": "09:00", "end": "17:00"},
}


SUGGEST_LIMIT = 200  # "did you mean" is worked out for this many errors (the ones a person will read), no more


def suggest(value: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(value)[:100], list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def show(v: Any) -> str:
    """A value as an error message quotes it: containers named, long text cut short."""
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list):
        return "a list"
    text = str(v)
    return f"'{text[:57]}...'" if len(text) > 60 else f"'{text}'"


def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return "true/false"
    if isinstance(v, int | float):
        return f"the number {v}"
    if isinstance(v, date):
        return f"the date {v}"
    return show(v)


class Collector:
    """Accumulates errors; each field check returns a value (or None) and never raises."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def suggest(self, value: str, choices: Iterable[str]) -> str:
        """Like suggest(), but free once the report is longer than anyone will read (10,000 unknown references
        against 10,000 keys would otherwise cost minutes of fuzzy matching)."""
        return suggest(value, choices) if len(self.errors) < SUGGEST_LIMIT else ""

    def add(self, line: int | None, path: str, message: str) -> None:
        where = f"line {line}: " if line else ""
        self.errors.append(f"{where}{path}: {message}")


Check = Callable[[Collector, int | None, str, Any], Any]


def _str(max_len: int = 200, pattern: re.Pattern[str] | None = None, what: str = "text") -> Check:
    def check(c: Collector, line: int | None, path: str, v: Any) -> Any:
        if not isinstance(v, str):
            # YAML reads 1.10 as 1.1, 010 as 8 and yes as true: a number or a date is never taken as text.
            quote = "" if isinstance(v, list | dict) else "; put it in quotes"
            c.add(line, path, f"expected {what}, got {_kind(v)}{quote}")
            return None
        v = v.strip()
        if not v:
            c.add(line, path, "must not be empty")
            return None
        if len(v) > max_len:
            c.add(line, path, f"too long ({len(v)} characters; at most {max_len})")
            return None
        if pattern is not None and not pattern.match(v):
            c.add(line, path, f"{show(v)} is not a valid {what}")
            return None
        if v.startswith(FORMULA_PREFIXES[:4]):  # also an email address such as =HYPERLINK(...)@x.example
            c.add(line, path, f"'{v[:20]}' looks like a spreadsheet formula; remove the leading '{v[0]}' "
                              f"(or, to keep it, start the text with an apostrophe: '{v[:20]})")
            return None
        return v

    return check


def _chat_id(platform: Platform) -> Check:
    """A member's id on one chat platform, checked against that platform's pattern (commands/core/platforms.py)."""
    text = _str(128)

    def check(c: Collector, line: int | None, path: str, v: Any) -> Any:
        v = text(c, line, path, v)
        if v is None:
            return None
        if platform.user.fullmatch(v) is None:
            c.add(line, path, f"{show(v)} is not a valid {platform.user_what}")
            return None
        return canonical(v)

    return check


def _enum(choices: Iterable[str]) -> Check:
    options = tuple(choices)

    def check(c: Collector, line: int | None, path: str, v: Any) -> Any:
        if not isinstance(v, str) or v not in options:
            c.add(line, path, f"{show(v)} is not one of {', '.join(options)}{suggest(str(v), options)}")
            return None
        return v

    return check


def _bool(c: Collector, line: int | None, path: str, v: Any) -> Any:
    if not isinstance(v, bool):
        c.add(line, path, f"expected true or false, got {show(v)}")
        return None
    return v


def _int(lo: int, hi: int) -> Check:
    def check(c: Collector, line: int | None, path: str, v: Any) -> Any:
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            c.add(line, path, f"expected a whole number from {lo} to {hi}, got {show(v)}")
            return None
        return v

    return check


def _date(c: Collector, line: int | None, path: str, v: Any) -> Any:
    if isinstance(v, date):
        return v
    try:
        if not isinstance(v, str):
            raise ValueError
        return date.fromisoformat(v)
    except ValueError:
        c.add(line, path, f"{show(v)} is not a date; write YYYY-MM-DD, e.g. 2027-03-31")
        return None


def _iso_date(c: Collector, line: int | None, path: str, v: Any) -> Any:
    """A date kept as YYYY-MM-DD text (the meeting settings are stored as JSON)."""
    day = _date(c, line, path, v)
    return day.isoformat() if day is not None else None


def _time(c: Collector, line: int | None, path: str, v: Any) -> Any:
    if isinstance(v, int) and not isinstance(v, bool):  # YAML 1.1 reads 09:30 as sexagesimal 570
        v = f"{v // 60:02d}:{v % 60:02d}"
    try:
        if not isinstance(v, str) or len(v) != 5:
            raise ValueError
        return time.fromisoformat(v).strftime("%H:%M")
    except ValueError:
        c.add(line, path, f"{show(v)} is not a time; write HH:MM in quotes, e.g. \"09:30\"")
        return None


def _list(item: Check) -> Check:
    def check(c: Collector, line: int | None, path: str, v: Any) -> Any:
        if v is None:
            return []
        if not isinstance(v, list):
            c.add(line, path, f"expected a list, e.g. [a, b], got {show(v)}")
            return None
        out = [item(c, line, f"{path}[{i}]", x) for i, x in enumerate(v)]
        return out if None not in out else None

    return check


KEY = _str(64, KEY_RE, "key (lowercase letters, digits, '.', '-', '_')")
REF = _str(32, REF_RE, "reference (capital letters, digits and '-', e.g. OCG-07)")
SUMMARY = _str(4000)
# A target's texts for partners (TargetDetails.partner_summary and .ask); left out, they stay as they are.
PARTNER_DETAILS: Fields = {"partner_summary": (SUMMARY, False, None), "ask": (_str(1000), False, None)}
# A target's structured details, DPA 2018 s.38 (models/target.py FACTS), under `details:`; each a list of texts
# or one text; the date of birth kept as YYYY-MM-DD text. Left out, a field is empty (the file is the record).
def _texts(max_len: int) -> Check:
    """A list of texts; one text is taken as a list of one (`names: Sam Smith`)."""
    as_list = _list(_str(max_len))

    def check(c: Collector, line: int | None, path: str, v: Any) -> Any:
        return as_list(c, line, path, [v] if isinstance(v, str) else v)

    return check


FACT_FIELDS: Fields = {
    "names": (_texts(200), False, []),
    "aliases": (_texts(200), False, []),
    "date_of_birth": (_iso_date, False, None),
    "subject_status": (_enum(SUBJECT_STATUSES), False, None),
    "addresses": (_texts(300), False, []),
    "vehicles": (_texts(100), False, []),
    "associates": (_texts(200), False, []),
    "business_interests": (_texts(300), False, []),
    "why_known": (_str(2000), False, None),
    "basis": (_enum(BASES), False, None),
    "warnings": (_texts(200), False, []),
}


def facts_of(details: dict[str, Any] | None) -> dict[str, Any]:
    """The structured details of a checked `details` mapping, without empty fields (what TargetDetails.facts
    stores, so a file and the database compare equal)."""
    return {k: details[k] for k in FACT_FIELDS if details and details.get(k) not in (None, "", [])}

# name -> (check, required, default)
Fields = dict[str, tuple[Check | None, bool, Any]]  # None: checked by its own function

AGENCY: Fields = {
    "key": (KEY, True, None),
    "name": (_str(), True, None),
    "category": (_enum(CATEGORIES), True, None),
    "flags": (_list(KEY), False, []),
    "powers": (_list(KEY), False, []),
    "information": (_list(_str()), False, []),
    "isp_signed": (_str(32), False, None),
    "core": (_bool, False, False),
}
MEMBER: Fields = {
    "key": (KEY, True, None),
    "name": (_str(), True, None),
    "email": (_str(254, EMAIL_RE, "email address"), True, None),
    "agency": (KEY, True, None),
    "roles": (_list(_enum(ROLES)), False, ["partner"]),
    "cohorts": (_list(KEY), False, []),
    "spoc": (_bool, False, False),
    **{key: (_chat_id(platform), False, None) for key, platform in PLATFORMS.items()},  # slack, teams
    "out_of_office_until": (_date, False, None),
}
COHORT: Fields = {
    "key": (KEY, True, None),
    "name": (_str(), True, None),
    "order": (_int(0, 1000), False, None),
    "agencies": (_list(KEY), False, []),
    "minutes_per_target": (_int(1, 120), False, 10),
    "handling": (_enum(HANDLING), False, "OFFICIAL-SENSITIVE"),
    "personal_data": (_bool, False, True),
    "confidentiality": (_str(2000), False, ""),
}
TARGET: Fields = {
    "ref": (REF, True, None),
    "kind": (_enum(KINDS), True, None),
    "cohort": (KEY, True, None),
    "lead": (KEY, True, None),
    "flags": (_list(KEY), False, []),
    "priority": (_int(1, 9), False, 2),
    "status": (_enum(TargetStatus), False, TargetStatus.ACTIVE.value),
    "review": (_date, False, None),
    # What partners outside the core agencies see in the pack (also set by the lead with /agenda share). Left out,
    # the view stays as it is: a file written before the lead chose never widens what partners see.
    "partner_view": (_enum(PartnerView), False, None),
    "details": (None, False, None),  # checked by _details
}
PARTNERSHIP: Fields = {
    "key": (KEY, False, None),
    "name": (_str(), True, None),
    "timezone": (_str(64), False, "Europe/London"),
    "isp_version": (_str(32), True, None),
}
BREAK: Fields = {"at": (_time, True, None), "minutes": (_int(1, 240), True, None)}
MEETING: Fields = {
    "channel": (_str(64), False, None),
    "day_start": (_time, False, "09:30"),
    "breaks": (None, False, []),
    "publish_working_days_before": (_int(0, 30), False, 3),
    "reorder_sections": (_bool, False, False),
    "changeover_minutes": (_int(0, 30), False, 5),  # between one section and the next, while the room changes over
    "dates": (_list(_iso_date), False, []),  # meeting days; the worker publishes each one's agenda in time
    "pack_open_working_days": (_int(0, 60), False, 5),  # packs close this many working days after the meeting
    "recurrence": (None, False, None),  # checked by _recurrence (models/recurrence.py)
    "venue": (_str(200), False, None),  # where people meet in person: into itineraries and the .ics
    "dial_in": (_str(500), False, None),  # how to join remotely (a link or a number)
}
RECURRENCE: Fields = {
    "every_weeks": (_int(1, 26), True, None),
    "weekday": (_enum(WEEKDAYS), True, None),
    "from": (_iso_date, True, None),
    "until": (_iso_date, False, None),
    "except": (_list(_iso_date), False, []),
    "on_bank_holiday": (_enum(ON_BANK_HOLIDAY), False, "next-working-day"),
}
# Retention and review (models/retention.py): months a closed target is kept after its last activity (MoPI group 3:
# six years), per-cohort periods, and whether section spaces are archived once a meeting's pack has closed.
RETENTION: Fields = {
    "keep_months": (_int(1, 1200), False, 72),
    "cohorts": (None, False, None),
    "archive_spaces": (_bool, False, True),
}
HOURS: Fields = {"start": (_time, True, None), "end": (_time, True, None)}
REMINDERS: Fields = {
    "first_working_days_before": (_int(0, 30), False, 2),
    "overdue_every_working_days": (_int(1, 30), False, 2),
    "escalate_after_chases": (_int(1, 20), False, 3),
    "working_hours": (None, False, None),
}


def check_fields(c: Collector, path: str, raw: Any, fields: Fields, line: int | None = None) -> dict[str, Any] | None:
    """Check one mapping against its fields; unknown fields are errors (a typo would be lost).

    line: where to point when raw itself carries no line (a scalar where a mapping belongs)."""
    line = getattr(raw, "line", None) or line
    if not isinstance(raw, dict):
        example = ", ".join(f"{name}: ..." for name in list(fields)[:2])
        c.add(line, path, f"expected a mapping like {{{example}}}, got {show(raw)}")
        return None
    out: dict[str, Any] = {}
    for name in raw:
        if name not in fields:
            c.add(line, f"{path}.{name[:60]}", f"unknown field{c.suggest(name, fields)}")
    for name, (check, required, default) in fields.items():
        if name not in raw or raw[name] is None:
            if required:
                c.add(line, f"{path}.{name}", "is required")
            out[name] = list(default) if isinstance(default, list) else default
        elif check is None:
            out[name] = raw[name]
        else:
            out[name] = check(c, line, f"{path}.{name}", raw[name])
    return out



def _section_list(c: Collector, data: dict[str, Any], name: str, fields: Fields, ident: str) -> list[dict[str, Any]]:
    raw = data.get(name) or []
    if not isinstance(raw, list):
        c.add(getattr(data, "line", None), name, "expected a list of mappings")
        return []
    items: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    lines = getattr(raw, "lines", None)
    for i, entry in enumerate(raw):
        item = check_fields(c, f"{name}[{i}]", entry, fields, lines[i] if lines else None)
        if item is None:
            continue
        item["_path"], item["_line"] = f"{name}[{i}]", getattr(entry, "line", None)
        key = item.get(ident)
        if key is not None:
            if key in seen:
                c.add(item["_line"], f"{name}[{i}].{ident}", f"duplicate {ident} '{key}' (also {name}[{seen[key]}])")
                continue
            seen[key] = i
        items.append(item)
    return items


def _refs(c: Collector, item: dict[str, Any], field: str, known: set[str] | dict[str, Any], noun: str) -> None:
    values = item.get(field)
    if values is None:
        return
    for i, v in enumerate(values if isinstance(values, list) else [values]):
        if v is not None and v not in known:
            suffix = f"[{i}]" if isinstance(values, list) else ""
            c.add(item["_line"], f"{item['_path']}.{field}{suffix}", f"unknown {noun} '{v}'{c.suggest(v, known)}")


def _details(c: Collector, target: dict[str, Any]) -> None:
    raw = target.get("details")
    if raw is None:
        target["details"] = None
        return
    fields: Fields = {"summary": (SUMMARY, False, ""), **PARTNER_DETAILS, **FACT_FIELDS}
    target["details"] = check_fields(c, f"{target['_path']}.details", raw, fields, target["_line"])


def validate(data: Any) -> tuple[dict[str, Any] | None, list[str]]:
    """Return (spec, []) for a good file, or (None, every error) for a bad one."""
    c = Collector()
    if data is None:
        return None, ["file: is empty; expected a mapping with keys " + ", ".join(TOP_KEYS)]
    if not isinstance(data, dict):
        return None, ["file: expected a mapping with keys " + ", ".join(TOP_KEYS) + f"; got {show(data)}"]
    for name in data:
        if name not in TOP_KEYS:
            c.add(getattr(data, "line", None), name[:60], f"unknown section{suggest(name, TOP_KEYS)}")
    head = check_fields(c, "partnership", data.get("partnership"), PARTNERSHIP, getattr(data, "line", None)) or {}
    if head.get("timezone"):
        try:
            ZoneInfo(head["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            c.add(None, "partnership.timezone", f"unknown time zone '{head['timezone']}', e.g. Europe/London")
    if head.get("name") and not head.get("key"):
        head["key"] = re.sub(r"[^a-z0-9]+", "-", head["name"].lower()).strip("-")[:64] or "partnership"

    agencies = _section_list(c, data, "agencies", AGENCY, "key")
    members = _section_list(c, data, "members", MEMBER, "key")
    cohorts = _section_list(c, data, "cohorts", COHORT, "key")
    targets = _section_list(c, data, "targets", TARGET, "ref")
    agency_keys = {a["key"] for a in agencies}
    cohort_keys = {k["key"] for k in cohorts}
    member_keys = {m["key"] for m in members}
    leads = {m["key"] for m in members if m.get("roles") and "lead" in m["roles"]}

    spocs: dict[str, str] = {}
    chat_ids: dict[str, dict[str, str]] = {key: {} for key in PLATFORMS}  # platform -> id -> member key
    for m in members:
        _refs(c, m, "agency", agency_keys, "agency")
        _refs(c, m, "cohorts", cohort_keys, "cohort")
        if m.get("spoc") and m.get("agency"):
            if m["agency"] in spocs:
                c.add(m["_line"], f"{m['_path']}.spoc", f"agency '{m['agency']}' already has spoc '{spocs[m['agency']]}'")
            spocs.setdefault(m["agency"], m["key"])
        for key, platform in PLATFORMS.items():
            ids, user_id = chat_ids[key], m.get(key)
            if not user_id:
                continue
            if user_id in ids:
                c.add(m["_line"], f"{m['_path']}.{key}", f"{platform.label} id {user_id} also belongs to '{ids[user_id]}'")
            ids.setdefault(user_id, m["key"])
    for i, k in enumerate(cohorts):
        _refs(c, k, "agencies", agency_keys, "agency")
        if k.get("order") is None:
            k["order"] = i + 1
    for t in targets:
        _refs(c, t, "cohort", cohort_keys, "cohort")
        _refs(c, t, "lead", member_keys, "member")
        if t.get("lead") in member_keys and t["lead"] not in leads:
            c.add(t["_line"], f"{t['_path']}.lead", f"member '{t['lead']}' does not hold the 'lead' role")
        _details(c, t)

    meeting = check_fields(c, "meeting", data.get("meeting") or {}, MEETING, getattr(data, "line", None)) or {}
    if meeting.get("recurrence") is not None:
        meeting["recurrence"] = check_fields(c, "meeting.recurrence", meeting["recurrence"], RECURRENCE,
                                             getattr(data.get("meeting"), "line", None))
    raw_breaks = meeting.get("breaks") or []
    if not isinstance(raw_breaks, list):
        c.add(getattr(data.get("meeting"), "line", None), "meeting.breaks",
              f"expected a list, e.g. [{{at: \"11:00\", minutes: 15}}], got {show(raw_breaks)}")
        raw_breaks = []
    breaks = []
    lines = getattr(raw_breaks, "lines", None)
    for i, b in enumerate(raw_breaks):
        checked = check_fields(c, f"meeting.breaks[{i}]", b, BREAK, lines[i] if lines else None)
        if checked:
            breaks.append(checked)
    meeting["breaks"] = sorted(breaks, key=lambda b: b["at"] or "")
    reminders = check_fields(c, "reminders", data.get("reminders") or {}, REMINDERS, getattr(data, "line", None)) or {}
    hours = check_fields(c, "reminders.working_hours", reminders.get("working_hours") or
                         DEFAULT_REMINDERS["working_hours"], HOURS, getattr(data.get("reminders"), "line", None)) or {}
    if hours.get("start") and hours.get("end") and hours["start"] >= hours["end"]:
        c.add(None, "reminders.working_hours", f"start {hours['start']} must be before end {hours['end']}")
    reminders["working_hours"] = hours
    retention = _retention(c, data.get("retention"), cohort_keys, getattr(data, "line", None))

    if c.errors:
        return None, c.errors
    for section in (agencies, members, cohorts, targets):
        for item in section:
            item.pop("_path")
            item.pop("_line")
    spec = {"partnership": head, "agencies": agencies, "members": members, "cohorts": cohorts,
            "targets": targets, "meeting": meeting, "reminders": reminders, "retention": retention}
    return spec, []


def _retention(c: Collector, raw: Any, cohort_keys: set[str], line: int | None) -> dict[str, Any]:
    """`retention:`: its fields, and `cohorts:` a mapping of cohort key -> months (1 to 1200). A file without the
    block stores nothing (models/retention.py applies the defaults), so files written before it load unchanged."""
    if raw is None:
        return {}
    retention = check_fields(c, "retention", raw, RETENTION, line) or {}
    periods = retention.get("cohorts") or {}
    line = getattr(raw, "line", None) or line
    if not isinstance(periods, dict):
        c.add(line, "retention.cohorts", f"expected a mapping of cohort to months, e.g. {{ocg: 120}}, got "
                                         f"{show(periods)}")
        periods = {}
    checked = {}
    for key, months in periods.items():
        if key not in cohort_keys:
            shown = str(key)[:60]
            c.add(line, f"retention.cohorts.{shown}", f"no cohort '{shown}'{c.suggest(str(key), cohort_keys)}")
            continue
        checked[key] = _int(1, 1200)(c, line, f"retention.cohorts.{key}", months)
    retention["cohorts"] = checked
    return retention
