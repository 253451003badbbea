"""`oneday demo --platform teams` as a user runs it: the installed console script, a subprocess, no Teams account.

The same day as the Slack demo (tests/runtime/test_demo.py), through Oneday's Teams adapter against the loopback
Bot Framework issuer, Bot Connector and Graph (bot/faketeams/) as real HTTP servers. The output is read the way a
person reads it: the chats part (what stays in chat history) carries no reference or details; every invited
member of the cast got their itinerary in their 1:1 chat; the DWP partner saw the pack's details in a dialog;
the uninvited partner was refused and saw no reference but the one he typed; the chair and the lead were told of
the overdue action; the owner recorded the outcome in a dialog opened by her reminder's Done (a missing category
shown in it first); the need-to-know check over every activity, dialog and card answer finds no leak (and is not
vacuous).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from paths import REPO
from test_demo import REF, flat

ONEDAY = Path(sys.executable).parent / "oneday"
NORTHTOWN = REPO / "bot" / "sample" / "northtown.yaml"


@pytest.fixture(scope="module")
def teams_demo(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    assert ONEDAY.is_file(), f"console script not installed at {ONEDAY}"
    cwd = tmp_path_factory.mktemp("demo-teams")
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "DATABASE_URL": f"sqlite:///{cwd / 'no.db'}"}
    for name in ("ONEDAY_PARTNERSHIP", "TEAMS_APP_ID", "TEAMS_APP_PASSWORD", "SLACK_BOT_TOKEN"):
        env.pop(name, None)
    result = subprocess.run([str(ONEDAY), "demo", "--platform", "teams"], capture_output=True, text=True, env=env,
                            cwd=cwd, timeout=180)
    assert not (cwd / "no.db").exists()  # the demo leaves DATABASE_URL alone
    return result


def parts(out: str) -> dict[str, str]:
    """The output cut at its rules: 'chats', one part per person (by member key), 'check'."""
    found: dict[str, str] = {}
    name = "start"
    for line in out.splitlines():
        if line.startswith("─") and "Chats and channels: what stays in chat history" in line:
            name = "chats"
        elif line.startswith("─") and "What happened" in line:
            name = "happened"
        elif line.startswith("─") and "Need-to-know" in line:
            name = "check"
        elif line.startswith("─") and (m := re.search(r"\(([a-z]+\.[a-z]+)\) - ", line)):
            name = m[1]
        found[name] = found.get(name, "") + line + "\n"
    return found


def test_teams_demo_runs_the_day_through_the_teams_adapter(teams_demo: subprocess.CompletedProcess[str]) -> None:
    assert teams_demo.returncode == 0, teams_demo.stderr
    assert "Traceback" not in teams_demo.stderr
    out = parts(teams_demo.stdout)
    assert {"happened", "chats", "jo.bloggs", "rose.gill", "tom.ashby", "sam.patel", "mark.dunn", "dan.fox",
            "check"} <= set(out)
    targets = yaml.safe_load(NORTHTOWN.read_text())["targets"]
    summaries = [t["details"]["summary"] for t in targets if (t.get("details") or {}).get("summary")]
    ocg07 = next(t["details"]["summary"] for t in targets if t["ref"] == "OCG-07")

    happened = flat(out["happened"])
    assert "sam.patel presses [View pack]: a dialog opens" in happened
    assert "tom.ashby types @Oneday action OCG-07 @sam.patel" in happened  # a mention in the group chat

    chats = flat(out["chats"])
    assert chats.count("(section group chat,") == 5  # one group chat per section, made through Graph
    assert "View pack" in chats and not REF.findall(chats)  # pointers, yes; references, never
    assert [s for s in summaries if s in chats] == []  # details, never
    assert "I have answered you in your 1:1 chat with Oneday." in chats  # the lead's answers went to his 1:1 chat

    # itineraries reached the invited members of the cast in their 1:1 chats, with the .ics offered
    for key in ("jo.bloggs", "tom.ashby", "sam.patel", "mark.dunn"):
        screen = flat(out[key])
        assert "1:1 chat with Oneday" in screen and "your slots:" in screen, key
        assert "(file offered) oneday-2026-12-08.ics" in screen, key
    assert "(file) oneday-2026-12-08.ics" in flat(out["sam.patel"])  # she accepted it: uploaded, then shown

    sam = flat(out["sam.patel"])
    assert "dialog, only you" in sam and "Confidentiality" in sam
    assert ocg07 in sam  # the pack's details, in the dialog...
    assert ocg07 not in " ".join(flat(part) for name, part in out.items() if name != "sam.patel")  # ...hers alone
    assert "Your actions: 1 to report on (1 overdue)" in sam and "Action #1 closed" in sam
    # the outcome form opened from the reminder's Done as a dialog; the missing category was pointed out in it
    assert "sam.patel presses [Done]: a dialog opens" in happened
    assert "Record an outcome" in sam and "Please check the form." in sam and "choose a category" in sam

    dan = flat(out["dan.fox"])
    assert "You can't see 'OCG-07': either it doesn't exist or you are not in its section" in dan
    assert set(REF.findall(dan)) == {"OCG-07"}  # only the reference he typed himself
    assert "In 0 group chats" in dan and "your slots:" not in dan
    assert [s for s in summaries if s in dan] == []

    assert "Escalation: 1 action overdue after repeated reminders" in flat(out["rose.gill"])
    assert "Escalation: 1 action overdue after repeated reminders" in flat(out["tom.ashby"])
    assert "card answering your button" in flat(out["tom.ashby"]) and "Action #1 recorded" in flat(out["tom.ashby"])
    assert "What your information led to: OCG-07" in flat(out["mark.dunn"])
    assert "Outcome: claims suspended at both addresses (benefit-sanction)" in flat(out["mark.dunn"])


def test_teams_demo_leak_check_finds_nothing_reaching_anyone_not_entitled(
        teams_demo: subprocess.CompletedProcess[str]) -> None:
    check = parts(teams_demo.stdout)["check"]
    assert re.search(r"\d+ messages checked; references/details/wording reaching someone not entitled: 0\n", check), check
    assert "LEAKS" not in check
    checked = re.search(r"checked: (\d+) group chat and channel posts, (\d+) 1:1 chat messages, (\d+) dialogs, "
                        r"(\d+) button answers", check)
    assert checked and all(int(n) > 0 for n in checked.groups()), check
    found = re.search(r"about a target in them \(message, target\): reference (\d+), details (\d+), wording (\d+)",
                      check)
    assert found and all(int(n) > 0 for n in found.groups())  # the check sees what it looks for: not vacuous
    assert re.search(r"loopback Teams: \d+ activities through the Bot Connector, 5 group chats made through Graph, "
                     r"0 calls refused for want of a token", check), check
