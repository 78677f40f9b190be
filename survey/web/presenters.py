"""Plain-language wording of the statistics, in the reader's language."""

from __future__ import annotations

from flask_babel import gettext as _

from survey.stats import TargetComparison
from survey.web.i18n import percent


def target_text(rate: float) -> str:
    """A target as officers write it: 90%, 95%, 87,5%."""
    return percent(rate, digits=0 if round(rate * 100, 1) == round(rate * 100) else 1)


def interval_text(low: float | None, high: float | None) -> str:
    """``95% CI: 85.2% – 95.1%`` (``KTC 95%: 85,2% – 95,1%``)."""
    if low is None or high is None:
        return ""
    return _("95%% CI: %(low)s – %(high)s", low=percent(low), high=percent(high))


def range_text(low: float | None, high: float | None) -> str:
    """``85,2% – 95,1%``: an interval in a table whose header already names it."""
    if low is None or high is None:
        return ""
    return f"{percent(low)} – {percent(high)}"


def verdict_text(comparison: TargetComparison) -> str:
    """Met, not met, or not yet known — with the responses still needed."""
    target = target_text(comparison.target)
    if comparison.n == 0:
        return _("No responses yet: target %(target)s cannot be judged", target=target)
    if comparison.status == "met":
        return _("Target %(target)s met", target=target)
    if comparison.status == "not_met":
        return _("Target %(target)s not met", target=target)
    if comparison.responses_needed:
        return _(
            "Not enough data to conclude against %(target)s — %(n)d more responses needed",
            target=target,
            n=comparison.responses_needed,
        )
    return _("Not enough data to conclude against %(target)s", target=target)


def verdict_class(comparison: TargetComparison) -> str:
    """CSS class of a verdict: met, not-met, unknown."""
    return {"met": "met", "not_met": "not-met"}.get(comparison.status, "unknown")


def init_app(app) -> None:
    """Make the verdict and interval wording available to every template."""

    @app.context_processor
    def _helpers():
        return {
            "verdict_text": verdict_text,
            "verdict_class": verdict_class,
            "interval_text": interval_text,
            "target_text": target_text,
        }
