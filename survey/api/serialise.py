"""The JSON shapes of the API's answers."""

from __future__ import annotations

from survey.district.summary import DistrictSummary
from survey.district.summary import Note
from survey.domain.channels import Channel
from survey.stats import question_rate
from survey.web.presenters import note_text
from survey.web.presenters import verdict_text
from survey.web.presenters import weights_text


def district_json(s: DistrictSummary) -> dict:
    """The district's figures: the headline (what the page leads with) at the top
    level, the stratified and pooled figures each with their own verdict."""
    strat = s.stratified
    rate, low, high = s.headline_rate
    return {
        "headline": s.headline,
        "rate": rate,
        "ci_low": low,
        "ci_high": high,
        "verdict": s.headline_verdict.status,
        "verdict_text": verdict_text(s.headline_verdict),
        "weights": s.weights,
        "weights_text": weights_text(s),
        "notes": [note_json(note) for note in s.notes],
        "stratified": {
            "rate": strat.rate if strat else None,
            "se": strat.se if strat else None,
            "ci_low": strat.low if strat else None,
            "ci_high": strat.high if strat else None,
            "df": strat.df if strat else None,
            "design_effect": strat.design_effect if strat else None,
            "method": "korn-graubard",
            "weights": s.weights,
            "verdict": s.stratified_verdict.status,
            "notes": [note_text(note) for note in s.notes],
        },
        "pooled": {
            "rate": s.pooled.rate,
            "ci_low": s.pooled.low,
            "ci_high": s.pooled.high,
            "satisfied": s.pooled.satisfied,
            "valid": s.pooled.valid,
            "verdict": s.pooled_verdict.status,
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
                "dossiers_entered": c.dossiers_entered,
                "comments": c.comments,
            }
            for c in s.children
        ],
        "missing_volumes": [u.code for u in s.missing_volumes],
    }


def note_json(note: Note) -> dict:
    return {
        "kind": note.kind,
        "unit": note.unit.code if note.unit is not None else None,
        "months": list(note.months),
        "text": note_text(note),
    }


def channels_json(split) -> dict:
    """Each channel's responses, share and overall rate, side by side (also part of
    the unit summary API), with the channel that dominates, if one does."""
    return {
        "responses": split.responses,
        "by_channel": [
            {
                "channel": f.channel,
                "responses": f.responses,
                "share": f.share,
                **rate_json(f.overall),
            }
            for f in split.figures
        ],
        "dominant": split.dominant.channel if split.dominant else None,
        "flagged_excluded": split.flagged,
    }


def sources_json(split) -> dict:
    """The receipt-verified and open-QR responses as JSON, as before channels existed
    (kept for the clients that read them; ``channels`` has every channel)."""
    found = {}
    for name, channel in (("verified", Channel.RECEIPT), ("open", Channel.QR)):
        figure = split.of(channel)
        found[name] = {
            "responses": figure.responses if figure else 0,
            **rate_json(figure.overall if figure else question_rate({})),
        }
    pair = found["verified"]["responses"] + found["open"]["responses"]
    found["verified_share"] = found["verified"]["responses"] / pair if pair else None
    found["flagged_excluded"] = split.flagged
    return found


def rate_json(rate) -> dict:
    return {
        "valid": rate.valid,
        "satisfied": rate.satisfied,
        "rate": rate.rate,
        "ci_low": rate.low,
        "ci_high": rate.high,
    }
