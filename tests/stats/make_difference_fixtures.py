"""Reference values for tests/stats/test_stats_difference.py, from statsmodels.

How to run (from the repository root; statsmodels is not a dependency of the
service, so install it apart, e.g. ``python -m venv /tmp/sm && /tmp/sm/bin/pip
install statsmodels``):

    /tmp/sm/bin/python tests/stats/make_difference_fixtures.py

It overwrites tests/stats/fixtures/difference.json; the tests only read the JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

CASES = [
    (45, 50, 30, 40),
    (0, 10, 0, 12),
    (10, 10, 10, 10),
    (10, 10, 0, 10),
    (1, 5, 4, 5),
    (38, 40, 57, 60),
    (90, 100, 85, 100),
    (460, 500, 950, 1000),
    (9000, 10000, 8900, 10000),
    (29, 29, 1, 30),
    (3, 7, 19, 20),
    (0, 1, 1, 1),
]
LEVELS = [0.90, 0.95, 0.99]


def main() -> None:
    # Imported here: the suite collects this file, and statsmodels is not installed there.
    import numpy
    import statsmodels
    from statsmodels.stats.proportion import confint_proportions_2indep

    cases = []
    for x1, n1, x2, n2 in CASES:
        for level in LEVELS:
            low, high = confint_proportions_2indep(
                x1, n1, x2, n2, method="newcomb", compare="diff", alpha=1 - level
            )
            cases.append(
                {
                    "x1": x1,
                    "n1": n1,
                    "x2": x2,
                    "n2": n2,
                    "confidence": level,
                    "difference": x1 / n1 - x2 / n2,
                    "low": float(low),
                    "high": float(high),
                }
            )
    doc = {
        "generated_by": "tests/stats/make_difference_fixtures.py",
        "versions": {"statsmodels": statsmodels.__version__, "numpy": numpy.__version__},
        "call": 'confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff")',
        "cases": cases,
    }
    path = Path("tests/stats/fixtures/difference.json")
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
