"""Importing targets from the analysts' spreadsheet (CSV and XLSX) into the loaded Northtown partnership."""

from __future__ import annotations

import csv
import os
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from import_support import run_import
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import models
from commands.core.errors import FileErrors, UsageError
from commands.partnership import targets_import
from models import AuditEvent, Target

HEADERS = ["Reference", "Kind", "Offender group", "Lead officer", "Flags", "Priority", "Review date", "Summary"]
GOOD_ROWS = [
    ["N-0901", "individual", "hcc", "dee.okafor", "drugs; benefits", "2", "2027-04-01", "Shoplifting to fund drugs"],
    ["ocg-90", "Group", "OCG", "tom.ashby", "money-laundering", "1", "2027-05-02", "Cash business network"],
    ["N-0902", "individual", "ppo", "helen.ward", "", "3", "", ""],
]


def write_csv(path: Path, rows: list[list[Any]], headers: list[str] = HEADERS) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def snapshot(factory: sessionmaker[Session]) -> dict[str, list[tuple[Any, ...]]]:
    with factory() as session:
        return {t.name: [tuple(r) for r in session.execute(select(t).order_by(*t.primary_key.columns))]
                for t in models.Base.metadata.sorted_tables}


def target(factory: sessionmaker[Session], ref: str) -> dict[str, Any] | None:
    with factory() as session:
        t = session.scalar(select(Target).where(Target.ref == ref))
        if t is None:
            return None
        return {"kind": t.kind, "cohort": t.cohort.key, "lead": t.lead.key, "flags": t.flags,
                "priority": t.priority, "status": t.status, "review": t.review,
                "summary": t.details.summary if t.details else None}


# ------------------------------------------------------------------------------------------- CSV


def test_csv_import_creates_targets_and_records_collection(northtown_loaded: sessionmaker[Session],
                                                           tmp_path: Path) -> None:
    path = write_csv(tmp_path / "targets.csv", GOOD_ROWS)
    with northtown_loaded() as session:
        last_event = session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))

    report = run_import(northtown_loaded, path)

    assert report.rows == 3 and report.skipped == 0 and report.errors == []
    assert sorted(report.changes) == sorted([
        "target N-0901: created", "target N-0901: details added",
        "target OCG-90: created", "target OCG-90: details added",
        "target N-0902: created",
    ])
    assert target(northtown_loaded, "N-0901") == {
        "kind": "individual", "cohort": "hcc", "lead": "dee.okafor", "flags": ["drugs", "benefits"],
        "priority": 2, "status": "active", "review": date(2027, 4, 1), "summary": "Shoplifting to fund drugs"}
    assert target(northtown_loaded, "OCG-90") == {
        "kind": "group", "cohort": "ocg", "lead": "tom.ashby", "flags": ["money-laundering"],
        "priority": 1, "status": "active", "review": date(2027, 5, 2), "summary": "Cash business network"}
    assert target(northtown_loaded, "N-0902") == {
        "kind": "individual", "cohort": "ppo", "lead": "helen.ward", "flags": [],
        "priority": 3, "status": "active", "review": None, "summary": None}

    with northtown_loaded() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.id > last_event)
                                 .order_by(AuditEvent.id)).all()
    assert sorted((e.kind, e.target_ref) for e in events) == [
        ("collection", "N-0901"), ("collection", "N-0902"), ("collection", "OCG-90")]
    assert all(e.justification == "targets import from targets.csv" and e.actor == "cli" for e in events)
    assert all(e.target_id is not None for e in events)


def test_reimport_is_zero_changes(northtown_loaded: sessionmaker[Session], tmp_path: Path) -> None:
    path = write_csv(tmp_path / "targets.csv", GOOD_ROWS)
    assert run_import(northtown_loaded, path).changes
    before = snapshot(northtown_loaded)

    report = run_import(northtown_loaded, path)

    assert report.changes == [] and report.rows == 3 and report.skipped == 0
    assert snapshot(northtown_loaded) == before  # no audit event either


def test_import_updates_an_existing_target_as_alteration(northtown_loaded: sessionmaker[Session],
                                                         tmp_path: Path) -> None:
    before = target(northtown_loaded, "N-0412")
    assert before is not None and before["priority"] == 2
    row = ["N-0412", "individual", "gangs", "helen.ward", "violence,housing", "1", "2027-02-18",
           before["summary"]]
    report = run_import(northtown_loaded, write_csv(tmp_path / "one.csv", [row]))
    assert report.changes == ["target N-0412: priority: 2 -> 1"]
    assert target(northtown_loaded, "N-0412") == {**before, "priority": 1}
    with northtown_loaded() as session:  # the change, then the merge of the spreadsheet into the record held
        last = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(2)).all()[::-1]
    assert [(e.kind, e.target_ref, e.what) for e in last] == [
        ("alteration", "N-0412", "target alteration: priority"),
        ("combination", "N-0412", "targets import merged one.csv into the existing record")]


def test_mapping_picks_the_named_column(northtown_loaded: sessionmaker[Session], tmp_path: Path) -> None:
    # Both a "Reference" column (a default header) and "URN": the mapping must win.
    headers = ["Reference", "URN", *HEADERS[1:]]
    rows = [["IGNORED-1", "N-0950", *GOOD_ROWS[0][1:]]]
    path = write_csv(tmp_path / "mapped.csv", rows, headers)

    # the other column is not dropped silently: it is named, and nothing imported until the mapping says to ignore it
    with pytest.raises(UsageError) as info:
        run_import(northtown_loaded, path, mapping=targets_import.parse_mapping(["ref=URN"]))
    assert info.value.message.startswith("column 'Reference' maps to no field, so nothing was imported")
    assert info.value.example == '--map "Reference=ignore"'
    mapping = targets_import.parse_mapping(["ref=URN", "Reference=ignore"])
    assert mapping == {"ref": "URN"} and mapping.ignored == ("Reference",)
    report = run_import(northtown_loaded, path, mapping=mapping)

    assert "target N-0950: created" in report.changes
    assert target(northtown_loaded, "N-0950") is not None
    assert target(northtown_loaded, "IGNORED-1") is None


def test_mapping_to_a_non_default_header(northtown_loaded: sessionmaker[Session], tmp_path: Path) -> None:
    headers = ["Case No", *HEADERS[1:3], "Officer in case", *HEADERS[4:]]
    path = write_csv(tmp_path / "cases.csv", [["N-0960", *GOOD_ROWS[0][1:]]], headers)

    with pytest.raises(UsageError) as info:
        run_import(northtown_loaded, path)
    assert info.value.message.startswith("no column for ref, lead;")

    report = run_import(northtown_loaded, path,
                        mapping=targets_import.parse_mapping(["ref=Case No", "lead = Officer in case"]))
    assert report.changes[0] == "target N-0960: created"
    assert target(northtown_loaded, "N-0960")["lead"] == "dee.okafor"  # type: ignore[index]


def test_bad_mappings_are_usage_errors(northtown_loaded: sessionmaker[Session], tmp_path: Path) -> None:
    for bad in (["ref"], ["nonsense=URN"], ["ref="]):
        with pytest.raises(UsageError) as info:
            targets_import.parse_mapping(bad)
        assert "bad column mapping" in info.value.message and info.value.example
    path = write_csv(tmp_path / "t.csv", GOOD_ROWS)
    with pytest.raises(UsageError) as info:
        run_import(northtown_loaded, path, mapping={"ref": "Nominal URN"})
    assert "column 'Nominal URN' (for ref) is not in the header row" in info.value.message


BAD_ROWS = [
    GOOD_ROWS[0],
    ["N-0903", "individal", "hcc", "dee.okafor", "drugs", "12", "2027-13-01", "ok"],   # row 3
    ["N-0904", "individual", "hcx", "rose.gill", "drugs", "1", "", ""],                 # row 4
    GOOD_ROWS[2],
    ["N-0901", "individual", "hcc", "zed.nobody", "", "1", "", ""],                      # row 6
]


def test_row_errors_name_row_and_column_and_write_nothing(northtown_loaded: sessionmaker[Session],
                                                          tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bad.csv", BAD_ROWS)
    before = snapshot(northtown_loaded)

    with pytest.raises(FileErrors) as info:
        run_import(northtown_loaded, path)

    assert info.value.source == "bad.csv"
    assert info.value.errors == [
        "row 3.kind: 'individal' is not one of individual, group (did you mean 'individual'?)",
        "row 3.priority: expected a whole number from 1 to 9, got '12'",
        "row 3.review: '2027-13-01' is not a date; write YYYY-MM-DD, e.g. 2027-03-31",
        "row 4.cohort: unknown cohort 'hcx' (did you mean 'hcc'?)",
        "row 4.lead: member 'rose.gill' does not hold the 'lead' role",
        "row 6.lead: unknown member 'zed.nobody'",
        "row 6.ref: duplicate reference 'N-0901' (also row 2)",
    ]
    assert info.value.message == "bad.csv: 7 errors; nothing was written"
    assert snapshot(northtown_loaded) == before


def test_partial_imports_good_rows_and_reports_skipped(northtown_loaded: sessionmaker[Session],
                                                       tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bad.csv", BAD_ROWS)

    report = run_import(northtown_loaded, path, partial=True)

    assert report.rows == 5 and report.skipped == 3
    assert len(report.errors) == 7
    assert {e.split(".", 1)[0] for e in report.errors} == {"row 3", "row 4", "row 6"}
    assert sorted(c for c in report.changes if c.endswith("created")) == [
        "target N-0901: created", "target N-0902: created"]
    assert target(northtown_loaded, "N-0901")["lead"] == "dee.okafor"  # type: ignore[index]
    assert target(northtown_loaded, "N-0903") is None and target(northtown_loaded, "N-0904") is None


def test_summary_formula_is_rejected_in_csv(northtown_loaded: sessionmaker[Session], tmp_path: Path) -> None:
    row = [*GOOD_ROWS[0][:7], '=HYPERLINK("http://x","y")']
    path = write_csv(tmp_path / "formula.csv", [row])
    before = snapshot(northtown_loaded)
    with pytest.raises(FileErrors) as info:
        run_import(northtown_loaded, path)
    [error] = info.value.errors
    assert error.startswith("row 2.summary")
    assert "looks like a spreadsheet formula; remove the leading '='" in error
    assert snapshot(northtown_loaded) == before


def test_other_formula_prefixes_are_rejected(northtown_loaded: sessionmaker[Session], tmp_path: Path) -> None:
    rows = [[f"N-097{i}", *GOOD_ROWS[0][1:7], text]
            for i, text in enumerate(["+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3"])]
    with pytest.raises(FileErrors) as info:
        run_import(northtown_loaded, write_csv(tmp_path / "f.csv", rows))
    errors = info.value.errors
    assert len(errors) == 3
    for n, error in enumerate(errors, start=2):
        assert error.startswith(f"row {n}.summary") and "looks like a spreadsheet formula" in error


def test_summary_error_names_the_column_once(northtown_loaded: sessionmaker[Session], tmp_path: Path) -> None:
    row = [*GOOD_ROWS[0][:7], "=1+1"]
    with pytest.raises(FileErrors) as info:
        run_import(northtown_loaded, write_csv(tmp_path / "formula.csv", [row]))
    assert info.value.errors[0].startswith("row 2.summary: ")


def test_missing_required_column_is_named(northtown_loaded: sessionmaker[Session], tmp_path: Path) -> None:
    headers = [h for h in HEADERS if h != "Lead officer"]
    rows = [[c for h, c in zip(HEADERS, GOOD_ROWS[0], strict=True) if h != "Lead officer"]]
    with pytest.raises(UsageError) as info:
        run_import(northtown_loaded, write_csv(tmp_path / "nolead.csv", rows, headers))
    assert info.value.message.startswith("no column for lead; headers are: Reference, Kind, Offender group")
    assert info.value.example == '--map lead="Your header"'


def test_binary_garbage_csv_is_a_usage_error(northtown_loaded: sessionmaker[Session], tmp_path: Path) -> None:
    path = tmp_path / "garbage.csv"
    path.write_bytes(b"Reference,Kind\x00\x01\x02" + os.urandom(512))
    with pytest.raises(UsageError) as info:
        run_import(northtown_loaded, path)
    assert info.value.message == "garbage.csv is not a text CSV file (it contains binary data)"

    latin = tmp_path / "latin.csv"
    latin.write_bytes(",".join(HEADERS).encode() + b"\nN-0990,individual,hcc,dee.okafor,,1,,caf\xe9\n")
    with pytest.raises(UsageError) as info:
        run_import(northtown_loaded, latin)
    assert "latin.csv is not UTF-8 text" in info.value.message and "CSV UTF-8" in info.value.message


def test_wrong_suffix_and_missing_file_are_usage_errors(northtown_loaded: sessionmaker[Session],
                                                        tmp_path: Path) -> None:
    ods = tmp_path / "targets.ods"
    ods.write_bytes(b"whatever")
    with pytest.raises(UsageError) as info:
        run_import(northtown_loaded, ods)
    assert info.value.message == "targets.ods: expected a .csv or .xlsx file"
    with pytest.raises(UsageError) as info:
        run_import(northtown_loaded, tmp_path / "absent.csv")
    assert info.value.message.startswith("no such file:")


# ------------------------------------------------------------------------------------------ XLSX


def write_xlsx(path: Path, rows: list[list[Any]], headers: list[str] = HEADERS) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(headers)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def test_xlsx_import(northtown_loaded: sessionmaker[Session], tmp_path: Path) -> None:
    rows = [
        ["N-0911", "individual", "hcc", "dee.okafor", "drugs, housing", 1, date(2027, 6, 30), "From Excel"],
        ["N-0912", "individual", "gangs", "cal.reid", None, 2, None, None],
        [None, None, None, None, None, None, None, None],  # blank rows are skipped, not errors
    ]
    path = write_xlsx(tmp_path / "targets.xlsx", rows)

    report = run_import(northtown_loaded, path)

    assert report.rows == 2 and report.errors == []
    assert target(northtown_loaded, "N-0911") == {
        "kind": "individual", "cohort": "hcc", "lead": "dee.okafor", "flags": ["drugs", "housing"],
        "priority": 1, "status": "active", "review": date(2027, 6, 30), "summary": "From Excel"}
    assert target(northtown_loaded, "N-0912")["lead"] == "cal.reid"  # type: ignore[index]
    assert run_import(northtown_loaded, path).changes == []


def test_xlsx_row_errors_name_row_and_column(northtown_loaded: sessionmaker[Session], tmp_path: Path) -> None:
    rows = [["N-0913", "individual", "hcc", "dee.okafor", None, 42, None, None]]
    before = snapshot(northtown_loaded)
    with pytest.raises(FileErrors) as info:
        run_import(northtown_loaded, write_xlsx(tmp_path / "bad.xlsx", rows))
    assert info.value.errors == ["row 2.priority: expected a whole number from 1 to 9, got '42'"]
    assert snapshot(northtown_loaded) == before


def test_xlsx_text_cell_that_looks_like_a_formula_is_rejected(northtown_loaded: sessionmaker[Session],
                                                              tmp_path: Path) -> None:
    path = tmp_path / "text-formula.xlsx"
    write_xlsx(path, [[*GOOD_ROWS[0][:7], "placeholder"]])
    wb = openpyxl.load_workbook(path)
    cell = wb.active.cell(row=2, column=8)
    cell.value = '=HYPERLINK("http://x","y")'
    cell.data_type = "s"  # stored as text, as Excel does for a cell formatted as Text
    wb.save(path)

    with pytest.raises(FileErrors) as info:
        run_import(northtown_loaded, path)
    [error] = info.value.errors
    assert error.startswith("row 2.summary") and "looks like a spreadsheet formula" in error


def test_xlsx_formula_cell_is_rejected(northtown_loaded: sessionmaker[Session], tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "formula.xlsx", [[*GOOD_ROWS[0][:7], '=HYPERLINK("http://x","y")']])
    before = snapshot(northtown_loaded)
    try:
        run_import(northtown_loaded, path)
    except FileErrors as exc:
        assert any("formula" in e for e in exc.errors)
    else:
        raise AssertionError(f"formula cell accepted; N-0901 stored as {target(northtown_loaded, 'N-0901')}")
    assert snapshot(northtown_loaded) == before


def test_corrupt_xlsx_is_a_usage_error(northtown_loaded: sessionmaker[Session], tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.xlsx"
    garbage.write_bytes(os.urandom(2048))
    with pytest.raises(UsageError) as info:
        run_import(northtown_loaded, garbage)
    assert info.value.message == "garbage.xlsx is not a readable .xlsx workbook (BadZipFile)"

    not_a_workbook = tmp_path / "zip.xlsx"
    with zipfile.ZipFile(not_a_workbook, "w") as z:
        z.writestr("hello.txt", "a zip, but not a workbook")
    with pytest.raises(UsageError) as info:
        run_import(northtown_loaded, not_a_workbook)
    assert info.value.message.startswith("zip.xlsx is not a readable .xlsx workbook")

    truncated = tmp_path / "truncated.xlsx"
    data = write_xlsx(tmp_path / "whole.xlsx", GOOD_ROWS).read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(UsageError) as info:
        run_import(northtown_loaded, truncated)
    assert info.value.message.startswith("truncated.xlsx is not a readable .xlsx workbook")


def test_xlsx_with_corrupt_sheet_xml_is_a_usage_error(northtown_loaded: sessionmaker[Session],
                                                      tmp_path: Path) -> None:
    good = write_xlsx(tmp_path / "good.xlsx", GOOD_ROWS)
    bad = tmp_path / "badsheet.xlsx"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bad, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            zout.writestr(item, b"<worksheet><not closed" if item.filename == "xl/worksheets/sheet1.xml" else data)
    with pytest.raises(UsageError) as info:
        run_import(northtown_loaded, bad)
    assert "badsheet.xlsx" in info.value.message
