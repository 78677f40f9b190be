"""The two ways a message leaves: e-mail over SMTP and a signed JSON webhook.

Plain settings in, a result out; no database. Each send says whether a failure
is worth retrying (a server down, refusing for now, timing out) or final (a
recipient the server rejects for good), so the worker neither gives up on a
bad hour nor retries an address that will never work.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

SIGNATURE_HEADER = "X-Sipas-Signature"
TIMESTAMP_HEADER = "X-Sipas-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"


class SendError(Exception):
    """A message was not delivered. ``final``: sending it again cannot help."""

    def __init__(self, reason: str, *, final: bool = False, server_down: bool = False) -> None:
        super().__init__(reason)
        self.final = final
        # The server itself could not be used (down, refusing connections,
        # timing out): the rest of the batch would fail the same way.
        self.server_down = server_down


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    starttls: bool = True
    user: str = ""
    password: str = ""
    sender: str = ""
    timeout: float = 20.0
    ca_file: str = ""

    @classmethod
    def from_config(cls, config) -> SmtpSettings:
        return cls(
            host=config["SURVEY_SMTP_HOST"],
            port=config["SURVEY_SMTP_PORT"],
            starttls=config["SURVEY_SMTP_STARTTLS"],
            user=config["SURVEY_SMTP_USER"],
            password=config["SURVEY_SMTP_PASSWORD"],
            sender=config["SURVEY_MAIL_FROM"],
            timeout=config["SURVEY_SMTP_TIMEOUT"],
            ca_file=config["SURVEY_SMTP_CA_FILE"],
        )


def message_id(key: str, sender: str) -> str:
    """The Message-ID a key always gives: a resent message carries the same one.

    >>> message_id("alert-harassment-LC-7-7-o3", "khaosat@laicach.gov.vn")
    '<alert-harassment-LC-7-7-o3@laicach.gov.vn>'
    """
    domain = sender.rsplit("@", 1)[-1] if "@" in sender else "sipas-survey.invalid"
    return f"<{key}@{domain}>"


def build_email(key: str, sender: str, to: str, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = message_id(key, sender)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(body, charset="utf-8")
    return msg


class Mailer:
    """One SMTP connection reused for a batch, reopened after a failure."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if not s.host:
            raise SendError("SURVEY_SMTP_HOST is not set")
        smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            smtp.ehlo()
            if s.starttls:
                context = ssl.create_default_context(cafile=s.ca_file or None)
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.user:
                smtp.login(s.user, s.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, key: str, to: str, subject: str, body: str) -> None:
        """:raise SendError: not delivered (``final`` when the server refuses it for good)."""
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            msg = build_email(key, self.settings.sender, to, subject, body)
            self._smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            # 5xx for the address: it will never work; 4xx: try later.
            raise SendError(
                f"recipient refused: {exc.recipients}", final=all(c >= 500 for c in codes)
            ) from exc
        except smtplib.SMTPResponseException as exc:
            self.close()
            raise SendError(
                f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", server_down=exc.smtp_code in (421, 454)
            ) from exc
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            self.close()
            raise SendError(f"{type(exc).__name__}: {exc}", server_down=True) from exc

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None


def check_smtp(settings: SmtpSettings) -> None:
    """Connect, STARTTLS and sign in as configured, send nothing.

    :raise SendError: with the reason, for the operator.
    """
    mailer = Mailer(settings)
    try:
        mailer._smtp = mailer._connect()
    except smtplib.SMTPAuthenticationError as exc:
        raise SendError(
            f"the SMTP server refused the user name or password ({exc.smtp_code})"
        ) from None
    except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        raise SendError(
            f"cannot reach the SMTP server {settings.host}:{settings.port}: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    finally:
        mailer.close()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The webhook signature: HMAC-SHA256 of ``timestamp + "." + body`` with the secret.

    >>> sign("s3cret", "1700000000", b'{"id":"x"}')[:20]
    'sha256=2382c1d0968a5'
    """
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def post_webhook(url: str, secret: str, key: str, payload: dict, timeout: float) -> None:
    """POST the JSON with its signature and idempotency key.

    2xx is delivered; 408, 429 and 5xx are tried again later; other 4xx are final.

    :raise SendError: not delivered.
    """
    if not url.startswith(("https://", "http://")):
        raise SendError(f"the webhook URL {url!r} is not http(s)", final=True)
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
    stamp = str(int(time.time()))
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "sipas-survey",
            IDEMPOTENCY_HEADER: key,
            TIMESTAMP_HEADER: stamp,
            SIGNATURE_HEADER: sign(secret, stamp, body),
        },
    )
    try:
        # The scheme is checked above: http(s) only, never file: or a custom one.
        with urllib.request.urlopen(request, timeout=timeout) as response:  # nosec B310
            response.read()
    except urllib.error.HTTPError as exc:
        final = 400 <= exc.code < 500 and exc.code not in (408, 425, 429)
        raise SendError(f"webhook answered {exc.code}", final=final) from exc
    except (TimeoutError, urllib.error.URLError, OSError) as exc:
        raise SendError(f"webhook unreachable: {exc}", server_down=True) from exc


def post_sms(
    url: str, token: str, key: str, to: str, text: str, sender: str, timeout: float
) -> None:
    """Hand one SMS to the HTTP gateway: ``POST url`` with JSON
    ``{"id", "to", "text", "sender"}``, ``Authorization: Bearer <token>`` and the
    ``Idempotency-Key`` header (a resend after a lost answer carries the same key).

    2xx is accepted; 408, 425, 429 and 5xx, a time-out or a refused connection are
    tried again later; other 4xx (a number the gateway refuses) are final.

    :raise SendError: not handed over.
    """
    if not url:
        # Nothing lost: the message waits in the outbox until the gateway is set.
        raise SendError("SURVEY_SMS_GATEWAY_URL is not set", server_down=True)
    if not url.startswith(("https://", "http://")):
        raise SendError(f"the SMS gateway URL {url!r} is not http(s)", final=True)
    body = json.dumps(
        {"id": key, "to": to, "text": text, "sender": sender}, ensure_ascii=False
    ).encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "sipas-survey",
        IDEMPOTENCY_HEADER: key,
    }
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        # The scheme is checked above: http(s) only.
        with urllib.request.urlopen(request, timeout=timeout) as response:  # nosec B310
            response.read()
    except urllib.error.HTTPError as exc:
        final = 400 <= exc.code < 500 and exc.code not in (408, 425, 429)
        raise SendError(f"SMS gateway answered {exc.code}", final=final) from exc
    except (TimeoutError, urllib.error.URLError, OSError) as exc:
        raise SendError(f"SMS gateway unreachable: {exc}", server_down=True) from exc
