"""The stats package must import and work without Flask or SQLAlchemy."""

import subprocess
import sys
import textwrap
from pathlib import Path

STATS_DIR = Path(__file__).resolve().parents[2] / "survey" / "stats"

# Loads survey/stats as a standalone package under another name, so that
# survey/__init__.py (the Flask app factory) is never executed, while a
# meta-path finder makes any attempt to import Flask or SQLAlchemy fail.
SCRIPT = textwrap.dedent(
    """
    import importlib.util
    import sys

    BLOCKED = ("flask", "flask_sqlalchemy", "flask_babel", "flask_wtf", "sqlalchemy")

    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"stats must not import {name}")
            return None

    sys.meta_path.insert(0, Block())
    for name in BLOCKED:
        sys.modules.pop(name, None)

    spec = importlib.util.spec_from_file_location(
        "standalone_stats",
        sys.argv[1] + "/__init__.py",
        submodule_search_locations=[sys.argv[1]],
    )
    stats = importlib.util.module_from_spec(spec)
    sys.modules["standalone_stats"] = stats
    spec.loader.exec_module(stats)

    for module in (
        "control", "display", "planning", "posterior", "proportions", "sipas", "stratified"
    ):
        __import__("standalone_stats." + module)
    assert stats.compare_to_target(57, 60, 0.9).status == "inconclusive"
    assert stats.stratified_proportion([(38, 40, 500), (70, 80, 600)]).df == 118
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED + ("survey",))
    assert not loaded, loaded
    print("ok", len(stats.__all__))
    """
)


def test_stats_imports_without_flask_or_sqlalchemy():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(STATS_DIR)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")


def test_public_api_is_exported():
    import survey.stats as stats

    for name in stats.__all__:
        assert hasattr(stats, name), name
    assert {
        "proportion_ci",
        "compare_to_target",
        "stratified_proportion",
        "Stratum",
        "sample_size",
        "sample_size_to_show",
        "p_chart_limits",
        "funnel_limits",
        "QuestionCounts",
        "question_rate",
        "sipas_index",
        "LIKERT_LABELS_VI",
    } <= set(stats.__all__)


def test_no_forbidden_imports_in_source():
    # A cheap second line of defence: no import statement names the web stack or
    # the app package (doctest lines, which start with ">>>", may use survey.stats).
    forbidden = ("flask", "flask_sqlalchemy", "sqlalchemy", "survey")
    for path in STATS_DIR.glob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            words = line.split()
            if len(words) >= 2 and words[0] in ("import", "from"):
                top = words[1].split(".")[0]
                assert top not in forbidden, f"{path.name}: {line.strip()}"
