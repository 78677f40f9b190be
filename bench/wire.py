"""The citizen's form on the wire: bytes sent for the form page and its stylesheet,
as sent to a browser that accepts brotli, gzip only, or no compression.

    .venv/bin/python bench/wire.py

Sizes, not times: they do not depend on the machine.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("SURVEY_SECRET_KEY", "bench")


def main() -> None:
    from survey import create_app
    from survey.cli import demo
    from survey.data.queries import ensure_questionnaire
    from survey.extensions import db

    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/wire.db"})
        with app.app_context():
            db.create_all()
            ensure_questionnaire()
            demo.load_units_and_desks()
        client = app.test_client()
        page = client.get("/s/LC-01").get_data(as_text=True)
        css = re.search(r'href="(/static/site\.css[^"]*)"', page).group(1)
        print(f"{'Accept-Encoding':<16} {'form (B)':>9} {'css (B)':>8} {'total (B)':>10}")
        for accept in ("", "gzip", "br, gzip"):
            headers = {"Accept-Encoding": accept} if accept else {}
            form = len(client.get("/s/LC-01", headers=headers).data)
            style = len(client.get(css, headers=headers).data)
            print(f"{accept or '(none)':<16} {form:>9} {style:>8} {form + style:>10}")


if __name__ == "__main__":
    main()
