"""The processing log after a whole meeting cycle, on the real stack: every operation's event is there, with its
named actor and its recipients; the DPO's export shows them; the chain verifies, and a row deleted from the
database is found.

The cycle: the partnership file loaded and targets imported (the CLI, as a member and as the operating-system
user), the day planned (CLI) and published (/agenda), the pack viewed, an action recorded (/action, its owner
DMed), its outcome (/outcome, the contributors told), and exports (partnership file, processing log, subject).
"""

from __future__ import annotations

import csv
import getpass
import json
import os
import sqlite3
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from paths import REPO
from slack_requests import block_actions_payload, send_action
from sqlalchemy import select

from models import AuditEvent, Section

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
ONEDAY = Path(sys.executable).parent / "oneday"
NORTHTOWN = REPO / "bot" / "sample" / "northtown.yaml"
OS_ACTOR = f"os:{getpass.getuser()}"

# (step, kind, actor, target, a recipient it must name (or None), words in `what` (or ""))
EXPECTED = [
    ("load", "alteration", "member:jo.bloggs", "OCG-07", None, "priority"),
    ("import: new target", "collection", OS_ACTOR, "N-0990", None, "created"),
    ("import: merged into a held target", "combination", OS_ACTOR, "N-0412", None, "merged"),
    ("plan", "consultation", "member:jo.bloggs", "OCG-07", "member:jo.bloggs", "agenda plan"),
    ("publish: itinerary DM", "disclosure", "member:jo.bloggs", "OCG-07", "mark.dunn", "your slots"),
    ("pack view", "consultation", "member:mark.dunn", "OCG-07", "mark.dunn", ""),
    ("action", "collection", "member:tom.ashby", "OCG-07", None, "action 1 recorded"),
    ("action: owner's DM", "disclosure", "member:tom.ashby", "OCG-07", "sam.patel", ""),
    ("outcome", "alteration", "member:sam.patel", "OCG-07", None, "outcome"),
    ("outcome: feedback DM", "disclosure", "member:sam.patel", "OCG-07", "mark.dunn", "What your information led to"),
    ("actions listing", "consultation", "member:tom.ashby", "OCG-07", "tom.ashby", "actions listed"),
    ("partnership export", "disclosure", "member:jo.bloggs", "OCG-07", "file:partnership.yaml", "partnership file"),
    ("subject export", "disclosure", OS_ACTOR, "OCG-07", "file:ocg-07.json", "subject export"),
]


def _cli(db_path: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db_path}", "COLUMNS": "300", "NO_COLOR": "1"}
    env.pop("ONEDAY_PARTNERSHIP", None)
    return subprocess.run([str(ONEDAY), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def _matches(e: AuditEvent, kind: str, actor: str, ref: str, recipient: str | None, what: str) -> bool:
    return (e.kind == kind and e.actor == actor and e.target_ref == ref and what.lower() in e.what.lower()
            and (recipient is None or recipient in (e.recipients or [])))


@pytest.fixture
def cycle(slack_env, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Run the cycle once; return (env, database file, events)."""
    from slack_harness import SECRET

    env = slack_env
    db_path = Path(env.factory.kw["bind"].url.database)
    cli = lambda *a: _cli(db_path, tmp_path, *a)  # noqa: E731
    with env.factory() as session:  # the fixture's own load of the sample came before the cycle
        before = session.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1)) or 0

    edited = NORTHTOWN.read_text(encoding="utf-8").replace(
        "{ref: OCG-07, kind: group, cohort: ocg, lead: tom.ashby, flags: [drugs, benefits, housing], priority: 1",
        "{ref: OCG-07, kind: group, cohort: ocg, lead: tom.ashby, flags: [drugs, benefits, housing], priority: 2")
    (tmp_path / "northtown.yaml").write_text(edited, encoding="utf-8")
    assert cli("partnership", "load", "northtown.yaml", "--as", "jo.bloggs").returncode == 0
    with (tmp_path / "targets.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Reference", "Kind", "Offender group", "Lead officer", "Flags", "Priority", "Review date",
                    "Summary"])
        w.writerow(["N-0990", "individual", "hcc", "dee.okafor", "drugs", "2", "2027-04-01", "Shoplifting"])
        w.writerow(["N-0412", "individual", "gangs", "helen.ward", "violence,housing", "1", "2027-02-18",
                    "Adult on licence for a gang-related assault; licence excludes an area of Holm Park"])
    done = cli("targets", "import", "targets.csv")
    assert done.returncode == 0, done.stderr
    assert cli("agenda", "plan", "--date", "2026-12-08", "--as", "jo.bloggs").returncode == 0

    env.clock.set(NOW)
    assert env.command("U0JO", "/agenda", "publish 2026-12-08").status == 200
    env.drain()
    with env.factory() as session:
        section_id = next(str(s.id) for s in session.scalars(select(Section)) if "OCG-07" in s.target_refs)
    env.press("U0MARK", "pack.view", section_id)
    payload = block_actions_payload("pack.accept", section_id, user_id="U0MARK", view={"id": "V0PACK", "type": "modal"})
    assert send_action(env.url, SECRET, payload)[0] == 200
    assert "Action #1" in env.command("U0TOM", "/action", "OCG-07 @sam.patel check benefit claims by 2026-12-30").text
    assert "Action #1 closed" in env.command("U0SAM", "/outcome", "1 claims suspended pending review "
                                                                 "benefit-sanction").text
    assert env.command("U0TOM", "/actions", "OCG-07").status == 200
    env.drain()

    assert cli("partnership", "export", "-o", "partnership.yaml", "--as", "jo.bloggs").returncode == 0
    done = cli("subject", "export", "OCG-07", "-o", "ocg-07.json")
    assert done.returncode == 0, done.stderr
    with env.factory() as session:
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.seq > before).order_by(AuditEvent.seq)))
    return env, db_path, events, cli, tmp_path


def test_after_a_meeting_cycle_the_log_is_complete_exportable_and_verifiable(cycle) -> None:  # type: ignore[no-untyped-def]
    """One cycle (about 30 s on the real stack), three checks in order: the last one tampers with the log."""
    every_operation_is_in_the_log_with_actor_and_recipients(cycle)
    the_dpo_export_shows_the_pack_showing_and_the_dm_and_is_itself_logged(cycle)
    the_log_verifies_and_a_deleted_row_is_named(cycle)


def every_operation_is_in_the_log_with_actor_and_recipients(cycle) -> None:  # type: ignore[no-untyped-def]
    _, _, events, _, _ = cycle
    missing = [step for step, *want in EXPECTED if not any(_matches(e, *want) for e in events)]  # type: ignore[misc]
    assert missing == [], missing
    assert {e.actor.split(":")[0] for e in events} == {"member", "os"}, "every event names a person"


def the_dpo_export_shows_the_pack_showing_and_the_dm_and_is_itself_logged(cycle) -> None:  # type: ignore[no-untyped-def]
    _, _, _, cli, tmp_path = cycle
    done = cli("audit", "export", "--target", "OCG-07", "--format", "csv", "-o", "log.csv", "--as", "jo.bloggs")
    assert done.returncode == 0, done.stderr
    path = tmp_path / "log.csv"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "OFFICIAL-SENSITIVE"
    rows = list(csv.DictReader(lines[1:]))
    assert {r["target_ref"] for r in rows} == {"OCG-07"}
    assert any(r["kind"] == "consultation" and r["actor"] == "member:mark.dunn" and r["recipients"] == "mark.dunn"
               for r in rows)  # the pack showing, with its recipient
    assert any(r["kind"] == "disclosure" and r["recipients"] == "sam.patel" for r in rows)  # the owner's DM
    # the export is a disclosure by the actor, in the log after it
    done = cli("audit", "export", "--member", "jo.bloggs", "--format", "json", "-o", "jo.json")
    assert done.returncode == 0, done.stderr
    doc = json.loads((tmp_path / "jo.json").read_text(encoding="utf-8"))
    assert next(iter(doc)) == "marking" and doc["marking"] == "OFFICIAL-SENSITIVE"
    assert any(e["kind"] == "disclosure" and e["actor"] == "member:jo.bloggs" and "file:log.csv" in e["recipients"]
               and e["what"].startswith("processing log export") for e in doc["events"])


def the_log_verifies_and_a_deleted_row_is_named(cycle) -> None:  # type: ignore[no-untyped-def]
    env, db_path, events, cli, _ = cycle
    head = cli("audit", "head")
    assert head.returncode == 0 and head.stdout.split()[0].count(":") == 2
    done = cli("audit", "verify")
    assert done.returncode == 0 and "northtown: OK" in done.stdout, done.stdout + done.stderr
    pack = next(e for e in events if e.kind == "consultation" and e.actor == "member:mark.dunn")
    with sqlite3.connect(db_path) as conn:
        conn.execute("DELETE FROM audit_event WHERE id = ?", (pack.id,))
    after = next(e for e in events if e.seq == pack.seq + 1)
    done = cli("audit", "verify")
    assert done.returncode == 1
    assert f"northtown: BROKEN at row id {after.id} (seq {after.seq}): rows deleted before it" in done.stdout
