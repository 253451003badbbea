"""Installing the app in Slack workspaces.

Two set-ups:
- **single workspace** (SLACK_BOT_TOKEN): the app is installed once from api.slack.com and every request,
  reply and outbox message uses that bot token;
- **multi-workspace OAuth** (SLACK_CLIENT_ID and SLACK_CLIENT_SECRET, optional SLACK_SCOPES): a workspace
  admin opens `/slack/install`, approves the app on slack.com, and Slack sends them back to
  `/slack/oauth_redirect?code=...&state=...`; bolt checks the state (stored in `slack_oauth_states`, and in a
  cookie of that browser), exchanges the code with oauth.v2.access and stores the installation (with its bot
  token) in `slack_installations` / `slack_bots`: slack_sdk's SQLAlchemy stores, in our database, created by
  our migrations. Each request is then authorised with its workspace's bot token (bolt's per-request client,
  on the app client's base URL, so SLACK_API_URL still applies).

A coordinator then links the workspace to its partnership: `oneday slack link-workspace TEAM_ID`
(commands/core/workspaces.py); until then the workspace's requests are refused.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.port import DeliveryError
from bot.slack.install_tables import BOTS_TABLE, INSTALLATIONS_TABLE, OAUTH_STATES_TABLE
from bot.slack.manifest import bot_scopes
from bot.slack.settings import slack_settings
from commands.core.errors import OnedayError
from commands.core.platforms import canonical
from commands.core.workspaces import workspace_of
from commands.partnership.file import select_partnership
from models import Workspace

log = logging.getLogger("oneday.slack")
STATE_SECONDS = 600  # how long an install link stays good


def installation_store(settings: Settings, engine: Engine) -> SQLAlchemyInstallationStore:
    client_id = slack_settings(settings).client_id
    assert client_id
    return SQLAlchemyInstallationStore(client_id=client_id, engine=engine,
                                       bots_table_name=BOTS_TABLE, installations_table_name=INSTALLATIONS_TABLE)


def oauth_settings(settings: Settings, engine: Engine) -> OAuthSettings:
    """bolt's OAuth settings over our database (the tables exist once `oneday db upgrade` has run)."""
    s = slack_settings(settings)
    return OAuthSettings(
        client_id=s.client_id,
        client_secret=s.client_secret,
        scopes=list(s.scopes or bot_scopes()),
        installation_store=installation_store(settings, engine),
        state_store=SQLAlchemyOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=engine,
                                              table_name=OAUTH_STATES_TABLE),
    )


# Answers meaning the token we hold is no longer the installation's (reinstalled, revoked): look it up again.
STALE_TOKEN = {"invalid_auth", "token_revoked", "account_inactive", "not_authed"}


class InstalledBotClient(WebClient):
    """A WebClient for work outside a request (the outbox sender, jobs) in OAuth mode: its bot token is the
    installation's, looked up at the first call (so `oneday serve` can start before anyone installs), and again
    after Slack says it is no longer good (the workspace reinstalled the app)."""

    def __init__(self, resolve: Callable[[], str | None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._resolve = resolve

    def api_call(self, api_method: str, **kwargs: Any) -> Any:  # type: ignore[override]
        if self.token is None:
            self.token = self._resolve()
        if self.token is None:  # not installed or not linked yet: keep the message queued, try again later
            raise DeliveryError("no installed Slack workspace is linked to the partnership", retry_after=60.0)
        try:
            return super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            data = exc.response.data if isinstance(exc.response.data, dict) else {}
            if data.get("error") in STALE_TOKEN:
                self.token = None
            raise


def sender_token(settings: Settings, engine: Engine, factory: sessionmaker[Session]) -> Callable[[], str | None]:
    """The bot token for messages of the configured (or only) partnership: its linked workspace's install."""
    store = installation_store(settings, engine)

    def resolve() -> str | None:
        try:
            with factory() as session:
                p = select_partnership(session, settings.partnership)
                team = workspace_of(session, p, platform="slack")
        except OnedayError as exc:  # several partnerships and none configured: never guess whose token to use
            log.warning("outbox: %s", exc.message)
            return None
        bot = store.find_bot(enterprise_id=None, team_id=team) if team else None
        if bot is None:
            log.warning("no installed Slack workspace is linked to the partnership: messages stay queued")
            return None
        return bot.bot_token

    return resolve


def linked_team(factory: sessionmaker[Session], partnership_id: int) -> str | None:
    """The Slack workspace linked to a partnership (the first, when several), or None."""
    with factory() as session:
        return session.scalar(select(Workspace.workspace_id).where(
            Workspace.partnership_id == partnership_id, Workspace.platform == "slack")
            .order_by(Workspace.id).limit(1))


class WrongWorkspaceClient(WebClient):
    """Refuses every call: the partnership's rows would otherwise go out with another workspace's token. The rows
    stay queued (and say why) until the configuration is put right."""

    def __init__(self, reason: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.reason = reason

    def api_call(self, api_method: str, **kwargs: Any) -> Any:  # type: ignore[override]
        raise DeliveryError(self.reason, retry_after=60.0)


def partnership_token(settings: Settings, engine: Engine,
                      factory: sessionmaker[Session]) -> Callable[[int], str | None]:
    """The bot token of one partnership's own Slack workspace (its linked workspace's installation), for the
    outbox: each row goes out as its own workspace. None when the partnership has no linked, installed workspace:
    its rows stay queued rather than borrow another workspace's token."""
    store = installation_store(settings, engine)

    def resolve(partnership_id: int) -> str | None:
        team = linked_team(factory, partnership_id)
        bot = store.find_bot(enterprise_id=None, team_id=team) if team else None
        if bot is None:
            log.warning("partnership %s has no installed Slack workspace linked to it: its messages stay queued",
                        partnership_id)
            return None
        return bot.bot_token

    return resolve


def token_team_guard(shared: WebClient, factory: sessionmaker[Session]) -> Callable[[int], WebClient]:
    """With SLACK_BOT_TOKEN (one workspace): `shared` for a partnership linked to no Slack workspace or to the
    token's own (auth.test's team, asked once), and a refusing client for one linked to another workspace, whose
    rows must not go out with this token."""
    team: list[str] = []

    def client(partnership_id: int) -> WebClient:
        linked = linked_team(factory, partnership_id)
        if linked is None:
            return shared
        if not team:
            try:
                team.append(canonical(str(shared.auth_test()["team_id"])))
            except (SlackApiError, OSError) as exc:
                return WrongWorkspaceClient(f"cannot tell which workspace SLACK_BOT_TOKEN belongs to "
                                            f"({type(exc).__name__})", base_url=shared.base_url)
        if canonical(linked) == team[0]:
            return shared
        log.error("partnership %s is linked to Slack workspace %s, but SLACK_BOT_TOKEN is workspace %s's: its "
                  "messages stay queued", partnership_id, linked, team[0])
        return WrongWorkspaceClient(f"the partnership's Slack workspace {linked} is not SLACK_BOT_TOKEN's "
                                    f"({team[0]})", base_url=shared.base_url)

    return client


def partnership_clients(settings: Settings, engine: Engine, factory: sessionmaker[Session],
                        shared: WebClient) -> Callable[[int], WebClient] | None:
    """The client for each partnership's rows: in OAuth mode one bound to its workspace's installation; with
    SLACK_BOT_TOKEN `shared` (the outbox's client) where the token is the partnership's workspace's (see
    token_team_guard)."""
    from bot.slack.app import make_client

    s = slack_settings(settings)
    if s.bot_token:
        return token_team_guard(shared, factory)
    if not s.oauth:
        return None
    token = partnership_token(settings, engine, factory)
    base = make_client(None, s.api_url)

    def client(partnership_id: int) -> WebClient:
        return InstalledBotClient(lambda: token(partnership_id), base_url=base.base_url, timeout=base.timeout,
                                  logger=base.logger)

    return client


def outgoing_client(settings: Settings, engine: Engine, factory: sessionmaker[Session]) -> WebClient:
    """The client for the outbox sender and jobs: SLACK_BOT_TOKEN when set, else (OAuth) the installation's."""
    from bot.slack.app import make_client

    s = slack_settings(settings)
    if s.bot_token or not s.oauth:
        return make_client(s.bot_token, s.api_url)
    base = make_client(None, s.api_url)
    return InstalledBotClient(sender_token(settings, engine, factory), base_url=base.base_url, timeout=base.timeout,
                              logger=base.logger)
