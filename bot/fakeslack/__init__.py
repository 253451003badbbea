"""An in-process Slack for `oneday demo` and `oneday console`: the Web API (server.py) and the requests a
person's Slack client sends to the app (client.py). Nothing in Oneday knows it is there: the app is pointed at
it by base URL, exactly as `SLACK_API_URL` points production at a gateway.
"""

from bot.fakeslack.client import SlackClientSide
from bot.fakeslack.server import BOT_USER_ID, Channel, FakeSlack, Seen

__all__ = ["BOT_USER_ID", "Channel", "FakeSlack", "Seen", "SlackClientSide"]
