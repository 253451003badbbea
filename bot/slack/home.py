"""The App Home tab: commands/home/page.py builds the page, this renders it as a home view and publishes it.

Slack retries an event it thinks was not acknowledged in 3 seconds, with the same `event_id`, and the retry
may reach another replica. The ids handled are rows in the database (bot/chat_state.py `SeenEvents`, kept an
hour), so a repeat is dropped by whichever replica gets it; the effect is idempotent anyway: views.publish
replaces the whole home view with one built from the database, so publishing twice shows the same page.
Whose home has been drawn is in the database too (`HomeViews`): a change made through any replica redraws it.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient

from bot.chat_state import HomeViews, SeenEvents
from bot.port import DeliveryError
from bot.runner import Request, Runner
from bot.slack.blocks import VIEW_BLOCKS, render
from bot.slack.port import SlackPort, _call
from commands.core.replies import Reply, Result
from commands.home import page as home

log = logging.getLogger("oneday.slack")


def home_view(page: Reply) -> dict[str, Any]:
    """The page as a home view: up to 100 blocks, so about 45 actions with their buttons; past that the
    renderer shortens the actions, keeps the sections and the health report, and points at /actions."""
    _, blocks = render(page, VIEW_BLOCKS)
    return {"type": "home", "blocks": blocks}


def publish_home(runner: Runner, client: WebClient, *, team: str, user: str) -> None:
    """Build the user's page in one unit of work and publish it (a refusal is shown as the page)."""
    port = SlackPort(client)
    req = Request(platform="slack", workspace=team, user=user, intent="home", text="")
    result = runner.run(req, port.email_of, lambda caller: Result(home.build(caller)))
    _call(lambda: client.views_publish(user_id=user, view=home_view(result.reply)))


class Homes:
    """The app_home_opened handler and the refresh after a change; what they remember is in the database."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.seen = SeenEvents(runner.factory, platform="slack", clock=runner.clock)
        self.views = HomeViews(runner.factory, platform="slack", clock=runner.clock)

    def opened(self, body: dict[str, Any], client: WebClient) -> None:
        event = body.get("event") or {}
        if event.get("tab", "home") != "home" or not event.get("user"):
            return  # the Messages tab: nothing to draw
        event_id = str(body.get("event_id") or "")
        if event_id and not self.seen.claim(event_id):
            log.info("app_home_opened %s already handled", event_id)
            return
        team = str(body.get("team_id") or (body.get("authorizations") or [{}])[0].get("team_id") or "")
        try:
            self.publish(client, team=team, user=str(event["user"]))
        except DeliveryError as exc:
            if event_id:
                self.seen.release(event_id)
            log.warning("views.publish failed: %s", exc)

    def publish(self, client: WebClient, *, team: str, user: str) -> None:
        publish_home(self.runner, client, team=team, user=user)
        self.views.published(team, user)

    def refresh(self, client: WebClient, *, team: str, user: str) -> None:
        """After a change made from Slack: redraw the user's home if it has been drawn (by any replica)."""
        if not self.views.drawn(team, user):
            return
        try:
            self.publish(client, team=team, user=user)
        except DeliveryError as exc:
            log.warning("home refresh failed: %s", exc)
