"""The email platform's settings (SMTP_URL, SMTP_FROM) and login through SMTP AUTH against a real local server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from processes import free_port

from bot import platforms
from bot.config import ConfigError, from_env
from bot.email.port import EmailPort
from bot.email.settings import EmailSettings, email_settings
from bot.email.settings import from_env as email_from_env
from bot.port import DeliveryError
from commands.agenda import reach
from commands.core.replies import Attachment, Reply


@pytest.fixture(autouse=True)
def mail_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reach, "MAIL", reach.MailSetting())


def test_url_with_login_and_starttls() -> None:
    s = email_from_env({"SMTP_URL": "smtp://one%40day:p%40ss@mail.internal:587?starttls=true",
                        "SMTP_FROM": "oneday@northtown.example"})
    assert (s.host, s.port, s.tls, s.starttls, s.username, s.password, s.sender) == (
        "mail.internal", 587, False, True, "one@day", "p@ss", "oneday@northtown.example")
    assert "p@ss" not in repr(s)


def test_smtps_defaults_to_465_and_smtp_to_25() -> None:
    assert email_from_env({"SMTP_URL": "smtps://mail.internal"}).port == 465
    assert email_from_env({"SMTP_URL": "smtp://mail.internal"}).port == 25
    assert not email_from_env({}).configured


@pytest.mark.parametrize(("env", "variable", "shown"), [
    ({"SMTP_URL": "http://user:hunter2@mail.internal"}, "SMTP_URL", "***"),
    ({"SMTP_URL": "smtp://mail.internal?tls=yes"}, "SMTP_URL", "unknown option 'tls'"),
    ({"SMTP_URL": "smtp://mail.internal:99999"}, "SMTP_URL", "valid port"),
    ({"SMTP_URL": "smtps://mail.internal?starttls=true"}, "SMTP_URL", "starttls does not apply"),
    ({"SMTP_FROM": "not an address"}, "SMTP_FROM", "must be an email address"),
])
def test_bad_settings_are_named_with_an_example_and_no_password(env: dict[str, str], variable: str,
                                                                shown: str) -> None:
    with pytest.raises(ConfigError) as err:
        from_env(env)
    assert err.value.variable == variable
    assert shown in str(err.value) and ", e.g. " in str(err.value)
    assert "hunter2" not in str(err.value)


def test_email_is_configured_by_smtp_url_and_tells_commands() -> None:
    settings = from_env({"SMTP_URL": "smtp://127.0.0.1:2525"})
    assert [p.name for p in platforms.configured(settings)] == ["email"]
    assert reach.MAIL.configured
    assert not platforms.get("email").configured(from_env({}))
    assert not reach.MAIL.configured


class _Recorder:
    def __init__(self) -> None:
        self.logins: list[tuple[str, str]] = []
        self.received: list[list[str]] = []

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.logins.append((login, password))
        return AuthResult(success=password == "right", handled=False)  # handled=False: the server answers 535

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(list(envelope.rcpt_tos))
        return "250 OK"


@pytest.fixture
def auth_server() -> Iterator[tuple[_Recorder, int]]:
    recorder = _Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port, authenticator=recorder.authenticate,
                            auth_require_tls=False)
    controller.start()
    try:
        yield recorder, port
    finally:
        controller.stop()


def test_logs_in_when_the_url_has_a_user(auth_server: tuple[_Recorder, int]) -> None:
    recorder, port = auth_server
    good = EmailPort(email_from_env({"SMTP_URL": f"smtp://oneday:right@127.0.0.1:{port}"}))
    ref = good.upload("mailto:liz.grey@cps.example", Attachment("a.ics", "BEGIN:VCALENDAR", "a"), Reply(title="t"))
    assert ref.startswith("<") and len(ref) <= 64
    assert recorder.logins == [("oneday", "right")] and recorder.received == [["liz.grey@cps.example"]]
    bad = EmailPort(email_from_env({"SMTP_URL": f"smtp://oneday:wrong@127.0.0.1:{port}"}))
    with pytest.raises(DeliveryError) as err:
        bad.post("mailto:liz.grey@cps.example", Reply(title="t"))
    assert err.value.permanent and "535" in str(err.value)
    assert recorder.received == [["liz.grey@cps.example"]]


def test_settings_lookup_without_email() -> None:
    assert email_settings(from_env({})) == EmailSettings()


def test_email_alone_does_not_run_oneday() -> None:
    only_mail = from_env({"SMTP_URL": "smtp://127.0.0.1:2525"})
    problem = platforms.get("email").problem(only_mail, serving=False)
    assert problem is not None and "SLACK_BOT_TOKEN" in problem.message
    both = from_env({"SMTP_URL": "smtp://127.0.0.1:2525", "SLACK_BOT_TOKEN": "xoxb-1"})
    assert platforms.get("email").problem(both, serving=False) is None


def _self_signed(tmp_path: Any) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key (PEM files), made here: no file outside the test's directory."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    start = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)  # valid whatever the machine's date
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(start).not_valid_after(start + datetime.timedelta(days=365 * 90))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


def test_starttls_then_login(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import ssl

    import bot.email.port as email_port

    cert, key = _self_signed(tmp_path)
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    # the client checks the server's certificate as in production, trusting only the test's certificate
    original = ssl.create_default_context
    monkeypatch.setattr(email_port.ssl, "create_default_context", lambda: original(cafile=cert))
    recorder, port = _Recorder(), free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port, authenticator=recorder.authenticate,
                            tls_context=server_tls, require_starttls=True)  # AUTH only after STARTTLS
    controller.start()
    try:
        EmailPort(email_from_env({"SMTP_URL": f"smtp://oneday:right@127.0.0.1:{port}?starttls=true"})).post(
            "mailto:fay.moss@health.example", Reply(title="t"))
        plain = EmailPort(email_from_env({"SMTP_URL": f"smtp://oneday:right@127.0.0.1:{port}"}))
        with pytest.raises(DeliveryError) as err:  # without STARTTLS this server offers no login
            plain.post("mailto:fay.moss@health.example", Reply(title="t"))
        assert "starttls=true" in str(err.value) and not err.value.permanent  # retried while the setting is fixed
    finally:
        controller.stop()
    assert recorder.logins == [("oneday", "right")] and recorder.received == [["fay.moss@health.example"]]
