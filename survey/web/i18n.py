"""Language choice and local formatting (Vietnamese first, English available).

A citizen picks the language with ``?lang=en`` (or ``vi``); the choice is kept
in a cookie. Without a choice the service speaks Vietnamese, whatever the
phone's settings, because the forms are for Vietnamese offices.
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask import current_app
from flask import g
from flask import has_request_context
from flask import request
from flask_babel import format_decimal
from flask_babel import get_locale

from survey.domain.periods import LOCAL_TZ

LANGUAGES = ("vi", "en")
LANG_COOKIE = "lang"


def select_locale() -> str:
    """The language for this request: ``?lang=``, then the cookie, then Vietnamese
    (also outside a request: the CLI and the worker speak Vietnamese)."""
    if not has_request_context():
        return "vi"
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        g.lang_changed = asked
        return asked
    cookie = request.cookies.get(LANG_COOKIE)
    return cookie if cookie in LANGUAGES else "vi"


def select_timezone() -> str:
    return "Asia/Ho_Chi_Minh"


def current_lang() -> str:
    return str(get_locale() or "vi")


def pick(texts: dict[str, str]) -> str:
    """The text of a ``{"vi": ..., "en": ...}`` mapping in the current language."""
    return texts.get(current_lang()) or texts.get("vi") or ""


def local_date(value: datetime) -> str:
    """dd/mm/yyyy in Vietnam's time zone."""
    return value.astimezone(LOCAL_TZ).strftime("%d/%m/%Y")


def local_datetime(value: datetime) -> str:
    """dd/mm/yyyy HH:MM in Vietnam's time zone."""
    return value.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M")


def percent(value: float | None, digits: int = 1) -> str:
    """A rate as a percentage with the locale's decimal mark (``91,7%`` in Vietnamese)."""
    if value is None:
        return "–"
    pattern = "#,##0." + "0" * digits if digits else "#,##0"
    return f"{format_decimal(value * 100, format=pattern)}%"


def _remember_language(response):
    changed = g.get("lang_changed")
    if changed:
        response.set_cookie(
            LANG_COOKIE,
            changed,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            httponly=True,
            secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
        )
    return response


def init_app(app: Flask) -> None:
    app.after_request(_remember_language)
    app.jinja_env.globals.update(pick=pick, current_lang=current_lang, LANGUAGES=LANGUAGES)
    app.jinja_env.filters.update(
        local_date=local_date, local_datetime=local_datetime, percent=percent
    )
