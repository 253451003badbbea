"""The Teams app package: manifest.json (the bot, its command lists, permissions, valid domains) and the two
icons Teams requires (192x192 colour, 32x32 white outline on transparent), zipped for upload.

The icons are drawn here (plain PNG, zlib) so the package needs no image files or libraries. Graph's application
permissions (Chat.Create, ChatMember.ReadWrite.All, TeamsAppInstallation.ReadWriteSelfForChat.All,
User.Read.All) are granted on the Entra app registration, not in the manifest: README, "Microsoft Teams".
"""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

from commands.core.help import HELP
from commands.core.names import DEFAULT_NAMES

SCHEMA = "https://developer.microsoft.com/en-us/json-schemas/teams/v1.17/MicrosoftTeams.schema.json"
VERSION = "1.0.0"
SCOPES = ["personal", "team", "groupChat"]
COLOUR = (0x1F, 0x4E, 0x79)  # a police-neutral dark blue


def png(size: int, rgba: tuple[int, int, int, int], *, ring: bool = False) -> bytes:
    """A square PNG: filled (colour icon) or a ring (outline icon, transparent elsewhere)."""
    rows = []
    for y in range(size):
        row = bytearray(b"\x00")
        for x in range(size):
            if ring:
                d = ((x - size / 2 + 0.5) ** 2 + (y - size / 2 + 0.5) ** 2) ** 0.5
                inside = size * 0.3 <= d <= size * 0.45
                row += bytes(rgba if inside else (0, 0, 0, 0))
            else:
                row += bytes(rgba)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows)))
            + chunk(b"IEND", b""))


def commands(names: dict[str, str]) -> list[dict[str, str]]:
    """The command list Teams suggests as people type (at most 10): each command's word and what it does."""
    out = [{"title": "home", "description": "Your open actions, your sections and, for coordinators, health"}]
    for intent, name in names.items():
        text = HELP.get(intent)
        summary = text[0] if isinstance(text, (list, tuple)) and text else str(text or intent)
        out.append({"title": name.lstrip("/"), "description": summary.splitlines()[0][:128]})
    return out[:10]


def manifest(app_id: str, host: str, names: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "$schema": SCHEMA, "manifestVersion": "1.17", "version": VERSION, "id": app_id,
        "developer": {"name": "Oneday", "websiteUrl": f"https://{host}", "privacyUrl": f"https://{host}/privacy",
                      "termsOfUseUrl": f"https://{host}/terms"},
        "name": {"short": "Oneday", "full": "Oneday: one day, one conversation"},
        "description": {"short": "Runs the multi-agency offender-management day.",
                        "full": "Keeps the partnership, builds the day's running order, invites each partner to "
                                "exactly their slots, records actions and chases them. Need-to-know per target."},
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#" + "".join(f"{c:02X}" for c in COLOUR),
        "bots": [{"botId": app_id, "scopes": SCOPES, "supportsFiles": False, "isNotificationOnly": False,
                  "commandLists": [{"scopes": SCOPES, "commands": commands(names or dict(DEFAULT_NAMES))}]}],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [host],
        "webApplicationInfo": {"id": app_id, "resource": f"api://{host}/{app_id}"},
        "authorization": {"permissions": {"resourceSpecific": [
            {"name": "ChatMember.Read.Chat", "type": "Application"},
            {"name": "ChatMessage.Send.Chat", "type": "Application"}]}},
    }


def write_package(path: Path, *, app_id: str, host: str, names: dict[str, str] | None = None) -> None:
    with zipfile.ZipFile(path, "x", zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", json.dumps(manifest(app_id, host, names), indent=2))
        z.writestr("color.png", png(192, (*COLOUR, 255)))
        z.writestr("outline.png", png(32, (255, 255, 255, 255), ring=True))
