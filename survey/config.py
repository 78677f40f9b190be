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


def load_config(instance_path: Path, environ: dict[str, str] | None = None) -> dict:
    """Build the Flask config mapping from environment variables.

    :raise ConfigError: in production without ``SURVEY_SECRET_KEY``, or with an
        unknown ``SURVEY_ENV``.
    """
    env = os.environ if environ is None else environ
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
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Absolute base of the public form URLs that QR codes encode. Posters
        # stay on walls for years, so set it to the service's stable public name.
        "SURVEY_PUBLIC_BASE_URL": env.get("SURVEY_PUBLIC_BASE_URL", "").rstrip("/"),
        "SURVEY_CI_METHOD": ci_method,
        "SURVEY_DEMO": _bool(env.get("SURVEY_DEMO"), default=not production),
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        # A citizen may leave the form open while the desk finishes the dossier.
        "WTF_CSRF_TIME_LIMIT": int(env.get("SURVEY_CSRF_TIME_LIMIT", 6 * 3600)),
        # Far above any honest form post; stops oversized bodies before parsing.
        "MAX_CONTENT_LENGTH": int(env.get("SURVEY_MAX_CONTENT_LENGTH", 64 * 1024)),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(env.get("SURVEY_SECURE_COOKIES"), default=production),
        "TESTING": survey_env == "testing",
        # Integrity of the ratings (survey/integrity.py, survey/tokens.py).
        # Key of the HMACs that replace dossier numbers, device ids and IP
        # addresses; derived from the secret key unless set.
        "SURVEY_HASH_KEY": env.get("SURVEY_HASH_KEY", ""),
        "SURVEY_LIMIT_DEVICE_PER_DAY": int(env.get("SURVEY_LIMIT_DEVICE_PER_DAY", 5)),
        "SURVEY_LIMIT_IP_PER_HOUR": int(env.get("SURVEY_LIMIT_IP_PER_HOUR", 30)),
        "SURVEY_MIN_FILL_SECONDS": float(env.get("SURVEY_MIN_FILL_SECONDS", 5)),
        "SURVEY_HASH_RETENTION_DAYS": int(env.get("SURVEY_HASH_RETENTION_DAYS", 7)),
        "SURVEY_CONTACT_RETENTION_DAYS": int(env.get("SURVEY_CONTACT_RETENTION_DAYS", 90)),
        "SURVEY_TOKEN_DAYS": int(env.get("SURVEY_TOKEN_DAYS", 30)),
        # werkzeug method string for new password hashes (tests set a cheap scrypt).
        "SURVEY_PASSWORD_HASH": env.get("SURVEY_PASSWORD_HASH", "scrypt"),
        "SURVEY_FORWARD_RETIRED_DESKS": _bool(env.get("SURVEY_FORWARD_RETIRED_DESKS"), True),
        # Number of trusted proxies in front of the service that set
        # X-Forwarded-For (0: none, remote_addr is the client).
        "SURVEY_PROXY_FIX_X_FOR": int(env.get("SURVEY_PROXY_FIX_X_FOR", 0)),
        # Rendered charts and reports (survey/render_cache.py): a folder shared
        # by the gunicorn workers, and how many files it may hold.
        "SURVEY_CACHE": _bool(env.get("SURVEY_CACHE"), True),
        "SURVEY_CACHE_DIR": env.get("SURVEY_CACHE_DIR") or str(instance_path / "cache"),
        "SURVEY_CACHE_MAX_ITEMS": int(env.get("SURVEY_CACHE_MAX_ITEMS", 2000)),
        # Public results (/results/<unit>): a figure on fewer responses than this
        # is shown only as "chưa đủ phiếu" (too few to publish).
        "SURVEY_PUBLIC_MIN_RESPONSES": int(env.get("SURVEY_PUBLIC_MIN_RESPONSES", 30)),
    }
