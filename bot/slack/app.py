"""Wire a bolt App: one listener per slash command, acked with the reply itself.

Commands are quick database work (milliseconds), so the listener computes the reply and sends it in the
ack (`process_before_response=True`): no polling for the ack, no response_url round trip. Anything slow or
addressed to other people is a Notice, queued in the outbox and sent by the sender thread.
Each call builds a new App: nothing global, nothing mutated per request.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.runner import Request, Runner
from bot.slack.blocks import render
from bot.slack.port import SlackPort


def make_client(token: str | None, api_url: str | None) -> WebClient:
    kwargs: dict[str, Any] = {"token": token, "timeout": 10}
    if api_url:
        kwargs["base_url"] = api_url if api_url.endswith("/") else api_url + "/"
    return WebClient(**kwargs)


def build_app(*, runner: Runner, client: WebClient, signing_secret: str | None,
              token_verification: bool = True) -> App:
    port = SlackPort(client)
    app = App(client=client, signing_secret=signing_secret, process_before_response=True,
              token_verification_enabled=token_verification, request_verification_enabled=bool(signing_secret))

    def command_listener(intent: str):  # type: ignore[no-untyped-def]
        def listener(ack: Ack, command: dict[str, Any]) -> None:
            req = Request(platform="slack", workspace=command.get("team_id", ""), user=command["user_id"],
                          intent=intent, text=command.get("text", ""), channel=command.get("channel_id"))
            reply = runner.run(req, port.email_of)
            text, blocks = render(reply)
            ack(text=text, blocks=blocks, response_type="ephemeral")

        listener.__name__ = f"{intent}_command"
        return listener

    for intent, name in runner.names.items():
        app.command(name)(command_listener(intent))
    return app
