"""`oneday demo` as a user runs it: the installed console script, a subprocess, no Slack (the `demo_run` fixture in
tests/conftest.py, run once per session).

The output is read the way a person reads it: the channels part (what stays in chat history) must carry no
target details, while the DWP partner's own screen shows them in the pack modal (so the check is not vacuous);
the uninvited partner sees a refusal and no reference but the one they typed; the chair sees the escalation;
contributing partners get the feedback DM.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml
from paths import REPO

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
        if line.startswith("─") and "Channels: what stays in chat history" in line:
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
    assert "target details in them: 0" in out["check"]
