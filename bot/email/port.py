"""The email platform's port (bot/port.py `ChatPort`): a message to an address, through SMTP.

A "channel" here is an address (`mailto:<address>` as the outbox stores it, or the bare address); the Reply
becomes a plain-text email (its title the subject), and an attachment (the itinerary's .ics) a MIME part. Email
has no spaces, forms or modals: those raise a permanent DeliveryError (nothing routes them here).

Failures map to the outbox's retry policy: a 4xx answer, a refused connection or a timeout is retried; a 5xx
answer (unknown mailbox, rejected message) fails the row for good, with the server's answer as the reason. A
connection lost after the message was handed over is `uncertain` (it may have been delivered); email cannot be
asked what it delivered, so the platform does not declare LOOKS_UP_SENT and such a message may arrive twice.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from bot.email.settings import TIMEOUT_SECONDS, EmailSettings
from bot.port import DeliveryError
from commands.agenda.reach import MAILTO
from commands.core.replies import Attachment, Form, Reply

log = logging.getLogger("oneday.email")
REF_LENGTH = 64  # the outbox keeps a sent message's ref in 64 characters (OutboxMessage.sent_ref)


def render(message: Reply) -> str:
    """A Reply as plain text: every line, field and item, then the footer (an email has room for all of it)."""
    parts: list[str] = list(message.lines)
    parts += [f"{name}: {value}" for name, value in message.fields]
    parts += [item.text for item in message.items]
    if message.footer:
        parts += ["", message.footer]
    return "\n".join(parts) + "\n"


def address(channel: str) -> str:
    return channel[len(MAILTO):] if channel.startswith(MAILTO) else channel


class EmailPort:
    platform = "email"

    def __init__(self, settings: EmailSettings) -> None:
        if settings.host is None:
            raise ValueError("the email port needs SMTP_URL")
        self.settings = settings

    # -- sending -------------------------------------------------------------------------------------
    def post(self, channel: str, message: Reply, dedupe_key: str | None = None, *,
             dedupe_id: int | None = None) -> str:
        return self._send(address(channel), message, None)

    def upload(self, channel: str, attachment: Attachment, message: Reply) -> str:
        return self._send(address(channel), message, attachment)

    def build(self, to: str, message: Reply, attachment: Attachment | None) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.settings.sender
        mail["To"] = to
        mail["Subject"] = message.title or message.fallback or "Oneday"
        mail["Message-ID"] = make_msgid(domain=self.settings.sender.rpartition("@")[2] or None)
        mail.set_content(render(message))
        if attachment is not None and attachment.filename.endswith(".ics"):
            # text/calendar with method=PUBLISH: calendar clients offer to add the events
            mail.add_attachment(attachment.data, maintype="text", subtype="calendar",
                                filename=attachment.filename, params={"method": "PUBLISH", "charset": "utf-8"})
        elif attachment is not None:
            mail.add_attachment(attachment.data, maintype="application", subtype="octet-stream",
                                filename=attachment.filename)
        return mail

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        assert s.host is not None
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if s.tls:
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=TIMEOUT_SECONDS, context=context)
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=TIMEOUT_SECONDS)
        try:
            smtp.ehlo()
            if s.starttls:
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.username:
                smtp.login(s.username, s.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _send(self, to: str, message: Reply, attachment: Attachment | None) -> str:
        mail = self.build(to, message, attachment)
        try:
            smtp = self._connect()
        except smtplib.SMTPResponseException as exc:
            raise _answered(exc) from None
        except smtplib.SMTPNotSupportedError as exc:  # a setting to fix (retried meanwhile): say which
            raise DeliveryError(f"SMTP server does not offer what SMTP_URL asks ({exc}); does it need "
                                "?starttls=true, or smtps://?") from None
        except (OSError, smtplib.SMTPException) as exc:  # refused, unreachable, timed out: nothing was sent
            raise DeliveryError(f"SMTP server not reachable: {exc}") from None
        try:
            try:
                refused = smtp.send_message(mail)
            except smtplib.SMTPRecipientsRefused as exc:
                code, answer = next(iter(exc.recipients.values()))
                raise DeliveryError(f"SMTP server refused {to}: {code} {_text(answer)}",
                                    permanent=code >= 500) from None
            except smtplib.SMTPResponseException as exc:
                raise _answered(exc) from None
            except (OSError, smtplib.SMTPException) as exc:  # lost mid-message: it may have been accepted
                raise DeliveryError(f"SMTP connection lost while sending: {exc}", uncertain=True) from None
            if refused:
                code, answer = next(iter(refused.values()))
                raise DeliveryError(f"SMTP server refused {to}: {code} {_text(answer)}", permanent=code >= 500)
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
        log.info("email sent (%s)", mail["Message-ID"])
        return str(mail["Message-ID"])[:REF_LENGTH]

    # -- what email does not have --------------------------------------------------------------------
    def post_ephemeral(self, channel: str, user: str, message: Reply) -> None:
        raise DeliveryError("email has no ephemeral messages", permanent=True)

    def open_dm(self, user: str) -> str:
        """A member's 'DM' by email is their address."""
        return user

    def email_of(self, user: str) -> str | None:
        return user

    def user_for_email(self, email: str) -> str | None:
        return email

    def create_private_space(self, name: str, users: list[str]) -> str:
        raise DeliveryError("email has no private spaces", permanent=True)

    def set_space_members(self, space: str, users: list[str]) -> None:
        raise DeliveryError("email has no private spaces", permanent=True)

    def open_form(self, trigger: str, form: Form) -> None:
        raise DeliveryError("email has no forms", permanent=True)

    def show_modal(self, trigger: str, content: Reply) -> None:
        raise DeliveryError("email has no modals", permanent=True)

    def update_modal(self, view_id: str, content: Reply) -> None:
        raise DeliveryError("email has no modals", permanent=True)


def _text(answer: bytes | str) -> str:
    return answer.decode("utf-8", "replace") if isinstance(answer, bytes) else str(answer)


def _answered(exc: smtplib.SMTPResponseException) -> DeliveryError:
    """An SMTP answer: 5xx is final (retrying cannot help), 4xx is 'try again later'."""
    return DeliveryError(f"SMTP server answered {exc.smtp_code} {_text(exc.smtp_error)}",
                         permanent=exc.smtp_code >= 500)
