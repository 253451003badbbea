"""The loopback Teams fakes live in bot/faketeams/ (`oneday demo --platform teams` uses them too)."""

from bot.faketeams.server import APP_ID, APP_PASSWORD, CATALOG_ID, ISSUER, TENANT, Chat, FakeTeams, Sent, guid_for

__all__ = ["APP_ID", "APP_PASSWORD", "CATALOG_ID", "ISSUER", "TENANT", "Chat", "FakeTeams", "Sent", "guid_for"]
