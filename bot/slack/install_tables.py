"""slack_sdk's installation and OAuth state store tables, registered on Oneday's metadata.

They are slack_sdk's own SQLAlchemy stores, built with its table builders, so that one Alembic history
(migration 0007) creates them and the drift test covers them. The Slack platform (bot/slack/platform.py)
registers them when bot/db.py asks every platform for its tables, on import.
"""

from __future__ import annotations

from sqlalchemy import MetaData

INSTALLATIONS_TABLE, BOTS_TABLE, OAUTH_STATES_TABLE = "slack_installations", "slack_bots", "slack_oauth_states"


def register_installation_tables(metadata: MetaData) -> None:
    """Add the installation and OAuth state stores' tables to `metadata` (once)."""
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    if INSTALLATIONS_TABLE in metadata.tables:
        return
    SQLAlchemyInstallationStore.build_installations_table(metadata, INSTALLATIONS_TABLE)
    SQLAlchemyInstallationStore.build_bots_table(metadata, BOTS_TABLE)
    SQLAlchemyOAuthStateStore.build_oauth_states_table(metadata, OAUTH_STATES_TABLE)

