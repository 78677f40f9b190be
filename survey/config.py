"""Configuration read from the environment.

Every setting has an environment variable (documented in README.md). Nothing is
read at import time: :func:`load_config` is called by :func:`survey.create_app`.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

#: Settings that come straight from the environment, with their defaults.
ENVIRONMENTS = ("development", "production", "testing")
CI_METHODS = ("exact", "wilson", "jeffreys")


class ConfigError(RuntimeError):
    """Raised when the service must not start with the configuration it was given."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _number(env, name: str, default, kind: type[int] | type[float]):
    """The setting ``name`` read as ``kind``; a value that is not one stops the service
    with its name, rather than a bare ValueError."""
    value = env.get(name)
    if value is None or value.strip() == "":
        return kind(default)
    try:
        return kind(value)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise ConfigError(f"{name} must be {what}, not {value!r}") from None


def _dev_secret(instance_path: Path) -> str:
    """Return a random secret kept in ``instance/secret_key`` for development.

    Generated once per machine so that every gunicorn worker signs sessions with
    the same key; never a value written in the source.
    """
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()


_URLS = ("DATABASE_URL", "DATABASE_REPLICA_URL")


def _with_file_settings(env) -> dict[str, str]:
    """Return ``env`` with each ``X_FILE`` setting replaced by the file's content as ``X``.

    Container secrets arrive as files (``/run/secrets/…``), so any ``SURVEY_*``
    setting, ``DATABASE_URL`` and ``DATABASE_REPLICA_URL`` may name a file instead;
    its trailing newline is dropped. Setting both ``X`` and ``X_FILE`` is refused: which one wins
    would be a guess.
    """
    merged = dict(env)
    for key, path in env.items():
        name = key.removesuffix("_FILE")
        if name == key or not path or not (name.startswith("SURVEY_") or name in _URLS):
            continue
        if env.get(name):
            raise ConfigError(f"{name} and {key} are both set: set only one")
        try:
            merged[name] = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise ConfigError(f"{key}: cannot read {path}: {exc.strerror}") from exc
    return merged


def load_config(instance_path: Path, environ: dict[str, str] | None = None) -> dict:
    """Build the Flask config mapping from environment variables.

    :raise ConfigError: in production without ``SURVEY_SECRET_KEY``, with an
        unknown ``SURVEY_ENV``, or with an unreadable ``*_FILE`` setting.
    """
    env = _with_file_settings(os.environ if environ is None else environ)
    survey_env = env.get("SURVEY_ENV", "development")
    if survey_env not in ENVIRONMENTS:
        raise ConfigError(f"SURVEY_ENV ({survey_env!r}) must be one of {', '.join(ENVIRONMENTS)}")

    secret = env.get("SURVEY_SECRET_KEY", "")
    if not secret:
        if survey_env == "production":
            raise ConfigError(
                "SURVEY_SECRET_KEY is not set: production refuses to start without a secret key"
            )
        secret = _dev_secret(instance_path)

    public_base = env.get("SURVEY_PUBLIC_BASE_URL", "").strip().rstrip("/")
    if survey_env == "production" and not public_base.startswith(("https://", "http://")):
        # Otherwise the request's Host header, which any client sets, decides the
        # address printed into QR codes and posters that stay on walls for years.
        raise ConfigError(
            "SURVEY_PUBLIC_BASE_URL is not set: production refuses to start without the "
            "service's public address (e.g. https://khaosat.ubnd.example.vn)"
        )

    ci_method = env.get("SURVEY_CI_METHOD", "exact")
    if ci_method not in CI_METHODS:
        raise ConfigError(
            f"SURVEY_CI_METHOD ({ci_method!r}) must be one of {', '.join(CI_METHODS)}"
        )

    database_url = env.get("DATABASE_URL") or f"sqlite:///{instance_path / 'survey.db'}"
    production = survey_env == "production"
    return {
        "SURVEY_ENV": survey_env,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": database_url,
        # Pooled connections are pinged before use only after this many seconds
        # idle (survey/data/liveness.py), not at every request as pool_pre_ping.
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "SURVEY_DB_PING_IDLE_SECONDS": _number(env, "SURVEY_DB_PING_IDLE_SECONDS", 1.0, float),
        # A PostgreSQL streaming replica for dashboards, downloads and the read API
        # (survey/web/replica.py); empty: everything reads from DATABASE_URL.
        "DATABASE_REPLICA_URL": env.get("DATABASE_REPLICA_URL", ""),
        # Seconds the replica's replay may be behind before pages say how old their
        # figures are.
        "SURVEY_REPLICA_MAX_LAG": _number(env, "SURVEY_REPLICA_MAX_LAG", 60, float),
        # Absolute base of the public form URLs that QR codes encode. Posters
        # stay on walls for years, so set it to the service's stable public name.
        "SURVEY_PUBLIC_BASE_URL": public_base,
        "SURVEY_CI_METHOD": ci_method,
        "SURVEY_DEMO": _bool(env.get("SURVEY_DEMO"), default=not production),
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        # A citizen may leave the form open while the desk finishes the dossier.
        "WTF_CSRF_TIME_LIMIT": _number(env, "SURVEY_CSRF_TIME_LIMIT", 6 * 3600, int),
        # Far above any honest form post; stops oversized bodies before parsing.
        "MAX_CONTENT_LENGTH": _number(env, "SURVEY_MAX_CONTENT_LENGTH", 64 * 1024, int),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(env.get("SURVEY_SECURE_COOKIES"), default=production),
        "TESTING": survey_env == "testing",
        # Integrity of the ratings (survey/integrity.py, survey/tokens.py).
        # Key of the HMACs that replace dossier numbers, device ids and IP
        # addresses; derived from the secret key unless set.
        "SURVEY_HASH_KEY": env.get("SURVEY_HASH_KEY", ""),
        "SURVEY_LIMIT_DEVICE_PER_DAY": _number(env, "SURVEY_LIMIT_DEVICE_PER_DAY", 5, int),
        # Beyond this many open-QR ratings an hour from one address, ratings are
        # stored but flagged ("burst"), never refused: an attacker on a desk's
        # Wi-Fi cannot lock honest citizens out. Only a flood beyond the hard
        # limit is refused (429).
        "SURVEY_LIMIT_IP_PER_HOUR": _number(env, "SURVEY_LIMIT_IP_PER_HOUR", 30, int),
        "SURVEY_LIMIT_IP_HARD_PER_HOUR": _number(env, "SURVEY_LIMIT_IP_HARD_PER_HOUR", 300, int),
        # Counted open-QR ratings per desk in an hour / 24 hours; beyond them a
        # rating is stored but flagged "burst". 0: derived from the unit's dossier
        # volumes (integrity/guard.py desk_ceiling); -1: no ceiling.
        "SURVEY_DESK_MAX_PER_HOUR": _number(env, "SURVEY_DESK_MAX_PER_HOUR", 0, int),
        # A second open-QR rating of a desk from the same phone within this many
        # minutes replaces the first (kept, flagged "replaced"). 0: never.
        "SURVEY_REPLACE_MINUTES": _number(env, "SURVEY_REPLACE_MINUTES", 30, int),
        "SURVEY_DESK_MAX_PER_DAY": _number(env, "SURVEY_DESK_MAX_PER_DAY", 0, int),
        "SURVEY_MIN_FILL_SECONDS": _number(env, "SURVEY_MIN_FILL_SECONDS", 5, float),
        "SURVEY_HASH_RETENTION_DAYS": _number(env, "SURVEY_HASH_RETENTION_DAYS", 7, int),
        "SURVEY_CONTACT_RETENTION_DAYS": _number(env, "SURVEY_CONTACT_RETENTION_DAYS", 90, int),
        "SURVEY_TOKEN_DAYS": _number(env, "SURVEY_TOKEN_DAYS", 30, int),
        # werkzeug method string for new password hashes (tests set a cheap scrypt).
        "SURVEY_PASSWORD_HASH": env.get("SURVEY_PASSWORD_HASH", "scrypt"),
        "SURVEY_FORWARD_RETIRED_DESKS": _bool(env.get("SURVEY_FORWARD_RETIRED_DESKS"), True),
        # Number of trusted proxies in front of the service that set
        # X-Forwarded-For (0: none, remote_addr is the client).
        "SURVEY_PROXY_FIX_X_FOR": _number(env, "SURVEY_PROXY_FIX_X_FOR", 0, int),
        # Rendered charts and reports (survey/render_cache.py): a folder shared
        # by the gunicorn workers, and how many files it may hold.
        "SURVEY_CACHE": _bool(env.get("SURVEY_CACHE"), True),
        "SURVEY_CACHE_DIR": env.get("SURVEY_CACHE_DIR") or str(instance_path / "cache"),
        "SURVEY_CACHE_MAX_ITEMS": _number(env, "SURVEY_CACHE_MAX_ITEMS", 2000, int),
        # Alerts and scheduled messages (survey/notify): e-mail over SMTP and a
        # signed JSON webhook, sent by `flask survey worker` from the outbox.
        "SURVEY_SMTP_HOST": env.get("SURVEY_SMTP_HOST", ""),
        "SURVEY_SMTP_PORT": _number(env, "SURVEY_SMTP_PORT", 587, int),
        "SURVEY_SMTP_STARTTLS": _bool(env.get("SURVEY_SMTP_STARTTLS"), True),
        "SURVEY_SMTP_USER": env.get("SURVEY_SMTP_USER", ""),
        "SURVEY_SMTP_PASSWORD": env.get("SURVEY_SMTP_PASSWORD", ""),
        # A CA bundle to trust for STARTTLS (a province's own CA); empty: the system's.
        "SURVEY_SMTP_CA_FILE": env.get("SURVEY_SMTP_CA_FILE", ""),
        "SURVEY_SMTP_TIMEOUT": _number(env, "SURVEY_SMTP_TIMEOUT", 20, float),
        "SURVEY_MAIL_FROM": env.get("SURVEY_MAIL_FROM", ""),
        "SURVEY_WEBHOOK_URL": env.get("SURVEY_WEBHOOK_URL", ""),
        "SURVEY_WEBHOOK_SECRET": env.get("SURVEY_WEBHOOK_SECRET", ""),
        "SURVEY_WEBHOOK_TIMEOUT": _number(env, "SURVEY_WEBHOOK_TIMEOUT", 10, float),
        "SURVEY_WORKER_INTERVAL": _number(env, "SURVEY_WORKER_INTERVAL", 5, float),
        # The rollup's counting job (survey/data/counting.py): a thread per worker
        # counts the responses form posts store uncounted, this long after a post
        # (later posts join the batch), and looks again at this interval anyway.
        "SURVEY_ROLLUP_BACKGROUND": _bool(env.get("SURVEY_ROLLUP_BACKGROUND"), True),
        "SURVEY_ROLLUP_COUNT_DELAY_SECONDS": _number(
            env, "SURVEY_ROLLUP_COUNT_DELAY_SECONDS", 1, float
        ),
        "SURVEY_ROLLUP_COUNT_INTERVAL_SECONDS": _number(
            env, "SURVEY_ROLLUP_COUNT_INTERVAL_SECONDS", 30, float
        ),
        "SURVEY_WORKER_BATCH": _number(env, "SURVEY_WORKER_BATCH", 100, int),
        # A claimed message not confirmed within the lease is sent again (same
        # key): longer than the slowest send, so a live worker is never overtaken.
        "SURVEY_OUTBOX_LEASE": _number(env, "SURVEY_OUTBOX_LEASE", 120, float),
        "SURVEY_OUTBOX_MAX_ATTEMPTS": _number(env, "SURVEY_OUTBOX_MAX_ATTEMPTS", 15, int),
        "SURVEY_OUTBOX_BACKOFF": _number(env, "SURVEY_OUTBOX_BACKOFF", 30, float),
        "SURVEY_OUTBOX_BACKOFF_MAX": _number(env, "SURVEY_OUTBOX_BACKOFF_MAX", 3600, float),
        # Invitations to rate dossiers filed online (survey/invitations): an HTTP
        # SMS gateway (JSON POST with a bearer token), the Zalo bridge's webhook
        # (signed like the alerts' webhook), and the one reminder's delay.
        "SURVEY_SMS_GATEWAY_URL": env.get("SURVEY_SMS_GATEWAY_URL", ""),
        "SURVEY_SMS_GATEWAY_TOKEN": env.get("SURVEY_SMS_GATEWAY_TOKEN", ""),
        "SURVEY_SMS_SENDER": env.get("SURVEY_SMS_SENDER", ""),
        "SURVEY_SMS_TIMEOUT": _number(env, "SURVEY_SMS_TIMEOUT", 10, float),
        "SURVEY_ZALO_WEBHOOK_URL": env.get("SURVEY_ZALO_WEBHOOK_URL", ""),
        "SURVEY_ZALO_WEBHOOK_SECRET": env.get("SURVEY_ZALO_WEBHOOK_SECRET", ""),
        # Days after the invitation before the one reminder (0: no reminder).
        "SURVEY_INVITATION_REMINDER_DAYS": _number(env, "SURVEY_INVITATION_REMINDER_DAYS", 3, int),
        # Cases (survey/notify/cases.py): working days to answer a harassment
        # report or a low rating with a comment, then more before the district hears.
        "SURVEY_CASE_WORKING_DAYS": _number(env, "SURVEY_CASE_WORKING_DAYS", 3, int),
        "SURVEY_CASE_DISTRICT_DAYS": _number(env, "SURVEY_CASE_DISTRICT_DAYS", 2, int),
        # Public results (/results/<unit>): a figure on fewer responses than this
        # is shown only as "chưa đủ phiếu" (too few to publish).
        "SURVEY_PUBLIC_MIN_RESPONSES": _number(env, "SURVEY_PUBLIC_MIN_RESPONSES", 30, int),
        # Paper ballots (survey/paper): the share of entered ballots chosen at random
        # for a second officer's re-keying (0: none, 1: all), and the most ballots
        # printed at once (one PDF, rendered while the officer waits).
        "SURVEY_PAPER_RECHECK_SHARE": _number(env, "SURVEY_PAPER_RECHECK_SHARE", 0.1, float),
        "SURVEY_PAPER_MAX_BATCH": _number(env, "SURVEY_PAPER_MAX_BATCH", 500, int),
        # Kiosks (survey/kiosk): a tablet shared by everyone at a desk has no
        # per-phone limit, only a minimum gap between two of its ratings.
        "SURVEY_KIOSK_MIN_GAP_SECONDS": _number(env, "SURVEY_KIOSK_MIN_GAP_SECONDS", 10, float),
        "SURVEY_KIOSK_CODE_MINUTES": _number(env, "SURVEY_KIOSK_CODE_MINUTES", 10, int),
        "SURVEY_KIOSK_DAYS": _number(env, "SURVEY_KIOSK_DAYS", 180, int),
        "SURVEY_KIOSK_IDLE_SECONDS": _number(env, "SURVEY_KIOSK_IDLE_SECONDS", 60, int),
        "SURVEY_KIOSK_PIN_ATTEMPTS": _number(env, "SURVEY_KIOSK_PIN_ATTEMPTS", 5, int),
        "SURVEY_KIOSK_PIN_LOCK_MINUTES": _number(env, "SURVEY_KIOSK_PIN_LOCK_MINUTES", 15, int),
        # Field interviews (survey/interviews): how far an interviewer's device clock
        # may run ahead of the server's, and how long an interview queued offline
        # may wait before it is sent (it is judged by the time it started).
        "SURVEY_INTERVIEW_CLOCK_MINUTES": _number(env, "SURVEY_INTERVIEW_CLOCK_MINUTES", 15, int),
        "SURVEY_INTERVIEW_SEND_DAYS": _number(env, "SURVEY_INTERVIEW_SEND_DAYS", 7, int),
        # Quality checks the district reads: interviews shorter than this many
        # seconds, and one interviewer's same full set of answers repeated at
        # least SAME_MIN times and in more than SAME_SHARE of their interviews.
        "SURVEY_INTERVIEW_MIN_SECONDS": _number(env, "SURVEY_INTERVIEW_MIN_SECONDS", 120, int),
        "SURVEY_INTERVIEW_SAME_SHARE": _number(env, "SURVEY_INTERVIEW_SAME_SHARE", 0.2, float),
        "SURVEY_INTERVIEW_SAME_MIN": _number(env, "SURVEY_INTERVIEW_SAME_MIN", 5, int),
        # Officers' figures (/units/<unit>/officers): no rate, interval or verdict
        # of an officer on fewer counted ratings than this (a few judge unfairly).
        "SURVEY_OFFICER_MIN_RATINGS": _number(env, "SURVEY_OFFICER_MIN_RATINGS", 30, int),
    }
