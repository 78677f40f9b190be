"""The difference of two rates (survey/stats/difference.py) against statsmodels'
Newcombe interval (fixtures made by tests/stats/make_difference_fixtures.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from survey.stats.difference import rate_difference

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "difference.json").read_text())


@pytest.mark.parametrize(
    "case",
    FIXTURE["cases"],
    ids=lambda c: f"{c['x1']}/{c['n1']}-{c['x2']}/{c['n2']}@{c['confidence']}",
)
def test_newcombe_interval_matches_statsmodels(case):
    d = rate_difference(case["x1"], case["n1"], case["x2"], case["n2"], case["confidence"])
    assert d.difference == pytest.approx(case["difference"], abs=1e-12)
    assert d.low == pytest.approx(case["low"], abs=1e-9)
    assert d.high == pytest.approx(case["high"], abs=1e-9)
    assert -1 <= d.low <= d.difference <= d.high <= 1


def test_a_difference_is_real_only_when_its_interval_leaves_out_zero():
    assert rate_difference(95, 100, 70, 100).real  # 25 points apart on 100 each
    assert not rate_difference(9, 10, 7, 10).real  # 20 points apart on 10 each: chance
    assert rate_difference(20, 100, 60, 100).real  # real in the other direction too


def test_bad_counts_are_refused():
    with pytest.raises(ValueError):
        rate_difference(5, 4, 1, 2)
    with pytest.raises(ValueError):
        rate_difference(1, 2, 0, 0)
