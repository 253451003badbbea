"""Structured target details (DPA 2018 s.38): in the partnership file, the spreadsheet import (default headers,
`--map "Header=field"`, no column dropped silently), the export, sealed at rest, and in the pack for those
entitled to the full view only."""

from __future__ import annotations

import csv
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from actions_support import reply_text
from import_support import run_import
from moments import FILE_LOADED
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot import db
from bot.config import DEFAULT_COMMANDS
from bot.runner import Request, Runner
from commands.core import router
from commands.core.errors import FileErrors, UsageError
from commands.partnership import file as partnership
from commands.partnership import targets_import
from models import Section, Target

HEADERS = ["Reference", "Kind", "Offender group", "Lead officer", "Name", "Aliases", "Date of birth", "Address",
           "Vehicle", "Known associates", "Business interests", "Why known", "Fact or assessment",
           "Subject status", "Warning markers"]
ROW = ["N-0970", "individual", "hcc", "dee.okafor", "Jonah Quarrie", "JQ; Quarry", "1991-02-17",
       "Flat 3, 41 Tanner Street, Eastfield; 9 Orchard Way, Millbrook", "KX19 ZPT", "N-0412", "Quarrie Cars Ltd",
       "Seen handing packages at the Eastfield shops", "assessment", "Suspect", "weapons; violence"]
FACTS = {"names": ["Jonah Quarrie"], "aliases": ["JQ", "Quarry"], "date_of_birth": "1991-02-17",
         "addresses": ["Flat 3, 41 Tanner Street, Eastfield", "9 Orchard Way, Millbrook"], "vehicles": ["KX19 ZPT"],
         "associates": ["N-0412"], "business_interests": ["Quarrie Cars Ltd"],
         "why_known": "Seen handing packages at the Eastfield shops", "basis": "assessment",
         "subject_status": "suspect", "warnings": ["weapons", "violence"]}


def write_csv(path: Path, rows: list[list[Any]], headers: list[str]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def facts_of(factory: sessionmaker[Session], ref: str) -> dict[str, Any]:
    with factory() as session:
        t = session.scalar(select(Target).where(Target.ref == ref))
        assert t is not None and t.details is not None
        return dict(t.details.facts)


def test_the_default_headings_import_every_s38_category(northtown_loaded: sessionmaker[Session], tmp_path: Path,
                                                       sqlite_db_url: str) -> None:
    report = run_import(northtown_loaded, write_csv(tmp_path / "t.csv", [ROW], HEADERS))
    assert "target N-0970: created" in report.changes and "target N-0970: details added" in report.changes
    assert facts_of(northtown_loaded, "N-0970") == FACTS
    # sealed at rest: neither the name nor the address is in the database file in clear
    raw = Path(sqlite_db_url.removeprefix("sqlite:///"))
    with sqlite3.connect(raw) as conn:
        dump = "\n".join(conn.iterdump())
    assert "Jonah Quarrie" not in dump and "Tanner Street" not in dump and "Quarrie Cars" not in dump


def test_an_unmapped_column_is_named_and_nothing_is_imported(northtown_loaded: sessionmaker[Session],
                                                             tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", [[*ROW, "07700 900123", "red"]], [*HEADERS, "Mobile", "Colour"])
    with pytest.raises(UsageError) as info:
        run_import(northtown_loaded, path)
    assert info.value.message.startswith("columns 'Mobile', 'Colour' map to no field, so nothing was imported")
    assert "date_of_birth" in info.value.message  # the fields it could map to
    assert info.value.example == '--map "Mobile=ignore"'
    with northtown_loaded() as session:
        assert session.scalar(select(Target).where(Target.ref == "N-0970")) is None

    report = run_import(northtown_loaded, path,
                        mapping=targets_import.parse_mapping(["Mobile=ignore,Colour=ignore"]))
    assert "target N-0970: created" in report.changes
    assert "07700 900123" not in str(facts_of(northtown_loaded, "N-0970"))


def test_map_names_the_field_of_a_heading(northtown_loaded: sessionmaker[Session], tmp_path: Path) -> None:
    headers = ["URN", "Kind", "Offender group", "Lead officer", "Nominal", "Born", "Last seen at", "Markers, safety"]
    row = ["N-0971", "individual", "hcc", "dee.okafor", "Ada Vine", "12/03/1990", "2 Mill Lane", "firearms"]
    path = write_csv(tmp_path / "t.csv", [row], headers)
    mapping = targets_import.parse_mapping(
        ['URN=ref,Nominal=names,Born=date_of_birth,Last seen at=addresses', "warnings=Markers, safety"])
    assert mapping == {"ref": "URN", "names": "Nominal", "date_of_birth": "Born", "addresses": "Last seen at",
                       "warnings": "Markers, safety"}
    with pytest.raises(FileErrors) as info:  # a UK date is not taken as ISO: the row is refused, with its cell
        run_import(northtown_loaded, path, mapping=mapping)
    assert any("row 2.date_of_birth" in e and "YYYY-MM-DD" in e for e in info.value.errors), info.value.errors
    row[5] = "1990-03-12"
    run_import(northtown_loaded, write_csv(tmp_path / "t.csv", [row], headers), mapping=mapping)
    assert facts_of(northtown_loaded, "N-0971") == {"names": ["Ada Vine"], "date_of_birth": "1990-03-12",
                                                    "addresses": ["2 Mill Lane"], "warnings": ["firearms"]}


def test_a_bad_status_or_basis_names_its_row(northtown_loaded: sessionmaker[Session], tmp_path: Path) -> None:
    row = list(ROW)
    row[12], row[13] = "rumour", "suspcet"
    with pytest.raises(FileErrors) as info:
        run_import(northtown_loaded, write_csv(tmp_path / "t.csv", [row], HEADERS))
    text = "\n".join(info.value.errors)
    assert "row 2.basis: 'rumour' is not one of fact, assessment" in text
    assert "row 2.subject_status: 'suspcet' is not one of suspect, convicted, victim, witness, at-risk" in text
    assert "did you mean 'suspect'" in text


def _with_facts(northtown_text: str) -> str:
    doc = yaml.safe_load(northtown_text)
    ocg07 = next(t for t in doc["targets"] if t["ref"] == "OCG-07")
    ocg07.setdefault("details", {}).update({**FACTS, "names": "Riverside crew"})  # one text is a list of one
    return yaml.safe_dump(doc, sort_keys=False)


def test_the_partnership_file_carries_them_and_export_loads_back_unchanged(
        northtown_loaded: sessionmaker[Session], northtown_text: str) -> None:
    with db.unit_of_work(northtown_loaded) as session:
        changes = partnership.load(session, _with_facts(northtown_text), source="p.yaml", now=FILE_LOADED)
    assert changes == ["target OCG-07: structured details changed"]
    assert facts_of(northtown_loaded, "OCG-07") == {**FACTS, "names": ["Riverside crew"]}
    with db.unit_of_work(northtown_loaded) as session:
        exported = partnership.export(session, partnership.select_partnership(session, None))
    ocg07 = next(t for t in yaml.safe_load(exported)["targets"] if t["ref"] == "OCG-07")
    assert ocg07["details"]["warnings"] == ["weapons", "violence"]
    with db.unit_of_work(northtown_loaded) as session:
        assert partnership.load(session, exported, source="export.yaml", now=FILE_LOADED) == []

    bad = _with_facts(northtown_text).replace("subject_status: suspect", "subject_status: victm")
    with db.unit_of_work(northtown_loaded) as session, pytest.raises(FileErrors) as info:
        partnership.load(session, bad, source="bad.yaml", now=FILE_LOADED)
    assert any(".details.subject_status: 'victm' is not one of" in e and "did you mean 'victim'" in e
               for e in info.value.errors), info.value.errors


# ---------------------------------------------------------------- the pack (sample published for 8 Dec 2026)

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
USERS = {"tom": "U0TOM", "sam": "U0SAM", "jo": "U0JO", "bea": "U0BEA"}


def _run(runner: Runner, who: str, command: str, text: str) -> Any:
    return runner.run(Request("slack", "T0TEST", USERS[who], command, text), lambda _u: None)


def _pack(runner: Runner, who: str) -> str:
    with runner.factory() as session:
        section = session.scalar(select(Section).where(Section.cohort.has(key="ocg")))
        assert section is not None
        value = str(section.id)
    result = runner.run(Request("slack", "T0TEST", USERS[who], "button:pack.accept", ""), lambda _u: None,
                        lambda caller: router.press("pack.accept", caller, value))
    return "\n".join(result.modal.lines) if result.modal is not None else reply_text(result)


def test_the_pack_shows_them_to_those_entitled_to_the_full_view(northtown_loaded: sessionmaker[Session],
                                                                northtown_text: str) -> None:
    with db.unit_of_work(northtown_loaded) as session:
        partnership.load(session, _with_facts(northtown_text), source="p.yaml", now=FILE_LOADED)
    runner = Runner(factory=northtown_loaded, names=dict(DEFAULT_COMMANDS), clock=lambda: NOW)
    assert "Published the agenda" in reply_text(_run(runner, "jo", "agenda", "publish 2026-12-08"))

    shown = _pack(runner, "sam")  # DWP, in the section, entitled to OCG-07
    assert "WARNING - Staff-safety warnings: weapons; violence" in shown
    assert "Addresses: Flat 3, 41 Tanner Street, Eastfield; 9 Orchard Way, Millbrook" in shown
    assert "Why known: Seen handing packages" in shown and "Fact or assessment: assessment" in shown
    assert shown.index("WARNING") < shown.index("Name(s): Riverside crew")  # warnings come first

    assert "Tanner Street" not in _pack(runner, "bea")  # not in the section: nothing about OCG-07

    _run(runner, "tom", "agenda", "share OCG-07 ask Tell the lead of any benefit claim")
    asked = _pack(runner, "sam")
    assert "Tell the lead of any benefit claim" in asked
    assert "Tanner Street" not in asked and "weapons" not in asked and "Riverside crew" not in asked
    assert "Tanner Street" in _pack(runner, "tom")  # the lead always sees the full details
