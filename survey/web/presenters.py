"""Plain-language wording of the statistics, in the reader's language."""

from __future__ import annotations

from flask_babel import gettext as _

from survey.domain.periods import today_in_vietnam
from survey.stats import TargetComparison
from survey.web.i18n import current_lang
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


def provisional_text(period, today) -> str | None:
    """ "In progress, provisional figures" for a period that has not ended yet."""
    if period.is_complete(today):
        return None
    return _("In progress: provisional figures")


def report_title(period) -> str:
    """The printable report's title; a period not yet ended says its figures are provisional."""
    label = period.label(current_lang())
    if period.is_complete(today_in_vietnam()):
        return _("Citizen satisfaction report – %(period)s", period=label)
    return _("Citizen satisfaction report – %(period)s (provisional)", period=label)


def period_status(period) -> str:
    """A period's state in words, for spreadsheets."""
    return provisional_text(period, today_in_vietnam()) or _("Ended: final figures")


def months_text(codes) -> str:
    """Month codes as people write them: 03/2026, 04/2026."""
    return ", ".join(f"{c[5:7]}/{c[:4]}" for c in codes)


def note_text(note) -> str:
    """A district figure's note (:class:`survey.district.summary.Note`) in words."""
    name = note.unit.name if note.unit is not None else ""
    if note.kind == "month_estimated":
        return _(
            "%(unit)s: no dossier count for %(months)s; those months are counted at the "
            "commune's average month of the period (%(n)d dossiers in all).",
            unit=name,
            months=months_text(note.months),
            n=note.value,
        )
    if note.kind == "commune_estimated":
        return _(
            "%(unit)s: no dossier count in the period; weighted at the district's ratio of "
            "dossiers to answers (about %(n)d dossiers).",
            unit=name,
            n=note.value,
        )
    if note.kind == "raised":
        return _(
            "%(unit)s: %(dossiers)d dossiers entered but %(answers)d answers received; "
            "counted as %(answers)d.",
            unit=name,
            dossiers=note.detail,
            answers=note.value,
        )
    if note.kind == "calendar":
        return _(
            "%(unit)s counts its months from day %(day)d, the district from day %(district)d: "
            "its row is counted in the district's months.",
            unit=name,
            day=note.value,
            district=note.detail,
        )
    if note.kind == "no_responses":
        return _("%(unit)s: no answers in the period, so not in the district figure.", unit=name)
    if note.kind == "too_few":
        return _too_few_text()
    if note.kind == "census":
        return _("Every dossier was rated: the figure is exact.")
    if note.kind == "single_response":
        return _("A commune with a single answer: its spread is taken from the district's rate.")
    return _("Every commune is at 0 % or 100 %: the interval uses the number of answers.")


def _too_few_text() -> str:
    return _(
        "Every commune has a single answer so far: a weighted interval cannot be "
        "estimated yet. The pooled figure is shown instead."
    )


def weights_text(s) -> str:
    """How a district's communes were weighted, in one sentence."""
    if s.headline == "pooled":
        if s.too_few_for_interval:
            return _too_few_text()
        return _(
            "No dossier counts were entered for this period: the district figure is the "
            "pooled one (every answer counts equally)."
        )
    if s.weights == "dossiers":
        return _("Each commune is weighted by the dossiers it handled in the period.")
    return _(
        "Each commune is weighted by the dossiers it handled in the period; some counts "
        "are estimated (see the notes)."
    )


def headline_title(s) -> str:
    """The name of a district's headline figure, saying which weights it used."""
    if s.headline == "stratified":
        return _("District figure (weighted by dossiers)")
    return _("District figure (pooled: every answer counts equally)")


def init_app(app) -> None:
    """Make the verdict and interval wording available to every template."""

    @app.context_processor
    def _helpers():
        return {
            "verdict_text": verdict_text,
            "verdict_class": verdict_class,
            "interval_text": interval_text,
            "target_text": target_text,
            "note_text": note_text,
            "provisional_text": provisional_text,
            "today_in_vietnam": today_in_vietnam,
            "weights_text": weights_text,
            "headline_title": headline_title,
        }
