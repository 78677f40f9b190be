"""What the citizen's phone downloads: compressed pages and long-cached styles.

Only the public side (the citizen's form and pages, static files) is
compressed. Officers' pages carry comments and CSRF tokens beside text an
attacker could make the browser send (query strings): compressing those would
let someone who watches the traffic guess secrets from response sizes (BREACH).
The citizen's pages hold no such secret worth the risk, and they are what a
cheap phone on a weak connection must fetch quickly.

Stylesheets are linked with a digest of their content (``?v=…``), so they can
be cached for a year and a new release is fetched at once.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Flask
from flask import current_app
from flask import request
from flask import url_for
from flask_compress import Compress

compress = Compress()

#: Blueprints whose responses are compressed (plus static files).
PUBLIC_BLUEPRINTS = {"public", "site"}
ONE_YEAR = 365 * 24 * 3600


@lru_cache(maxsize=64)
def _digest(path: str, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def static_url(filename: str) -> str:
    """The URL of a static file with a digest of its content, for long caching."""
    path = Path(current_app.static_folder) / filename
    version = _digest(str(path), path.stat().st_mtime_ns)
    return url_for("static", filename=filename, v=version)


def _read_file_body(response) -> None:
    """Read a static file's body into memory (it is small) and close the file, so the
    compressor can work on it without leaving the file open."""
    stream = response.response
    response.direct_passthrough = False
    response.get_data()
    close = getattr(stream, "close", None)
    if close is not None:
        close()


def _compress_public(response):
    if request.endpoint == "static" or request.blueprint in PUBLIC_BLUEPRINTS:
        if request.endpoint == "static" and response.status_code == 200:
            _read_file_body(response)
        if request.endpoint == "static" and request.args.get("v"):
            response.cache_control.no_cache = None
            response.cache_control.public = True
            response.cache_control.max_age = ONE_YEAR
            response.cache_control.immutable = True
        return compress.after_request(response)
    return response


def init_app(app: Flask) -> None:
    # Registered by hand: Flask-Compress would otherwise compress every response.
    app.config.setdefault("COMPRESS_REGISTER", False)
    app.config.setdefault(
        "COMPRESS_MIMETYPES",
        ["text/html", "text/css", "application/json", "image/svg+xml", "text/plain"],
    )
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    compress.init_app(app)
    app.after_request(_compress_public)
    app.jinja_env.globals["static_url"] = static_url
