"""Wire a bolt App: one listener per slash command, one for buttons, one for forms.

Commands are quick database work (milliseconds), so a listener computes the result and sends the reply in the
ack (`process_before_response=True`): no polling for the ack, no response_url round trip. Messages for other
people are Notices, queued in the outbox and sent by the sender thread. A form or a private view opens with
views.open straight away, because Slack's trigger_id expires in 3 seconds.
Each call builds a new App: nothing global, nothing mutated per request.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient

from bot.logs import library_logger
from bot.port import DeliveryError
from bot.runner import Request, Runner
from bot.slack.blocks import render
from bot.slack.forms import form_values, render_form, render_modal
from bot.slack.home import Homes
from bot.slack.port import SlackPort
from bot.slack.text import neutral
from commands.core import router
from commands.core.replies import Result

log = logging.getLogger("oneday.slack")


def make_client(token: str | None, api_url: str | None) -> WebClient:
    # slack_sdk logs each call's body (message text) at DEBUG: its logger is ours, pinned at WARNING. bolt's
    # per-request clients copy this client's logger.
    kwargs: dict[str, Any] = {"token": token, "timeout": 10, "logger": library_logger("slack_sdk")}
    if api_url:
        kwargs["base_url"] = api_url if api_url.endswith("/") else api_url + "/"
    return WebClient(**kwargs)


def build_app(*, runner: Runner, client: WebClient, signing_secret: str | None,
              token_verification: bool = True, oauth_settings: OAuthSettings | None = None) -> App:
    """`client` carries the bot token (single workspace) or none (with `oauth_settings`: each workspace's
    installation supplies it). Either way listeners get bolt's per-request `client`, built with this one's
    base URL and the request's token, and talk to Slack through a SlackPort over it."""
    # bolt logs a badly signed request's whole body at INFO: its logger is ours, pinned at WARNING (bot/logs.py).
    app = App(client=client, signing_secret=signing_secret, process_before_response=True,
              token_verification_enabled=token_verification, request_verification_enabled=bool(signing_secret),
              oauth_settings=oauth_settings, logger=library_logger("bolt"))
    homes = Homes(runner)

    def open_view(port: SlackPort, trigger: str | None, result: Result) -> bool:
        """Open the result's form or private view; False when there is none (or it could not open)."""
        if not trigger or not (result.form or result.modal):
            return False
        try:
            if result.form:
                port.open_form(trigger, result.form)
            elif result.modal:
                port.show_modal(trigger, result.modal)
        except DeliveryError as exc:
            log.warning("views.open failed: %s", exc)
            return False
        return True

    def command_listener(intent: str):  # type: ignore[no-untyped-def]
        def listener(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
            port = SlackPort(client)
            req = Request(platform="slack", workspace=command.get("team_id", ""), user=command["user_id"],
                          intent=intent, text=neutral(command.get("text", "")), channel=command.get("channel_id"))
            result = runner.run(req, port.email_of)
            if open_view(port, command.get("trigger_id"), result):
                ack()
                return
            text, blocks = render(result.reply)
            ack(text=text, blocks=blocks, response_type="ephemeral")

        listener.__name__ = f"{intent}_command"
        return listener

    for intent, name in runner.names.items():
        app.command(name)(command_listener(intent))

    @app.action(re.compile(r"^[a-z]+\.[a-z_.]+$"))
    def button(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        port = SlackPort(client)
        user = body["user"]["id"]
        req = Request(platform="slack", workspace=(body.get("team") or {}).get("id", ""), user=user,
                      intent=f"button:{action['action_id']}", text="",
                      channel=(body.get("channel") or {}).get("id"))
        result = runner.run(req, port.email_of, lambda caller: router.press(action["action_id"], caller,
                                                                            action.get("value", "")))
        view = body.get("view") or {}
        if view.get("type") == "home":  # pressed in the App Home: answer privately in a modal, then redraw
            if not open_view(port, body.get("trigger_id"), result):
                open_view(port, body.get("trigger_id"), Result(result.reply, modal=result.reply))
            homes.refresh(client, team=req.workspace, user=user)
            return
        view_id = view.get("id")
        if view_id and not result.form:  # pressed inside a modal: the answer replaces that modal's content
            try:
                port.update_modal(view_id, result.modal or result.reply)
            except DeliveryError as exc:
                log.warning("views.update failed: %s", exc)
            return
        if open_view(port, body.get("trigger_id"), result):
            return
        text, blocks = render(result.reply)
        if body.get("response_url"):
            respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
        elif req.channel:
            port.post_ephemeral(req.channel, user, result.reply)

    @app.view(re.compile(r"^[a-z]+\.[a-z_.]+$"))
    def form_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        port = SlackPort(client)
        req = Request(platform="slack", workspace=(body.get("team") or {}).get("id", ""), user=body["user"]["id"],
                      intent=f"form:{view['callback_id']}", text="")
        values = form_values(view.get("state") or {})
        result = runner.run(req, port.email_of, lambda caller: router.submit(
            view["callback_id"], caller, values, view.get("private_metadata") or ""))
        if result.field_errors:
            ack(response_action="errors", errors=result.field_errors)
        elif result.form:
            ack(response_action="update", view=render_form(result.form))
        else:
            ack(response_action="update", view=render_modal(result.modal or result.reply))
        if not result.field_errors:
            homes.refresh(client, team=req.workspace, user=req.user)

    @app.event("app_home_opened")
    def home_opened(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        homes.opened(body, client)

    return app
