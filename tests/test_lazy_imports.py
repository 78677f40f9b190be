"""The drawing libraries are loaded by the first download that needs them, not by
every worker at start (docs/OPERATIONS.md, memory per worker)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("matplotlib", "scipy.stats", "openpyxl", "docx", "qrcode", "fontTools", "PIL")


def run(code: str, tmp_path: Path) -> str:
    env = {
        **os.environ,
        "SURVEY_ENV": "testing",
        "SURVEY_SECRET_KEY": "lazy-imports-test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'lazy.db'}",
    }
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_started_app_has_not_loaded_the_drawing_libraries(tmp_path):
    out = run(
        f"""
        import sys
        from survey import create_app

        app = create_app({{"SQLALCHEMY_DATABASE_URI": "sqlite:///{tmp_path / "a.db"}"}})
        print(sorted(name for name in {HEAVY!r} if name in sys.modules))
        """,
        tmp_path,
    )
    assert out == "[]"


def test_a_deferred_render_module_loads_on_first_use_and_works(tmp_path):
    out = run(
        """
        import sys
        from survey.render import charts
        from survey.render import qr

        before = "matplotlib" in sys.modules, "qrcode" in sys.modules
        png = charts.render(charts.trend_chart([charts.TrendPoint("T1", 0.9, 0.8, 0.95, 40)],
                                               [], "x"), "png")
        code = qr.svg("https://example.org/s/LC-01")
        loaded = "matplotlib" in sys.modules
        print(before, png[:4] == b"\\x89PNG", code.startswith(b"<?xml"), loaded)
        """,
        tmp_path,
    )
    assert out == "(False, False) True True True"
