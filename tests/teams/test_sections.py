"""Section spaces on Teams, and the need-to-know bar over Teams.

Publishing from Teams makes one group chat per section through Graph holding exactly the Entra ids of the
section's entitled members (with Oneday installed in it), posts a pointer there without any reference, and sends
itineraries to 1:1 chats. Then every member presses every button they were sent, and everything the connector
delivered is scanned: a target's reference or details reach only conversations whose every reader is entitled
to that target (a group chat is read by its members, the meeting channel by everyone, a 1:1 chat by its member).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from typing import Any

from fake_teams import CATALOG_ID, guid_for
from fake_teams_stack import TeamsStack
from sqlalchemy import select

from models import Member, Partnership, Target
from models.planning import entitled_to, plan_day

DAY = "2026-12-08"
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
MEETING_CHANNEL = "C0MEET"  # the sample's meeting channel; on Teams a channel's conversation id


def publish(teams: TeamsStack) -> None:
    teams.clock.set(NOW)
    teams.post(teams.activity("jo.bloggs", type_="conversationUpdate"))  # Jo installed Oneday
    status, _ = teams.post(teams.activity("jo.bloggs", f"agenda publish {DAY}"))
    assert status == 200
    assert "Published the agenda" in teams.to("jo.bloggs")
    teams.drain()


def test_publish_makes_one_group_chat_per_section_with_exactly_its_members(teams: TeamsStack) -> None:
    with teams.factory() as s:
        day_plan = plan_day(s, s.scalars(select(Partnership)).one(), date.fromisoformat(DAY))
    publish(teams)
    chats = list(teams.fake.chats.values())
    assert sorted(c.topic for c in chats) == sorted(f"oneday-{DAY}-{s.cohort}" for s in day_plan.sections)
    for section in day_plan.sections:
        [chat] = [c for c in chats if c.topic == f"oneday-{DAY}-{section.cohort}"]
        assert sorted(chat.members) == sorted(guid_for(m) for m in section.members)
        assert chat.apps == [CATALOG_ID]  # Oneday installed, so it may post there
        [pointer] = teams.fake.sent_to(chat.id)
        assert not [ref for ref in section.targets if ref in pointer.text]
        assert section.name in pointer.text
    [overview] = teams.fake.sent_to(MEETING_CHANNEL)
    assert not [ref for s in day_plan.sections for ref in s.targets if ref in overview.text]
    assert not teams.fake.rejected


def test_republishing_keeps_the_chats_and_their_members(teams: TeamsStack) -> None:
    publish(teams)
    before = {c.id: dict(c.members) for c in teams.fake.chats.values()}
    teams.post(teams.activity("jo.bloggs", f"agenda publish {DAY}"))
    teams.drain()
    assert {c.id: dict(c.members) for c in teams.fake.chats.values()} == before


def _buttons(activity: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(verb, data) of every button; a dialog button's verb is prefixed "task/fetch:"."""
    found: list[tuple[str, dict[str, Any]]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Action.Execute":
                found.append((node["verb"], node.get("data") or {}))
            if node.get("type") == "Action.Submit" and (node.get("data") or {}).get("msteams"):
                found.append(("task/fetch:" + node["data"]["verb"], node["data"]))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(activity)
    return found


def test_no_target_reference_reaches_a_conversation_of_someone_not_entitled(teams: TeamsStack) -> None:
    publish(teams)
    personal = {teams.fake.personal_of(aad): key for key, aad in teams.ids.items()}
    # everybody presses every button they were sent, in their 1:1 chat (pointers' View pack in the group chats)
    shown: list[tuple[str, str]] = []  # (reader, text) of invoke answers: private to the presser
    for sent in list(teams.fake.activities):
        readers = [personal[sent.conversation]] if sent.conversation in personal else [
            k for k, aad in teams.ids.items() if aad in teams.fake.chats.get(sent.conversation, _NoChat).members]
        for verb, data in _buttons(sent.activity):
            if verb.startswith("form:"):
                continue
            for key in readers:
                kind = "personal" if sent.conversation in personal else "groupChat"
                conv = None if kind == "personal" else sent.conversation
                if verb.startswith("task/fetch:"):
                    shown.extend(_through_dialog(teams, key, data, conv, kind))
                    continue
                status, body = teams.post(teams.press(key, verb, data, conversation=conv, kind=kind))
                assert status == 200
                shown.append((key, json.dumps(body)))
    teams.drain()

    with teams.factory() as s:
        p = s.scalars(select(Partnership)).one()
        targets = {t.ref: (t.details.summary if t.details else None) for t in s.scalars(select(Target))}
        everyone = [m.key for m in s.scalars(select(Member)) if m.active]

        def readers_of(conversation: str) -> list[str]:
            if conversation in personal:
                return [personal[conversation]]
            if conversation in teams.fake.chats:
                members = teams.fake.chats[conversation].members
                return [k for k, aad in teams.ids.items() if aad in members]
            return everyone  # a channel: assume the whole partnership reads it

        sightings = [(readers_of(sent.conversation), sent.text) for sent in teams.fake.activities]
        sightings += [([key], body) for key, body in shown]
        leaks = []
        for readers, body in sightings:
            for ref, summary in targets.items():
                if not re.search(rf"\b{re.escape(ref)}\b", body) and not (summary and summary in body):
                    continue
                leaks += [(reader, ref) for reader in readers if not entitled_to(s, p, reader, ref, now=NOW)]
    assert sightings and leaks == []
    assert any("OCG-07" in body for _, body in sightings)  # the check looked at messages that carry references


def _through_dialog(teams: TeamsStack, key: str, data: dict[str, Any], conv: str | None,
                    kind: str) -> list[tuple[str, str]]:
    """Open the dialog and press each button in it once (the statement's I accept, then the pack)."""
    seen: list[tuple[str, str]] = []
    status, body = teams.post(teams.activity(key, type_="invoke", name="task/fetch", value={"data": data},
                                             conversation=conv, kind=kind))
    assert status == 200
    seen.append((key, json.dumps(body)))
    for _ in range(3):
        card = body["task"]["value"]["card"]["content"]
        inner = [a["data"] for a in card.get("actions") or [] if a["type"] == "Action.Submit"]
        if not inner:
            break
        status, body = teams.post(teams.activity(key, type_="invoke", name="task/submit", value={"data": inner[0]},
                                                 conversation=conv, kind=kind))
        assert status == 200
        seen.append((key, json.dumps(body)))
    return seen


def test_view_pack_opens_a_dialog_and_keeps_details_out_of_chat_history(teams: TeamsStack) -> None:
    publish(teams)
    with teams.factory() as s:
        summary = s.scalar(select(Target).where(Target.ref == "OCG-07")).details.summary  # type: ignore[union-attr]
    [ocg] = [c for c in teams.fake.chats.values() if c.topic.endswith("-ocg")]
    [pointer] = teams.fake.sent_to(ocg.id)
    [(verb, data)] = _buttons(pointer.activity)
    assert verb == "task/fetch:pack.view"
    before = len(teams.fake.activities)
    shown = _through_dialog(teams, "tom.ashby", data, ocg.id, "groupChat")
    assert len(shown) == 2  # the confidentiality statement, then (accepted) the pack
    assert "OCG-07" in shown[-1][1] and summary in shown[-1][1]
    teams.drain()
    after = teams.fake.activities[before:]
    assert not [a for a in after if "OCG-07" in a.text]  # nothing about it was posted to any chat


class _NoChat:
    members: dict[str, str] = {}


def test_the_itinerary_file_reaches_teams_users_through_a_consent_card(teams: TeamsStack) -> None:
    publish(teams)
    sam = teams.ids["sam.patel"]
    sent = teams.fake.sent_to(teams.fake.personal_of(sam))
    consents = [a for s in sent for a in s.activity.get("attachments") or []
                if a["contentType"] == "application/vnd.microsoft.teams.card.file.consent"]
    [consent] = consents
    assert consent["name"] == f"oneday-{DAY}.ics"
    context = consent["content"]["acceptContext"]
    accept = {"type": "fileUpload", "action": "accept", "context": context,
              "uploadInfo": {"name": consent["name"], "uploadUrl": teams.fake.upload_url("s1"),
                             "contentUrl": "https://contoso.sharepoint.example/oneday.ics", "uniqueId": "u1",
                             "fileType": "ics"}}
    status, _ = teams.post(teams.activity("sam.patel", type_="invoke", name="fileConsent/invoke", value=accept))
    assert status == 200
    data, content_range = teams.fake.uploads["s1"]
    assert data.startswith(b"BEGIN:VCALENDAR") and content_range == f"bytes 0-{len(data) - 1}/{len(data)}"
    info = teams.fake.sent_to(teams.fake.personal_of(sam))[-1].activity["attachments"][0]
    assert info["contentType"] == "application/vnd.microsoft.teams.card.file.info" and info["name"] == consent["name"]
    # a context Oneday did not seal uploads nothing
    forged = {**accept, "context": {**context, "content": "QkVHSU46ZXZpbA=="},
              "uploadInfo": {**accept["uploadInfo"], "uploadUrl": teams.fake.upload_url("s2")}}
    status, _ = teams.post(teams.activity("sam.patel", type_="invoke", name="fileConsent/invoke", value=forged))
    assert status == 400 and "s2" not in teams.fake.uploads


def test_a_space_is_set_to_exactly_the_members_asked_for(teams: TeamsStack) -> None:
    assert teams.port is not None
    jo, sam, tom = teams.ids["jo.bloggs"], teams.ids["sam.patel"], teams.ids["tom.ashby"]
    chat = teams.port.create_private_space("oneday-test", [jo, sam])
    assert sorted(teams.fake.chats[chat].members) == sorted([jo, sam])
    teams.port.set_space_members(chat, [jo.upper(), tom])  # ids compared in canonical (lower) case
    assert sorted(teams.fake.chats[chat].members) == sorted([jo, tom])
    calls = [(m, p) for m, p, _ in teams.fake.graph_calls if p.startswith(f"/chats/{chat}/members")]
    assert [m for m, _ in calls] == ["GET", "POST", "DELETE"]  # Jo stayed: neither removed nor added again
