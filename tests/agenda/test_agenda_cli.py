"""`agenda plan` against a real database holding the sample partnership, and through the CLI."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
import typer
import yaml
from moments import FILE_LOADED
from sqlalchemy import func, select
from typer.testing import CliRunner

from bot import cli, db
from bot.cli_agenda import agenda_app
from commands.agenda import plan_json as agenda_plan
from commands.core.errors import UsageError
from commands.partnership import file as partnership_cmd
from models import Action, AuditEvent, Cohort, Meeting, Member, Section, Target
from models.relevance import is_entitled

DAY = date(2026, 12, 3)


@pytest.fixture(autouse=True)
def _restore_cli_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's global options set class-level state; put it back after each test."""
    monkeypatch.setattr(cli.State, "settings", cli.State.settings)


@pytest.fixture
def sample(northtown_text: str) -> dict[str, Any]:
    return yaml.safe_load(northtown_text)


def _plan(factory: Any, day: date = DAY) -> dict[str, Any]:
    with db.unit_of_work(factory) as session:
        p = partnership_cmd.select_partnership(session, None)
        return agenda_plan.plan(session, p, day)


def test_northtown_plan_json(northtown_loaded: Any, sample: dict[str, Any]) -> None:
    result = _plan(northtown_loaded)
    assert result["date"] == "2026-12-03"
    sections = result["sections"]
    assert [s["cohort"] for s in sections] == ["ocg", "county-lines", "gangs", "hcc", "ppo"]
    for s in sections:
        assert set(s) == {"cohort", "start", "end", "targets", "agencies", "excluded", "members", "slots"}

    agency_of = {m["key"]: m["agency"] for m in sample["members"]}
    lead_of = {t["ref"]: t["lead"] for t in sample["targets"]}
    cohort_of = {t["ref"]: t["cohort"] for t in sample["targets"]}
    unsigned = {a["key"] for a in sample["agencies"] if a.get("isp_signed") != sample["partnership"]["isp_version"]}
    for s in sections:
        excluded = {e["key"]: e["reason"] for e in s["excluded"]}
        invited = {a["key"] for a in s["agencies"]}
        assert set(excluded) <= unsigned and not invited & unsigned, s["cohort"]  # whatever the cohort setting
        assert set(excluded.values()) <= {"isp"}
        assert sorted(s["targets"]) == sorted(r for r, c in cohort_of.items() if c == s["cohort"])
        assert [slot["target"] for slot in s["slots"]] == s["targets"]
        assert sorted({m for slot in s["slots"] for m in slot["members"]}) == s["members"]
        assert sorted({a["key"] for slot in s["slots"] for a in slot["agencies"]}) == sorted(invited)
        for slot in s["slots"]:
            assert lead_of[slot["target"]] in slot["members"]
            assert s["start"] <= slot["start"] < slot["end"] <= s["end"]
            assert int(slot["start"][3:]) % 5 == 0 and int(slot["end"][3:]) % 5 == 0
            slot_agencies = {a["key"] for a in slot["agencies"]}
            assert all(agency_of[m] in slot_agencies or m == lead_of[slot["target"]] for m in slot["members"])
        assert not set(excluded) & invited
        assert s["members"] == sorted(s["members"])
        assert [a["key"] for a in s["agencies"]] == sorted(invited)
        assert all(a["reasons"] for a in s["agencies"])
    assert result["agency_target_pairs"]["invited"] < result["agency_target_pairs"]["all"]
    assert result["member_minutes"]["in_slots"] < result["member_minutes"]["whole_sections"]
    ocg = sections[0]
    police = next(a for a in ocg["agencies"] if a["key"] == "police")
    assert police["reasons"][0] == "cohort:ocg" and "lead:OCG-01" in police["reasons"]


def test_northtown_times_respect_day_start_and_breaks(northtown_loaded: Any, sample: dict[str, Any]) -> None:
    result = _plan(northtown_loaded)
    breaks = [(b["at"], b["minutes"]) for b in sample["meeting"]["breaks"]]

    def mins(hhmm: str) -> int:
        return int(hhmm[:2]) * 60 + int(hhmm[3:])

    previous_end = mins(sample["meeting"]["day_start"])
    for s in result["sections"]:
        assert mins(s["start"]) >= previous_end
        for slot in s["slots"]:
            start, end = mins(slot["start"]), mins(slot["end"])
            assert start >= previous_end
            for at, minutes in breaks:
                assert end <= mins(at) or start >= mins(at) + minutes
            previous_end = end
    assert result["waiting_minutes"]["before"] == result["waiting_minutes"]["after"]  # reorder off
    assert result["reordered"] is False
    assert result["notes"], "the coordinator is told about the ISP exclusions"


def test_history_and_overdue_actions_order_targets(northtown_loaded: Any) -> None:
    with db.unit_of_work(northtown_loaded) as session:
        p = partnership_cmd.select_partnership(session, None)
        ref_ids = {t.ref: t.id for t in session.scalars(select(Target))}
        members = {m.key: m.id for m in session.scalars(select(Member))}
        ppo = session.scalar(select(Cohort).where(Cohort.key == "ppo"))
        assert ppo is not None
        session.add(Action(partnership_id=p.id, number=1, target_id=ref_ids["N-0436"], owner_id=members["tara.bell"],
                           text="check claim", due=date(2026, 11, 30), status="open", created_at=FILE_LOADED,
                           updated_at=FILE_LOADED))
        for when, refs in ((date(2026, 11, 5), ["N-0432"]), (date(2026, 12, 10), ["N-0433"])):
            at = datetime(when.year, when.month, when.day, 14, tzinfo=UTC)
            session.add(Meeting(partnership_id=p.id, date=when, created_at=FILE_LOADED, sections=[
                Section(partnership_id=p.id, cohort_id=ppo.id, position=1, starts_at=at, ends_at=at,
                        target_refs=refs)]))
    ppo_section = _plan(northtown_loaded)["sections"][-1]
    # priority 1: overdue first, then never discussed (by ref), then discussed on 5 November.
    # The meeting on 10 December is after the plan date, so it does not count.
    # (The running order may bring a national partner's targets forward to the first of them; the relative
    # order of these four is the priority order.)
    first_four = ["N-0436", "N-0433", "N-0443", "N-0432"]
    assert ppo_section["targets"][0] == "N-0436"
    assert [r for r in ppo_section["targets"] if r in first_four] == first_four
    dwp = next(a for a in ppo_section["agencies"] if a["key"] == "dwp")
    assert "action:1 (N-0436)" in dwp["reasons"]
    assert "tara.bell" in ppo_section["members"]  # an action owner, though she attends no cohort


def test_plan_writes_nothing(northtown_loaded: Any) -> None:
    def counts() -> tuple[int, int]:
        with db.unit_of_work(northtown_loaded) as session:
            return (session.scalar(select(func.count()).select_from(Meeting)) or 0,
                    session.scalar(select(func.count()).select_from(AuditEvent)) or 0)

    before = counts()
    _plan(northtown_loaded)
    assert counts() == before


def test_entitlement_from_a_real_plan(northtown_loaded: Any) -> None:
    from models.planning import plan_day

    with db.unit_of_work(northtown_loaded) as session:
        day_plan = plan_day(session, partnership_cmd.select_partnership(session, None), DAY)
    assert is_entitled("jim.lane", "OCG-01", day_plan) is False  # dvla: not on the current ISP
    assert is_entitled("jim.lane", "N-0433", day_plan) is False  # not on the ISP, whatever the cohort setting
    assert is_entitled("tom.ashby", "OCG-01", day_plan) is True
    assert is_entitled("rose.gill", "N-0444", day_plan) is True  # chair
    assert is_entitled("kim.lau", "OCG-01", day_plan) is False  # analyst


@pytest.mark.parametrize("text", ["2026-12-3", "03/12/2026", "2026-13-01", "tomorrow", "", "20261203"])
def test_parse_date_rejects_with_an_example(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        agenda_plan.parse_date(text)
    assert "YYYY-MM-DD" in caught.value.message
    assert caught.value.example and "--date 2026-" in caught.value.example


# ---------------------------------------------------------------------------------------------- CLI


def _root() -> typer.Typer:
    """The main app's global options, with the agenda sub-app mounted as the integrator will mount it."""
    root = typer.Typer()
    root.callback()(cli._global)
    root.add_typer(agenda_app, name="agenda")
    return root


def test_cli_json(northtown_loaded: Any, sqlite_db_url: str) -> None:
    result = CliRunner().invoke(_root(), ["--database-url", sqlite_db_url, "agenda", "plan",
                                          "--date", "2026-12-03", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data == _plan(northtown_loaded)


def test_cli_table(northtown_loaded: Any, sqlite_db_url: str) -> None:
    result = CliRunner().invoke(_root(), ["--database-url", sqlite_db_url, "agenda", "plan",
                                          "--date", "2026-12-03"], terminal_width=200)
    assert result.exit_code == 0, result.output
    for text in ("Agenda for 2026-12-03", "county-lines", "dvla (isp)", "cohort:ocg", "waiting between"):
        assert text in result.stdout
    assert "Class A" not in result.stdout  # no target details, ever


def test_cli_bad_date(sqlite_db_url: str) -> None:
    result = CliRunner().invoke(_root(), ["--database-url", sqlite_db_url, "agenda", "plan", "--date", "3/12/26"])
    assert result.exit_code == 2
    assert "'3/12/26' is not a date" in result.output
    assert "example: oneday agenda plan --date 2026-12-03" in result.output


def test_cli_empty_database(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = CliRunner().invoke(_root(), ["--database-url", url, "agenda", "plan", "--date", "2026-12-03"])
    assert result.exit_code == 2
    assert "database is empty" in result.output


def test_compact_reasons_group_refs_per_reason() -> None:
    from commands.agenda.intents import compact_reasons

    reasons = ["cohort:ocg", *(f"flag:benefits (OCG-{i:02d})" for i in range(1, 7)), "action:3 (OCG-02)",
               "lead:OCG-01"]
    assert compact_reasons(reasons) == ("cohort:ocg, flag:benefits (OCG-01, OCG-02, OCG-03, +3), "
                                        "action:3 (OCG-02), lead:OCG-01")


def test_preview_of_a_large_partnership_fits_one_slack_message(factory, northtown_text) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    import yaml

    from bot import db
    from bot.clock import system_clock
    from bot.slack.blocks import render
    from commands.agenda import intents as agenda
    from commands.core.context import Caller
    from commands.partnership import file as partnership
    from models import Member, Partnership

    data = yaml.safe_load(northtown_text)
    base = data["targets"]
    data["targets"] = [{**t, "ref": f"{t['ref']}-{i}"} for i in range(20) for t in base]  # 1,200 targets
    with db.unit_of_work(factory) as session:
        partnership.load(session, yaml.safe_dump(data), source="big.yaml", now=FILE_LOADED)
    with db.unit_of_work(factory) as session:
        p = session.scalar(select(Partnership))
        jo = session.scalar(select(Member).where(Member.key == "jo.bloggs"))
        reply = agenda.preview(Caller(session, p, jo, system_clock()), date(2026, 12, 8)).reply
    assert sum(len(line) for line in reply.lines) > 30_000  # the command keeps every line: nothing is cut there
    assert reply.more and "oneday agenda plan --date 2026-12-08 --json" in reply.more
    _, blocks = render(reply)
    assert len(blocks) <= 50
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in blocks)
    said = blocks[-2]["elements"][0]["text"]  # the footer comes last; the renderer's count just before it
    assert said.startswith("and ") and " more lines: " in said and "oneday agenda plan --date 2026-12-08 --json" in said
