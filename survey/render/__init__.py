"""Rendering: charts, the printable report, spreadsheets, QR codes and posters.
Plain data in, bytes out: no Flask, no database (checked by ``lint-imports``).

The modules that draw (matplotlib, python-docx, qrcode: about 100 MB of a
worker's memory together) are loaded on first use, not when the app starts:
``from survey.render import charts`` gives a stand-in that imports the real
module the first time one of its names is read. A worker that only serves
forms and pages never loads them (docs/OPERATIONS.md, memory). Importing a
name from the module itself (``from survey.render.charts import render``) still
loads it at once.
"""

from __future__ import annotations

import importlib
import types

#: Submodules handed out as stand-ins until first used.
_DEFERRED = ("ballots", "charts", "pdfdoc", "posters", "qr", "report_docx", "report_pdf")


class _Deferred(types.ModuleType):
    """A module not imported yet: reading any of its names imports it (thread-safe,
    through the import system's own locks) and reads the name from it."""

    def __getattr__(self, name: str):
        return getattr(importlib.import_module(self.__name__), name)


def __getattr__(name: str) -> types.ModuleType:
    # Called only while the submodule is not imported: once it is, the import
    # system has set it as this package's attribute and this is not reached.
    if name in _DEFERRED:
        return _Deferred(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
