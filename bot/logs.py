"""Structured logs: one JSON line per request. Never target details, command text, request bodies or tokens.

Libraries log what they are given: bolt logs a whole request body (command text, response_url) at INFO when a
signature is wrong, and slack_sdk logs every Web API call's body (message text) at DEBUG. So bolt and the
WebClient get a logger of ours (`library_logger`) pinned at WARNING, whatever level the root logger has, and a
filter that cuts request bodies out of the few warnings that still quote one. A message of any size is capped
when formatted: a 64 MB unsigned POST must never become a 64 MB log line.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

request_log = logging.getLogger("oneday.request")

MAX_MESSAGE = 2000  # characters of one log message; the rest is replaced by a count
LIBRARY_LEVEL = logging.WARNING
# Library messages that quote a request or response body, cut at the marker (bolt 1.x, slack_sdk 3.x wording).
BODY_MARKERS = ("body:", "Request body", "for the request (", "Slack API response:")


def capped(text: str, limit: int = MAX_MESSAGE) -> str:
    """`text`, or its first `limit` characters and how many were dropped."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text) - limit} more characters not logged)"


class NoBodies(logging.Filter):
    """Rewrite a library record that quotes a body: keep the text up to the marker, drop the rest."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for marker in BODY_MARKERS:
            at = message.find(marker)
            if at >= 0:
                message = message[:at] + marker + " (not logged)"
        record.msg, record.args = capped(message, 300), ()
        return True


def library_logger(name: str) -> logging.Logger:
    """The logger handed to bolt (`App(logger=...)`) or a WebClient: WARNING and up only, bodies cut out.

    bolt copies this logger's level and filters onto each of its own loggers when an App is built; it adds no
    handler, so records reach the root logger's handlers (bot.logs.configure) like every other record."""
    logger = logging.getLogger(f"oneday.lib.{name}")
    logger.setLevel(LIBRARY_LEVEL)
    if not any(isinstance(f, NoBodies) for f in logger.filters):
        logger.addFilter(NoBodies())
    return logger


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {"at": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname,
                                 "logger": record.name, "msg": capped(record.getMessage())}
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["trace"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("slack_bolt").setLevel(LIBRARY_LEVEL)
    logging.getLogger("slack_sdk").setLevel(LIBRARY_LEVEL)


def log_request(**fields: Any) -> None:
    request_log.info("request", extra={"fields": fields})
