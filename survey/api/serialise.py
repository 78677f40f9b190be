"""The JSON shapes of the API's answers."""

from __future__ import annotations

from survey.district.summary import DistrictSummary


def district_json(s: DistrictSummary) -> dict:
    strat = s.stratified
    return {
        "stratified": {
            "rate": strat.rate if strat else None,
            "se": strat.se if strat else None,
            "ci_low": strat.low if strat else None,
            "ci_high": strat.high if strat else None,
            "df": strat.df if strat else None,
            "design_effect": strat.design_effect if strat else None,
            "method": "korn-graubard",
            "weights": "dossiers" if s.weights_from_volumes else "responses",
            "verdict": s.stratified_verdict.status,
            "notes": list(s.notes),
        },
        "pooled": {
            "rate": s.pooled.rate,
            "ci_low": s.pooled.low,
            "ci_high": s.pooled.high,
            "satisfied": s.pooled.satisfied,
            "valid": s.pooled.valid,
        },
        "communes": [
            {
                "code": c.unit.code,
                "name": c.unit.name,
                "responses": c.responses,
                "valid": c.rate.valid,
                "satisfied": c.rate.satisfied,
                "rate": c.rate.rate,
                "ci_low": c.rate.low,
                "ci_high": c.rate.high,
                "target": c.target.rate,
                "verdict": c.verdict.status if c.rate.valid else None,
                "dossiers": c.dossiers,
            }
            for c in s.children
        ],
        "missing_volumes": [u.code for u in s.missing_volumes],
    }


def sources_json(split) -> dict:
    """The verified/open split as JSON (also part of the unit summary API)."""
    return {
        "verified": {"responses": split.verified_responses, **rate_json(split.verified)},
        "open": {"responses": split.open_responses, **rate_json(split.open)},
        "verified_share": split.verified_share,
        "flagged_excluded": split.flagged,
    }


def rate_json(rate) -> dict:
    return {
        "valid": rate.valid,
        "satisfied": rate.satisfied,
        "rate": rate.rate,
        "ci_low": rate.low,
        "ci_high": rate.high,
    }
