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
                 {"dvla": ["flag:vehicles (T1)"], "police": ["cohort:ocg", "flag:vehicles (T1)", "lead:T1"]},
                 {}, id="isp-irrelevant-without-personal-data"),
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
    pytest.param(OCG_OPEN, [t("T1")], [ActionInfo(5, "T1", "jim.dvla")], ["jim.dvla", "pat.lead"],
                 id="owner-invited-without-personal-data"),
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
    assert "lead officer jim.dvla of T1 is invited although dvla has not signed" in notes
    assert "lead officer old.lead of T2 is not an active member" in notes
    assert "owner dwp.gone of action 6 (T1) is not an active member" in notes
    assert "empty is invited but has no active member attending ocg" in notes
    # jim.dvla owns action 5 but is invited anyway as lead of T1: no "not invited" note for him.
    assert "owner jim.dvla" not in notes
    assert "jim.dvla" in rel.members


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
