"""Decision emails over STARTTLS with login, against a real aiosmtpd server holding a certificate from a
private CA that the tests make: delivered when the CA is trusted and the password is right, refused (and
kept for a retry) when the certificate cannot be verified or the login fails."""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd import smtp as aiosmtp
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from openidv.service import notify
from openidv.service.app import build_services
from openidv.service.cases import Services
from openidv.service.lifecycle import CaseState
from tests.service.conftest import make_settings
from tests.service.test_notify import _decide, _deliveries, _free_port, _Inbox, _message

USER, PASSWORD = "openidv", "s3cret-for-tests"


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _make_ca_and_server_cert(folder: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA and a certificate it signs for 127.0.0.1: (ca.pem, server.pem, server.key)."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("openidv test CA"))
        .issuer_name(_name("openidv test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )  # key_cert_sign, crl_sign
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem, cert_pem, key_pem = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return ca_pem, cert_pem, key_pem


def _authenticate(
    server: aiosmtp.SMTP, session: aiosmtp.Session, envelope: aiosmtp.Envelope, mechanism: str, data: object
) -> aiosmtp.AuthResult:
    ok = isinstance(data, aiosmtp.LoginPassword) and (data.login, data.password) == (USER.encode(), PASSWORD.encode())
    return aiosmtp.AuthResult(success=ok, handled=False)  # not handled: the server answers 535 itself


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, _Inbox, Path]]:
    """aiosmtpd that insists on STARTTLS and a login before it takes mail: (port, inbox, CA file)."""
    ca_pem, cert_pem, key_pem = _make_ca_and_server_cert(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_pem, key_pem)
    inbox, port = _Inbox(), _free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=_authenticate,
    )
    controller.start()
    try:
        yield port, inbox, ca_pem
    finally:
        controller.stop()


def _services(tmp_path: Path, database: str, port: int, **smtp: object) -> Services:
    settings = make_settings(
        tmp_path, database, smtp_host="127.0.0.1", smtp_port=port, smtp_from="verify@market.example", **smtp
    )
    return build_services(settings)


def test_email_over_starttls_with_login_to_a_server_with_a_private_ca(
    tmp_path: Path, database: str, tls_server: tuple[int, _Inbox, Path]
) -> None:
    port, inbox, ca_pem = tls_server
    svc = _services(
        tmp_path, database, port, smtp_starttls=True, smtp_ca_file=str(ca_pem), smtp_user=USER, smtp_password=PASSWORD
    )
    try:
        _, ids = _decide(svc, email_to="jane.seller@example.org", outcome=CaseState.APPROVED)
        assert notify.deliver_due(svc) == 1
        assert [e[1] for e in inbox.envelopes] == [["jane.seller@example.org"]]
        assert _message(svc, ids[0]).status == "sent"
    finally:
        svc.engine.dispose()


@pytest.mark.parametrize("failure", ["untrusted_certificate", "wrong_password", "no_starttls"])
def test_refused_tls_or_login_keeps_the_message_for_a_retry(
    tmp_path: Path, database: str, tls_server: tuple[int, _Inbox, Path], failure: str
) -> None:
    port, inbox, ca_pem = tls_server
    smtp: dict[str, object] = {"smtp_starttls": True, "smtp_ca_file": str(ca_pem), "smtp_user": USER}
    if failure == "untrusted_certificate":
        smtp["smtp_ca_file"] = ""  # the system's CAs do not know the test CA
    elif failure == "no_starttls":
        smtp["smtp_starttls"] = False
    smtp["smtp_password"] = "wrong" if failure == "wrong_password" else PASSWORD
    svc = _services(tmp_path, database, port, **smtp)
    try:
        _, ids = _decide(svc, email_to="jane.seller@example.org", outcome=CaseState.APPROVED)
        assert notify.deliver_due(svc) == 0
        assert inbox.envelopes == []
        message = _message(svc, ids[0])
        assert message.status == "pending" and message.attempts == 1, (message.status, message.attempts)
        (attempt,) = _deliveries(svc, ids[0])
        assert not attempt.ok
        expected = {
            "untrusted_certificate": "CERTIFICATE_VERIFY_FAILED",
            "wrong_password": "535",
            "no_starttls": "AUTH extension not supported",  # the password is never sent in clear
        }[failure]
        assert expected in attempt.detail, attempt.detail
    finally:
        svc.engine.dispose()


def test_a_login_without_starttls_to_another_machine_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="STARTTLS"):
        make_settings(tmp_path, smtp_host="mail.example.org", smtp_user=USER, smtp_password=PASSWORD)
    make_settings(tmp_path, smtp_host="mail.example.org", smtp_user=USER, smtp_password=PASSWORD, smtp_starttls=True)
