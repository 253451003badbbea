"""Import targets from the analysts' spreadsheet (CSV or XLSX), all or nothing by default.

Column headers are matched to fields by a mapping: sensible defaults (``Reference``, ``Offender group``, ``Date of
birth``, ``Address``...) overridden with ``--map "Header=field,..."`` (or the older ``field=Header``). No column is
dropped silently: a column that maps to no field is named and the import refused, unless the mapping says
``Header=ignore``. Every row is checked before anything is written; the report names the row and the column of
each problem. The structured details (DPA 2018 s.38, models/target.py FACTS) go to ``details`` like the summary.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.core.errors import FileErrors, UsageError
from commands.partnership.file import upsert_target
from commands.partnership.spec import FACT_FIELDS, SUMMARY, TARGET, Collector, check_fields, suggest
from models import Cohort, Member, Partnership, Target
from models.audit import record
from models.target import LIST_FACTS

MB = 1024 * 1024
MAX_BYTES = 20 * MB
MAX_ROWS = 100_000  # rows with data
MAX_SHEET_ROW = 1_048_576  # Excel's last row: blank rows count towards it, so a gap cannot run on for ever
MAX_XLSX_UNCOMPRESSED = 100 * MB  # what the .xlsx (a zip) may expand to: a zip bomb is refused before reading

# field -> header names accepted by default (compared case- and punctuation-insensitively)
DEFAULT_HEADERS: dict[str, tuple[str, ...]] = {
    "ref": ("ref", "reference", "target", "target ref", "urn", "nominal ref"),
    "kind": ("kind", "type", "individual/group"),
    "cohort": ("cohort", "offender group", "group", "section"),
    "lead": ("lead", "lead officer", "plan owner", "owner"),
    "flags": ("flags", "tags", "markers"),
    "priority": ("priority", "rank", "score"),
    "status": ("status",),
    "review": ("review", "review date", "next review"),
    "summary": ("summary", "details", "notes"),
    # the structured details (DPA 2018 s.38), as analysts' sheets usually head them
    "names": ("name", "names", "full name", "nominal name", "subject name"),
    "aliases": ("alias", "aliases", "aka", "also known as", "nickname", "nicknames"),
    "date_of_birth": ("date of birth", "dob", "d o b", "birth date", "born"),
    "subject_status": ("subject status", "subject category", "data subject", "category of subject"),
    "addresses": ("address", "addresses", "home address", "known addresses", "last known address"),
    "vehicles": ("vehicle", "vehicles", "vrm", "vehicle reg", "vehicle registration", "registration"),
    "associates": ("associate", "associates", "known associates"),
    "business_interests": ("business", "businesses", "business interests", "companies"),
    "why_known": ("why known", "reason known", "grounds", "rationale"),
    "basis": ("basis", "fact or assessment", "fact/assessment", "fact/assessed"),
    "warnings": ("warnings", "warning markers", "warning signals", "safety warnings", "staff safety",
                 "officer safety"),
}
REQUIRED = ("ref", "kind", "cohort", "lead")
IGNORE = ("ignore", "-")  # `--map "Header=ignore"`: read past this column on purpose
# A list field's cell holds several values separated by ';' or new lines (an address has commas of its own).
LIST_SPLIT = re.compile(r"[;\n]")


class ColumnMap(dict[str, str]):
    """field -> header, and the headers the user said to ignore."""

    ignored: tuple[str, ...] = ()


def _norm(header: str) -> str:
    return re.sub(r"[^a-z0-9/]+", " ", header.lower()).strip()


@dataclass
class ImportReport:
    rows: int = 0
    changes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    skipped: int = 0


MAP_EXAMPLE = '--map "Nominal URN=ref,DOB=date_of_birth,Gang=ignore"'


def parse_mapping(pairs: list[str]) -> ColumnMap:
    """`Header=field` (or `field=Header`, the older way round), several in one value separated by commas;
    `Header=ignore` reads past a column on purpose."""
    mapping = ColumnMap()
    ignored: list[str] = []
    for value in pairs:
        for pair in re.split(r",(?=[^,=]*=)", value):  # a comma inside a header stays in it
            left, sep, right = (x.strip() for x in pair.partition("="))
            if sep and left and right.lower() in IGNORE:
                ignored.append(left)
            elif sep and left and right in DEFAULT_HEADERS:
                mapping[right] = left
            elif sep and right and left in DEFAULT_HEADERS:
                mapping[left] = right
            else:
                raise UsageError(f"bad column mapping '{pair}': write Header=field with field one of "
                                 f"{', '.join(DEFAULT_HEADERS)}, or Header=ignore", example=MAP_EXAMPLE)
    mapping.ignored = tuple(ignored)
    return mapping


def _check_size(path: Path) -> None:
    if not path.is_file():
        raise UsageError(f"no such file: {path}", example="oneday targets import targets.csv")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise UsageError(f"{path.name} is {size / MB:.1f} MB; the limit is {MAX_BYTES // MB} MB. "
                         "Split it and import each part.")


def _csv_rows(path: Path) -> tuple[list[str], Iterator[list[Any]]]:
    raw = path.read_bytes()
    if b"\x00" in raw[:4096]:
        raise UsageError(f"{path.name} is not a text CSV file (it contains binary data)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path.name} is not UTF-8 text (byte {exc.start}); save it as 'CSV UTF-8'") from exc
    # A long cell is reported as too long for its field, with its row; the csv module's own limit (128 KB)
    # would stop the whole file with no row. The file is at most MAX_BYTES, so no cell can be longer.
    if csv.field_size_limit() < MAX_BYTES:
        csv.field_size_limit(MAX_BYTES)
    reader = csv.reader(io.StringIO(text))

    def checked() -> Iterator[list[Any]]:
        try:
            yield from reader
        except csv.Error as exc:
            raise UsageError(f"{path.name} is not a readable CSV file (line {reader.line_num}: {exc})") from exc

    rows = checked()
    return next(rows, []), rows


def _xlsx_rows(path: Path) -> tuple[list[str], Iterator[list[Any]]]:
    import zipfile
    from xml.etree.ElementTree import ParseError

    from openpyxl import load_workbook

    broken = (zipfile.BadZipFile, KeyError, OSError, ValueError, ParseError, EOFError, zipfile.LargeZipFile)

    def unreadable(exc: BaseException) -> UsageError:
        return UsageError(f"{path.name} is not a readable .xlsx workbook ({type(exc).__name__})")

    try:
        with zipfile.ZipFile(path) as z:
            expanded = sum(info.file_size for info in z.infolist())
    except broken as exc:
        raise unreadable(exc) from exc
    if expanded > MAX_XLSX_UNCOMPRESSED:
        raise UsageError(f"{path.name} expands to {expanded / MB:.0f} MB when unzipped; the limit is "
                         f"{MAX_XLSX_UNCOMPRESSED // MB} MB. Save just the targets sheet, or export it as CSV.")
    try:
        # data_only=False: a formula comes through as its text ("=HYPERLINK(...)") and is rejected, where
        # data_only=True would read an uncached formula as an empty cell and import the row without it.
        wb = load_workbook(path, read_only=True, data_only=False)
        ws = wb.active
        if ws is None or not hasattr(ws, "iter_rows"):
            raise UsageError(f"{path.name} has no worksheet to import")
        # The sheet's declared dimensions (say A1:XFD1048576) are not trusted: every row would be padded to
        # 16,384 cells and the gap up to row 1,048,576 filled in. Read only what is there, as wide as the header.
        ws.reset_dimensions()
        header = next(ws.iter_rows(min_row=1, max_row=1, values_only=True), ())
        headers = [str(h) if h is not None else "" for h in header]
        while headers and not headers[-1].strip():
            headers.pop()
        rows = ws.iter_rows(min_row=2, max_col=max(len(headers), 1), values_only=True)
    except broken as exc:
        raise unreadable(exc) from exc

    def checked() -> Iterator[list[Any]]:
        try:
            for number, r in enumerate(rows, start=2):
                if number > MAX_SHEET_ROW:
                    raise UsageError(f"{path.name} has rows beyond row {MAX_SHEET_ROW:,}, Excel's last row; "
                                     "it is not a sheet Excel wrote")
                yield list(r)
        except broken as exc:  # the sheet is parsed lazily, row by row
            raise unreadable(exc) from exc

    return headers, checked()


def read_rows(path: Path) -> tuple[list[str], Iterator[list[Any]]]:
    """Headers and a row iterator for a .csv or .xlsx file; clear errors for anything else."""
    _check_size(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return _csv_rows(path)
        if suffix == ".xlsx":
            return _xlsx_rows(path)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    raise UsageError(f"{path.name}: expected a .csv or .xlsx file", example="oneday targets import targets.xlsx")


def resolve_columns(headers: list[str], mapping: dict[str, str]) -> dict[str, int]:
    normed = [_norm(h) for h in headers]
    columns: dict[str, int] = {}
    for name, aliases in DEFAULT_HEADERS.items():
        wanted = [_norm(mapping[name])] if name in mapping else [_norm(a) for a in aliases]
        for w in wanted:
            if w in normed:
                columns[name] = normed.index(w)
                break
        else:
            if name in mapping:
                raise UsageError(f"column '{mapping[name]}' (for {name}) is not in the header row: "
                                 f"{', '.join(h for h in headers if h)}")
    missing = [n for n in REQUIRED if n not in columns]
    if missing:
        raise UsageError(f"no column for {', '.join(missing)}; headers are: {', '.join(h for h in headers if h)}",
                         example=f'--map {missing[0]}="Your header"')
    ignored = {_norm(h) for h in getattr(mapping, "ignored", ())}
    unknown = [h for h in ignored if h not in normed]
    if unknown:
        raise UsageError(f"column '{unknown[0]}' (to ignore) is not in the header row: "
                         f"{', '.join(h for h in headers if h)}", example=MAP_EXAMPLE)
    used = set(columns.values())
    unmapped = [h for i, h in enumerate(headers) if h.strip() and i not in used and _norm(h) not in ignored]
    if unmapped:  # never dropped silently: its data would be lost without anyone knowing
        listed = ", ".join(f"'{h}'" for h in unmapped)
        raise UsageError(f"{'column' if len(unmapped) == 1 else 'columns'} {listed} "
                         f"{'maps' if len(unmapped) == 1 else 'map'} to no field, so nothing was imported: map "
                         f"each to a field ({', '.join(DEFAULT_HEADERS)}) or say to ignore it",
                         example=f'--map "{unmapped[0]}=ignore"')
    return columns


def _cell_to_field(name: str, value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if name not in ("priority", "review") and isinstance(value, int | float) and not isinstance(value, bool):
        # A spreadsheet stores 1234 as a number; as a reference or a summary it is the text "1234".
        value = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    if isinstance(value, str):
        value = value.strip()
        if name == "flags":
            return [f.strip().lower() for f in re.split(r"[;,]", value) if f.strip()]
        if name in LIST_FACTS:
            return [f.strip() for f in LIST_SPLIT.split(value) if f.strip()]
        if name in ("subject_status", "basis"):
            return value.lower().replace(" ", "-")
        if name == "priority" and value.isdecimal():
            return int(value)
        if name == "ref":
            return value.upper()
        if name in ("kind", "status", "cohort", "lead"):
            return value.lower()
    if name in ("review", "date_of_birth") and hasattr(value, "date"):
        return value.date()
    return value


def import_targets(session: Session, p: Partnership, path: Path, *, mapping: dict[str, str] | None = None,
                   now: datetime, partial: bool = False, actor: str = "cli",
                   progress: Callable[[int], None] | None = None) -> ImportReport:
    """Check every row, then write all of them (or, with partial=True, the good ones)."""
    headers, rows = read_rows(path)
    columns = resolve_columns(headers, mapping if mapping is not None else {})
    cohorts = {c.key: c for c in session.scalars(select(Cohort).where(Cohort.partnership_id == p.id,
                                                                       Cohort.active.is_(True)))}
    members = {m.key: m for m in session.scalars(select(Member).where(Member.partnership_id == p.id,
                                                                       Member.active.is_(True)))}
    report = ImportReport()
    good: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=2):
        if not any(c not in (None, "") for c in row):
            continue
        report.rows += 1
        if report.rows > MAX_ROWS:
            raise UsageError(f"{path.name} has more than {MAX_ROWS:,} rows; split it and import each part")
        raw = {name: _cell_to_field(name, row[i] if i < len(row) else None) for name, i in columns.items()}
        details = {k: raw.pop(k) for k in ("summary", *FACT_FIELDS) if k in raw}
        details = {k: str(v) if k == "summary" else v for k, v in details.items() if v is not None}
        if details:
            raw["details"] = details
        c = Collector()
        spec = check_fields(c, f"row {number}", {k: v for k, v in raw.items() if v is not None}, TARGET)
        if spec is not None and spec.get("details") is not None:
            spec["details"] = check_fields(c, f"row {number}", spec["details"],
                                           {"summary": (SUMMARY, False, ""), **FACT_FIELDS})
        if spec is not None:
            if spec["cohort"] and spec["cohort"] not in cohorts:
                c.add(None, f"row {number}.cohort", f"unknown cohort '{spec['cohort']}'"
                      + suggest(spec["cohort"], cohorts))
            lead = members.get(spec["lead"] or "")
            if spec["lead"] and lead is None:
                c.add(None, f"row {number}.lead", f"unknown member '{spec['lead']}'" + suggest(spec["lead"], members))
            elif lead is not None and "lead" not in lead.roles:
                c.add(None, f"row {number}.lead", f"member '{spec['lead']}' does not hold the 'lead' role")
            if spec["ref"] in seen:
                c.add(None, f"row {number}.ref", f"duplicate reference '{spec['ref']}' (also row {seen[spec['ref']]})")
            elif spec["ref"]:
                seen[spec["ref"]] = number
        if c.errors:
            report.errors.extend(c.errors)
        else:
            good.append(spec)  # type: ignore[arg-type]
        if progress:
            progress(1)
    if report.errors and not partial:
        raise FileErrors(report.errors, source=path.name)
    report.skipped = report.rows - len(good)
    existing = {t.ref: t for t in session.scalars(select(Target).where(Target.partnership_id == p.id))}
    for spec in good:
        merging, before = spec["ref"] in existing, len(report.changes)
        upsert_target(session, p, spec, cohorts, members, existing, actor, report.changes,
                      justification=f"targets import from {path.name}", now=now)
        if merging and len(report.changes) > before:  # the spreadsheet's data merged into a record already held
            t = existing[spec["ref"]]
            record(session, at=now, partnership_id=p.id, kind="combination", actor=actor, target_id=t.id,
                   target_ref=t.ref, what=f"targets import merged {path.name} into the existing record",
                   justification=f"targets import from {path.name}")
    session.flush()
    return report


def count_rows(path: Path) -> int | None:
    """Rows in a CSV (for a progress bar); None when counting would cost as much as reading."""
    try:
        if path.suffix.lower() != ".csv" or not path.is_file() or path.stat().st_size > MAX_BYTES:
            return None  # import_targets refuses it (or another suffix) at once: nothing to count
        with path.open("rb") as fh:
            return max(sum(1 for _ in fh) - 1, 0)
    except OSError:
        return None
