"""The partnership file: idempotent load, exact edits, every error with its place, export round trip,
and partnerships that never see each other's rows. Real Alembic schema, real sessions."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from moments import FILE_LOADED
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import models
from bot import db
from commands.core.errors import FileErrors, UsageError
from commands.partnership import file as partnership
from models import Agency, AuditEvent, Cohort, Member, Partnership, Target

# --------------------------------------------------------------------------------------------- helpers


def load(factory: sessionmaker[Session], text: str, source: str = "test.yaml") -> list[str]:
    with db.unit_of_work(factory) as session:
        return partnership.load(session, text, source=source, now=FILE_LOADED)


def export(factory: sessionmaker[Session], key: str | None = None) -> str:
    with db.unit_of_work(factory) as session:
        return partnership.export(session, partnership.select_partnership(session, key))


def line_of(text: str, needle: str) -> int:
    """1-based number of the one line containing needle."""
    hits = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(hits) == 1, f"{needle!r} found on lines {hits}"
    return hits[0]


def edit_line(text: str, needle: str, old: str, new: str) -> str:
    """Replace old by new on the one line that contains needle."""
    lines = text.splitlines(keepends=True)
    n = line_of(text, needle) - 1
    assert lines[n].count(old) == 1, f"{old!r} not once on line {n + 1}: {lines[n]!r}"
    lines[n] = lines[n].replace(old, new)
    return "".join(lines)


def drop_line(text: str, needle: str) -> str:
    lines = text.splitlines(keepends=True)
    del lines[line_of(text, needle) - 1]
    return "".join(lines)


def insert_after(text: str, needle: str, new_line: str) -> str:
    lines = text.splitlines(keepends=True)
    lines.insert(line_of(text, needle), new_line + "\n")
    return "".join(lines)


def index_in(text: str, section: str, ident: str, value: str) -> int:
    """Position of an entry in a section of the file, as validation paths count it."""
    entries = yaml.safe_load(text)[section]
    return [e[ident] for e in entries].index(value)


def snapshot(factory: sessionmaker[Session]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order."""
    with factory() as session:
        return {
            table.name: [tuple(row) for row in session.execute(
                select(table).order_by(*table.primary_key.columns))]
            for table in models.Base.metadata.sorted_tables
        }


def targets_state(factory: sessionmaker[Session]) -> dict[str, tuple[Any, ...]]:
    with factory() as session:
        return {t.ref: (t.kind, t.cohort_id, t.lead_id, t.flags, t.priority, t.status, t.review,
                        t.details.summary if t.details else None)
                for t in session.scalars(select(Target))}


# ---------------------------------------------------------------------------------- idempotent load


def test_first_load_creates_the_sample(northtown_loaded: sessionmaker[Session]) -> None:
    with northtown_loaded() as session:
        p = session.scalar(select(Partnership))
        assert p is not None and p.key == "northtown" and p.isp_version == "2026-1"
        assert session.scalar(select(func.count()).select_from(Agency)) == 26
        assert session.scalar(select(func.count()).select_from(Member)) == 40
        assert session.scalar(select(func.count()).select_from(Cohort)) == 5
        assert session.scalar(select(func.count()).select_from(Target)) == 50
        assert set(session.scalars(select(Target.status))) == {"active"}
        assert p.meeting["day_start"] == "09:30"


def test_second_load_changes_nothing(northtown_loaded: sessionmaker[Session], northtown_text: str) -> None:
    before = snapshot(northtown_loaded)
    assert load(northtown_loaded, northtown_text) == []
    assert snapshot(northtown_loaded) == before  # not even an audit event for a no-op load


# --------------------------------------------------------------------------------------- exact edits


def test_edited_file_applies_exactly_the_edits(northtown_loaded: sessionmaker[Session],
                                               northtown_text: str) -> None:
    before_targets = targets_state(northtown_loaded)
    before_audit = snapshot(northtown_loaded)["audit_event"]

    text = edit_line(northtown_text, "{key: dwp,", "flags: [benefits]", "flags: [benefits, housing]")
    text = edit_line(text, "{key: hcc,", "minutes_per_target: 5", "minutes_per_target: 8")
    text = insert_after(text, "{key: sam.patel,",
                        "  - {key: new.person, name: New Person, email: new.person@dwp.example, agency: dwp, "
                        "roles: [partner], slack: U0NEW, cohorts: [hcc]}")
    text = drop_line(text, "{ref: N-0444,")

    changes = load(northtown_loaded, text, source="edited.yaml")

    assert sorted(changes) == sorted([
        "agency dwp: flags: [benefits] -> [benefits, housing]",
        "cohort hcc: minutes_per_target: 5 -> 8",
        "member new.person: created",
        "member new.person: slack: (none) -> U0NEW",
        "target N-0444: closed (no longer in the file)",
    ])

    with northtown_loaded() as session:
        dwp = session.scalar(select(Agency).where(Agency.key == "dwp"))
        assert dwp is not None and dwp.flags == ["benefits", "housing"]
        hcc = session.scalar(select(Cohort).where(Cohort.key == "hcc"))
        assert hcc is not None and hcc.minutes_per_target == 8
        new = session.scalar(select(Member).where(Member.key == "new.person"))
        assert new is not None and new.agency.key == "dwp" and new.identity("slack") == "U0NEW"
        assert new.cohorts == ["hcc"] and new.roles == ["partner"]
        assert session.scalar(select(func.count()).select_from(Member)) == 41
        # Other entities untouched.
        hmrc = session.scalar(select(Agency).where(Agency.key == "hmrc"))
        assert hmrc is not None and hmrc.flags == ["business", "money-laundering"]
        assert {c.key: c.minutes_per_target for c in session.scalars(select(Cohort))} == {
            "ocg": 10, "county-lines": 5, "gangs": 5, "hcc": 8, "ppo": 5}

        new_events = session.scalars(select(AuditEvent).where(
            AuditEvent.id > max(row[0] for row in before_audit)).order_by(AuditEvent.id)).all()
        assert [(e.kind, e.target_ref) for e in new_events] == [("alteration", "N-0444"),
                                                                ("alteration", None)]
        assert "5 changes" in new_events[-1].what

    after_targets = targets_state(northtown_loaded)
    assert after_targets.pop("N-0444")[5] == "closed"
    assert before_targets.pop("N-0444")[5] == "active"
    assert after_targets == before_targets  # the 49 others are exactly as they were

    # And the edited file is itself idempotent.
    assert load(northtown_loaded, text, source="edited.yaml") == []


# ------------------------------------------------------------------------------------------- errors


def test_three_errors_all_reported_with_places_and_nothing_written(
        northtown_loaded: sessionmaker[Session], northtown_text: str) -> None:
    member_i = index_in(northtown_text, "members", "key", "sam.patel")
    agency_i = index_in(northtown_text, "agencies", "key", "hmrc")
    target_i = index_in(northtown_text, "targets", "ref", "N-0412")
    member_line = line_of(northtown_text, "{key: sam.patel,")
    agency_line = line_of(northtown_text, "{key: hmrc,")
    target_line = line_of(northtown_text, "{ref: N-0412,")

    text = edit_line(northtown_text, "{key: sam.patel,", "agency: dwp,", "agency: dwpp,")
    text = edit_line(text, "{key: hmrc,", "category: national-regional", "category: statutary")
    text = edit_line(text, "{ref: N-0412,", "lead: helen.ward", "lead: zed.unknown")

    before = snapshot(northtown_loaded)
    before_export = export(northtown_loaded)

    with pytest.raises(FileErrors) as info:
        load(northtown_loaded, text, source="bad.yaml")
    errors = info.value.errors

    assert len(errors) == 3, errors
    assert (f"line {member_line}: members[{member_i}].agency: unknown agency 'dwpp' "
            "(did you mean 'dwp'?)") in errors
    assert (f"line {agency_line}: agencies[{agency_i}].category: 'statutary' is not one of statutory, "
            f"local-authority, non-statutory, national-regional (did you mean 'statutory'?)") in errors
    [lead_error] = [e for e in errors if ".lead" in e]
    assert lead_error.startswith(
        f"line {target_line}: targets[{target_i}].lead: unknown member 'zed.unknown'")
    assert info.value.source == "bad.yaml"
    assert info.value.message == "bad.yaml: 3 errors; nothing was written"

    assert snapshot(northtown_loaded) == before
    assert export(northtown_loaded) == before_export


def test_errors_on_an_empty_database_write_nothing(factory: sessionmaker[Session],
                                                    northtown_text: str) -> None:
    text = edit_line(northtown_text, "{key: sam.patel,", "agency: dwp,", "agency: dwpp,")
    with pytest.raises(FileErrors):
        load(factory, text)
    assert all(rows == [] for name, rows in snapshot(factory).items() if name != "alembic_version")


def test_duplicate_yaml_keys_are_reported(northtown_text: str) -> None:
    text = edit_line(northtown_text, "{key: sam.patel,", "name: Sam Patel,",
                     "name: Sam Patel, name: Samuel Patel,")
    text = text + "\nmeeting: {channel: C0OTHER}\n"
    with pytest.raises(FileErrors) as info:
        partnership.parse_file(text, source="dup.yaml")
    errors = info.value.errors
    assert f"line {line_of(text, '{key: sam.patel,')}: duplicate key 'name'" in errors
    assert f"line {line_of(text, 'meeting: {channel: C0OTHER}')}: duplicate key 'meeting'" in errors
    assert len(errors) == 2


def test_duplicate_member_keys_are_reported(northtown_text: str) -> None:
    text = insert_after(northtown_text, "{key: sam.patel,",
                        "  - {key: tom.ashby, name: Tom Again, email: tom2@dwp.example, agency: dwp}")
    dup_i = index_in(northtown_text, "members", "key", "sam.patel") + 1
    first_i = index_in(northtown_text, "members", "key", "tom.ashby")
    with pytest.raises(FileErrors) as info:
        partnership.parse_file(text, source="dup.yaml")
    assert info.value.errors == [
        f"line {line_of(text, 'Tom Again')}: members[{dup_i}].key: duplicate key 'tom.ashby' "
        f"(also members[{first_i}])"
    ]


def test_unknown_field_gets_a_suggestion(northtown_text: str) -> None:
    text = edit_line(northtown_text, "{key: sam.patel,", "email: sam", "emial: sam")
    i = index_in(northtown_text, "members", "key", "sam.patel")
    line = line_of(text, "{key: sam.patel,")
    with pytest.raises(FileErrors) as info:
        partnership.parse_file(text, source="typo.yaml")
    assert f"line {line}: members[{i}].emial: unknown field (did you mean 'email'?)" in info.value.errors
    assert f"line {line}: members[{i}].email: is required" in info.value.errors


def test_yaml_syntax_error_names_the_line() -> None:
    text = "partnership: {name: X, isp_version: '1'}\nagencies:\n  - {key: a, name: [unclosed\n"
    with pytest.raises(FileErrors) as info:
        partnership.parse_file(text, source="broken.yaml")
    [error] = info.value.errors
    assert error.startswith("line ") and "not valid YAML" in error


# ------------------------------------------------------------------------------------------- export


def test_export_then_load_round_trips(northtown_loaded: sessionmaker[Session], tmp_path: Path) -> None:
    exported = export(northtown_loaded)
    doc = yaml.safe_load(exported)
    assert doc["partnership"]["key"] == "northtown"
    assert [len(doc[s]) for s in ("agencies", "members", "cohorts", "targets")] == [26, 40, 5, 50]

    assert load(northtown_loaded, exported, source="exported.yaml") == []
    assert export(northtown_loaded) == exported

    # Into a fresh database: the same partnership comes out again.
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    db.upgrade(url)
    engine = db.make_engine(url)
    try:
        fresh = db.session_factory(engine)
        assert len(load(fresh, exported, source="exported.yaml")) > 0
        assert export(fresh) == exported
    finally:
        engine.dispose()


# ------------------------------------------------------------------------------------------ tenancy

SOUTHTOWN = """\
partnership: {key: southtown, name: Southtown CSP, timezone: Europe/London, isp_version: "S-1"}
agencies:
  - {key: police, name: Southtown Police, category: statutory, flags: [drugs], isp_signed: "S-1", core: true}
  - {key: dwp, name: DWP South, category: national-regional, flags: [benefits], isp_signed: "S-1"}
members:
  - {key: tom.ashby, name: Tom Ashby South, email: tom@south.example, agency: police, roles: [lead],
     slack: U0TOM}
  - {key: sam.patel, name: Sam South, email: sam@south.example, agency: dwp, spoc: true}
cohorts:
  - {key: ocg, name: South OCGs, agencies: [police], minutes_per_target: 12}
targets:
  - {ref: OCG-01, kind: group, cohort: ocg, lead: tom.ashby, flags: [drugs], priority: 2,
     details: {summary: Southtown only}}
"""


def test_two_partnerships_do_not_see_each_other(northtown_loaded: sessionmaker[Session],
                                                 northtown_text: str) -> None:
    north_before = export(northtown_loaded, "northtown")

    changes = load(northtown_loaded, SOUTHTOWN, source="southtown.yaml")
    assert "partnership southtown: created" in changes
    assert not any("deactivated" in c or "closed" in c for c in changes)

    # Northtown is untouched, and reloading either file changes nothing.
    assert export(northtown_loaded, "northtown") == north_before
    assert load(northtown_loaded, northtown_text) == []
    assert load(northtown_loaded, SOUTHTOWN) == []

    south = yaml.safe_load(export(northtown_loaded, "southtown"))
    assert south["partnership"]["key"] == "southtown"
    assert [(a["key"], a["name"]) for a in south["agencies"]] == [("police", "Southtown Police"),
                                                                  ("dwp", "DWP South")]
    assert [(m["key"], m["name"]) for m in south["members"]] == [("tom.ashby", "Tom Ashby South"),
                                                                 ("sam.patel", "Sam South")]
    assert [c["key"] for c in south["cohorts"]] == ["ocg"]
    assert [(t["ref"], t["details"]["summary"]) for t in south["targets"]] == [("OCG-01", "Southtown only")]

    north = yaml.safe_load(export(northtown_loaded, "northtown"))
    assert len(north["agencies"]) == 26 and len(north["members"]) == 40 and len(north["targets"]) == 50
    assert "Southtown" not in export(northtown_loaded, "northtown")
    north_ocg01 = next(t for t in north["targets"] if t["ref"] == "OCG-01")
    assert north_ocg01["lead"] == "tom.ashby" and "Southtown" not in north_ocg01["details"]["summary"]

    with northtown_loaded() as session:
        by_partnership = Counter(session.scalars(select(Partnership.key).join(
            Agency, Agency.partnership_id == Partnership.id)))
        assert by_partnership == {"northtown": 26, "southtown": 2}
        # The south target's lead is the south member of the same key, never the north one.
        south_t = session.scalar(select(Target).join(Partnership).where(Partnership.key == "southtown"))
        assert south_t is not None and south_t.lead.name == "Tom Ashby South"
        assert south_t.lead.partnership_id == south_t.partnership_id
        # With two partnerships, one must be named.
        with pytest.raises(UsageError):
            partnership.select_partnership(session, None)


# --------------------------------------------------------------------------------------- PostgreSQL


@pytest.mark.postgres
def test_postgresql_idempotent_load_and_round_trip(pg_db_url: str, northtown_text: str) -> None:
    engine = db.make_engine(pg_db_url)
    try:
        factory = db.session_factory(engine)
        first = load(factory, northtown_text, source="northtown.yaml")
        assert "partnership northtown: created" in first
        assert sum(c.endswith(": created") and c.startswith("target ") for c in first) == 50
        assert load(factory, northtown_text, source="northtown.yaml") == []

        exported = export(factory)
        assert load(factory, exported, source="exported.yaml") == []
        assert export(factory) == exported
        with factory() as session:
            kinds = Counter(session.scalars(select(AuditEvent.kind)))
            assert kinds == {"collection": 50, "alteration": 1}
            aware = session.scalar(select(AuditEvent.at).limit(1))
            assert aware is not None and aware.utcoffset() is not None
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------------- known bugs


def test_export_round_trips_after_a_member_leaves(northtown_loaded: sessionmaker[Session],
                                                   northtown_text: str) -> None:
    # Ali Khan leaves, and the four targets he led leave the file with him.
    without_ali = "".join(line for line in northtown_text.splitlines(keepends=True) if "ali.khan" not in line)
    changes = load(northtown_loaded, without_ali)
    assert "member ali.khan: deactivated (no longer in the file)" in changes
    assert sum("closed (no longer in the file)" in c for c in changes) == 4

    exported = export(northtown_loaded)
    assert load(northtown_loaded, exported, source="exported.yaml") == []


def test_swapping_two_members_slack_ids_applies(northtown_loaded: sessionmaker[Session],
                                                northtown_text: str) -> None:
    text = edit_line(northtown_text, "{key: tom.ashby,", "slack: U0TOM,", "slack: U0ALI,")
    text = edit_line(text, "{key: ali.khan,", "slack: U0ALI,", "slack: U0TOM,")
    changes = load(northtown_loaded, text, source="swap.yaml")
    assert "member tom.ashby: slack: (none) -> U0ALI" in changes
    assert "member ali.khan: slack: (none) -> U0TOM" in changes
    with northtown_loaded() as session:
        ids = {m.key: m.identity("slack") for m in session.scalars(select(Member))}
    assert ids["tom.ashby"] == "U0ALI" and ids["ali.khan"] == "U0TOM"


# ---------------------------------------------------------------------------------- chat ids per platform

TEAMS_TOM = "6a1f0c3e-2b4d-4e8f-9a7b-1c2d3e4f5a6b"  # an Entra object id (a GUID)


def test_a_duplicated_teams_id_is_one_error_with_its_line_and_nothing_is_written(
        northtown_loaded: sessionmaker[Session], northtown_text: str) -> None:
    text = edit_line(northtown_text, "{key: tom.ashby,", "slack: U0TOM,", f"slack: U0TOM, teams: {TEAMS_TOM},")
    # the same GUID in capitals: still the same person
    text = edit_line(text, "{key: ali.khan,", "slack: U0ALI,", f"slack: U0ALI, teams: '{TEAMS_TOM.upper()}',")
    ali_i = index_in(northtown_text, "members", "key", "ali.khan")
    assert index_in(northtown_text, "members", "key", "tom.ashby") < ali_i
    before = snapshot(northtown_loaded)

    with pytest.raises(FileErrors) as info:
        load(northtown_loaded, text, source="teams.yaml")

    assert info.value.errors == [f"line {line_of(text, '{key: ali.khan,')}: members[{ali_i}].teams: "
                                 f"Teams id {TEAMS_TOM} also belongs to 'tom.ashby'"]
    assert info.value.message == "teams.yaml: 1 error; nothing was written"
    assert snapshot(northtown_loaded) == before


def test_a_guid_is_a_teams_id_kept_in_lower_case(northtown_loaded: sessionmaker[Session],
                                                   northtown_text: str) -> None:
    text = edit_line(northtown_text, "{key: tom.ashby,", "slack: U0TOM,",
                     f"slack: U0TOM, teams: '{TEAMS_TOM.upper()}',")
    assert load(northtown_loaded, text, source="teams.yaml") == [f"member tom.ashby: teams: (none) -> {TEAMS_TOM}"]
    with northtown_loaded() as session:
        tom = session.scalar(select(Member).where(Member.key == "tom.ashby"))
        assert tom is not None and tom.identity("teams") == TEAMS_TOM and tom.identity("slack") == "U0TOM"
    assert load(northtown_loaded, text, source="teams.yaml") == []
    assert load(northtown_loaded, export(northtown_loaded), source="exported.yaml") == []


def test_a_slack_id_given_for_teams_is_refused_with_a_teams_example(northtown_text: str) -> None:
    text = edit_line(northtown_text, "{key: tom.ashby,", "slack: U0TOM,", "slack: U0TOM, teams: U0TOM,")
    tom_i = index_in(northtown_text, "members", "key", "tom.ashby")
    with pytest.raises(FileErrors) as info:
        partnership.parse_file(text, source="teams.yaml")
    assert info.value.errors == [
        f"line {line_of(text, '{key: tom.ashby,')}: members[{tom_i}].teams: 'U0TOM' is not a valid Teams user id "
        "(an Entra object id, e.g. 0f8fad5b-d9cb-469f-a165-70867728950e)"]


def test_a_teams_id_given_for_slack_is_refused_with_a_slack_example(northtown_text: str) -> None:
    text = edit_line(northtown_text, "{key: tom.ashby,", "slack: U0TOM,", f"slack: {TEAMS_TOM},")
    tom_i = index_in(northtown_text, "members", "key", "tom.ashby")
    with pytest.raises(FileErrors) as info:
        partnership.parse_file(text, source="slack.yaml")
    assert info.value.errors == [
        f"line {line_of(text, '{key: tom.ashby,')}: members[{tom_i}].slack: '{TEAMS_TOM}' is not a valid Slack user "
        "id (e.g. U0123ABCD)"]


def test_a_duplicated_slack_id_is_still_one_error(northtown_text: str) -> None:
    text = edit_line(northtown_text, "{key: ali.khan,", "slack: U0ALI,", "slack: U0TOM,")
    ali_i = index_in(northtown_text, "members", "key", "ali.khan")
    with pytest.raises(FileErrors) as info:
        partnership.parse_file(text, source="slack.yaml")
    assert info.value.errors == [f"line {line_of(text, '{key: ali.khan,')}: members[{ali_i}].slack: "
                                 "Slack id U0TOM also belongs to 'tom.ashby'"]


def test_a_chat_id_of_a_member_who_left_can_be_given_to_another(northtown_loaded: sessionmaker[Session],
                                                                 northtown_text: str) -> None:
    without_ali = "".join(line for line in northtown_text.splitlines(keepends=True) if "ali.khan" not in line)
    text = edit_line(without_ali, "{key: tom.ashby,", "slack: U0TOM,", "slack: U0ALI,")
    changes = load(northtown_loaded, text, source="leaver.yaml")
    assert "member ali.khan: slack: U0ALI -> (none)" in changes
    assert "member tom.ashby: slack: (none) -> U0ALI" in changes
    with northtown_loaded() as session:
        ids = {m.key: m.identity("slack") for m in session.scalars(select(Member))}
    assert ids["tom.ashby"] == "U0ALI" and ids["ali.khan"] is None
    assert load(northtown_loaded, text, source="leaver.yaml") == []
