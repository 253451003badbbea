"""Loopback fakes of what Teams puts between Oneday and its users (server.py: the Bot Framework issuer and JWKS,
the token endpoint, the Bot Connector, Microsoft Graph, as one real HTTP server on 127.0.0.1), and Oneday's
Teams side wired to them (stack.py), for `oneday demo --platform teams` and the tests. Oneday is pointed at the
fakes by its ordinary settings (`TEAMS_OPENID_METADATA_URL`, `TEAMS_TOKEN_URL`, `GRAPH_API_URL`, the service URL
of the activities), as production is at Microsoft's endpoints.
"""

from bot.faketeams.server import APP_ID, APP_PASSWORD, CATALOG_ID, ISSUER, TENANT, Chat, FakeTeams, Sent, guid_for
from bot.faketeams.stack import TeamsStack, give_teams_identities

__all__ = ["APP_ID", "APP_PASSWORD", "CATALOG_ID", "ISSUER", "TENANT", "Chat", "FakeTeams", "Sent", "TeamsStack",
           "give_teams_identities", "guid_for"]
