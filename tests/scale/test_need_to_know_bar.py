"""The bar test of the per-target need-to-know rule, on a partnership this project has never seen.

A generated partnership (a pure function of a fixed seed, nothing like the Northtown sample) is loaded through the
real loader; the real stack (signed HTTP into bolt, the outbox, the fake Slack) publishes its meeting; then every
member with a Slack id opens their Home and presses every button they are shown (pointers, itineraries, statements,
packs, Home), a lead records an action and its owner an outcome, and everybody presses again.

Then the scan: everything each Slack user could see (their DM, every message in every channel they were ever a
member of, every view opened, updated or published for them, ephemeral answers, uploaded files) is searched for
every target's reference, its details canary and the canaries of the action and outcome written about it. Each
sighting must be by a member the rule entitles to that target at that time (models.planning.entitled_to, before and
after each phase, and the published plan's slots; the coordinator and the chair are entitled to every target).
Finally, each entitled partner can open the pack of each of their targets.
"""

from __future__ import annotations

import json
import random
import re
import secrets
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from slack_harness import SECRET, SlackEnv
from slack_requests import block_actions_payload, send_action, send_command, send_event
from sqlalchemy import select

from bot import db
from models import Member, Partnership, Section, Target
from models.planning import entitled_to, plan_day

SEED = 20261204
DAY = "2027-02-09"  # a Tuesday
NOW = datetime(2027, 2, 2, 10, 0, tzinfo=UTC)  # a week before the meeting
LOADED = datetime(2027, 1, 5, 9, 0, tzinfo=UTC)
MEETING_CHANNEL = "C0RIVERBEND"
ISP = "2027-A"

# ------------------------------------------------------------------------------------------ the generator

FLAGS = ("narcotics", "weapons", "tenancy", "welfare", "motors", "trading", "minors", "nightlife", "cash",
         "trafficking", "waste", "elders")
WORDS = ("lantern", "quarry", "harbour", "copper", "meadow", "foundry", "orchard", "viaduct", "cobalt", "thistle",
         "granary", "beacon", "willow", "saddle", "pylon", "marrow", "tundra", "bracken", "cistern", "garnet")
FIRST = ("Aled", "Briony", "Cosmo", "Delphine", "Eamon", "Freya", "Gideon", "Hester", "Ivo", "Juno", "Kester",
         "Lorna", "Magnus", "Nerys", "Orrin", "Petra", "Quill", "Rhian", "Silas", "Tamsin", "Ulric", "Verity",
         "Wystan", "Xanthe", "Yorick", "Zillah", "Anwen", "Bram")
LAST = ("Ashdown", "Blackwood", "Carrow", "Dunmore", "Elstree", "Fennick", "Garside", "Holloway", "Ingram",
        "Jessop", "Kirkby", "Lowther", "Merriman", "Norcott", "Oakes", "Pennock", "Quarrie", "Redfern", "Stannard",
        "Thwaite", "Uttley", "Varley", "Wragg", "Yelland")

# key, name, category, core, flags; the last one has not signed the current ISP
AGENCIES: tuple[tuple[str, str, str, bool, tuple[str, ...]], ...] = (
    ("constabulary", "Riverbend Constabulary", "statutory", True, ("narcotics", "weapons", "motors", "trafficking")),
    ("offender-service", "Riverbend Offender Service", "statutory", True, ("narcotics", "tenancy")),
    ("borough-homes", "Riverbend Borough Homes", "local-authority", True, ("tenancy",)),
    ("borough-asb", "Riverbend Borough Neighbourhoods Team", "local-authority", False, ("nightlife", "tenancy")),
    ("borough-children", "Riverbend Borough Family Services", "local-authority", False, ("minors",)),
    ("borough-licensing", "Riverbend Borough Licensing", "local-authority", False, ("nightlife", "trading")),
    ("recovery-trust", "Riverbend Recovery Trust", "non-statutory", False, ("narcotics",)),
    ("elder-care", "Riverbend Elder Care Network", "non-statutory", False, ("elders",)),
    ("welfare-office", "National Welfare Office", "national-regional", False, ("welfare", "cash")),
    ("revenue-board", "Revenue Board", "national-regional", False, ("trading", "cash")),
    ("regional-ocu", "Western Regional Crime Unit", "national-regional", True, ("weapons", "cash", "trafficking")),
    ("green-regulator", "Green Regulator", "national-regional", False, ("waste",)),
    ("border-force", "Border Enforcement Command", "national-regional", False, ("trafficking", "motors")),
)
EXCLUDED_AGENCY = "border-force"

# key, name, order, core agencies, minutes per target, handling, personal data, ref prefix
COHORTS: tuple[tuple[str, str, int, tuple[str, ...], int, str, bool, str], ...] = (
    ("serious-org", "Serious organised networks", 1, ("constabulary", "regional-ocu"), 8, "OFFICIAL-SENSITIVE",
     True, "SON"),
    ("iom-fixed", "Fixed IOM cohort", 2, ("constabulary", "offender-service", "borough-homes"), 6,
     "OFFICIAL-SENSITIVE", True, "IOM"),
    ("youth-violence", "Youth violence", 3, ("constabulary", "borough-children"), 5, "OFFICIAL-SENSITIVE", True,
     "YVP"),
    ("acquisitive", "Acquisitive crime", 4, ("constabulary", "offender-service"), 5, "OFFICIAL", False, "ACQ"),
)


def generate_partnership(seed: int = SEED) -> dict[str, Any]:
    """A partnership file (as a mapping) that is not the Northtown sample: a pure function of `seed`."""
    rng = random.Random(seed)
    cohort_keys = [c[0] for c in COHORTS]
    agencies = [{"key": k, "name": n, "category": cat, "core": core, "flags": list(flags),
                 "powers": [f"{k}-power-{i}" for i in range(1, rng.randint(2, 3))],
                 "isp_signed": "2026-Z" if k == EXCLUDED_AGENCY else ISP}
                for k, n, cat, core, flags in AGENCIES]
    names = [f"{first} {last}" for first, last in zip(rng.sample(FIRST, 26), rng.sample(LAST * 2, 26), strict=True)]

    members: list[dict[str, Any]] = []

    def member(agency: str, roles: list[str], cohorts: list[str], *, spoc: bool = False, slack: bool = True) -> str:
        name = names[len(members)]
        key = name.lower().replace(" ", ".")
        entry: dict[str, Any] = {"key": key, "name": name, "email": f"{key}@{agency}.example", "agency": agency,
                                 "roles": roles, "cohorts": cohorts, "spoc": spoc}
        if slack:
            entry["slack"] = f"U9{len(members):02d}{name[:3].upper()}"
        members.append(entry)
        return key

    def some_cohorts(lo: int = 0, hi: int = 2) -> list[str]:
        return sorted(rng.sample(cohort_keys, rng.randint(lo, hi)), key=cohort_keys.index)

    chair = member("constabulary", ["chair"], list(cohort_keys))
    coordinator = member("borough-asb", ["coordinator", "partner"], list(cohort_keys), spoc=True)
    leads = [member("constabulary", ["lead"], some_cohorts(1, 2), spoc=i == 0) for i in range(3)]
    leads.append(member("offender-service", ["lead", "partner"], ["iom-fixed", "acquisitive"], spoc=True))
    excluded_lead = member(EXCLUDED_AGENCY, ["lead"], ["serious-org"], spoc=True)
    member("borough-asb", ["analyst"], [])
    # every other agency: a single point of contact, sometimes a colleague attending other cohorts
    for key, *_ in AGENCIES:
        if key in ("constabulary", "borough-asb", EXCLUDED_AGENCY):
            continue
        has_spoc = key != "offender-service"  # its lead officer is its SPOC
        if has_spoc:
            member(key, ["partner"], some_cohorts(0, 2), spoc=True, slack=key != "green-regulator" and rng.random() > 0.1)
        if rng.random() < 0.6 or key == "welfare-office":
            member(key, ["partner"], some_cohorts(1, 2))
    while len(members) < 25:
        member(rng.choice(["borough-homes", "recovery-trust", "revenue-board"]), ["partner"], some_cohorts(1, 3))

    targets: list[dict[str, Any]] = []
    for n in range(26):
        ckey, *_, prefix = COHORTS[n % len(COHORTS)]
        ref = f"{prefix}-{310 + n * 7}"
        lead = excluded_lead if n in (0, 8) else rng.choice(leads)
        words = " ".join(rng.sample(WORDS, 4))
        targets.append({"ref": ref, "kind": rng.choice(["group", "individual"]), "cohort": ckey, "lead": lead,
                        "flags": sorted(rng.sample(FLAGS, rng.randint(1, 3))), "priority": rng.randint(1, 3),
                        "status": "active", "details": {"summary": f"{words} {canary(ref)}"}})
    return {
        "partnership": {"key": "riverbend", "name": "Riverbend Safer Partnership", "timezone": "Europe/London",
                        "isp_version": ISP},
        "agencies": agencies,
        "members": members,
        "cohorts": [{"key": k, "name": n, "order": o, "agencies": list(a), "minutes_per_target": mins,
                     "handling": h, "personal_data": pd} for k, n, o, a, mins, h, pd, _ in COHORTS],
        "targets": targets,
        "meeting": {"channel": MEETING_CHANNEL, "day_start": "10:00",
                    "breaks": [{"at": "11:30", "minutes": 20}, {"at": "13:00", "minutes": 30}],
                    "publish_working_days_before": 3},
        "reminders": {"first_working_days_before": 2, "overdue_every_working_days": 2, "escalate_after_chases": 3,
                      "working_hours": {"start": "09:00", "end": "17:00"}},
        "_roles": {"chair": chair, "coordinator": coordinator, "excluded_lead": excluded_lead},
    }


def canary(ref: str, n: int = 0) -> str:
    return f"CANARY-{ref}-{n}"


def partnership_yaml(spec: dict[str, Any]) -> str:
    return yaml.safe_dump({k: v for k, v in spec.items() if not k.startswith("_")}, sort_keys=False)


def test_the_scan_reports_a_sighting_by_someone_not_entitled() -> None:
    tokens = {"SON-310": [token_pattern("SON-310"), token_pattern(canary("SON-310"))]}
    entitled = [{"a": {"SON-310"}}]
    seen = [Seen("UA", "dm", 0, f"x {canary('SON-310')} y"), Seen("UB", "channel", 0, "SON-310 and SON-3100"),
            Seen("UB", "answer", 0, "You can't see 'SON-310'", typed="SON-310"), Seen("UB", "dm", 0, "SON-3101")]
    [leak] = scan(seen, tokens, entitled, {"UA": "a", "UB": "b"})
    assert leak.startswith("b (UB) saw SON-310 [SON-310] in channel")


def test_the_generator_is_pure_and_not_the_sample() -> None:
    a, b = generate_partnership(), generate_partnership()
    assert partnership_yaml(a) == partnership_yaml(b)
    assert partnership_yaml(a) != partnership_yaml(generate_partnership(SEED + 1))
    members = a["members"]
    assert 24 <= len(members) <= 30 and 20 <= len(a["targets"]) <= 30 and len(a["cohorts"]) == 4
    assert {c["personal_data"] for c in a["cohorts"]} == {True, False}
    assert [x["key"] for x in a["agencies"] if x["isp_signed"] != ISP] == [EXCLUDED_AGENCY]
    assert [m["key"] for m in members if "analyst" in m["roles"]]
    assert any(m["spoc"] for m in members) and any("slack" not in m for m in members)
    assert {t["lead"] for t in a["targets"]} >= {a["_roles"]["excluded_lead"]}
    assert not {"police", "dwp", "ocg"} & {x["key"] for x in a["agencies"] + a["cohorts"]}


# ------------------------------------------------------------------------------------------ the stack


@pytest.fixture
def spec() -> dict[str, Any]:
    return generate_partnership()


@pytest.fixture
def env(factory, spec, tmp_path) -> Iterator[SlackEnv]:  # type: ignore[no-untyped-def]
    from fake_slack import FakeSlack
    from slack_requests import clear_proxy_env

    from commands.partnership import file as partnership

    path = tmp_path / "riverbend.yaml"
    path.write_text(partnership_yaml(spec), encoding="utf-8")
    with db.unit_of_work(factory) as session:
        assert partnership.load(session, partnership.read_file(path), source=path.name, now=LOADED)
    clear_proxy_env()
    with FakeSlack() as fake:
        stack = SlackEnv(fake=fake, factory=factory).start()
        stack.clock.set(NOW)
        try:
            yield stack
        finally:
            stack.stop()


@dataclass
class Seen:
    """One thing a Slack user could see: where, in which phase, and its text."""

    user: str
    where: str
    phase: int
    text: str
    typed: str = ""  # what the user typed themselves (a reference they typed is not a disclosure to them)


@dataclass
class Driver:
    """Drives the stack as people do and remembers who triggered what, so every view and every ephemeral
    answer can be attributed to the person who saw it."""

    env: SlackEnv
    phase: int = 0
    triggers: dict[str, str] = field(default_factory=dict)  # trigger_id -> user
    response_urls: dict[str, str] = field(default_factory=dict)  # response_url path -> user
    acks: list[Seen] = field(default_factory=list)  # command answers (ephemeral, to the caller)
    call_phase: list[int] = field(default_factory=list)  # phase of each fake call, by index
    pressed: set[tuple[str, str, str, str]] = field(default_factory=set)
    trigger_text: dict[str, str] = field(default_factory=dict)  # trigger_id of a command -> the text typed

    def mark(self) -> None:
        """Tag the fake's calls recorded so far with the current phase."""
        calls = len(self.env.fake.calls)
        self.call_phase.extend([self.phase] * (calls - len(self.call_phase)))

    def _trigger(self, user: str) -> str:
        trigger = f"{int(time.time())}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"
        self.triggers[trigger] = user
        return trigger

    def _response_url(self, user: str) -> str:
        url = self.env.fake.response_url()
        self.response_urls[urlsplit(url).path] = user
        return url

    def command(self, user: str, command: str, text: str, channel: str = MEETING_CHANNEL) -> str:
        trigger = self._trigger(user)
        self.trigger_text[trigger] = text
        status, body, _ = send_command(self.env.url, SECRET, command, text, user_id=user, channel_id=channel,
                                       trigger_id=trigger, response_url=self._response_url(user))
        assert status == 200, body
        answer = json.dumps(json.loads(body)) if body else ""
        self.acks.append(Seen(user, f"answer to {command} {text}", self.phase, answer, typed=text))
        return answer

    def look_around(self, everyone: set[str], searches: list[str]) -> None:
        """Everyone opens their Home, lists their actions, searches (by owner, by reference) and asks for the
        pack in every section channel they are in."""
        members = self.channel_members(everyone)
        sections = sorted(c for c, who in members.items() if c.startswith("C") and c != MEETING_CHANNEL)
        for user in sorted(everyone):
            self.open_home(user)
            for text in ["", *searches]:
                self.command(user, "/actions", text)
            for channel in sections:
                if user in members[channel]:
                    self.command(user, "/agenda", "show", channel=channel)

    def open_home(self, user: str) -> None:
        event = {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home",
                 "event_ts": f"{time.time():.6f}"}
        status, body, _ = send_event(self.env.url, SECRET, event)
        assert status == 200, body

    def press_in_message(self, user: str, button: dict[str, Any], channel: str, message: dict[str, Any]) -> None:
        payload = block_actions_payload(button["action_id"], button.get("value"), user_id=user, channel_id=channel,
                                        message=message, response_url=self._response_url(user))
        payload["trigger_id"] = self._trigger(user)
        status, body, _ = send_action(self.env.url, SECRET, payload)
        assert status == 200, body

    def press_in_view(self, user: str, button: dict[str, Any], view: dict[str, Any]) -> None:
        payload = block_actions_payload(button["action_id"], button.get("value"), user_id=user, view=view)
        payload["trigger_id"] = self._trigger(user)
        status, body, _ = send_action(self.env.url, SECRET, payload)
        assert status == 200, body

    # -------------------------------------------------------------------------------- who saw what

    def view_owners(self) -> dict[str, str]:
        """view id -> the user it was opened for (views.open and views.push carry the presser's trigger)."""
        owners: dict[str, str] = {}
        for call in self.env.fake.calls:
            if call.method in ("views.open", "views.push") and call.response and call.response.get("ok"):
                user = self.triggers.get(str(call.args.get("trigger_id")))
                if user:
                    owners[call.response["view"]["id"]] = user
            elif call.method == "views.publish" and call.response and call.response.get("ok"):
                owners[call.response["view"]["id"]] = str(call.args["user_id"])
        return owners

    def channel_members(self, everyone: set[str]) -> dict[str, set[str]]:
        """Every user ever in each conversation (a private channel's history is visible to those who join
        later, so everyone ever in it counts). The meeting channel, unknown to the fake: everyone."""
        fake = self.env.fake
        members: dict[str, set[str]] = defaultdict(set)
        for call in fake.calls:
            if call.method == "conversations.invite" and call.response and call.response.get("ok"):
                members[str(call.args["channel"])].update(u for u in str(call.args["users"]).split(",") if u)
            elif call.method == "conversations.open" and call.response and call.response.get("ok"):
                users = [u for u in str(call.args.get("users", "")).split(",") if u]
                members[call.response["channel"]["id"]].update(users)
        with fake._lock:
            for channel, now in fake._members.items():
                members[channel].update(now)
        members[MEETING_CHANNEL] = set(everyone)
        for m in members.values():
            m.discard("UBOT")
        return members

    def sightings(self, everyone: set[str]) -> tuple[list[Seen], list[str]]:
        """Everything each user could see; and calls whose audience could not be told (must be none)."""
        self.mark()
        fake, owners, members = self.env.fake, self.view_owners(), self.channel_members(everyone)
        seen, unknown = list(self.acks), []
        silent = {"conversations.invite", "conversations.kick", "conversations.open", "conversations.members",
                  "conversations.info", "conversations.list", "conversations.history", "users.info",
                  "users.lookupByEmail", "auth.test", "files.getUploadURLExternal", "team.info"}
        for index, call in enumerate(fake.calls):
            phase, text, typed = self.call_phase[index], json.dumps(call.args), ""
            if call.method in silent or (call.response is not None and call.response.get("ok") is False):
                continue
            audience: set[str] = set()
            if call.method in ("views.open", "views.push"):
                audience = {self.triggers[t]} if (t := str(call.args.get("trigger_id"))) in self.triggers else set()
                typed = self.trigger_text.get(str(call.args.get("trigger_id")), "")
            elif call.method == "views.update":
                view_id = str(call.args.get("view_id") or (call.response or {}).get("view", {}).get("id"))
                audience = {owners[view_id]} if view_id in owners else set()
            elif call.method == "views.publish":
                audience = {str(call.args["user_id"])}
            elif call.method == "response_url":
                path = str((call.response or {}).get("url"))
                audience = {self.response_urls[path]} if path in self.response_urls else set()
            elif call.method == "chat.postEphemeral":
                audience = {str(call.args["user"])}
            elif call.method == "files.completeUploadExternal":
                channel = str(call.args.get("channel_id") or str(call.args.get("channels", "")).split(",")[0])
                audience = members.get(channel, set())
                for item in call.args.get("files") or []:
                    upload = fake.files.get(item.get("id"))
                    if upload and upload.content:
                        text += " " + upload.content.decode("utf-8", "replace")
            elif call.args.get("channel"):
                channel = str(call.args["channel"])
                if channel[:1] in ("U", "W"):
                    audience = {channel}
                else:
                    channel = str((call.response or {}).get("channel") or channel)
                    audience = members.get(channel, set())
            elif call.method == "conversations.create":
                audience = members.get(call.response["channel"]["id"], set()) if call.response else set()
            if not audience:
                unknown.append(f"{call.method}: {text[:300]}")
            for user in audience:
                seen.append(Seen(user, f"{call.method} {call.args.get('channel', '')}".strip(), phase, text, typed))
        return seen, unknown

    # -------------------------------------------------------------------------------- pressing

    def buttons_to_press(self, everyone: set[str]) -> list[tuple[str, dict[str, Any], str, Any]]:
        """(user, button, surface kind, surface) for every button every user was shown and has not pressed."""
        fake = self.env.fake
        owners, members = self.view_owners(), self.channel_members(everyone)
        todo: list[tuple[str, dict[str, Any], str, Any]] = []

        def add(user: str, where: str, button: dict[str, Any], kind: str, surface: Any) -> None:
            key = (user, where, button["action_id"], str(button.get("value")))
            if user in everyone and key not in self.pressed:
                self.pressed.add(key)
                todo.append((user, button, kind, surface))

        for channel_id in {c for c in members}:
            for message in fake.messages(channel_id):
                for button in buttons(message.get("blocks") or []):
                    for user in sorted(members[channel_id]):
                        add(user, f"{channel_id}/{message['ts']}", button, "message", (channel_id, message))
        with fake._lock:
            views = {vid: dict(v) for vid, v in fake._views.items()}
        for view_id, view in views.items():
            owner = owners.get(view_id)
            if owner:
                for button in buttons(view.get("blocks") or []):
                    add(owner, view_id, button, "view", view)
        for ack in self.acks:
            answer = json.loads(ack.text) if ack.text else {}
            for button in buttons(answer.get("blocks") or []):
                message = {"type": "message", "ts": f"{time.time():.6f}", "text": "", "user": "UBOT"}
                add(ack.user, f"ack:{ack.where}", button, "message", (MEETING_CHANNEL, message))
        return todo

    def press_everything(self, everyone: set[str], rounds: int = 6) -> int:
        """Press every button shown to anyone, then the buttons those presses showed, until none are new."""
        total = 0
        for _ in range(rounds):
            self.env.drain()
            todo = self.buttons_to_press(everyone)
            if not todo:
                return total
            for user, button, kind, surface in todo:
                if kind == "message":
                    self.press_in_message(user, button, *surface)
                else:
                    self.press_in_view(user, button, surface)
                total += 1
        self.env.drain()
        return total


def buttons(blocks: Any) -> Iterator[dict[str, Any]]:
    """Every interactive button in Block Kit (link buttons without an action_id are not presses)."""
    if isinstance(blocks, dict):
        if blocks.get("type") == "button" and blocks.get("action_id") and not blocks.get("url"):
            yield blocks
        for value in blocks.values():
            yield from buttons(value)
    elif isinstance(blocks, list):
        for value in blocks:
            yield from buttons(value)


# ------------------------------------------------------------------------------------------ the rule


def entitlement(factory) -> dict[str, set[str]]:  # type: ignore[no-untyped-def]
    """member key -> the target refs models.planning.entitled_to gives them now."""
    with factory() as session:
        p = session.scalar(select(Partnership))
        assert p is not None
        refs = [t.ref for t in session.scalars(select(Target))]
        return {m.key: {r for r in refs if entitled_to(session, p, m.key, r)}
                for m in session.scalars(select(Member))}


def plan_slots(factory) -> dict[str, set[str]]:  # type: ignore[no-untyped-def]
    """member key -> target refs whose slot the published day's plan invites them to."""
    with factory() as session:
        p = session.scalar(select(Partnership))
        assert p is not None
        found: dict[str, set[str]] = defaultdict(set)
        for s in plan_day(session, p, date.fromisoformat(DAY)).sections:
            for slot in s.slots:
                for m in slot.members:
                    found[m].add(slot.target)
        return found


def merged(*maps: dict[str, set[str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for m in maps:
        for k, v in m.items():
            out[k] |= v
    return out


def token_pattern(token: str) -> tuple[str, re.Pattern[str]]:
    return token, re.compile(r"(?<![A-Za-z0-9])" + re.escape(token) + r"(?![0-9])")


Tokens = dict[str, list[tuple[str, re.Pattern[str]]]]  # target ref -> (token, pattern) for each token about it


def scan(seen: list[Seen], tokens: Tokens, entitled_by_phase: list[dict[str, set[str]]],
         member_of: dict[str, str]) -> list[str]:
    """One line per (member, target, surface, phase) where a target's token reached someone not entitled to it."""
    leaks: dict[tuple[str, str, str, int], str] = {}
    for s in seen:
        key = member_of[s.user]
        allowed = entitled_by_phase[s.phase].get(key, set())
        for r, patterns in tokens.items():
            if r in allowed:
                continue
            hits = [(t, p) for t, p in patterns if p.search(s.text) and not (t == r and p.search(s.typed))]
            if hits:
                at = hits[0][1].search(s.text)
                assert at is not None
                excerpt = s.text[max(0, at.start() - 120):at.end() + 120]
                leaks.setdefault((key, r, s.where, s.phase),
                                 f"{key} ({s.user}) saw {r} [{', '.join(t for t, _ in hits)}] in "
                                 f"{s.where} (phase {s.phase}): ...{excerpt}...")
    return sorted(leaks.values())


# ------------------------------------------------------------------------------------------ the test


def test_per_target_rule_holds_for_everyone_pressing_everything(env, spec) -> None:  # type: ignore[no-untyped-def]
    drive = Driver(env)
    roles = spec["_roles"]
    with env.factory() as session:
        slack_of = {m.key: m.identity("slack") for m in session.scalars(select(Member)) if m.identity("slack")}
    member_of = {u: k for k, u in slack_of.items()}
    everyone = set(member_of)
    coordinator = slack_of[roles["coordinator"]]

    # --- phase 0: publish, every Home, every button
    before = merged(entitlement(env.factory), plan_slots(env.factory))
    answer = drive.command(coordinator, "/agenda", f"publish {DAY}")
    assert "Published the agenda" in answer, answer
    env.drain()
    for user in sorted(everyone):
        drive.open_home(user)
    pressed = drive.press_everything(everyone)
    assert pressed > len(everyone)  # at least the pointers' and Homes' buttons
    entitled_by_phase = [merged(before, entitlement(env.factory), plan_slots(env.factory))]
    drive.mark()

    # --- phase 1: a lead records an action on their target for an entitled partner of another agency
    drive.phase = 1
    now_entitled = entitlement(env.factory)
    refs = {t["ref"]: t for t in spec["targets"]}
    privileged = {roles["chair"], roles["coordinator"]}
    leads = {t["lead"] for t in spec["targets"]}
    agency = {m["key"]: m["agency"] for m in spec["members"]}
    choice = next((ref, t["lead"], owner) for ref, t in sorted(refs.items())
                  if t["lead"] in slack_of and t["lead"] != roles["excluded_lead"]
                  for owner in sorted(now_entitled) if ref in now_entitled[owner] and owner in slack_of
                  and owner not in privileged | leads and agency[owner] != agency[t["lead"]])
    ref, lead, owner = choice
    wording = f"check the tenancy file {canary(ref, 1)}"
    answer = drive.command(slack_of[lead], "/action", f"{ref} <@{slack_of[owner]}|{owner}> {wording} by 2027-02-20")
    assert "Action #" in answer, answer
    number = int(answer.split("Action #")[1].split()[0].rstrip(":,."))
    env.drain()
    searches = [f"<@{slack_of[owner]}|{owner}>", ref]
    drive.look_around(everyone, searches)
    drive.press_everything(everyone)  # the owner's Home and DM buttons on the open action among them
    entitled_by_phase.append(merged(entitled_by_phase[0], entitlement(env.factory)))
    drive.mark()

    # --- phase 2: the owner records the outcome; everyone looks again and presses what is new
    drive.phase = 2
    answer = drive.command(slack_of[owner], "/outcome", f"{number} reviewed the file {canary(ref, 2)} nfa")
    assert "closed" in answer.lower() or f"#{number}" in answer, answer
    env.drain()
    drive.look_around(everyone, searches)
    drive.press_everything(everyone)
    entitled_by_phase.append(merged(entitled_by_phase[1], entitlement(env.factory)))

    # --- the scan
    seen, unattributed = drive.sightings(everyone)
    assert not unattributed, "calls whose audience the test cannot tell:\n" + "\n".join(unattributed)
    tokens = {r: [token_pattern(r), token_pattern(canary(r))] for r in refs}
    tokens[ref] += [token_pattern(canary(ref, 1)), token_pattern(canary(ref, 2))]
    leaks = scan(seen, tokens, entitled_by_phase, member_of)
    # the scan is not blind: the entitled do see their references (itineraries, packs), the action and outcome
    # reach their owner, and every section channel has members
    for key, mine in entitled_by_phase[0].items():
        if key in slack_of and mine:
            assert any(token_pattern(r)[1].search(s.text) for s in seen if s.user == slack_of[key] for r in mine), key
    owner_saw = " ".join(s.text for s in seen if s.user == slack_of[owner])
    assert canary(ref, 1) in owner_saw and canary(ref, 2) in owner_saw
    assert all(len(m) > 1 for c, m in drive.channel_members(everyone).items() if c.startswith("C0000"))

    # --- positive: every entitled partner saw the pack of each of their targets, and only theirs
    with env.factory() as session:
        cohort_of = {t.ref: t.cohort.key for t in session.scalars(select(Target))}
        section_of = {s.cohort.key: s.id for s in session.scalars(select(Section))}
    packs: dict[str, str] = defaultdict(str)
    for s in seen:
        if s.where.startswith("views.") and "Section pack" in s.text:
            packs[s.user] += s.text
    missing: list[str] = []
    for key, mine in entitled_by_phase[0].items():
        user = slack_of.get(key)
        if user is None or key in privileged or not mine:
            continue
        assert packs[user], f"{key} ({user}) is entitled to {sorted(mine)} but never saw a pack"
        for r in sorted(mine):
            if cohort_of[r] in section_of and canary(r) not in packs[user]:
                missing.append(f"{key} ({user}): {r}")
    shown = {action_id for _, _, action_id, _ in drive.pressed}
    assert {"pack.view", "pack.accept", "action.done", "action.update", "action.more_time", "action.not_mine"} <= shown
    assert not leaks and not missing, (
        f"{len(leaks)} leak(s):\n" + "\n".join(leaks)
        + f"\n{len(missing)} entitled partner/target pair(s) never shown in a pack:\n" + "\n".join(missing))
    env.fake.assert_no_rejections()
