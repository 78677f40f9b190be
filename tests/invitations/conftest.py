from __future__ import annotations

import pytest

from tests.notify.servers import Receiver
from tests.notify.servers import SmtpServer


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def gateway():
    """A real HTTP server on loopback standing in for the SMS gateway."""
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def zalo():
    """A real HTTP server on loopback standing in for the Zalo bridge."""
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def invite_app(officers, smtp, gateway, zalo):
    """Demo units and officers; the SMS gateway, the Zalo bridge and the SMTP server are
    real servers on loopback."""
    app = officers
    app.config.update(
        SURVEY_SMTP_HOST="127.0.0.1",
        SURVEY_SMTP_PORT=smtp.port,
        SURVEY_SMTP_STARTTLS=False,
        SURVEY_SMTP_TIMEOUT=5,
        SURVEY_MAIL_FROM="khaosat@camgiang.gov.vn",
        SURVEY_SMS_GATEWAY_URL=gateway.url,
        SURVEY_SMS_GATEWAY_TOKEN="gw-secret-token",
        SURVEY_SMS_SENDER="UBND-CAMGIANG",
        SURVEY_SMS_TIMEOUT=5,
        SURVEY_ZALO_WEBHOOK_URL=zalo.url,
        SURVEY_ZALO_WEBHOOK_SECRET="zalo-secret",
        SURVEY_MIN_FILL_SECONDS=0,
        SURVEY_OUTBOX_BACKOFF=30,
        SURVEY_INVITATION_REMINDER_DAYS=3,
    )
    return app


@pytest.fixture
def api_key(invite_app):
    runner = invite_app.test_cli_runner()
    result = runner.invoke(args=["survey", "create-api-key", "HD-CG-LC", "--label", "Một cửa"])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]
