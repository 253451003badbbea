"""Alembic environment: migrations run from code (`oneday db upgrade`), against the schema's metadata.

Below the composition root: it imports `models` and `migrations`, never `bot` (tests/core/test_layers.py). The
metadata comes from the caller (bot/db.py passes the models' metadata with the tables each platform
registers, e.g. Slack's installation store), else the models' own.
"""

from __future__ import annotations

from typing import Literal

from alembic import context
from sqlalchemy import pool

import models
from migrations.lock import migration_lock
from models import sealed
from models.base import UTCDateTime
from models.engine import make_engine

config = context.config


def render_item(type_: str, obj: object, autogen_context: object) -> str | Literal[False]:
    """Render our column types as plain SQLAlchemy ones, so migrations never import models."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, sealed.SealedText | sealed.SealedJSON):
        return "sa.Text()"
    return False

target_metadata = config.attributes.get("target_metadata", models.Base.metadata)
# Data migrations that seal or open stored values (0017) use the models' sealing with the process's key ring.
config.attributes.setdefault("reseal_column", sealed.reseal_column)
config.attributes.setdefault("unseal_columns", sealed.unseal_all)


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = make_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        with migration_lock(connection):  # PostgreSQL: concurrent upgrades take turns (migrations/lock.py)
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=True,
                compare_type=True,
                render_item=render_item,
            )
            with context.begin_transaction():
                context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
