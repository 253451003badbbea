"""The pure rules of models/retention.py, and Slack's side of the SentEraser port against the fake Slack."""

from __future__ import annotations

from datetime import date

from fake_slack import FakeSlack
from slack_requests import clear_proxy_env
from slack_sdk import WebClient

from bot.platform import ERASES_SENT
from bot.port import SentEraser
from bot.slack.platform import SLACK
from bot.slack.port import SlackPort
from commands.core.replies import Reply
from models.retention import RetentionPolicy, add_months, archive_from, erase_on, last_activity, review_due


def test_months_are_calendar_months_and_month_ends_clamp() -> None:
    assert add_months(date(2026, 12, 8), 1) == date(2027, 1, 8)
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 12, 8), 72) == date(2032, 12, 8)


def test_only_a_closed_target_with_activity_is_ever_due_for_erasure() -> None:
    assert erase_on(closed=False, last=date(2020, 1, 1), months=1) is None
    assert erase_on(closed=True, last=None, months=1) is None
    assert erase_on(closed=True, last=date(2026, 12, 8), months=72) == date(2032, 12, 8)
    assert last_activity([None, date(2026, 9, 1), date(2026, 12, 8), None]) == date(2026, 12, 8)
    assert last_activity([None]) is None


def test_review_is_due_on_and_after_its_date() -> None:
    assert not review_due(None, date(2027, 1, 7))
    assert not review_due(date(2027, 1, 7), date(2027, 1, 6))
    assert review_due(date(2027, 1, 7), date(2027, 1, 7)) and review_due(date(2027, 1, 7), date(2027, 2, 1))


def test_spaces_are_archived_the_day_after_the_pack_closes() -> None:
    assert archive_from(date(2026, 12, 8), 5) == date(2026, 12, 16)  # pack open to Tue 15 Dec
    assert archive_from(date(2026, 12, 18), 5) == date(2026, 12, 30)  # Christmas and Boxing Day (Mon 28) skipped


def test_the_policy_reads_its_defaults_and_cohort_periods() -> None:
    assert RetentionPolicy.from_settings(None) == RetentionPolicy(72, {}, True)
    policy = RetentionPolicy.from_settings({"keep_months": 84, "cohorts": {"ocg": 120}, "archive_spaces": False})
    assert (policy.months_for("ocg"), policy.months_for("ppo"), policy.archive_spaces) == (120, 84, False)


def test_slack_declares_and_implements_erasing_what_it_sent() -> None:
    clear_proxy_env()
    assert ERASES_SENT in SLACK.capabilities
    with FakeSlack() as fake:
        port = SlackPort(WebClient(token="xoxb-test", base_url=fake.base_url, retry_handlers=[]))
        assert isinstance(port, SentEraser)
        space = port.create_private_space("ocg 2026-12-08", [])
        ts = port.post(space, Reply(title="pointer"))
        assert port.delete_sent(space, ts) is True
        assert port.delete_sent(space, ts) is True  # already gone: done, not an error
        assert port.archive_space(space) is True
        assert port.archive_space(space) is True  # already archived
        assert [c.method for c in fake.calls if c.method in ("chat.delete", "conversations.archive")] == \
               ["chat.delete", "chat.delete", "conversations.archive", "conversations.archive"]
        assert [c.error for c in fake.calls if c.method == "chat.delete"] == [None, "message_not_found"]
