"""A form that travels inside a Teams card until a dialog opens it.

A bot can open a dialog (task module) only in the answer to a task/fetch, so a form that a typed command or a
card's button asks for arrives as a card with one button, "Open the form", whose task/fetch carries the form; the
dialog's submit carries it too, so a submission with errors can show the same form again, as typed, with the
errors beside the fields. The form is sealed (AES-GCM, a key derived from the app password): the chat's history
keeps only ciphertext (a form can list the targets its person may choose from, or their own wording), and a
form Oneday did not make opens nothing. Opening a form runs no command; submitting it does, with every check.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import zlib
from dataclasses import asdict

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from commands.core.replies import Form, FormField

PURPOSE = b"oneday-teams-form\0"
AAD = b"form/v1"


def _aes(key: str) -> AESGCM:
    return AESGCM(hashlib.sha256(PURPOSE + key.encode()).digest())


def seal(form: Form, key: str) -> str:
    plain = zlib.compress(json.dumps(asdict(form), separators=(",", ":")).encode())
    nonce = os.urandom(12)
    return base64.urlsafe_b64encode(nonce + _aes(key).encrypt(nonce, plain, AAD)).decode()


def opened(token: object, key: str) -> Form | None:
    """The form sealed in `token`, or None when it is not one Oneday sealed with this key (or is malformed)."""
    if not isinstance(token, str) or not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token.encode())
        data = json.loads(zlib.decompress(_aes(key).decrypt(raw[:12], raw[12:], AAD)))
        fields = tuple(FormField(**{**f, "choices": tuple(tuple(c) for c in f.get("choices") or ())})
                       for f in data.pop("fields", ()))
        return Form(**data, fields=fields)
    except (InvalidTag, ValueError, TypeError, KeyError, binascii.Error, zlib.error):
        return None
