"""Merge a dict of Vietnamese translations into the catalogue and report what is missing.

Usage: python scripts/apply_translations.py FILE.py — FILE defines ``VI = {msgid: msgstr}``.
Run ``make translations`` first so the catalogue has the new msgids.
"""

import runpy
import sys
from pathlib import Path

from babel.messages.pofile import read_po
from babel.messages.pofile import write_po

PO = Path(__file__).resolve().parent.parent / "survey/translations/vi/LC_MESSAGES/messages.po"


def main(path: str) -> int:
    translations = runpy.run_path(path)["VI"]
    with PO.open("rb") as fh:
        catalog = read_po(fh, locale="vi")
    for message in catalog:
        # A plural message is keyed by its singular; Vietnamese has one form.
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        if key in translations:
            text = translations[key]
            message.string = (text,) if isinstance(message.id, tuple) else text
            message.flags.discard("fuzzy")
    with PO.open("wb") as fh:
        write_po(fh, catalog, width=100)
    missing = [
        m.id
        for m in catalog
        if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)))
    ]
    for msgid in missing:
        print("untranslated:", msgid)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
