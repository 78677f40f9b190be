"""Local formats: dd/mm/yyyy in Vietnam's time zone, decimal comma in Vietnamese."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

from flask_babel import force_locale

from survey import create_app
from survey.web.i18n import local_date
from survey.web.i18n import local_datetime
from survey.web.i18n import percent


def test_dates_are_shown_in_vietnam_time():
    # 20:30 UTC on 31/12 is already 1 January in Hà Nội (UTC+7).
    moment = datetime(2025, 12, 31, 20, 30, tzinfo=UTC)
    assert local_date(moment) == "01/01/2026"
    assert local_datetime(moment) == "01/01/2026 03:30"


def test_percent_uses_the_locale_decimal_mark(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"})
    with app.test_request_context():
        with force_locale("vi"):
            assert percent(0.9167) == "91,7%"
            assert percent(None) == "–"
        with force_locale("en"):
            assert percent(0.9167) == "91.7%"


def test_every_interface_string_has_a_vietnamese_translation(tmp_path):
    """Extract the strings from code and templates; each must be translated and compiled."""
    import subprocess
    import sys
    from pathlib import Path

    from babel.messages.mofile import read_mo
    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parent.parent
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-o",
            str(pot),
            ".",
        ],
        cwd=root,
        check=True,
        capture_output=True,
    )

    def plain(value):
        # Plural messages (ngettext) come as lists or tuples of forms.
        return tuple(value) if isinstance(value, list | tuple) else value

    def translated(value) -> bool:
        return all(value) if isinstance(value, tuple) else bool(value)

    with pot.open("rb") as fh:
        wanted = {plain(m.id) for m in read_po(fh) if m.id}
    assert len(wanted) > 40  # the extraction really found the interface strings
    folder = root / "survey" / "translations" / "vi" / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as fh:
        po = {plain(m.id): plain(m.string) for m in read_po(fh) if m.id and "fuzzy" not in m.flags}
    with (folder / "messages.mo").open("rb") as fh:
        mo = {plain(m.id): plain(m.string) for m in read_mo(fh) if m.id}
    untranslated = sorted((i for i in wanted if not translated(po.get(i))), key=str)
    assert untranslated == [], "run `make translations` and translate these"
    stale = sorted((i for i in wanted if mo.get(i) != po.get(i)), key=str)
    assert stale == [], "messages.mo is out of date: run `make translations`"
