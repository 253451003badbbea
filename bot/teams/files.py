"""Files to a person in Teams (the itinerary's .ics): a bot may only put a file in someone's OneDrive after they
accept a file consent card in the 1:1 chat. The card carries the file in its `acceptContext`, which Teams hands
back with the `fileConsent/invoke` on Accept; the bot then PUTs the bytes to the upload URL Teams gives and sends a
file info card. The context is sealed with an HMAC keyed by the app password, so an invoke can only upload
content Oneday itself offered.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import httpx

from bot.port import DeliveryError
from bot.teams.connector import TIMEOUT, checked
from commands.core.replies import Attachment

CONSENT_TYPE = "application/vnd.microsoft.teams.card.file.consent"
INFO_TYPE = "application/vnd.microsoft.teams.card.file.info"


def _seal(key: str, payload: dict[str, str]) -> str:
    return hmac.new(key.encode(), json.dumps(payload, sort_keys=True).encode(), hashlib.sha256).hexdigest()


def consent_card(attachment: Attachment, key: str) -> dict[str, Any]:
    data = attachment.data
    context = {"filename": attachment.filename, "content": base64.b64encode(data).decode()}
    return {"contentType": CONSENT_TYPE, "name": attachment.filename,
            "content": {"description": attachment.title, "sizeInBytes": len(data),
                        "acceptContext": {**context, "seal": _seal(key, context)}, "declineContext": {}}}


def opened(context: Any, key: str) -> tuple[str, bytes] | None:
    """(filename, bytes) from an accepted card's context, or None when it is not one Oneday sealed."""
    if not isinstance(context, dict):
        return None
    payload = {"filename": str(context.get("filename") or ""), "content": str(context.get("content") or "")}
    if not payload["filename"] or not hmac.compare_digest(_seal(key, payload), str(context.get("seal") or "")):
        return None
    return payload["filename"], base64.b64decode(payload["content"])


def upload(http: httpx.Client, upload_url: str, data: bytes) -> None:
    """One PUT of the whole file to the upload session Teams opened (files this small need one range)."""
    if not data:
        raise DeliveryError("empty file", permanent=True)
    checked("file upload", lambda: http.put(upload_url, content=data, timeout=TIMEOUT, headers={
        "Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}", "Content-Length": str(len(data))}))


def info_card(info: dict[str, Any]) -> dict[str, Any]:
    return {"contentType": INFO_TYPE, "contentUrl": info.get("contentUrl"), "name": info.get("name"),
            "content": {"uniqueId": info.get("uniqueId"), "fileType": info.get("fileType")}}
