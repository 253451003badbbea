"""`oneday demo` as a user runs it: the installed console script, a subprocess, no Slack (the `demo_run` fixture in
tests/conftest.py, run once per session).

The output is read the way a person reads it: the channels part (what stays in chat history) must carry no
target details, while the DWP partner's own screen shows them in the pack modal (so the check is not vacuous);
the uninvited partner sees a refusal and no reference but the one they typed; the chair sees the escalation;
contributing partners get the feedback DM. Before the day, the demo's figures are the plan's own (computed here
from the sample), and the national partner it picks has exactly one slot; after it, the need-to-know check reads
every message for references, details and wording per target.
"""

from __future__ import annotations

import re
import sys
from datetime import date
from pathlib import Path

import yaml
from paths import REPO
from sqlalchemy import select

from models import Agency, Member, Partnership
from models.planning import plan_day

ONEDAY = Path(sys.executable).parent / "oneday"
NORTHTOWN = REPO / "bot" / "sample" / "northtown.yaml"
REF = re.compile(r"\b(?:OCG-\d\d|CL-\d\d|GNG-\d\d|N-\d{4})\b")


def flat(text: str) -> str:
    """Panel borders out, whitespace collapsed: text wrapped inside a panel reads as one line again."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def parts(out: str) -> dict[str, str]:
    """The output cut at its rules: 'channels', one part per person (by member key), 'check'."""
    found: dict[str, str] = {}
    name = "start"
    for line in out.splitlines():
        if line.startswith("─") and "The plan: a running order of target slots" in line:
            name = "plan"
        elif line.startswith("─") and "What happened" in line:
            name = "happened"
        elif line.startswith("─") and "Channels: what stays in chat history" in line:
            name = "channels"
        elif line.startswith("─") and "Need-to-know" in line:
            name = "check"
        elif line.startswith("─") and (m := re.search(r"\(([a-z]+\.[a-z]+)\) - ", line)):
            name = m[1]
        found[name] = found.get(name, "") + line + "\n"
    return found


def test_demo_runs_the_day_and_shows_each_persons_view(demo_run) -> None:  # type: ignore[no-untyped-def]
    result, db_path = demo_run
    assert result.returncode == 0, result.stderr
    assert not db_path.exists()  # the demo leaves DATABASE_URL alone

    out = parts(result.stdout)
    assert {"channels", "jo.bloggs", "rose.gill", "tom.ashby", "sam.patel", "mark.dunn", "dan.fox", "check"} <= set(out)
    summaries = [t["details"]["summary"] for t in yaml.safe_load(NORTHTOWN.read_text())["targets"]
                 if (t.get("details") or {}).get("summary")]
    ocg07 = next(t["details"]["summary"] for t in yaml.safe_load(NORTHTOWN.read_text())["targets"]
                 if t["ref"] == "OCG-07")

    channels = flat(out["channels"])
    assert "View pack" in channels and not REF.findall(channels)  # pointers, yes; references, never
    assert [s for s in summaries if s in channels] == []  # details, never
    assert ocg07 in flat(out["sam.patel"])  # ...but the invited partner saw them in the pack modal

    dan = flat(out["dan.fox"])
    assert "You can't see 'OCG-07': either it doesn't exist or you are not in its section" in dan
    assert "You can't see that section's pack" in dan
    assert set(REF.findall(dan)) == {"OCG-07"}  # only the reference he typed himself
    assert "In 1 channel: #oneday-meeting" in dan
    assert [s for s in summaries if s in dan] == []

    assert "Escalation: 1 action overdue after repeated reminders" in flat(out["rose.gill"])
    assert "Escalation: 1 action overdue after repeated reminders" in flat(out["tom.ashby"])
    assert "overdue since Fri 11 Dec" in flat(out["sam.patel"])
    assert "What your information led to: OCG-07" in flat(out["mark.dunn"])
    assert "Outcome: claims suspended at both addresses (benefit-sanction)" in flat(out["mark.dunn"])
    assert "Action #1 recorded" in flat(out["tom.ashby"])  # after pressing Save on the date preview
    check = out["check"].splitlines()
    checked = next(line for line in check if "messages checked; references/details/wording reaching" in line)
    assert int(checked.split()[0]) >= 60  # every channel post, DM, ephemeral answer and modal of the day
    found = re.search(r"about a target in them \(message, target\): reference (\d+), details (\d+), wording (\d+)",
                      out["check"])
    assert found and all(int(n) > 0 for n in found.groups())  # the check sees what it looks for: not vacuous
    assert all(len(line) < 125 for line in out["plan"].splitlines()[1:] + check[1:])


PLAN = re.compile(r"(?P<day>\w{3} \d+ \w{3}): (?P<start>\d\d:\d\d)-(?P<end>\d\d:\d\d), (?P<sections>\d+) sections, "
                  r"(?P<slots>\d+) target slots; each slot has only the people entitled to its target")
PAIRS = re.compile(r"agency-target pairs invited: (\d+) of (\d+) \(\d+%\)")
HOURS = re.compile(r"member-hours in the room: ([\d.]+) in their slots, ([\d.]+) if each sat through their whole "
                   r"sections")
ONE_SLOT = re.compile(r"one slot: (?P<name>[\w ]+) \((?P<agency>[^)]+)\) comes (?P<start>\d\d:\d\d)-(?P<end>\d\d:\d\d) "
                      r"for (?P<ref>[A-Z]+-\d+) only, not (?P<section>[\w ]+) (?P<s_start>\d\d:\d\d)-(?P<s_end>\d\d:\d\d)")


def hm(moment) -> str:  # type: ignore[no-untyped-def]
    return moment.strftime("%H:%M")


def test_demo_shows_the_plans_own_figures_and_a_national_partner_with_one_slot(demo_run, northtown_loaded
                                                                               ) -> None:  # type: ignore[no-untyped-def]
    result, _ = demo_run
    plan_part = parts(result.stdout)["plan"]
    with northtown_loaded() as session:
        p = session.scalars(select(Partnership)).one()
        day = plan_day(session, p, date(2026, 12, 8))
        agency_of = {m.key: (m.name, m.agency.name, m.agency.category, m.agency.core)
                     for m in session.scalars(select(Member))}
        assert session.scalars(select(Agency)).all()

    head = PLAN.search(plan_part)
    assert head, plan_part
    assert (head["day"], head["start"], head["end"]) == ("Tue 8 Dec", hm(day.sections[0].start), hm(day.sections[-1].end))
    assert (head["start"], head["end"]) == ("09:30", "16:00")  # the sample's day fits a working day
    assert int(head["sections"]) == len(day.sections) and int(head["slots"]) == sum(len(s.slots) for s in day.sections)

    pairs = PAIRS.search(plan_part)
    assert pairs and (int(pairs[1]), int(pairs[2])) == (day.pairs_invited, day.pairs_possible)
    assert day.pairs_invited * 4 < day.pairs_possible  # narrow flags: most agencies hear of few targets
    hours = HOURS.search(plan_part)
    assert hours and (hours[1], hours[2]) == (f"{day.member_minutes_slots / 60:.1f}",
                                              f"{day.member_minutes_sections / 60:.1f}")
    assert day.member_minutes_slots < day.member_minutes_sections

    one = ONE_SLOT.search(plan_part)
    assert one, plan_part
    key = next(k for k, v in agency_of.items() if v[0] == one["name"])
    name, agency, category, core = agency_of[key]
    assert (agency, category, core) == (one["agency"], "national-regional", False)
    slots = [(stop.cohort, slot) for stop in day.itineraries[key] for slot in stop.slots]
    assert len(slots) == 1
    cohort, slot = slots[0]
    assert (one["ref"], one["start"], one["end"]) == (slot.target, hm(slot.start), hm(slot.end))
    section = next(s for s in day.sections if s.cohort == cohort)
    assert (one["section"], one["s_start"], one["s_end"]) == (section.name, hm(section.start), hm(section.end))
    # ...and the itinerary they were sent lists that one slot
    screen = flat(parts(result.stdout)[key])
    assert f"your slots: {section.name} {one['start']}-{one['end']}" in screen
    assert ";" not in screen.split("your slots:")[1].split("(file)")[0]  # one section, no other stop


def test_demo_leak_check_finds_nothing_reaching_anyone_not_entitled(demo_run) -> None:  # type: ignore[no-untyped-def]
    """Every message, DM, ephemeral answer and modal of the day, read for each target's reference, details and
    wording (tests/runtime/test_demo_check.py shows the check finds each kind): none reached anyone not entitled."""
    result, _ = demo_run
    check = parts(result.stdout)["check"]
    assert re.search(r"\d+ messages checked; references/details/wording reaching someone not entitled: 0\n", check), check
    assert "LEAKS" not in check
