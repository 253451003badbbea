"""Bad input at scale (issue 8): malformed partnership files and spreadsheets are refused with every error in
its place, quickly and in bounded memory; nothing is written; the CLI exits non-zero without a traceback; exports
neutralise formula injection.

Big and hostile files are generated in tmp_path at test time (nothing large is committed). The CLI cases run the
real console script as subprocesses, in parallel, against a copy of one Northtown database made once per session.

The rule for text that starts with = + - or @ (a spreadsheet would run it as a formula):
- loading a partnership file or importing a spreadsheet refuses it, naming the row or line and the field;
- a value that needs such a start is written with a leading apostrophe ('-2 officers), and is stored and
  exported exactly so (export -> load is 0 changes);
- export writes any stored value that starts with one (rows from before the rule, or edited in the database) with
  a leading apostrophe; loading that export stores the apostrophe form once, and from then on export and load
  are stable.
"""

from __future__ import annotations

import csv
import os
import sqlite3
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from import_support import run_import
from moments import FILE_LOADED
from paths import REPO
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot import db
from commands.core.errors import FileErrors, UsageError
from commands.partnership import file as partnership
from commands.partnership import spec as partnership_spec
from commands.partnership import targets_import, yamlfile
from models import Agency, Cohort, Member, Partnership, Target

ONEDAY = Path(sys.executable).parent / "oneday"
REPO = REPO
NORTHTOWN = REPO / "bot" / "sample" / "northtown.yaml"
MB = 1024 * 1024
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00" + bytes(range(256))
TOP = "partnership, agencies, members, cohorts, targets, meeting, reminders, retention"
HEADERS = ["Reference", "Kind", "Offender group", "Lead officer", "Flags", "Priority", "Review date", "Summary"]
GOOD = ["N-0901", "individual", "hcc", "dee.okafor", "drugs", "2", "2027-04-01", "Shoplifting to fund drugs"]

# A small valid file: the other cases break one thing at a time in it.
BASE = """\
partnership: {key: smalltown, name: Smalltown CSP, isp_version: "1"}
agencies:
  - {key: police, name: Smalltown Police, category: statutory, core: true, isp_signed: "1"}
  - {key: dwp, name: DWP, category: national-regional, isp_signed: "1", information: [benefit claims]}
members:
  - {key: pat, name: Pat Lead, email: pat@police.example, agency: police, roles: [lead]}
  - {key: sam, name: Sam Partner, email: sam@dwp.example, agency: dwp}
cohorts:
  - {key: ocg, name: Organised crime, agencies: [police, dwp]}
targets:
  - {ref: OCG-01, kind: group, cohort: ocg, lead: pat, priority: 2, details: {summary: A network}}
"""


# --------------------------------------------------------------------------------------------- helpers


@pytest.fixture
def db_path(copy_database, northtown_template: Path, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    """This test's own copy of the session's Northtown database (tests/conftest.py)."""
    copy_database(northtown_template, "oneday.db")
    return tmp_path / "oneday.db"


@pytest.fixture
def loaded(db_path: Path):  # type: ignore[no-untyped-def]
    engine = db.make_engine(f"sqlite:///{db_path}")
    yield db.session_factory(engine)
    engine.dispose()


def dump(db_path: Path) -> list[str]:
    with sqlite3.connect(db_path) as conn:
        return list(conn.iterdump())


def oneday(db_path: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db_path}", "COLUMNS": "300", "NO_COLOR": "1"}
    env.pop("ONEDAY_PARTNERSHIP", None)
    return subprocess.Popen([str(ONEDAY), *args], cwd=db_path.parent, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def run_all(db_path: Path, commands: dict[str, list[str]]) -> dict[str, tuple[int, str, str]]:
    """Start every command at once (they only read, or fail before writing), then collect them."""
    started = {name: oneday(db_path, *args) for name, args in commands.items()}
    results = {}
    for name, proc in started.items():
        stdout, stderr = proc.communicate(timeout=60)
        results[name] = (proc.returncode, stdout, stderr)
    return results


@dataclass
class YamlWork:
    """What reading a partnership file cost: parser events the screening pass read, documents the loader built."""

    events: int = 0
    built: int = 0


@pytest.fixture
def yaml_work(monkeypatch: pytest.MonkeyPatch) -> YamlWork:
    """Counts the work commands/yamlfile.py does, so a test can show a hostile file is refused after reading a
    bounded part of it and before anything is built from it (instead of timing it)."""
    work = YamlWork()
    parse, build = yaml.parse, yamlfile._Loader.get_single_data

    def counting_parse(*args: Any, **kwargs: Any) -> Iterator[Any]:
        for event in parse(*args, **kwargs):
            work.events += 1
            yield event

    def counting_build(self: Any) -> Any:
        work.built += 1
        return build(self)

    monkeypatch.setattr(yamlfile.yaml, "parse", counting_parse)
    monkeypatch.setattr(yamlfile._Loader, "get_single_data", counting_build)
    return work


@dataclass
class SheetWork:
    """Rows the importer took from a spreadsheet, and the widest of them."""

    rows: int = 0
    widest: int = 0


@pytest.fixture
def sheet_work(monkeypatch: pytest.MonkeyPatch) -> SheetWork:
    """Counts the rows (and cells per row) targets_import reads from an .xlsx file."""
    work = SheetWork()
    xlsx_rows = targets_import._xlsx_rows

    def counting(path: Path) -> tuple[list[str], Iterator[list[Any]]]:
        headers, rows = xlsx_rows(path)

        def counted() -> Iterator[list[Any]]:
            for row in rows:
                work.rows += 1
                work.widest = max(work.widest, len(row))
                yield row

        return headers, counted()

    monkeypatch.setattr(targets_import, "_xlsx_rows", counting)
    return work


def error_lines(stderr: str) -> list[str]:
    return [line.strip() for line in stderr.splitlines() if line.startswith("  ")]


def parse_errors(text: str) -> list[str]:
    with pytest.raises(FileErrors) as info:
        partnership.parse_file(text, source="bad.yaml")
    return info.value.errors


def write_csv(path: Path, rows: list[list[Any]], headers: list[str] = HEADERS) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[Any]], headers: list[str] = HEADERS) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(headers)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def import_errors(factory: sessionmaker[Session], path: Path) -> list[str]:
    with pytest.raises(FileErrors) as info:
        run_import(factory, path)
    return info.value.errors


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


# ------------------------------------------------------------------------- partnership file: wrong types


WRONG_TYPES = """\
partnership: [Smalltown, "1"]
agencies:
  - [police, Smalltown Police]
  - {key: 12, name: 345, category: statutory, core: "yes", flags: drugs, information: {a: 1}}
  - {key: dwp, name: DWP, category: national-regional, isp_signed: 1.10}
  - {key: dwp, name: DWP again, category: national-regional}
  - just-a-string
members:
  - {key: sam, name: Sam, email: sam@dwp.example, agency: dwp, spoc: "no", roles: lead, cohorts: [ocg], name: Samuel}
cohorts:
  - {key: ocg, name: OCGs, personal_data: "no", order: first, minutes_per_target: 10.5, agencies: police}
targets:
  - {ref: OCG-01, kind: group, cohort: ocg, lead: sam, priority: high, details: some text, review: 31/12/2027}
  - {ref: OCG-02, kind: group, cohort: ocg, lead: sam, priority: 2, status: [active], review: 2027-02-30}
meeting: [09:30, 2]
reminders: {}
reminders: {working_hours: "9-5", escalate_after_chases: many}
"""


def test_wrong_types_everywhere_are_all_reported_with_line_and_path() -> None:
    assert parse_errors(WRONG_TYPES) == [
        "line 9: duplicate key 'name'",
        "line 17: duplicate key 'reminders'",
        "line 1: partnership: expected a mapping like {key: ..., name: ...}, got a list",
        "line 3: agencies[0]: expected a mapping like {key: ..., name: ...}, got a list",
        "line 4: agencies[1].key: expected key (lowercase letters, digits, '.', '-', '_'), got the number 12; "
        "put it in quotes",
        "line 4: agencies[1].name: expected text, got the number 345; put it in quotes",
        "line 4: agencies[1].flags: expected a list, e.g. [a, b], got 'drugs'",
        "line 4: agencies[1].information: expected a list, e.g. [a, b], got a mapping",
        "line 4: agencies[1].core: expected true or false, got 'yes'",
        "line 5: agencies[2].isp_signed: expected text, got the number 1.1; put it in quotes",
        "line 6: agencies[3].key: duplicate key 'dwp' (also agencies[2])",
        "line 7: agencies[4]: expected a mapping like {key: ..., name: ...}, got 'just-a-string'",
        "line 9: members[0].roles: expected a list, e.g. [a, b], got 'lead'",
        "line 9: members[0].spoc: expected true or false, got 'no'",
        "line 11: cohorts[0].order: expected a whole number from 0 to 1000, got 'first'",
        "line 11: cohorts[0].agencies: expected a list, e.g. [a, b], got 'police'",
        "line 11: cohorts[0].minutes_per_target: expected a whole number from 1 to 120, got '10.5'",
        "line 11: cohorts[0].personal_data: expected true or false, got 'no'",
        "line 13: targets[0].priority: expected a whole number from 1 to 9, got 'high'",
        "line 13: targets[0].review: '31/12/2027' is not a date; write YYYY-MM-DD, e.g. 2027-03-31",
        "line 14: targets[1].status: a list is not one of active, closed (did you mean 'active'?)",
        "line 14: targets[1].review: '2027-02-30' is not a date; write YYYY-MM-DD, e.g. 2027-03-31",
        "line 13: targets[0].lead: member 'sam' does not hold the 'lead' role",
        "line 13: targets[0].details: expected a mapping like {summary: ..., partner_summary: ...}, got 'some text'",
        "line 14: targets[1].lead: member 'sam' does not hold the 'lead' role",
        "line 15: meeting: expected a mapping like {channel: ..., day_start: ...}, got a list",
        "line 17: reminders.escalate_after_chases: expected a whole number from 1 to 20, got 'many'",
        "line 17: reminders.working_hours: expected a mapping like {start: ..., end: ...}, got '9-5'",
    ]


def test_empty_list_scalar_and_garbage_yaml_files() -> None:
    assert parse_errors("") == [f"file: is empty; expected a mapping with keys {TOP}"]
    assert parse_errors("# only a comment\n") == [f"file: is empty; expected a mapping with keys {TOP}"]
    assert parse_errors("- partnership\n- agencies\n") == [f"file: expected a mapping with keys {TOP}; got a list"]
    assert parse_errors("hello\n") == [f"file: expected a mapping with keys {TOP}; got 'hello'"]
    assert parse_errors("42\n") == [f"file: expected a mapping with keys {TOP}; got '42'"]
    assert parse_errors("a: b\n\x01c: d\n") == [
        "line 2: not valid YAML (unacceptable character #x0001: control characters are not allowed)"]
    assert parse_errors("partnership: {name: [unclosed\n") == [
        "line 2: not valid YAML (did not find expected ',' or ']')"]


def test_a_summary_of_100_kb_is_too_long() -> None:
    text = BASE.replace("details: {summary: A network}", f"details: {{summary: {'x' * 100_000}}}")
    assert parse_errors(text) == ["line 11: targets[0].details.summary: too long (100000 characters; at most 4000)"]


def test_unknown_values_are_quoted_short() -> None:
    huge = "z" * 50_000
    text = BASE.replace("category: statutory", f"category: {huge}")
    [error] = parse_errors(text)
    assert error == f"line 3: agencies[0].category: '{'z' * 57}...' is not one of statutory, local-authority, " \
                    "non-statutory, national-regional"


# ---------------------------------------------------------------------- partnership file: hostile YAML


LAUGHS = "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 10))


def test_aliases_that_expand_too_far_are_refused_before_they_expand(yaml_work: YamlWork) -> None:
    errors = parse_errors(LAUGHS + BASE.replace("information: [benefit claims]", "information: *l9"))
    assert errors == ["line 7: aliases (*l5) expand this file to more than 2,000,000 values; write the values out "
                      "instead"]
    # Refused on the file's own events (the ten lines of anchors hold about a hundred), counting what the aliases
    # stand for without expanding it; nothing was built from the file.
    assert yaml_work.built == 0 and 0 < yaml_work.events < 200, yaml_work

    assert parse_errors("a: &a [1, *a]\n") == ["line 1: the alias *a is inside the value it names (a loop)"]
    assert parse_errors("a: *nowhere\n") == [
        "line 1: not valid YAML (the alias *nowhere names no anchor &nowhere before it)"]


def test_a_few_aliases_are_fine(factory: sessionmaker[Session]) -> None:
    # yaml.safe_dump writes aliases for shared lists; a merge key is an alias too.
    text = BASE.replace("agencies: [police, dwp]", "agencies: &both [police, dwp]") + (
        "  - {ref: OCG-02, kind: group, cohort: ocg, lead: pat, flags: *both}\n"
        "meeting: &m {day_start: \"10:00\"}\n")
    with db.unit_of_work(factory) as session:
        assert "target OCG-02: created" in partnership.load(session, text, source="aliases.yaml", now=FILE_LOADED)
    with factory() as session:
        target = session.scalar(select(Target).where(Target.ref == "OCG-02"))
        assert target is not None and target.flags == ["police", "dwp"]
    assert parse_errors(text + "reminders: {<<: *m}\n") == ["line 14: reminders.day_start: unknown field"]


@pytest.mark.parametrize("text", [
    "agencies: " + "[" * 100_000 + "]" * 100_000 + "\n",
    "agencies: " + "{a: " * 50_000 + "1" + "}" * 50_000 + "\n",
    "".join(" " * i + f"k{i}:\n" for i in range(3000)),
], ids=["flow-lists", "flow-mappings", "block-mappings"])
def test_deep_nesting_is_refused_quickly(text: str, yaml_work: YamlWork) -> None:
    line = 21 if text.startswith("k") else 1
    assert parse_errors(text) == [f"line {line}: nested more than 20 levels deep; a partnership file needs at most 4"]
    # Refused at the 21st level: the parser was asked for some forty events, not for the thousands of levels below,
    # and nothing was built (PyYAML's composer recurses once per level).
    assert yaml_work.built == 0 and yaml_work.events < 100, yaml_work


def test_ten_thousand_errors_are_all_counted_and_found_quickly(monkeypatch: pytest.MonkeyPatch) -> None:
    members = "".join(f"  - {{key: m{i}, name: M {i}, email: m{i}@x.example, agency: agency{i}}}\n"
                      for i in range(10_000))
    text = BASE.replace("members:\n", "members:\n" + members)
    fuzzy: list[str] = []
    suggest = partnership_spec.suggest
    monkeypatch.setattr(partnership_spec, "suggest", lambda value, choices: fuzzy.append(value) or suggest(value, choices))
    errors = parse_errors(text)
    # "did you mean" (fuzzy matching, the costly part) is worked out for the errors a person will read, not all
    assert 0 < len(fuzzy) <= partnership_spec.SUGGEST_LIMIT
    assert fuzzy == [f"agency{i}" for i in range(len(fuzzy))]
    assert len(errors) == 10_000
    assert errors[0] == "line 6: members[0].agency: unknown agency 'agency0'"
    assert errors[-1] == "line 10005: members[9999].agency: unknown agency 'agency9999'"


# -------------------------------------------------------------------- partnership file: through the CLI


def test_bad_partnership_files_through_the_cli(db_path: Path, tmp_path: Path) -> None:
    files = {
        "big.yaml": BASE.encode() + b"#" * (50 * MB - len(BASE)) + b"\n",
        "png.yaml": PNG,
        "zip.yaml": b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + os.urandom(4000),
        "random.yaml": os.urandom(8192),
        "latin1.yaml": "partnership: {name: Caf\u00e9 CSP}\n".encode("latin-1"),
        "empty.yaml": b"",
        "list.yaml": b"- a\n- b\n",
        "types.yaml": WRONG_TYPES.encode(),
        "laughs.yaml": (LAUGHS + BASE).encode(),
        "deep.yaml": b"agencies: " + b"[" * 100_000 + b"]" * 100_000 + b"\n",
        "errors.yaml": BASE.replace("members:\n", "members:\n" + "".join(
            f"  - {{key: m{i}, name: M {i}, email: m{i}@x.example, agency: agency{i}}}\n"
            for i in range(10_000))).encode(),
        "formula.yaml": BASE.replace("[benefit claims]", "[-2 officers, '=HYPERLINK(\"http://evil\",\"x\")']")
                            .replace("Sam Partner", "'@home'").encode(),
    }
    paths = {}
    for name, data in files.items():
        paths[name] = tmp_path / name
        paths[name].write_bytes(data)
    before = dump(db_path)

    results = run_all(db_path, {name: ["partnership", "load", str(path)] for name, path in paths.items()})

    for name, (code, stdout, stderr) in results.items():
        assert code != 0, (name, stdout, stderr)
        assert "Traceback" not in stderr and stdout == "", (name, stderr)
    assert dump(db_path) == before

    def first_line(name: str) -> str:
        return results[name][2].splitlines()[0]

    assert results["big.yaml"][0] == 2
    assert first_line("big.yaml") == f"error: {paths['big.yaml']} is 50.0 MB; a partnership file may be at most 5 MB"
    for name in ("png.yaml", "zip.yaml", "random.yaml"):
        assert results[name][0] == 2
        assert first_line(name) == (f"error: {paths[name]} is not a text file (it contains binary data); "
                                    "a partnership file is YAML text")
    assert first_line("latin1.yaml") == f"error: {paths['latin1.yaml']} is not UTF-8 text (byte 23); save it as UTF-8"

    for name, errors in [
        ("empty.yaml", [f"file: is empty; expected a mapping with keys {TOP}"]),
        ("list.yaml", [f"file: expected a mapping with keys {TOP}; got a list"]),
        ("laughs.yaml", ["line 7: aliases (*l5) expand this file to more than 2,000,000 values; write the values "
                         "out instead"]),
        ("deep.yaml", ["line 1: nested more than 20 levels deep; a partnership file needs at most 4"]),
        ("formula.yaml", [
            "line 4: agencies[1].information[0]: '-2 officers' looks like a spreadsheet formula; remove the leading "
            "'-' (or, to keep it, start the text with an apostrophe: '-2 officers)",
            "line 4: agencies[1].information[1]: '=HYPERLINK(\"http://e' looks like a spreadsheet formula; remove "
            "the leading '=' (or, to keep it, start the text with an apostrophe: '=HYPERLINK(\"http://e)",
            "line 7: members[1].name: '@home' looks like a spreadsheet formula; remove the leading '@' (or, to keep "
            "it, start the text with an apostrophe: '@home)",
        ]),
    ]:
        code, _, stderr = results[name]
        assert code == 1, (name, stderr)
        noun = "error" if len(errors) == 1 else "errors"
        assert first_line(name) == f"error: {paths[name]}: {len(errors)} {noun}; nothing was written"
        assert error_lines(stderr) == errors, name

    code, _, stderr = results["types.yaml"]
    assert code == 1 and first_line("types.yaml") == f"error: {paths['types.yaml']}: 28 errors; nothing was written"
    assert error_lines(stderr) == parse_errors(WRONG_TYPES)

    # 10,000 errors: the first 200 are printed, then how many more.
    code, _, stderr = results["errors.yaml"]
    assert code == 1
    assert first_line("errors.yaml") == f"error: {paths['errors.yaml']}: 10000 errors; nothing was written"
    printed = error_lines(stderr)
    assert len(printed) == 201
    assert printed[0] == "line 6: members[0].agency: unknown agency 'agency0'"
    assert printed[199] == "line 205: members[199].agency: unknown agency 'agency199'"
    assert printed[200] == "... and 9800 more errors"


def test_a_file_name_with_brackets_is_printed_as_it_is(db_path: Path, tmp_path: Path) -> None:
    folder = tmp_path / "x[" / "bold]"  # the path holds "[/bold]", a closing tag to rich's markup
    folder.mkdir(parents=True)
    bad = folder / "bad.yaml"
    bad.write_text("- a\n", encoding="utf-8")
    [(code, _, stderr)] = run_all(db_path, {"bad": ["partnership", "load", str(bad)]}).values()
    assert code == 1 and "Traceback" not in stderr
    assert stderr.splitlines()[0] == f"error: {bad}: 1 error; nothing was written"


def test_oversized_text_is_refused_by_the_command_too() -> None:
    with pytest.raises(UsageError) as info:
        partnership.parse_file(" " * (partnership.MAX_BYTES + 1), source="api.yaml")
    assert info.value.message == "api.yaml is 5.0 MB; a partnership file may be at most 5 MB"


# ---------------------------------------------------------------------------- exports and formula text


def test_apostrophe_text_loads_as_written_and_round_trips(factory: sessionmaker[Session]) -> None:
    text = BASE.replace("[benefit claims]", "[\"'-2 officers\", benefit claims]").replace(
        "A network", "\"'=1+1 is what they wrote\"")
    with db.unit_of_work(factory) as session:
        partnership.load(session, text, source="apostrophe.yaml", now=FILE_LOADED)
    with factory() as session:
        dwp = session.scalar(select(Agency).where(Agency.key == "dwp"))
        assert dwp is not None and dwp.information == ["'-2 officers", "benefit claims"]
        target = session.scalar(select(Target).where(Target.ref == "OCG-01"))
        assert target is not None and target.details is not None
        assert target.details.summary == "'=1+1 is what they wrote"
        exported = partnership.export(session, partnership.select_partnership(session, None))
    doc = yaml.safe_load(exported)
    assert doc["agencies"][1]["information"] == ["'-2 officers", "benefit claims"]
    with db.unit_of_work(factory) as session:
        assert partnership.load(session, exported, source="exported.yaml", now=FILE_LOADED) == []


def test_export_neutralises_formula_text_already_stored(db_path: Path, loaded: sessionmaker[Session],
                                                        tmp_path: Path) -> None:
    evil = '=HYPERLINK("http://evil","x")'
    # Rows written before the load rule existed (or edited in the database): export must not pass them on raw.
    with db.unit_of_work(loaded) as session:
        p = session.scalar(select(Partnership))
        assert p is not None
        p.name = "-Northtown"
        dwp = session.scalar(select(Agency).where(Agency.key == "dwp"))
        assert dwp is not None
        dwp.name = evil
        dwp.information = ["-2 officers", "benefit claims"]
        sam = session.scalar(select(Member).where(Member.key == "sam.patel"))
        assert sam is not None
        sam.name, sam.email = "@home", "=cmd@dwp.example"
        hcc = session.scalar(select(Cohort).where(Cohort.key == "hcc"))
        assert hcc is not None
        hcc.confidentiality = "+cmd|' /C calc'!A0"
        target = session.scalar(select(Target).where(Target.ref == "OCG-07"))
        assert target is not None and target.details is not None
        target.details.summary = "\t=1+1"

    out = tmp_path / "export.yaml"
    results = run_all(db_path, {"stdout": ["partnership", "export"], "file": ["partnership", "export", "-o", str(out)],
                                "nowhere": ["partnership", "export", "-o", str(tmp_path / "no" / "such" / "x.yaml")]})
    code, exported, stderr = results["stdout"]
    assert code == 0, stderr
    assert results["file"][0] == 0 and out.read_text(encoding="utf-8") == exported
    code, _, stderr = results["nowhere"]
    assert code == 2 and "Traceback" not in stderr
    assert stderr.splitlines()[0] == f"error: cannot write {tmp_path / 'no' / 'such' / 'x.yaml'}: No such file or directory"

    doc = yaml.safe_load(exported)
    assert not [s for s in strings(doc) if s.startswith(partnership_spec.FORMULA_PREFIXES)]
    assert doc["partnership"]["name"] == "'-Northtown"
    dwp_doc = next(a for a in doc["agencies"] if a["key"] == "dwp")
    assert dwp_doc["name"] == "'" + evil and dwp_doc["information"] == ["'-2 officers", "benefit claims"]
    sam_doc = next(m for m in doc["members"] if m["key"] == "sam.patel")
    assert (sam_doc["name"], sam_doc["email"]) == ("'@home", "'=cmd@dwp.example")
    assert next(c for c in doc["cohorts"] if c["key"] == "hcc")["confidentiality"] == "'+cmd|' /C calc'!A0"
    assert next(t for t in doc["targets"] if t["ref"] == "OCG-07")["details"]["summary"] == "'\t=1+1"

    # Loading the export stores the apostrophe form (the documented one-off change), then all is stable.
    with db.unit_of_work(loaded) as session:
        changes = partnership.load(session, exported, source="export.yaml", now=FILE_LOADED)
    assert len(changes) == 7, changes
    assert "target OCG-07: details changed" in changes
    with db.unit_of_work(loaded) as session:
        again = partnership.export(session, partnership.select_partnership(session, None))
    assert again == exported
    with db.unit_of_work(loaded) as session:
        assert partnership.load(session, again, source="again.yaml", now=FILE_LOADED) == []


# ---------------------------------------------------------------------------------------- spreadsheets


def test_csv_wrong_types_and_duplicate_refs(loaded: sessionmaker[Session], db_path: Path, tmp_path: Path) -> None:
    rows = [
        GOOD,
        ["N-0902", "person", "hcc", "dee.okafor", "drugs", "high", "31/12/2027", "x"],
        ["n-0901", "individual", "hcc", "dee.okafor", "drugs", "2", "", "lower-case duplicate"],
        ["N 0903", "individual", "12", "dee.okafor", "drugs; =cmd", "-1", "", ""],
        ["N-0904", "individual", "hcc", "dee.okafor", "", "2.5", "2027-02-30", "x" * 200_000],
    ]
    path = write_csv(tmp_path / "types.csv", rows)
    before = dump(db_path)
    assert import_errors(loaded, path) == [
        "row 3.kind: 'person' is not one of individual, group",
        "row 3.priority: expected a whole number from 1 to 9, got 'high'",
        "row 3.review: '31/12/2027' is not a date; write YYYY-MM-DD, e.g. 2027-03-31",
        "row 4.ref: duplicate reference 'N-0901' (also row 2)",
        "row 5.ref: 'N 0903' is not a valid reference (capital letters, digits and '-', e.g. OCG-07)",
        "row 5.flags[1]: '=cmd' is not a valid key (lowercase letters, digits, '.', '-', '_')",
        "row 5.priority: expected a whole number from 1 to 9, got '-1'",
        "row 5.cohort: unknown cohort '12'",
        "row 6.priority: expected a whole number from 1 to 9, got '2.5'",
        "row 6.review: '2027-02-30' is not a date; write YYYY-MM-DD, e.g. 2027-03-31",
        "row 6.summary: too long (200000 characters; at most 4000)",
    ]
    assert dump(db_path) == before


@pytest.mark.parametrize("cell, prefix", [
    ('=HYPERLINK("http://evil","x")', "="), ("+cmd|' /C calc'!A0", "+"), ("-2+3", "-"), ("@SUM(A1)", "@"),
    ("\t=1+1", "="), ("\r=1+1", "="), (" \t @SUM(A1)", "@"),
])
def test_formula_cells_are_rejected_with_row_and_column(loaded: sessionmaker[Session], tmp_path: Path,
                                                        cell: str, prefix: str) -> None:
    for path in (write_csv(tmp_path / "f.csv", [GOOD, [*GOOD[:7], "fine"], ["N-0905", *GOOD[1:7], cell]]),
                 write_xlsx(tmp_path / "f.xlsx", [GOOD, ["N-0905", *GOOD[1:7], cell]])):
        row = 4 if path.suffix == ".csv" else 3
        errors = import_errors(loaded, path)
        shown = cell.strip()[:20]
        message = (f"row {row}.summary: '{shown}' looks like a spreadsheet formula; remove the leading '{prefix}' "
                   f"(or, to keep it, start the text with an apostrophe: '{shown})")
        if path.suffix == ".csv":
            assert errors == ["row 3.ref: duplicate reference 'N-0901' (also row 2)", message]
        else:
            assert errors == [message]


def test_xlsx_wrong_types_numbers_and_duplicates(loaded: sessionmaker[Session], db_path: Path,
                                                 tmp_path: Path) -> None:
    rows = [
        [1234, "individual", "hcc", "dee.okafor", None, 2, None, 42],  # a numeric reference and summary are text
        ["N-0906", True, "hcc", "dee.okafor", None, "high", "next week", None],
        ["N-0907", "individual", "hcc", "dee.okafor", None, 2.5, 45000, None],
        [1234.0, "individual", "hcc", "dee.okafor", None, 1, None, None],
    ]
    before = dump(db_path)
    assert import_errors(loaded, write_xlsx(tmp_path / "types.xlsx", rows)) == [
        "row 3.kind: 'True' is not one of individual, group",
        "row 3.priority: expected a whole number from 1 to 9, got 'high'",
        "row 3.review: 'next week' is not a date; write YYYY-MM-DD, e.g. 2027-03-31",
        "row 4.priority: expected a whole number from 1 to 9, got '2.5'",
        "row 4.review: '45000' is not a date; write YYYY-MM-DD, e.g. 2027-03-31",
        "row 5.ref: duplicate reference '1234' (also row 2)",
    ]
    assert dump(db_path) == before


def rewrite_sheet(good: Path, out: Path, dimension: str, extra_rows: str) -> Path:
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                start = text.index('<dimension ref="')
                text = text[:start] + f'<dimension ref="{dimension}"' + text[text.index("/>", start):]
                data = text.replace("</sheetData>", extra_rows + "</sheetData>").encode()
            zout.writestr(item.filename, data)
    return out


def test_xlsx_with_huge_declared_dimensions_is_read_in_bounded_time(loaded: sessionmaker[Session], db_path: Path,
                                                                    tmp_path: Path, sheet_work: SheetWork) -> None:
    good = write_xlsx(tmp_path / "good.xlsx", [GOOD])
    far = ('<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>far away</t></is></c>'
           '<c r="XFD1048576" t="inlineStr"><is><t>far away</t></is></c></row>')
    bomb = rewrite_sheet(good, tmp_path / "bomb.xlsx", "A1:XFD1048576", far)
    before = dump(db_path)
    errors = import_errors(loaded, bomb)
    # The declared A1:XFD1048576 is not trusted: each row is read as wide as the header (8 cells, not 16,384),
    # and no further than the last row there is.
    assert (sheet_work.rows, sheet_work.widest) == (1_048_575, len(HEADERS))
    assert errors == [
        "row 1048576.ref: 'FAR AWAY' is not a valid reference (capital letters, digits and '-', e.g. OCG-07)",
        "row 1048576.kind: is required",
        "row 1048576.cohort: is required",
        "row 1048576.lead: is required",
    ]
    assert dump(db_path) == before

    beyond = rewrite_sheet(good, tmp_path / "beyond.xlsx", "A1:H9999999",
                           '<row r="9999999"><c r="A9999999" t="inlineStr"><is><t>X</t></is></c></row>')
    sheet_work.rows = 0
    with pytest.raises(UsageError) as info:
        run_import(loaded, beyond)
    assert sheet_work.rows == targets_import.MAX_SHEET_ROW - 1  # stopped at Excel's last row, not 9,999,999
    assert info.value.message == "beyond.xlsx has rows beyond row 1,048,576, Excel's last row; it is not a sheet Excel wrote"
    assert dump(db_path) == before


def test_xlsx_that_unzips_to_too_much_is_refused_before_reading(loaded: sessionmaker[Session],
                                                                tmp_path: Path) -> None:
    good = write_xlsx(tmp_path / "good.xlsx", [GOOD])
    bomb = tmp_path / "zipbomb.xlsx"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
        for item in zin.infolist():
            zout.writestr(item.filename, zin.read(item.filename))
        with zout.open("xl/padding.xml", "w") as fh:
            chunk = b" " * MB
            for _ in range(101):
                fh.write(chunk)
    assert bomb.stat().st_size < 2 * MB
    with pytest.raises(UsageError) as info:
        run_import(loaded, bomb)
    assert info.value.message == ("zipbomb.xlsx expands to 101 MB when unzipped; the limit is 100 MB. "
                                  "Save just the targets sheet, or export it as CSV.")


def test_bad_spreadsheets_through_the_cli(db_path: Path, tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    with big.open("w", encoding="utf-8") as fh:
        fh.write(",".join(HEADERS) + "\n")
        line = ",".join(GOOD) + "\n"
        fh.write(line * (50 * MB // len(line) + 1))
    files = {
        "png.csv": PNG, "zip.csv": write_xlsx(tmp_path / "real.xlsx", [GOOD]).read_bytes(),  # a zip named .csv
        "random.xlsx": os.urandom(4096), "png.xlsx": PNG,
        "types.csv": None, "formula.xlsx": None,
    }
    paths = {"big.csv": big}
    for name, data in files.items():
        paths[name] = tmp_path / name
        if data is not None:
            paths[name].write_bytes(data)
    write_csv(paths["types.csv"], [GOOD, ["N-0902", "individual", "hcc", "dee.okafor", "", "high", "", ""], GOOD])
    write_xlsx(paths["formula.xlsx"], [[*GOOD[:7], '=HYPERLINK("http://evil","x")']])
    before = dump(db_path)

    results = run_all(db_path, {name: ["targets", "import", str(path)] for name, path in paths.items()})
    results["partial"] = run_all(db_path, {"p": ["targets", "import", "--partial", str(paths["formula.xlsx"])]})["p"]

    for name, (code, stdout, stderr) in results.items():
        assert code != 0 or name == "partial", (name, stdout, stderr)
        assert "Traceback" not in stderr, (name, stderr)

    def first(name: str) -> str:
        return results[name][2].splitlines()[0]

    assert results["big.csv"][0] == 2
    assert first("big.csv") == "error: big.csv is 50.0 MB; the limit is 20 MB. Split it and import each part."
    assert first("png.csv") == "error: png.csv is not a text CSV file (it contains binary data)"
    assert first("zip.csv") == "error: zip.csv is not a text CSV file (it contains binary data)"
    assert first("random.xlsx") == "error: random.xlsx is not a readable .xlsx workbook (BadZipFile)"
    assert first("png.xlsx") == "error: png.xlsx is not a readable .xlsx workbook (BadZipFile)"
    code, _, stderr = results["types.csv"]
    assert code == 1 and first("types.csv") == "error: types.csv: 2 errors; nothing was written"
    assert error_lines(stderr) == ["row 3.priority: expected a whole number from 1 to 9, got 'high'",
                                   "row 4.ref: duplicate reference 'N-0901' (also row 2)"]
    code, _, stderr = results["formula.xlsx"]
    formula = ("row 2.summary: '=HYPERLINK(\"http://e' looks like a spreadsheet formula; remove the leading '=' "
               "(or, to keep it, start the text with an apostrophe: '=HYPERLINK(\"http://e)")
    assert code == 1 and error_lines(stderr) == [formula]
    code, stdout, stderr = results["partial"]
    assert code == 0 and error_lines(stderr) == [f"skipped {formula}"]
    assert stdout.strip() == f"{paths['formula.xlsx']}: 1 rows, 0 changes, 1 rows skipped"
    assert dump(db_path) == before


def test_values_that_crashed_the_loader_are_errors() -> None:
    # Before: TypeError ('int' object is not iterable) and ValueError (day is out of range), with a traceback.
    assert parse_errors(BASE + "meeting: {breaks: 5}\n") == [
        'line 12: meeting.breaks: expected a list, e.g. [{at: "11:00", minutes: 15}], got \'5\'']
    assert parse_errors(BASE.replace("priority: 2,", "priority: 2, review: 2027-13-01,")) == [
        "line 11: targets[0].review: '2027-13-01' is not a date; write YYYY-MM-DD, e.g. 2027-03-31"]
    # A real date where text belongs is refused (YAML would have turned "2027-02-28" into a date).
    assert parse_errors(BASE.replace('isp_signed: "1", information', "isp_signed: 2027-02-28, information")) == [
        "line 4: agencies[1].isp_signed: expected text, got the date 2027-02-28; put it in quotes"]
