"""What partners see of a target, as its lead officer sets it: `/agenda share <REF> full | summary | ask`.

Driven through the runner on the Northtown sample, published for Tuesday 8 December 2026. On OCG-07: tom.ashby
leads it; sam.patel (DWP, not a core agency) and mark.dunn (housing, a core agency) are in its section; ed.quinn
(regional organised crime unit, not a core agency) is in every slot of the organised crime section; jo.bloggs
coordinates and rose.gill chairs; bea.morris is not in its section.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from actions_support import reply_text
from moments import FILE_LOADED
from sqlalchemy import select

from bot import db
from bot.config import DEFAULT_COMMANDS
from bot.runner import Request, Runner
from commands.core import router
from commands.core.replies import Result
from commands.partnership import file as partnership
from models import AuditEvent, Member, Partnership, PartnerView, Section, Target

DAY = "2026-12-08"
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
USERS = {"tom": "U0TOM", "sam": "U0SAM", "mark": "U0MARK", "ruth": "U0RUTH", "jo": "U0JO", "rose": "U0ROSE",
         "bea": "U0BEA", "ed": "U0ED"}
SUMMARY = "Grows cannabis in rented houses; ask about benefit claims at Riverside addresses"
ASK = "Tell the lead of any benefit claim or tenancy at 14 Mill Lane"


@pytest.fixture
def runner(northtown_loaded):  # type: ignore[no-untyped-def]
    r = Runner(factory=northtown_loaded, names=dict(DEFAULT_COMMANDS), clock=lambda: NOW)
    assert "Published the agenda" in reply_text(agenda(r, "jo", f"publish {DAY}"))
    return r


def agenda(runner: Runner, who: str, text: str) -> Result:
    return runner.run(Request("slack", "T0TEST", USERS[who], "agenda", text), lambda _u: None)


def pack_of(runner: Runner, who: str) -> str:
    """The OCG section's pack as `who` sees it (after accepting the statement)."""
    with runner.factory() as session:
        section = session.scalar(select(Section).where(Section.cohort.has(key="ocg")))
        value = str(section.id)
    result = runner.run(Request("slack", "T0TEST", USERS[who], "button:pack.accept", ""), lambda _u: None,
                        lambda caller: router.press("pack.accept", caller, value))
    assert result.modal is not None, reply_text(result)
    return "\n".join(result.modal.lines)


def target_block(pack: str, ref: str) -> str:
    """The lines of one target in a pack: from its reference to the next target's."""
    lines, out = pack.splitlines(), []
    for line in lines:
        if line.startswith(ref):
            out.append(line)
        elif out and line.startswith("    "):
            out.append(line)
        elif out:
            break
    assert out, f"{ref} not in the pack"
    return "\n".join(out)


def details_of(factory, ref: str = "OCG-07") -> str:  # type: ignore[no-untyped-def]
    with factory() as session:
        return session.scalar(select(Target).where(Target.ref == ref)).details.summary


def events(factory, kind: str, actor: str | None = None) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with factory() as session:
        query = select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.id)
        if actor:
            query = query.where(AuditEvent.actor == f"member:{actor}")
        return list(session.scalars(query))


def test_everyone_sees_full_details_by_default(runner: Runner) -> None:
    details = details_of(runner.factory)
    assert details in target_block(pack_of(runner, "sam"), "OCG-07")
    [shown] = [e for e in events(runner.factory, "consultation", "sam.patel") if e.target_ref == "OCG-07"]
    assert "(full details)" in shown.what


def test_a_summary_by_the_lead_changes_what_a_partner_sees_but_not_a_core_agency(runner: Runner) -> None:
    details = details_of(runner.factory)
    reply = agenda(runner, "tom", f"share OCG-07 summary {SUMMARY}")
    text = reply_text(reply)
    assert reply.reply.title == "What partners see of OCG-07"
    assert "Partners outside the core agencies now see this partner summary instead of OCG-07's details" in text
    assert SUMMARY in text and "Northtown Council Housing Services" in text  # a core agency keeps full details

    partner = target_block(pack_of(runner, "sam"), "OCG-07")
    assert f"Partner summary: {SUMMARY}" in partner and details not in partner
    assert "Lead officer: Tom Ashby" in partner
    core = target_block(pack_of(runner, "mark"), "OCG-07")
    assert details in core and SUMMARY not in core
    lead = target_block(pack_of(runner, "tom"), "OCG-07")
    assert details in lead

    [altered] = [e for e in events(runner.factory, "alteration", "tom.ashby") if e.target_ref == "OCG-07"]
    assert altered.what == "what partners see: partner view full -> summary, partner summary rewritten"
    assert SUMMARY not in altered.what and altered.justification == "set by the lead officer (agenda share)"
    [sam_saw] = [e for e in events(runner.factory, "consultation", "sam.patel") if e.target_ref == "OCG-07"]
    [mark_saw] = [e for e in events(runner.factory, "consultation", "mark.dunn") if e.target_ref == "OCG-07"]
    assert "(partner summary)" in sam_saw.what and "(full details)" in mark_saw.what

    # other targets are untouched: a partner outside the core agencies in both slots (the regional organised crime
    # unit: the cohort names it) sees the summary for OCG-07 and still sees OCG-02's details
    regional = pack_of(runner, "ed")
    assert f"Partner summary: {SUMMARY}" in target_block(regional, "OCG-07")
    assert details not in target_block(regional, "OCG-07")
    assert details_of(runner.factory, "OCG-02") in target_block(regional, "OCG-02")


def test_summary_view_without_a_summary_says_so(runner: Runner) -> None:
    with db.unit_of_work(runner.factory) as session:
        session.scalar(select(Target).where(Target.ref == "OCG-07")).partner_view = PartnerView.SUMMARY
    partner = target_block(pack_of(runner, "sam"), "OCG-07")
    assert "Partner summary: (no summary written yet)" in partner
    assert details_of(runner.factory) not in partner


def test_ask_shows_a_partner_no_details_at_all(runner: Runner) -> None:
    details = details_of(runner.factory)
    text = reply_text(agenda(runner, "tom", f"share OCG-07 ask {ASK}"))
    assert "only the reference OCG-07, the lead officer (Tom Ashby) and what is asked of them" in text

    pack = pack_of(runner, "sam")
    assert details not in pack
    partner = target_block(pack, "OCG-07")
    assert partner.splitlines() == ["OCG-07", f"    Asked of partners: {ASK}",
                                    "    Lead officer: Tom Ashby (Northtown Police)"]
    [seen] = [e for e in events(runner.factory, "consultation", "sam.patel") if e.target_ref == "OCG-07"]
    assert "(reference and ask)" in seen.what
    assert details in pack_of(runner, "mark")  # housing is a core agency
    assert details in pack_of(runner, "rose")  # the chair

    # back to full: the partner sees the details again
    assert "now see its full details" in reply_text(agenda(runner, "tom", "share OCG-07 full"))
    assert details in target_block(pack_of(runner, "sam"), "OCG-07")


def test_a_partner_who_is_not_the_lead_cannot_share(runner: Runner) -> None:
    refused = reply_text(agenda(runner, "sam", f"share OCG-07 summary {SUMMARY}"))
    assert refused.strip() == ("Only the lead officer of OCG-07 (Tom Ashby) or a coordinator or chair can set what "
                               "partners see of it. Ask them if it should change.")
    [logged] = events(runner.factory, "refusal", "sam.patel")
    assert logged.target_ref == "OCG-07" and logged.what == "agenda share: OCG-07 summary"
    assert logged.justification == "not the lead officer, a coordinator or a chair"
    assert events(runner.factory, "alteration", "sam.patel") == []
    with runner.factory() as session:
        target = session.scalar(select(Target).where(Target.ref == "OCG-07"))
        assert target.partner_view == PartnerView.FULL and target.details.partner_summary == ""

    # someone not in the section gets the standard words, which never say whether the target exists
    outsider = reply_text(agenda(runner, "bea", "share OCG-07 full"))
    assert "You can't see 'OCG-07': either it doesn't exist or you are not in its section" in outsider
    assert reply_text(agenda(runner, "bea", "share OCG-99 full")) == outsider.replace("OCG-07", "OCG-99")
    assert len(events(runner.factory, "refusal", "bea.morris")) == 2


def test_coordinator_and_chair_may_share(runner: Runner) -> None:
    assert "now see only the reference OCG-07" in reply_text(agenda(runner, "jo", f"share OCG-07 ask {ASK}"))
    [by_jo] = [e for e in events(runner.factory, "alteration", "jo.bloggs") if e.target_ref == "OCG-07"]
    assert by_jo.justification == "set by a coordinator (agenda share)"
    assert "now see this partner summary" in reply_text(agenda(runner, "rose", f"share OCG-07 summary {SUMMARY}"))
    [by_rose] = events(runner.factory, "alteration", "rose.gill")
    assert by_rose.justification == "set by a chair (agenda share)"
    again = reply_text(agenda(runner, "rose", f"share OCG-07 summary {SUMMARY}"))
    assert "already see this partner summary" in again
    assert len(events(runner.factory, "alteration", "rose.gill")) == 1  # nothing changed, nothing logged


@pytest.mark.parametrize(("text", "expected"), [
    ("share", "'/agenda share' takes a target reference and what partners see: full, summary <text> or ask <text>"),
    ("share OCG-07", "'/agenda share' takes a target reference and what partners see"),
    ("share OCG-07 everything", "'everything' is not a view: write full, summary <text> or ask <text>"),
    ("share OCG-07 summary", "write the partner summary after 'summary'"),
    ("share OCG-07 ask", "write what is asked of partners after 'ask'"),
    ("share OCG-07 full please", "'full' takes nothing after it"),
    ("share OCG-07 ask " + "x" * 1001, "The ask is too long (1001 characters): the limit is 1000"),
])
def test_bad_share_commands_say_what_was_wrong_and_show_an_example(runner: Runner, text: str, expected: str) -> None:
    answer = reply_text(agenda(runner, "tom", text))
    assert expected in answer and "Example: /agenda share OCG-07 " in answer
    assert events(runner.factory, "alteration", "tom.ashby") == []


def test_help_lists_share(runner: Runner) -> None:
    assert "/agenda share OCG-07 summary <text>" in reply_text(agenda(runner, "tom", "help"))


# ------------------------------------------------------------------------------------- partnership file


def test_the_partnership_file_sets_the_view_and_export_round_trips(northtown_loaded, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work(northtown_loaded) as session:
        exported = partnership.export(session, session.scalar(select(Partnership)))
    doc = yaml.safe_load(exported)
    ocg07 = next(t for t in doc["targets"] if t["ref"] == "OCG-07")
    assert "partner_view" not in ocg07  # full is the default and is not written
    ocg07["partner_view"] = "summary"
    ocg07["details"]["partner_summary"] = SUMMARY
    ocg01 = next(t for t in doc["targets"] if t["ref"] == "OCG-01")
    ocg01.update(partner_view="ask")
    ocg01["details"]["ask"] = ASK
    edited = yaml.safe_dump(doc, sort_keys=False)

    with db.unit_of_work(northtown_loaded) as session:
        changes = partnership.load(session, edited, source="edited.yaml", now=FILE_LOADED)
    assert sorted(changes) == sorted(["target OCG-07: partner_view: full -> summary",
                                      "target OCG-07: partner_summary changed",
                                      "target OCG-01: partner_view: full -> ask", "target OCG-01: ask changed"])
    with northtown_loaded() as session:
        targets = {t.ref: t for t in session.scalars(select(Target).where(Target.ref.in_(["OCG-01", "OCG-07"])))}
        assert targets["OCG-07"].partner_view == PartnerView.SUMMARY
        assert targets["OCG-07"].details.partner_summary == SUMMARY
        assert targets["OCG-01"].partner_view == PartnerView.ASK and targets["OCG-01"].details.ask == ASK
        exported = partnership.export(session, session.scalar(select(Partnership)))
    again = next(t for t in yaml.safe_load(exported)["targets"] if t["ref"] == "OCG-07")
    assert again["partner_view"] == "summary" and again["details"]["partner_summary"] == SUMMARY
    with db.unit_of_work(northtown_loaded) as session:
        assert partnership.load(session, exported, source="exported.yaml", now=FILE_LOADED) == []

    # into a fresh database: the same partnership comes out again
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    db.upgrade(url)
    engine = db.make_engine(url)
    try:
        with db.unit_of_work(db.session_factory(engine)) as session:
            partnership.load(session, exported, source="exported.yaml", now=FILE_LOADED)
            assert partnership.export(session, session.scalar(select(Partnership))) == exported
    finally:
        engine.dispose()


def test_a_file_that_leaves_the_view_out_keeps_what_the_lead_set(runner: Runner, northtown_text: str) -> None:
    agenda(runner, "tom", f"share OCG-07 summary {SUMMARY}")
    with db.unit_of_work(runner.factory) as session:
        changes = partnership.load(session, northtown_text, source="northtown.yaml", now=FILE_LOADED)
    assert not [c for c in changes if "OCG-07" in c]
    with runner.factory() as session:
        target = session.scalar(select(Target).where(Target.ref == "OCG-07"))
        assert target.partner_view == PartnerView.SUMMARY and target.details.partner_summary == SUMMARY


def test_a_shared_target_without_details_exports_loadably(runner: Runner) -> None:
    with db.unit_of_work(runner.factory) as session:
        target = session.scalar(select(Target).where(Target.ref == "OCG-07"))
        session.delete(target.details)
    agenda(runner, "tom", f"share OCG-07 ask {ASK}")
    with db.unit_of_work(runner.factory) as session:
        exported = partnership.export(session, session.scalar(select(Partnership)))
        entry = next(t for t in yaml.safe_load(exported)["targets"] if t["ref"] == "OCG-07")
        assert entry["details"] == {"ask": ASK}  # no empty summary, which load would refuse
        assert partnership.load(session, exported, source="exported.yaml", now=FILE_LOADED) == []


def test_the_file_refuses_an_unknown_view(northtown_text: str) -> None:
    from commands.partnership import spec as partnership_spec
    from commands.partnership import yamlfile

    data, _ = yamlfile.load(northtown_text.replace("{ref: OCG-07, kind: group,", "{ref: OCG-07, partner_view: some, "
                                                   "kind: group,"))
    spec, errors = partnership_spec.validate(data)
    assert spec is None
    assert [e for e in errors if "targets[6].partner_view: 'some' is not one of full, summary, ask" in e]


def test_members_are_as_assumed(runner: Runner) -> None:
    with runner.factory() as session:
        members = {m.key: m for m in session.scalars(select(Member))}
        assert members["mark.dunn"].agency.core and not members["sam.patel"].agency.core
