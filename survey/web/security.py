"""Security headers on every response; bounded request bodies (size, JSON depth)."""

from __future__ import annotations

import io

from flask import Flask
from flask import abort
from flask import request
from flask.json.provider import DefaultJSONProvider
from markupsafe import Markup

from survey.domain.text import strip_invisible

# No inline script anywhere, no third-party origin: the form must work on a
# weak connection with nothing but this server.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


# Officers' pages, JSON and downloads carry comments and contact details: no
# browser or proxy cache may keep them (public pages keep their own caching).
_PRIVATE_PREFIXES = ("/officer", "/units/", "/reports/", "/api/v1/units/", "/login", "/logout")


def _headers(response):
    if request.path.startswith(_PRIVATE_PREFIXES):
        response.headers["Cache-Control"] = "private, no-store"
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _refuse_null_characters():
    """400 for a NUL character in the path, query, form or JSON body.

    No text this service accepts may contain one, and PostgreSQL cannot store
    or even compare it: a lookup with one used to fail with a 500.
    """
    pairs = list(request.args.items(multi=True))
    # The citizen's form strips control characters from its text itself, so
    # a stray one in a comment never costs the citizen their answers.
    if request.mimetype in _FORM_TYPES and request.endpoint != "public.respond":
        pairs += request.form.items(multi=True)
    texts = [request.path, *(text for pair in pairs for text in pair)]
    if request.mimetype == "multipart/form-data":
        texts += [upload.filename or "" for upload in request.files.values()]
    if any("\x00" in text for text in texts):
        abort(400)
    if request.is_json and b"\\u0000" in request.get_data(cache=True):
        abort(400)


# -- bodies without a length -------------------------------------------------

_TOO_LARGE = "survey.body_too_large"


class BoundedBody:
    """WSGI middleware holding chunked and length-less bodies to ``MAX_CONTENT_LENGTH``.

    Werkzeug checks a declared Content-Length against the limit, but a chunked
    body has none: it read the body up to the limit and silently dropped the
    rest, so a truncated form was stored. Here such a body is read (at most one
    byte past the limit) before the application sees it: within the limit it is
    handed on with its length set; beyond it the request is answered 413.
    """

    def __init__(self, wsgi_app, flask_app: Flask) -> None:
        self.wsgi_app = wsgi_app
        self.flask_app = flask_app

    def __call__(self, environ, start_response):
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if environ.get("CONTENT_LENGTH") in (None, "") and (
            chunked or environ.get("wsgi.input_terminated")
        ):
            limit = self.flask_app.config.get("MAX_CONTENT_LENGTH") or 0
            body = _read_at_most(environ["wsgi.input"], limit + 1) if limit else b""
            if limit and len(body) > limit:
                environ[_TOO_LARGE] = True
                body = b""
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            environ.pop("wsgi.input_terminated", None)
            environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.wsgi_app(environ, start_response)


def _read_at_most(stream, size: int) -> bytes:
    parts, left = [], size
    while left > 0:
        chunk = stream.read(min(left, 65536))
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def _refuse_oversized_body():
    if request.environ.get(_TOO_LARGE):
        abort(413)


# -- JSON ----------------------------------------------------------------------

#: Deeper than any body the API accepts ({"rows": [{...}]} is three levels).
MAX_JSON_DEPTH = 20


class BoundedJSONProvider(DefaultJSONProvider):
    """JSON bodies bounded in depth and holding only text PostgreSQL can store.

    Python's parser recurses once per level: ten thousand ``[`` raised
    RecursionError (a 500). A lone surrogate (``"\\ud800"``) parses into a string
    no database can encode. Both are a ValueError now, which Flask answers 400.
    """

    def loads(self, s, **kwargs):
        text = s.decode("utf-8", "replace") if isinstance(s, bytes | bytearray) else s
        if json_depth(text) > MAX_JSON_DEPTH:
            raise ValueError("JSON nested too deeply")
        value = super().loads(s, **kwargs)
        _check_text(value)
        return value


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in ``text`` (strings skipped)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_JSON_DEPTH:
                return deepest
        elif char in "]}":
            depth -= 1
    return deepest


def _check_text(value) -> None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("JSON text with a lone surrogate") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)


def _finalize(value):
    """Every value a template prints, without direction or zero-width controls (a
    comment could otherwise read backwards in the inbox). Markup the application
    built itself is left as it is."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return strip_invisible(value)
    return value


def init_app(app: Flask) -> None:
    app.jinja_env.finalize = _finalize
    app.wsgi_app = BoundedBody(app.wsgi_app, app)
    app.json = BoundedJSONProvider(app)
    # First of all: nothing may read a body that was cut at the limit.
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_oversized_body)
    app.before_request(_refuse_null_characters)
    app.after_request(_headers)
