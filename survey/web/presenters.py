"""Plain-language wording of the statistics, in the reader's language."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext

from survey.domain.channels import ORDER
from survey.domain.channels import Channel
from survey.domain.periods import today_in_vietnam
from survey.stats import ShownValue
from survey.stats import TargetComparison
from survey.stats import display_interval
from survey.stats import display_rate
from survey.stats import probability_at_least
from survey.stats import responses_needed_for
from survey.stats import within_reach
from survey.web.i18n import current_lang
from survey.web.i18n import percent


def target_text(rate: float) -> str:
    """A target as officers write it: 90%, 95%, 87,5%."""
    return percent(rate, digits=0 if round(rate * 100, 1) == round(rate * 100) else 1)


def interval_text(low: float | None, high: float | None, target: float | None = None) -> str:
    """``95% CI: 85.2% – 95.1%`` (``KTC 95%: 85,2% – 95,1%``).

    With ``target``, each bound gets the decimals it needs to stay on its side of
    the target (35/35 against 90 %: "89,997 %", not a "90,0 %" that would read as
    met beside a verdict that is not yet known).
    """
    if low is None or high is None:
        return ""
    if target is not None:
        shown = display_interval(low, high, target)
        return _(
            "95%% CI: %(low)s – %(high)s",
            low=shown_percent(shown.low),
            high=shown_percent(shown.high),
        )
    return _("95%% CI: %(low)s – %(high)s", low=percent(low), high=percent(high))


def range_text(low: float | None, high: float | None) -> str:
    """``85,2% – 95,1%``: an interval in a table whose header already names it."""
    if low is None or high is None:
        return ""
    return f"{percent(low)} – {percent(high)}"


def range_shown(low: float | None, high: float | None, target: float) -> str:
    """``85,2% – 95,1%`` in a table, each bound on its own side of the target."""
    if low is None or high is None:
        return ""
    shown = display_interval(low, high, target)
    return f"{shown_percent(shown.low)} – {shown_percent(shown.high)}"


def shown_percent(value: ShownValue) -> str:
    """A figure rounded by :func:`survey.stats.display_rate`, in the reader's language."""
    text = percent(value.value, value.digits)
    return f"{value.prefix} {text}" if value.prefix else text


def rate_text(rate: float | None, target: float | None = None) -> str:
    """A rate with the decimals that never contradict its verdict (and never a 100 %
    that is not)."""
    if rate is None:
        return "–"
    return shown_percent(display_rate(rate, target))


def counts_text(satisfied: int, valid: int, responses: int) -> str:
    """ "49 satisfied of 55 valid answers; 56 forms", with the right plurals."""
    answers = ngettext(
        "%(satisfied)d satisfied of %(num)d valid answer",
        "%(satisfied)d satisfied of %(num)d valid answers",
        valid,
        satisfied=satisfied,
    )
    forms = ngettext("%(num)d form", "%(num)d forms", responses)
    return f"{answers}; {forms}"


def verdict_text(comparison: TargetComparison) -> str:
    """The verdict in one line a commune chairman understands."""
    target = target_text(comparison.target)
    if comparison.n == 0:
        return _("No responses yet: target %(target)s cannot be judged", target=target)
    if comparison.status == "met":
        return _("Target %(target)s met", target=target)
    if comparison.status == "not_met":
        return _("Target %(target)s not met", target=target)
    return _("Not yet known whether the target %(target)s is met", target=target)


def evidence_text(comparison: TargetComparison) -> str | None:
    """Under a verdict that is not yet known: how likely the target is met.

    The probability is that of a Beta(k+½, n−k+½) posterior (Jeffreys prior)
    lying at or above the target (:func:`survey.stats.probability_at_least`).
    """
    if comparison.n == 0 or comparison.status != "inconclusive":
        return None
    chance = probability_at_least(comparison.successes, comparison.n, comparison.target)
    if chance is None:
        return None
    return _(
        "Chance that the true rate is at or above the target: %(chance)s",
        chance=percent(chance, 0),
    )


def more_responses_text(comparison: TargetComparison, expected: float | None) -> str | None:
    """ "About N more responses…", only where N is within reach of what the unit will
    receive before the period closes (``expected``); never at n = 0."""
    if comparison.n == 0 or comparison.status != "inconclusive" or expected is None:
        return None
    needed = responses_needed_for(
        comparison.successes, comparison.n, comparison.target, method=comparison.method
    )
    if within_reach(needed, expected):
        return ngettext(
            "If the rate stays as it is, about %(num)d more response should be enough to conclude.",
            "If the rate stays as it is, about %(num)d more responses should be enough to "
            "conclude.",
            needed,
        )
    return None


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


def channel_label(channel) -> str:
    """A channel's name for people (the stored value is a code)."""
    labels = {
        Channel.QR: _("QR code at the desk"),
        Channel.RECEIPT: _("Receipt link"),
        Channel.KIOSK: _("Tablet at the counter"),
        Channel.PAPER: _("Paper ballot"),
        Channel.INTERVIEW: _("Interview"),
        Channel.INVITATION: _("Invitation (SMS, e-mail, Zalo)"),
    }
    try:
        return labels[Channel(channel)]
    except ValueError:
        return str(channel)


def channels_text(channels) -> str:
    """Which channels a figure includes, in words ("all channels" when not restricted)."""
    if not channels:
        return _("all channels")
    return ", ".join(channel_label(c) for c in ORDER if c in channels)


def dominant_text(split) -> str | None:
    """A note when one channel brings most responses: the figure speaks for its public."""
    figure = split.dominant
    if figure is None:
        return None
    return _(
        "%(share)s of the responses came by one channel (%(channel)s): the figure speaks "
        "mostly for the people that channel reaches. See the rate of each channel below.",
        share=percent(figure.share),
        channel=channel_label(figure.channel),
    )


def init_app(app) -> None:
    """Make the verdict and interval wording available to every template."""

    @app.context_processor
    def _helpers():
        return {
            "verdict_text": verdict_text,
            "verdict_class": verdict_class,
            "interval_text": interval_text,
            "rate_text": rate_text,
            "counts_text": counts_text,
            "range_shown": range_shown,
            "evidence_text": evidence_text,
            "more_responses_text": more_responses_text,
            "target_text": target_text,
            "note_text": note_text,
            "provisional_text": provisional_text,
            "today_in_vietnam": today_in_vietnam,
            "weights_text": weights_text,
            "headline_title": headline_title,
            "channel_label": channel_label,
            "channels_text": channels_text,
            "dominant_text": dominant_text,
        }
