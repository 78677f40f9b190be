"""Security headers on every response."""

from flask import Flask
from flask import abort
from flask import request

# No inline script anywhere, no third-party origin: the form must work on a
# weak connection with nothing but this server.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def _headers(response):
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
    if any("\x00" in text for text in texts):
        abort(400)
    if request.is_json and b"\\u0000" in request.get_data(cache=True):
        abort(400)


def init_app(app: Flask) -> None:
    app.before_request(_refuse_null_characters)
    app.after_request(_headers)
