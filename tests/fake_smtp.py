"""A real SMTP server on 127.0.0.1 (aiosmtpd) that records every message it accepts and every attempt, and can
answer scripted failures: the far end of the network for the email platform (bot/email/), like fake_slack.py.

    with FakeSmtp() as smtp:
        smtp.fail_next(2, "451 4.3.0 Try again later")   # the next two messages are refused, then accepted
        ... smtp.url ... smtp.messages ...
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from processes import free_port


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class _Handler:
    messages: list[Received] = field(default_factory=list)
    attempts: int = 0
    failures: list[str] = field(default_factory=list)  # answers to give to the next DATA commands, in order
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.attempts += 1
            if self.failures:
                return self.failures.pop(0)
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 Message accepted for delivery"


class FakeSmtp:
    def __init__(self) -> None:
        self.handler = _Handler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.messages)

    @property
    def attempts(self) -> int:
        return self.handler.attempts

    def fail_next(self, count: int, answer: str = "451 4.3.0 Try again later") -> None:
        with self.handler.lock:
            self.handler.failures.extend([answer] * count)

    def __enter__(self) -> FakeSmtp:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
