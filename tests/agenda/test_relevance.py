"""The need-to-know rule as tables of cases: who is invited to a section, why, and who is kept out."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from models.relevance import (
    ActionInfo,
    AgencyInfo,
    CohortInfo,
    Directory,
    MemberInfo,
    Override,
    SectionRelevance,
    TargetInfo,
    entitled_sections,
    invite_agencies,
    is_entitled,
    privileged_members,
    section_relevance,
)

ISP = "2026-1"

DIRECTORY = Directory.of(
    ISP,
    [
        AgencyInfo("police", ("drugs", "vehicles"), ISP),
        AgencyInfo("dwp", ("benefits", "fraud"), ISP),
        AgencyInfo("dvla", ("vehicles",), "2025-2"),
        AgencyInfo("probation", (), ISP),
        AgencyInfo("unsigned", ("fraud",), None),
        AgencyInfo("closed", ("drugs",), ISP, active=False),
        AgencyInfo("empty", ("waste",), ISP),
    ],
    [
        MemberInfo("pat.lead", "police", ("ocg",), roles=("lead",)),
        MemberInfo("pc.other", "police", ()),
        MemberInfo("pc.spoc", "police", (), spoc=True),
        MemberInfo("dwp.att", "dwp", ("ocg",)),
        MemberInfo("dwp.gone", "dwp", ("ocg", "hcc"), active=False),
        MemberInfo("dwp.spoc", "dwp", (), spoc=True),
        MemberInfo("jim.dvla", "dvla", ("ocg",), spoc=True),
        MemberInfo("helen.prob", "probation", (), spoc=True),
        MemberInfo("una.unsigned", "unsigned", (), spoc=True),
        MemberInfo("cly.closed", "closed", ("ocg",), spoc=True),
        MemberInfo("old.lead", "police", ("ocg",), active=False),
        MemberInfo("chair", "police", (), roles=("chair",)),
        MemberInfo("coord", "dwp", (), roles=("coordinator", "partner")),
    ],
)

OCG = CohortInfo("ocg", ("police",), personal_data=True)
OCG_OPEN = CohortInfo("ocg", ("police",), personal_data=False)
HCC = CohortInfo("hcc", ("probation", "nobody-by-this-key"), personal_data=True)


def t(ref: str, lead: str = "pat.lead", *flags: str, cohort: str = "ocg") -> TargetInfo:
    return TargetInfo(ref, cohort, lead, tuple(flags))


REASON_CASES = [
    pytest.param(OCG, [t("T1")], [],
                 {"police": ["cohort:ocg", "lead:T1"]}, {}, id="cohort-and-lead"),
    pytest.param(HCC, [t("T1", "helen.prob", cohort="hcc")], [],
                 {"probation": ["cohort:hcc", "lead:T1"]}, {}, id="unknown-cohort-agency-ignored"),
    pytest.param(OCG, [t("T1", "pat.lead", "benefits")], [],
                 {"dwp": ["flag:benefits (T1)"], "police": ["cohort:ocg", "lead:T1"]}, {}, id="flag"),
    pytest.param(OCG, [t("T1")], [ActionInfo(7, "T1", "helen.prob")],
                 {"police": ["cohort:ocg", "lead:T1"], "probation": ["action:7 (T1)"]}, {}, id="open-action"),
    pytest.param(OCG, [t("T1")], [ActionInfo(7, "T1", "helen.prob", "done"),
                                  ActionInfo(8, "T1", "helen.prob", "cancelled")],
                 {"police": ["cohort:ocg", "lead:T1"]}, {}, id="closed-actions-ignored"),
    pytest.param(OCG, [t("T1")], [ActionInfo(9, "OTHER", "helen.prob")],
                 {"police": ["cohort:ocg", "lead:T1"]}, {}, id="action-on-other-target-ignored"),
    pytest.param(OCG, [t("T1", "pat.lead", "drugs", "vehicles"), t("T2", "helen.prob", "drugs")],
                 [ActionInfo(4, "T2", "pc.other"), ActionInfo(3, "T1", "pc.other")],
                 {"police": ["cohort:ocg", "flag:drugs (T1)", "flag:vehicles (T1)", "flag:drugs (T2)",
                             "action:3 (T1)", "action:4 (T2)", "lead:T1"],
                  "probation": ["lead:T2"]},
                 {"dvla": ["flag:vehicles (T1)"]}, id="several-reasons-in-rule-then-target-order"),
    pytest.param(OCG, [t("T1", "pat.lead", "vehicles")], [],
                 {"police": ["cohort:ocg", "flag:vehicles (T1)", "lead:T1"]},
                 {"dvla": ["flag:vehicles (T1)"]}, id="isp-excluded-with-personal-data"),
    pytest.param(OCG_OPEN, [t("T1", "pat.lead", "vehicles")], [],
                 {"police": ["cohort:ocg", "flag:vehicles (T1)", "lead:T1"]},
                 {"dvla": ["flag:vehicles (T1)"]}, id="isp-excluded-whatever-the-cohort-setting"),
    pytest.param(OCG, [t("T1", "pat.lead", "fraud")], [],
                 {"dwp": ["flag:fraud (T1)"], "police": ["cohort:ocg", "lead:T1"]},
                 {"unsigned": ["flag:fraud (T1)"]}, id="never-signed-excluded"),
    pytest.param(OCG, [t("T1", "pat.lead", "drugs")], [ActionInfo(1, "T1", "cly.closed")],
                 {"police": ["cohort:ocg", "flag:drugs (T1)", "lead:T1"]}, {}, id="inactive-agency-never"),
    pytest.param(OCG, [t("T1", "pat.lead", "drugs", "drugs")], [],
                 {"police": ["cohort:ocg", "flag:drugs (T1)", "lead:T1"]}, {}, id="duplicate-flag-once"),
]


@pytest.mark.parametrize(("cohort", "targets", "actions", "invited", "excluded"), REASON_CASES)
def test_agency_reasons(cohort: CohortInfo, targets: list[TargetInfo], actions: list[ActionInfo],
                        invited: dict[str, list[str]], excluded: dict[str, list[str]]) -> None:
    agencies, exclusions = invite_agencies(DIRECTORY, cohort, targets, actions)
    assert [a.key for a in agencies] == sorted(invited)
    assert {a.key: list(a.reasons) for a in agencies} == invited
    assert {e.key: list(e.would_have) for e in exclusions} == excluded
    assert all(e.reason == "isp" for e in exclusions)
    assert all(e.key not in invited for e in exclusions)


MEMBER_CASES = [
    pytest.param(OCG, [t("T1")], [], ["pat.lead"], id="attending-members-not-spoc"),
    pytest.param(OCG, [t("T1", "pat.lead", "benefits")], [], ["dwp.att", "pat.lead"],
                 id="attending-only-active"),
    pytest.param(HCC, [t("T1", "helen.prob", "benefits", cohort="hcc")], [], ["dwp.spoc", "helen.prob"],
                 id="spoc-fallback"),
    pytest.param(HCC, [t("T1", "pat.lead", cohort="hcc")], [], ["helen.prob", "pat.lead", "pc.spoc"],
                 id="lead-invited-and-own-agency-spoc"),
    pytest.param(OCG, [t("T1")], [ActionInfo(5, "T1", "pc.other")], ["pat.lead", "pc.other"],
                 id="action-owner-invited"),
    pytest.param(OCG, [t("T1")], [ActionInfo(5, "T1", "jim.dvla")], ["pat.lead"],
                 id="isp-excluded-action-owner-not-invited"),
    pytest.param(OCG_OPEN, [t("T1")], [ActionInfo(5, "T1", "jim.dvla")], ["pat.lead"],
                 id="isp-excluded-owner-not-invited-whatever-the-cohort-setting"),
    pytest.param(OCG, [t("T1", "jim.dvla")], [], ["jim.dvla", "pat.lead"],
                 id="isp-excluded-lead-still-invited"),
    pytest.param(OCG, [t("T1", "old.lead")], [ActionInfo(2, "T1", "dwp.gone")], ["dwp.att", "pat.lead"],
                 id="inactive-lead-and-owner-not-invited-their-agencies-are"),
    pytest.param(OCG, [t("T1", "pat.lead", "waste")], [], ["pat.lead"], id="agency-with-nobody"),
]


@pytest.mark.parametrize(("cohort", "targets", "actions", "members"), MEMBER_CASES)
def test_members(cohort: CohortInfo, targets: list[TargetInfo], actions: list[ActionInfo],
                 members: list[str]) -> None:
    rel = section_relevance(DIRECTORY, cohort, targets, actions)
    assert list(rel.members) == members


def test_notes_tell_the_coordinator_why() -> None:
    rel = section_relevance(DIRECTORY, OCG, [t("T1", "jim.dvla", "waste"), t("T2", "old.lead")],
                            [ActionInfo(5, "T2", "jim.dvla"), ActionInfo(6, "T1", "dwp.gone")])
    notes = "\n".join(rel.notes)
    assert [e.key for e in rel.excluded] == ["dvla"]
    assert rel.excluded[0].would_have == ("action:5 (T2)", "lead:T1")
    assert "dvla excluded (isp: signed 2025-2, current 2026-1)" in notes
    assert "T1: lead officer jim.dvla keeps this target although dvla has not signed" in notes
    assert "T2: lead officer old.lead is not an active member" in notes
    assert "T1: owner dwp.gone of action 6 is not an active member" in notes
    assert "T1: empty is invited but has no active member attending ocg" in notes
    # jim.dvla owns action 5 on T2 but dvla has not signed: he keeps T1 (his own) and nothing else.
    assert "T2: owner jim.dvla of action 5 not invited: dvla has not signed the current ISP" in notes
    assert "jim.dvla" in rel.members
    assert rel.slot("T1") is not None and "jim.dvla" in rel.slot("T1").members  # type: ignore[union-attr]
    assert rel.slot("T2") is not None and "jim.dvla" not in rel.slot("T2").members  # type: ignore[union-attr]


def test_entitlement_is_per_target_not_per_section() -> None:
    # DWP acts on benefits: it is entitled to T2 (benefits) and not to T1 or T3 in the same section.
    rel = section_relevance(DIRECTORY, OCG, [t("T1"), t("T2", "pat.lead", "benefits"), t("T3")], [])
    plan = FakePlan((rel,), privileged_members(DIRECTORY.members.values()))
    assert [r for r in ("T1", "T2", "T3") if is_entitled("dwp.att", r, plan)] == ["T2"]
    assert rel.slot("T2").why["dwp.att"] == ("flag:benefits (T2)",)  # type: ignore[union-attr]
    assert "dwp.att" in rel.members  # in the section's space: for T2's slot


def test_an_excluded_lead_keeps_only_their_own_target() -> None:
    rel = section_relevance(DIRECTORY, OCG, [t("T1", "jim.dvla", "vehicles"), t("T2", "pat.lead", "vehicles")], [])
    plan = FakePlan((rel,), frozenset())
    assert (is_entitled("jim.dvla", "T1", plan), is_entitled("jim.dvla", "T2", plan)) == (True, False)


def test_an_analyst_sees_no_target_even_attending_or_leading() -> None:
    directory = Directory.of(ISP, [AgencyInfo("police", ("drugs",), ISP)],
                             [MemberInfo("ana", "police", ("ocg",), roles=("analyst",)),
                              MemberInfo("pat", "police", ("ocg",)),
                              MemberInfo("boss", "police", (), roles=("analyst", "chair"))])
    rel = section_relevance(directory, OCG, [t("T1", "pat", "drugs"), t("T2", "ana")], [ActionInfo(1, "T1", "ana")])
    plan = FakePlan((rel,), privileged_members(directory.members.values()))
    assert not any(is_entitled("ana", r, plan) for r in ("T1", "T2"))
    assert "ana" not in rel.members
    assert all(is_entitled("boss", r, plan) for r in ("T1", "T2"))  # the chair role runs the day


def test_coordinator_overrides_add_and_drop_an_agency_with_a_reason() -> None:
    added = Override("probation", True, "licence conditions", "T1")
    dropped = Override("dwp", False, "not needed this cycle")
    rel = section_relevance(DIRECTORY, OCG, [t("T1", "pat.lead", "benefits"), t("T2", "pat.lead", "benefits")], [],
                            (added, dropped))
    t1, t2 = rel.slot("T1"), rel.slot("T2")
    assert t1 is not None and t2 is not None
    assert {a.key: a.reasons for a in t1.agencies}["probation"] == ("added:licence conditions (T1)",)
    assert "probation" not in {a.key for a in t2.agencies}
    assert [(e.key, e.reason) for e in t1.excluded if e.key == "dwp"] == [("dwp", "dropped: not needed this cycle")]
    assert "dwp.att" not in t1.members + t2.members and "helen.prob" in t1.members


def test_section_keeps_target_order_and_leads() -> None:
    rel = section_relevance(DIRECTORY, OCG, [t("B"), t("A", "helen.prob")], [])
    assert rel.targets == ("B", "A")
    assert dict(rel.leads) == {"B": "pat.lead", "A": "helen.prob"}


@dataclass(frozen=True)
class FakePlan:
    relevance: tuple[SectionRelevance, ...]
    privileged: frozenset[str]


def _plan() -> FakePlan:
    ocg = section_relevance(DIRECTORY, OCG, [t("OCG-1", "pat.lead", "benefits")], [])
    hcc = section_relevance(DIRECTORY, HCC, [t("N-1", "helen.prob", cohort="hcc")], [])
    return FakePlan((ocg, hcc), privileged_members(DIRECTORY.members.values()))


@pytest.mark.parametrize(("member", "ref", "expected"), [
    ("dwp.att", "OCG-1", True),  # invited by the rule (dwp flag, attends ocg)
    ("dwp.att", "N-1", False),  # not in hcc
    ("helen.prob", "N-1", True),  # lead officer
    ("helen.prob", "OCG-1", False),
    ("jim.dvla", "OCG-1", False),  # excluded agency
    ("chair", "N-1", True),  # runs the day
    ("coord", "OCG-1", True),
    ("coord", "NOT-ON-PLAN", True),
    ("pat.lead", "NOT-ON-PLAN", False),
    ("nobody", "OCG-1", False),
])
def test_is_entitled(member: str, ref: str, expected: bool) -> None:
    assert is_entitled(member, ref, _plan()) is expected


def test_entitled_sections() -> None:
    plan = _plan()
    assert entitled_sections("dwp.att", plan) == ("ocg",)
    assert entitled_sections("helen.prob", plan) == ("hcc",)
    assert entitled_sections("pat.lead", plan) == ("ocg",)
    assert entitled_sections("chair", plan) == ("ocg", "hcc")
    assert entitled_sections("jim.dvla", plan) == ()
