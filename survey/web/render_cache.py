"""A content-addressed cache of rendered charts, reports and spreadsheets.

Every download is drawn from plain data: the points and labels handed to
:func:`survey.render.charts.trend_chart` or :func:`~survey.render.charts.funnel_chart`, the
:class:`~survey.render.exports.Table` rows, the :class:`~survey.render.report_pdf.ReportContent`.
The cache key is the SHA-256 of that data together with the kind and format of
the file, the language and the renderer's version (a digest of the rendering
modules' source and of the matplotlib and openpyxl versions). A new response, a
changed target, volume, label or language changes the data and so the key: an
entry is never stale and nothing has to be invalidated. The view still computes
the summary and the renderer's inputs on every request; only the drawing is
saved.

Entries are files of a cachelib ``FileSystemCache`` under ``SURVEY_CACHE_DIR``
(default ``instance/cache``), shared by every gunicorn worker.
``SURVEY_CACHE_MAX_ITEMS`` bounds their number (beyond it the oldest go first);
``SURVEY_CACHE=off`` turns the cache off. The cache only saves time: a read or
write that fails (disk full, permissions, a corrupt file) is logged and the
file is rendered as if there were no cache.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import json
import threading
import time
import types
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import fields
from dataclasses import is_dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from cachelib import FileSystemCache
from flask import Flask
from flask import current_app

from survey.web.i18n import current_lang

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["Drawing", "cached", "counters", "digest", "renderer_version"]

#: Modules whose code decides what the bytes of a download look like.
_RENDERER_MODULES = (
    "survey.render.charts",
    "survey.render.report_pdf",
    "survey.render.report_docx",
    "survey.render.exports",
    "survey.render.posters",
    "survey.render.qr",
)
#: Entries expire after this long, so that pruning removes the oldest first.
_KEEP = timedelta(days=14)
#: After the cache folder could not be opened, wait this long before trying again.
_RETRY_SECONDS = 60.0
_EXTENSION = "survey.web.render_cache"


@dataclass(frozen=True)
class Drawing:
    """A chart not drawn yet: its drawing function and the plain data handed to it.

    It can be digested (the function counts by its name) before anything is
    drawn; :meth:`figure` draws it, on a cache miss only.
    """

    draw: Callable[..., Figure]
    args: tuple = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def figure(self) -> Figure:
        """Draw the chart."""
        return self.draw(*self.args, **self.kwargs)


@cache
def renderer_version() -> str:
    """A short digest of the rendering code and libraries: changes with any of them."""
    # Read from the files and the installed packages' metadata, without importing
    # them: a cache hit must not load matplotlib into the worker.
    h = hashlib.sha256()
    for name in _RENDERER_MODULES:
        h.update(Path(importlib.util.find_spec(name).origin).read_bytes())
    version = importlib.metadata.version
    h.update(f"matplotlib {version('matplotlib')}; openpyxl {version('openpyxl')}".encode())
    h.update(f"python-docx {version('python-docx')}".encode())
    return h.hexdigest()[:16]


def _plain(value: object) -> object:
    """JSON stand-in for a value that JSON has no type for; refuses arbitrary objects.

    Called by :func:`json.dumps` for everything but str, int, float, bool,
    None, list, tuple and dict. An object whose only text is its ``repr``
    (which may carry its id, as ORM objects' do) raises TypeError.
    """
    if is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        return {
            "__type__": f"{cls.__module__}.{cls.__qualname__}",
            **{f.name: getattr(value, f.name) for f in fields(value)},
        }
    if isinstance(value, datetime | date):
        return {"__date__": value.isoformat()}
    if type(value).__module__ == "numpy" and getattr(value, "shape", None) == ():
        # A numpy scalar (checked by its module: numpy need not be loaded for the rest).
        return value.item()
    if isinstance(value, Decimal):
        return {"__decimal__": str(value)}
    if isinstance(value, set | frozenset):
        return {"__set__": sorted(_dumps(v) for v in value)}
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, types.FunctionType | types.BuiltinFunctionType):
        return {"__function__": f"{value.__module__}.{value.__qualname__}"}
    raise TypeError(f"{type(value).__name__} is not plain data and cannot be digested")


def _dumps(value: object) -> str:
    # Floats are written as repr() does, which round-trips exactly.
    return json.dumps(
        value, default=_plain, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )


def digest(*parts: object) -> str:
    """The SHA-256 (hex) of plain data and the renderer's version.

    Parts may be str, int, float, bool, None, dates, lists, tuples, dicts,
    sets, dataclasses (such as :class:`~survey.render.exports.Table`) and
    :class:`Drawing`, nested in any way; the same data gives the same digest
    in every process.

    :raise TypeError: for anything else, e.g. a matplotlib figure or an ORM object.
    """
    return hashlib.sha256(_dumps([renderer_version(), *parts]).encode()).hexdigest()


class _FileCache(FileSystemCache):
    """cachelib's file cache without its retries on PermissionError.

    cachelib retries a refused open or rename for up to 10 seconds (for SMB
    shares); a download must not wait on a cache folder with wrong permissions.
    The error is then logged by cachelib and read as a miss.
    """

    def _run_safely(self, fn, *args, **kwargs):
        return fn(*args, **kwargs)


class _Store:
    """The cache of one app, opened on first use, with hit and miss counters."""

    def __init__(self, app: Flask) -> None:
        self.directory = str(app.config.get("SURVEY_CACHE_DIR") or "")
        self.enabled = bool(app.config.get("SURVEY_CACHE", True)) and bool(self.directory)
        self.threshold = int(app.config.get("SURVEY_CACHE_MAX_ITEMS", 2000))
        self.counts = {"hits": 0, "misses": 0, "errors": 0}
        self._cache: FileSystemCache | None = None
        self._retry_at = 0.0
        self._lock = threading.Lock()

    def cache(self) -> FileSystemCache | None:
        if self._cache is not None or time.monotonic() < self._retry_at:
            return self._cache
        with self._lock:
            if self._cache is None and time.monotonic() >= self._retry_at:
                try:
                    self._cache = _FileCache(
                        self.directory, threshold=self.threshold, default_timeout=_KEEP
                    )
                except Exception:
                    self._retry_at = time.monotonic() + _RETRY_SECONDS
                    self.counts["errors"] += 1
                    current_app.logger.warning(
                        "render cache: cannot open %s; rendering without it",
                        self.directory,
                        exc_info=True,
                    )
        return self._cache


def _store(app: Flask) -> _Store:
    store = app.extensions.get(_EXTENSION)
    if store is None:
        store = app.extensions.setdefault(_EXTENSION, _Store(app))
    return store


def counters(app: Flask | None = None) -> dict[str, int]:
    """This process's cache hits, misses and errors (for tests and benchmarks)."""
    return dict(_store(app or current_app).counts)


def cached(kind: str, inputs: object, render: Callable[[], bytes]) -> bytes:
    """The bytes ``render()`` makes of ``inputs``, rendered only on a cache miss.

    :param kind: what and in which format, e.g. ``"chart.png"`` or ``"report.xlsx"``.
    :param inputs: everything ``render`` draws from, as plain data (see :func:`digest`);
        the current language is added to the key.
    :param render: makes the bytes; called on a miss, or whenever the cache fails.
    """
    store = _store(current_app)
    cache_ = store.cache() if store.enabled else None
    if cache_ is None:
        return render()
    try:
        key = digest(kind, current_lang(), inputs)
    except (TypeError, ValueError):
        # A programming error (an object in the inputs), not the officer's: serve the file.
        store.counts["errors"] += 1
        current_app.logger.exception("render cache: %s inputs cannot be digested", kind)
        return render()
    try:
        data = cache_.get(key)
    except Exception:
        store.counts["errors"] += 1
        current_app.logger.warning("render cache: cannot read %s", kind, exc_info=True)
        data = None
    if isinstance(data, bytes):
        store.counts["hits"] += 1
        return data
    store.counts["misses"] += 1
    data = render()
    try:
        if not cache_.set(key, data):
            # cachelib caught the error (disk full, permissions) and logged its cause.
            raise OSError(f"not stored in {store.directory}")
    except Exception:
        store.counts["errors"] += 1
        current_app.logger.warning("render cache: cannot store %s", kind, exc_info=True)
    return data
