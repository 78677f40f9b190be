"""STARTTLS and sign-in against a real SMTP server on loopback that requires both,
with a certificate made for the test (the service trusts it by SURVEY_SMTP_CA_FILE)."""

from __future__ import annotations

import shutil
import ssl
import subprocess

import pytest
from aiosmtpd.smtp import AuthResult

from survey.data.models import utcnow
from survey.notify import worker
from tests.conftest import skip_or_fail
from tests.notify.servers import SmtpServer
from tests.notify.test_delivery import _outbox
from tests.notify.test_delivery import _queue


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    if shutil.which("openssl") is None:
        skip_or_fail("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"khaosat" and auth_data.password == b"mat-khau-dung"
    # handled=False: aiosmtpd answers a refusal with 535 itself.
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def tls_smtp(certificate):
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = SmtpServer(
        tls_context=context,
        require_starttls=True,
        authenticator=_authenticator,
        auth_required=True,
    ).start()
    yield server
    server.stop()


def test_starttls_and_sign_in_deliver(mail_app, tls_smtp, certificate, runner):
    mail_app.config.update(
        SURVEY_SMTP_PORT=tls_smtp.port,
        SURVEY_SMTP_STARTTLS=True,
        SURVEY_SMTP_CA_FILE=str(certificate[0]),
        SURVEY_SMTP_USER="khaosat",
        SURVEY_SMTP_PASSWORD="mat-khau-dung",
    )
    assert runner.invoke(args=["survey", "check-channels"]).exit_code == 0
    _queue(mail_app, 2)
    with mail_app.app_context():
        assert worker.send_due().sent == 2
    assert len(tls_smtp.inbox.messages) == 2


def test_wrong_password_keeps_messages_queued_and_is_named(mail_app, tls_smtp, certificate, runner):
    mail_app.config.update(
        SURVEY_SMTP_PORT=tls_smtp.port,
        SURVEY_SMTP_STARTTLS=True,
        SURVEY_SMTP_CA_FILE=str(certificate[0]),
        SURVEY_SMTP_USER="khaosat",
        SURVEY_SMTP_PASSWORD="sai",
    )
    result = runner.invoke(args=["survey", "check-channels"])
    assert result.exit_code == 1 and "refused the user name or password" in result.output
    _queue(mail_app, 1)
    with mail_app.app_context():
        assert worker.send_due().failed == 1
    assert _outbox(mail_app)[0].status == "pending"
    mail_app.config["SURVEY_SMTP_PASSWORD"] = "mat-khau-dung"  # the operator fixes it
    with mail_app.app_context():
        assert worker.send_due(now=utcnow().replace(year=utcnow().year + 1)).sent == 1


def test_an_untrusted_certificate_is_refused(mail_app, tls_smtp):
    mail_app.config.update(SURVEY_SMTP_PORT=tls_smtp.port, SURVEY_SMTP_STARTTLS=True)
    _queue(mail_app, 1)
    with mail_app.app_context():
        report = worker.send_due()
    assert report.failed == 1 and "CERTIFICATE_VERIFY_FAILED" in _outbox(mail_app)[0].last_error
