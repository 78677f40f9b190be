from __future__ import annotations

import pytest
import sqlalchemy as sa

from survey.data.models import Officer
from survey.extensions import db
from tests.notify.servers import Receiver
from tests.notify.servers import SmtpServer


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def mail_app(officers, smtp):
    """The demo units and officers; laicach (commune) and camgiang (district) have
    e-mail addresses; the SMTP server is a real one on loopback (no TLS)."""
    app = officers
    app.config.update(
        SURVEY_SMTP_HOST="127.0.0.1",
        SURVEY_SMTP_PORT=smtp.port,
        SURVEY_SMTP_STARTTLS=False,
        SURVEY_SMTP_TIMEOUT=5,
        SURVEY_MAIL_FROM="khaosat@camgiang.gov.vn",
        SURVEY_MIN_FILL_SECONDS=0,
        SURVEY_OUTBOX_BACKOFF=30,
    )
    with app.app_context():
        for username, address in (
            ("laicach", "laicach@camgiang.gov.vn"),
            ("camgiang", "noivu@camgiang.gov.vn"),
        ):
            officer = db.session.scalar(sa.select(Officer).where(Officer.username == username))
            officer.email = address
        db.session.commit()
    return app
