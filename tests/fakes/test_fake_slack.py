"""Tests of the Slack fake (through a real slack_sdk WebClient) and of the signed-request helpers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from fake_slack import FakeSlack
from slack_bolt import App
from slack_requests import BoltHTTPServer, clear_proxy_env, send_action, send_command, send_event
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator

TOKEN = "xoxb-test"
SECRET = "test-signing-secret"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSlack]:
    clear_proxy_env(monkeypatch)  # slack_sdk honours HTTP(S)_PROXY even for 127.0.0.1
    with FakeSlack() as server:
        yield server


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(base_url=fake.base_url, token=TOKEN, timeout=5)


def api_error(call, *args, **kwargs) -> SlackApiError:
    with pytest.raises(SlackApiError) as raised:
        call(*args, **kwargs)
    return raised.value


# ------------------------------------------------------------------------------------ messages
def test_post_message_is_answered_and_recorded(fake: FakeSlack, client: WebClient) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hello*"}}]
    first = client.chat_postMessage(channel="C0MEETING", text="hello", blocks=blocks)
    second = client.chat_postMessage(channel="C0MEETING", text="again")

    assert first["ok"] and first["channel"] == "C0MEETING"
    assert first["message"]["text"] == "hello" and first["message"]["bot_id"] == "BBOT"
    assert float(second["ts"]) > float(first["ts"]) and len(first["ts"].split(".")[1]) == 6
    call = fake.calls_to("chat.postMessage")[0]
    assert call.token == TOKEN and call.args == {"channel": "C0MEETING", "text": "hello", "blocks": blocks}
    assert [m["text"] for m in fake.messages("C0MEETING")] == ["hello", "again"]
    fake.assert_no_rejections()


def test_update_and_delete_need_an_existing_own_message(fake: FakeSlack, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C0MEETING", text="draft")["ts"]
    assert client.chat_update(channel="C0MEETING", ts=ts, text="final")["message"]["text"] == "final"
    assert api_error(client.chat_update, channel="C0MEETING", ts="1.000001", text="x").response["error"] == \
        "message_not_found"
    someone_elses = fake.add_message("C0MEETING", "hi bot", user="U0TESTER")
    assert api_error(client.chat_delete, channel="C0MEETING", ts=someone_elses).response["error"] == \
        "cant_delete_message"
    client.chat_delete(channel="C0MEETING", ts=ts)
    assert [m["text"] for m in fake.messages("C0MEETING")] == ["hi bot"]


def test_post_to_a_user_goes_to_a_stable_dm(fake: FakeSlack, client: WebClient) -> None:
    dm = client.conversations_open(users="U0TESTER")["channel"]["id"]
    assert dm.startswith("D") and client.conversations_open(users="U0TESTER")["channel"]["id"] == dm
    assert client.conversations_open(users="U0A,U0B")["channel"]["id"] not in (dm, "")
    assert client.chat_postMessage(channel="U0TESTER", text="psst")["channel"] == dm
    assert client.chat_postEphemeral(channel="C0MEETING", user="U0TESTER", text="only you")["message_ts"]


# ------------------------------------------------------------------------------------ rejections
def test_unknown_method_is_rejected_and_flagged(fake: FakeSlack, client: WebClient) -> None:
    error = api_error(client.api_call, "chat.postMesage", json={"channel": "C1", "text": "typo"})
    assert error.response.status_code == 200 and error.response["error"] == "unknown_method"
    assert fake.calls == [] and [c.method for c in fake.rejected] == ["chat.postMesage"]
    with pytest.raises(AssertionError, match="unknown_method"):
        fake.assert_no_rejections()


def test_missing_wrong_and_unknown_arguments_are_rejected(fake: FakeSlack, client: WebClient) -> None:
    missing = api_error(client.api_call, "chat.postMessage", json={"text": "where to?"})
    assert missing.response["error"] == "invalid_arguments"
    assert "[ERROR] missing required field: channel" in missing.response["response_metadata"]["messages"]

    wrong = api_error(client.api_call, "files.getUploadURLExternal",
                      params={"filename": "a", "length": "big"})
    assert "json-pointer:/length" in wrong.response["response_metadata"]["messages"][0]

    unknown = api_error(client.chat_postMessage, channel="C1", text="x", colour="red")
    assert unknown.response["response_metadata"]["messages"] == ["[ERROR] unknown argument: colour"]
    assert len(fake.rejected) == 3 and fake.calls == []


def test_tokens_are_checked(fake: FakeSlack) -> None:
    no_token = api_error(WebClient(base_url=fake.base_url).auth_test)
    assert no_token.response["error"] == "not_authed"
    bad = api_error(WebClient(base_url=fake.base_url, token="hunter2").auth_test)
    assert bad.response["error"] == "invalid_auth"
    bot = WebClient(base_url=fake.base_url, token=TOKEN)
    assert bot.auth_test()["user_id"] == "UBOT" and bot.team_info()["team"]["name"] == "Northtown"
    fake.socket_mode_url = "ws://127.0.0.1:1234/socket"
    assert WebClient(base_url=fake.base_url, token="xapp-1-A").apps_connections_open(app_token="xapp-1-A")[
        "url"] == "ws://127.0.0.1:1234/socket"
    assert api_error(bot.apps_connections_open, app_token=TOKEN).response["error"] == "not_allowed_token_type"


# ------------------------------------------------------------------------------------ faults
def test_injected_rate_limit_carries_retry_after(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next("chat.postMessage", 1, "ratelimited", retry_after=7)
    error = api_error(client.chat_postMessage, channel="C1", text="x")
    assert error.response.status_code == 429 and error.response.headers["Retry-After"] == "7"
    assert error.response["error"] == "ratelimited"
    assert [c.fault for c in fake.faults] == ["ratelimited"] and fake.calls == []

    fake.fail_next("chat.postMessage", 1, "ratelimited", retry_after=0)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    assert client.chat_postMessage(channel="C1", text="y")["ok"]
    assert len(fake.faults) == 2 and len(fake.calls_to("chat.postMessage")) == 1


def test_server_error_drop_and_slow(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next("auth.test", 1, "server_error")
    assert api_error(client.auth_test).response.status_code == 500
    fake.fail_next("auth.test", 1, "server_error")
    quick = FixedValueRetryIntervalCalculator(0.01)
    # The same retries as slack_sdk's default (one retry on a dropped connection), minus the back-off.
    client.retry_handlers = [ConnectionErrorRetryHandler(interval_calculator=quick),
                             ServerErrorRetryHandler(max_retry_count=1, interval_calculator=quick)]
    assert client.auth_test()["ok"]

    fake.fail_next("*", 1, "drop")
    assert client.team_info()["ok"] and [c.fault for c in fake.faults][-1] == "drop"
    fake.fail_next("team.info", 2, "drop")
    with pytest.raises(Exception, match="Remote end closed"):
        client.team_info()

    # "slow": the answer is held back for the delay, then given normally
    fake.fail_next("auth.test", 1, "slow", delay=60)
    client.timeout = 60
    answered = len(fake.calls_to("auth.test"))
    results: list[bool] = []
    caller = threading.Thread(target=lambda: results.append(client.auth_test()["ok"]))
    caller.start()
    deadline = time.monotonic() + 30
    while True:  # until the fake has taken the fault for this call
        with fake._lock:
            if not fake._queued["auth.test"]:
                break
        assert time.monotonic() < deadline, "the slow call never reached the fake"
        time.sleep(0.01)
    assert caller.is_alive() and len(fake.calls_to("auth.test")) == answered  # held back, not answered
    fake._stopping.set()  # ends the delay (what stop() does)
    caller.join(30)
    fake._stopping.clear()
    assert results == [True] and len(fake.calls_to("auth.test")) == answered + 1


def test_random_faults_are_reproducible(fake: FakeSlack, client: WebClient) -> None:
    def run() -> list[bool]:
        fake.fail_randomly(0.5, kinds=("server_error",), seed=42)
        outcomes = []
        for _ in range(20):
            try:
                outcomes.append(client.auth_test()["ok"])
            except SlackApiError:
                outcomes.append(False)
        return outcomes

    first, second = run(), run()
    assert first == second and 0 < first.count(False) < 20
    fake.fail_randomly(0)
    assert client.auth_test()["ok"]


def test_per_channel_rate_limit(fake: FakeSlack, client: WebClient) -> None:
    fake.limit_per_channel(per_second=1.0)
    client.chat_postMessage(channel="C1", text="one")
    error = api_error(client.chat_postMessage, channel="C1", text="two")
    assert error.response.status_code == 429 and error.response.headers["Retry-After"] == "1"
    client.chat_postMessage(channel="C2", text="elsewhere")
    assert len(fake.ratelimited) == 1 and len(fake.calls_to("chat.postMessage")) == 2


# ------------------------------------------------------------------------------------ files
def test_files_upload_v2_round_trips_the_bytes(fake: FakeSlack, client: WebClient) -> None:
    data = b"name,risk\nA. Person,high\n\x00\xff"
    answer = client.files_upload_v2(channel="C0MEETING", filename="minutes.csv", content=data,
                                    title="Minutes", initial_comment="Today's minutes")
    file_id = answer["file"]["id"]
    assert fake.uploaded(file_id) == data
    upload = fake.files[file_id]
    assert (upload.filename, upload.title, upload.channel_id, upload.completed) == \
        ("minutes.csv", "Minutes", "C0MEETING", True)
    completed = fake.calls_to("files.completeUploadExternal")[0]
    assert completed.args["files"] == [{"id": file_id, "title": "Minutes"}]
    fake.assert_no_rejections()


# ------------------------------------------------------------------------------------ conversations
def test_channel_membership_is_tracked(fake: FakeSlack, client: WebClient) -> None:
    channel = client.conversations_create(name="oneday-2024-05-01", is_private=True)["channel"]
    assert channel["id"].startswith("C") and channel["is_private"] is True
    assert api_error(client.conversations_create, name="oneday-2024-05-01").response["error"] == "name_taken"
    bad_name = api_error(client.conversations_create, name="Bad Name")
    assert bad_name.response["error"] == "invalid_name_specials"

    client.conversations_invite(channel=channel["id"], users=["U0A", "U0B"])
    assert client.conversations_members(channel=channel["id"])["members"] == ["UBOT", "U0A", "U0B"]
    assert api_error(client.conversations_invite, channel=channel["id"], users="U0A").response["error"] == \
        "already_in_channel"
    client.conversations_kick(channel=channel["id"], user="U0A")
    assert fake.members(channel["id"]) == ["UBOT", "U0B"]

    client.conversations_setTopic(channel=channel["id"], topic="Panel")
    assert client.conversations_info(channel=channel["id"])["channel"]["topic"]["value"] == "Panel"
    listed = client.conversations_list(types="private_channel")["channels"]
    assert [c["name"] for c in listed] == ["oneday-2024-05-01"]
    client.conversations_archive(channel=channel["id"])
    assert client.conversations_list(types="private_channel", exclude_archived=True)["channels"] == []
    assert api_error(client.conversations_invite, channel=channel["id"], users="U0C").response["error"] == \
        "is_archived"
    assert api_error(client.conversations_members, channel="C404").response["error"] == "channel_not_found"


def test_users_and_views(fake: FakeSlack, client: WebClient) -> None:
    fake.add_user("U0PO", "probation@example.org", "po", "Pat Officer")
    assert client.users_lookupByEmail(email="Probation@example.org")["user"]["id"] == "U0PO"
    assert api_error(client.users_lookupByEmail, email="nobody@example.org").response["error"] == \
        "users_not_found"
    assert client.users_info(user="U0PO")["user"]["real_name"] == "Pat Officer"

    modal = {"type": "modal", "callback_id": "case", "title": {"type": "plain_text", "text": "Case"},
             "blocks": []}
    view = client.views_open(trigger_id="1.2.abc", view=modal)["view"]
    assert view["id"].startswith("V") and fake.calls_to("views.open")[0].args["view"] == modal
    updated = client.views_update(view_id=view["id"], hash=view["hash"],
                                  view={**modal, "callback_id": "case2"})
    assert updated["view"]["callback_id"] == "case2"
    assert api_error(client.views_update, view_id=view["id"], hash=view["hash"], view=modal).response[
        "error"] == "hash_conflict"
    assert client.views_publish(user_id="U0PO", view={"type": "home", "blocks": []})["view"]["type"] == "home"
    fake.assert_no_rejections()


def test_wait_for_blocks_until_the_call_arrives(fake: FakeSlack, client: WebClient) -> None:
    timer = threading.Timer(0.2, lambda: client.chat_postMessage(channel="C1", text="later"))
    timer.start()
    assert fake.wait_for("chat.postMessage", timeout=5)[0].args["text"] == "later"
    timer.join()
    fake.clear()
    with pytest.raises(AssertionError, match="wanted 1 call"):
        fake.wait_for("chat.postMessage", timeout=0.1)


# ------------------------------------------------------------------------------------ bolt over HTTP
def test_bolt_app_accepts_signed_and_refuses_forged_requests(fake: FakeSlack) -> None:
    app = App(signing_secret=SECRET, client=WebClient(base_url=fake.base_url, token=TOKEN))
    assert fake.calls_to("auth.test")  # bolt checks its token on start

    released = threading.Event()

    @app.command("/oneday")
    def oneday(ack, respond, client, command) -> None:
        ack()
        released.wait(30)  # the work after the ack waits until the test has had its HTTP answer
        respond(f"Listing for {command['text']}")
        client.chat_postMessage(channel=command["channel_id"], text="agenda posted")

    @app.action("done")
    def done(ack) -> None:
        ack()

    @app.event("app_mention")
    def mention(event, say) -> None:
        say("hello")

    with BoltHTTPServer(app) as server:
        # Slack wants the ack within 3 s whatever the work costs: the 200 comes back while the listener is still
        # held after ack() (bolt would otherwise hold it until send_command's 10 s timeout), before any of its work
        try:
            status, _, _ = send_command(server.url, SECRET, text="today", response_url=fake.response_url())
            assert status == 200 and not fake.calls_to("response_url") and not fake.calls_to("chat.postMessage")
        finally:
            released.set()
        assert fake.wait_for("response_url")[0].args["text"] == "Listing for today"
        assert fake.wait_for("chat.postMessage")[0].args["channel"] == "C0MEETING"

        assert send_command(server.url, SECRET, signature="v0=" + "0" * 64)[0] == 401
        assert send_command(server.url, "wrong-secret")[0] == 401
        assert send_command(server.url, SECRET, timestamp=int(time.time()) - 600)[0] == 401  # replay

        payload = {"type": "block_actions", "team": {"id": "T0001"}, "user": {"id": "U0TESTER"},
                   "api_app_id": "A0ONEDAY", "actions": [{"action_id": "done", "type": "button"}]}
        assert send_action(server.url, SECRET, payload)[0] == 200
        event = {"type": "app_mention", "user": "U0TESTER", "text": "<@UBOT> hi", "channel": "C0MEETING",
                 "ts": "1700000000.000900"}
        assert send_event(server.url, SECRET, event)[0] == 200
        assert fake.wait_for("chat.postMessage", count=2)[1].args["text"] == "hello"
    fake.assert_no_rejections()
