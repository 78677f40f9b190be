"""What a report download holds: tables, the printable report's content and its chart,
for a commune (its trend) or a district (its communes and their funnel plot)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from flask_babel import gettext as _

from survey.data.queries import current_questionnaire
from survey.data.queries import definition_of
from survey.district.summary import DistrictSummary
from survey.district.summary import funnel_data
from survey.domain.channels import ORDER as CHANNEL_ORDER
from survey.domain.periods import today_in_vietnam
from survey.forms.officer import FEEDBACK_STATUSES
from survey.render import charts
from survey.render import report_docx
from survey.render import report_pdf
from survey.render.exports import Percent
from survey.render.exports import Table
from survey.render.exports import to_csv
from survey.render.exports import to_xlsx
from survey.reports.services import is_provisional
from survey.reports.services import letterhead
from survey.reports.summary import ChannelSplit
from survey.reports.summary import UnitSummary
from survey.reports.summary import responses_in
from survey.web.i18n import current_lang
from survey.web.i18n import local_datetime
from survey.web.i18n import percent
from survey.web.i18n import pick
from survey.web.presenters import channel_label
from survey.web.presenters import channels_text
from survey.web.presenters import evidence_text
from survey.web.presenters import headline_title
from survey.web.presenters import interval_text
from survey.web.presenters import note_text
from survey.web.presenters import period_status
from survey.web.presenters import range_text
from survey.web.presenters import target_text
from survey.web.presenters import verdict_text
from survey.web.presenters import weights_text
from survey.web.render_cache import Drawing
from survey.web.render_cache import cached

if TYPE_CHECKING:
    from survey.render.report_pdf import ReportContent

MIMETYPES = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def _title(period, lang: str) -> str:
    """The report's title; an unfinished period's figures are marked provisional."""
    title = _("Citizen satisfaction report – %(period)s", period=period.label(lang))
    if is_provisional(period, today_in_vietnam()):
        return _("%(title)s (provisional)", title=title)
    return title


def _footer(unit_name: str, period_code: str) -> str:
    return f"{_('Satisfaction survey')} · {unit_name} · {period_code}"


def file_name(s, kind: str) -> str:
    """The download's name; one restricted to some channels says which."""
    only = "".join(f"-{c.value}" for c in CHANNEL_ORDER if s.channels and c in s.channels)
    return f"sipas-{s.unit.code}-{s.period.code}{only}-{kind}"


def trend_drawing(s: UnitSummary) -> Drawing:
    """The 12-month trend chart with 95% interval bars and the overall target line."""
    lang = current_lang()
    points = [
        charts.TrendPoint(
            label=t.period.short_label(lang),
            rate=t.rate.rate,
            low=t.rate.low,
            high=t.rate.high,
            n=t.rate.valid,
        )
        for t in s.trend
    ]
    target = s.overall_target.rate
    return Drawing(
        charts.trend_chart,
        (
            points,
            [(_("Target %(target)s", target=target_text(target)), target)],
            _("%(unit)s – satisfaction rate by month", unit=s.unit.name)
            + (f" ({channels_text(s.channels)})" if s.channels else ""),
        ),
        {
            "ylabel": _("Satisfied"),
            "decimal_comma": lang == "vi",
            "no_data_label": _("no responses"),
        },
    )


def chart_bytes(drawing: Drawing, fmt: str) -> bytes:
    """The chart as PNG, SVG or PDF, drawn only when the cache does not have it."""
    return cached(f"chart.{fmt}", drawing, lambda: charts.render(drawing.figure(), fmt))


def report_pdf_bytes(content: ReportContent, chart: Drawing) -> bytes:
    """The printable report with ``chart`` on its own page, rendered only on a cache miss."""
    return cached(
        "report.pdf",
        (content, chart),
        lambda: report_pdf.render_report(
            replace(content, chart=chart.figure()),
            no_comments_label=_("No comments, suggestions or complaints in this period."),
        ),
    )


def report_docx_bytes(content: ReportContent, chart: Drawing) -> bytes:
    """The report as an editable Word document, with the same content as the PDF."""
    return cached(
        "report.docx",
        (content, chart),
        lambda: report_docx.render_docx(
            content,
            charts.render(chart.figure(), "png"),
            no_comments_label=_("No comments, suggestions or complaints in this period."),
            chart_heading=_("Trend"),
        ),
    )


def spreadsheet_bytes(
    tables: list[Table], sheet_names: list[str], fmt: str, separator: str = ","
) -> bytes:
    """The tables as XLSX (one sheet each) or CSV, rendered only on a cache miss.

    ``separator`` is the CSV's: "," (decimal point) or ";" (decimal comma,
    for Excel set up for Vietnam).
    """
    if fmt == "xlsx":
        return cached(
            "report.xlsx", (tables, sheet_names), lambda: to_xlsx(tables, sheet_names=sheet_names)
        )
    return cached(f"report{separator}csv", tables, lambda: to_csv(tables, separator=separator))


def _percent(value: float | None) -> Percent | None:
    """A rate for an Item/Value table: shown as a percentage in its own cell."""
    return None if value is None else Percent(value)


def summary_tables(s: UnitSummary, split: ChannelSplit | None = None) -> list[Table]:
    """The report's tables: summary, elements, procedure fields, and each channel's
    rate (``split``)."""
    lang = current_lang()
    summary_rows = [
        (_("Unit"), s.unit.name),
        (_("Channels included"), channels_text(s.channels)),
        (_("Period"), s.period.label(lang)),
        (_("From"), s.period.start),
        (_("To"), s.period.end),
        (_("Status"), period_status(s.period)),
        (_("Forms received"), s.responses),
        (_("Valid answers (overall question)"), s.overall.valid),
        (_("Satisfied"), s.overall.satisfied),
        (_("“No opinion” (not counted)"), s.overall.no_opinion),
        (_("Comments"), s.comments),
        (_("Satisfaction rate"), _percent(s.overall.rate)),
        (_("Lower bound (%(level)s)", level="95%"), _percent(s.overall.low)),
        (_("Upper bound (%(level)s)", level="95%"), _percent(s.overall.high)),
        (_("Target"), _percent(s.overall_target.rate)),
        (_("Verdict"), verdict_text(s.verdict)),
        (_("SIPAS index (mean of the elements)"), _percent(s.sipas.index)),
        (_("Reported trouble or harassment"), _percent(s.harassment.rate)),
    ]
    elements = [
        (
            pick(s.definition.elements[e.element]),
            e.overall.valid if e.overall else 0,
            e.overall.satisfied if e.overall else 0,
            e.rate,
            e.overall.low if e.overall else None,
            e.overall.high if e.overall else None,
        )
        for e in s.sipas.elements
    ]
    fields = [
        (
            pick(f.label),
            f.rate.valid,
            f.rate.satisfied,
            f.rate.rate,
            f.rate.low,
            f.rate.high,
            f.target.rate,
            verdict_text(f.comparison),
        )
        for f in s.fields
    ]
    rate_cols = frozenset({3, 4, 5})
    return [
        Table(_("Summary"), [_("Item"), _("Value")], summary_rows),
        Table(
            _("The five SIPAS elements"),
            [
                _("Element"),
                _("Answers"),
                _("Satisfied"),
                _("Rate"),
                _("Lower bound"),
                _("Upper bound"),
            ],
            elements,
            percent_columns=rate_cols,
        ),
        Table(
            _("By procedure field"),
            [
                _("Field"),
                _("Answers"),
                _("Satisfied"),
                _("Rate"),
                _("Lower bound"),
                _("Upper bound"),
                _("Target"),
                _("Verdict"),
            ],
            fields,
            percent_columns=frozenset({3, 4, 5, 6}),
        ),
        *([channel_table(split)] if split is not None else []),
    ]


def channel_table(split: ChannelSplit) -> Table:
    """Each channel's forms, share and overall rate, side by side."""
    return Table(
        _("By channel"),
        [
            _("Channel"),
            _("Forms received"),
            _("Share"),
            _("Valid answers (overall question)"),
            _("Satisfied"),
            _("Rate"),
            _("Lower bound"),
            _("Upper bound"),
        ],
        [
            (
                channel_label(f.channel),
                f.responses,
                f.share,
                f.overall.valid,
                f.overall.satisfied,
                f.overall.rate,
                f.overall.low,
                f.overall.high,
            )
            for f in split.figures
        ],
        percent_columns=frozenset({2, 5, 6, 7}),
    )


def response_table(s: UnitSummary) -> Table:
    """One row per response: time, desk, every coded answer as its label, comment, status."""
    definition = s.definition
    questions = definition.answer_questions
    header = (
        [_("No."), _("Response number"), _("Time"), _("Unit"), _("Desk"), _("Channel")]
        + [pick(q.text) for q in questions]
        + [_("Comment"), _("Status")]
    )
    status_labels = {value: str(label) for value, label in FEEDBACK_STATUSES}
    # Each question's answer labels, looked up once rather than for every response.
    labels = {q.id: {o.value: pick(o.label) for o in q.options} for q in questions}
    for q in questions:
        if q.no_opinion:
            labels[q.id][q.no_opinion.value] = pick(q.no_opinion.label)
    rows = []
    # "No." counts the rows 1..n; the response's own number is kept beside it
    # so that a row can be found in the feedback inbox.
    for number, r in enumerate(responses_in(s.unit, s.period, s.channels), start=1):
        answers = r.answer_map()
        cells = [number, r.id, r.submitted_at, r.unit.name, r.desk.code, channel_label(r.channel)]
        for q in questions:
            value = answers.get(q.id)
            cells.append(labels[q.id].get(value, value or ""))
        cells += [r.comment or "", status_labels[r.feedback_status] if r.comment else ""]
        rows.append(cells)
    return Table(_("Responses"), header, rows)


def report_content(
    s: UnitSummary, split: ChannelSplit | None = None
) -> tuple[ReportContent, Drawing]:
    """The printable report's content, without its chart, and the chart to put in it
    (with each channel's rate when ``split`` is given)."""
    summary = [
        (_("Channels included"), channels_text(s.channels)),
        (_("Forms received"), str(s.responses)),
        (
            _("Satisfaction rate"),
            f"{percent(s.overall.rate)} ({interval_text(s.overall.low, s.overall.high)})"
            if s.overall.valid
            else "–",
        ),
        (_("Satisfied / valid answers"), f"{s.overall.satisfied}/{s.overall.valid}"),
        (_("SIPAS index (mean of the elements)"), percent(s.sipas.index)),
        (
            _("Reported trouble or harassment"),
            f"{percent(s.harassment.rate)} ({s.harassment.yes}/{s.harassment.answered})",
        ),
    ]
    overall_label = _("Overall")
    verdicts = [f"{overall_label}: {verdict_text(s.verdict)}"]
    evidence = evidence_text(s.verdict)
    if evidence:
        verdicts.append(evidence)
    verdicts += [
        f"{longer.label(current_lang())}: {verdict_text(comparison)}"
        for longer, comparison in s.longer
    ]
    # A field's verdict only where one is reached: a page of "not yet known" tells
    # a chairman nothing; the fields table below has every rate.
    decided = [f for f in s.fields if f.rate.valid and f.comparison.status != "inconclusive"]
    verdicts += [f"{pick(f.label)}: {verdict_text(f.comparison)}" for f in decided]
    undecided = [f for f in s.fields if f.rate.valid and f.comparison.status == "inconclusive"]
    if undecided:
        verdicts.append(
            _(
                "Not yet known for %(fields)s: too few answers in the period.",
                fields=", ".join(pick(f.label) for f in undecided),
            )
        )
    elements = (
        _("The five SIPAS elements"),
        [_("Element"), _("Answers"), _("Rate"), _("Interval (%(level)s)", level="95%")],
        [
            [
                pick(s.definition.elements[e.element]),
                str(e.overall.valid if e.overall else 0),
                percent(e.rate),
                range_text(e.overall.low, e.overall.high) if e.overall and e.overall.valid else "",
            ]
            for e in s.sipas.elements
        ],
    )
    fields = (
        _("By procedure field"),
        [_("Field"), _("Answers"), _("Rate"), _("Target")],
        [
            [pick(f.label), str(f.rate.valid), percent(f.rate.rate), target_text(f.target.rate)]
            for f in s.fields
        ],
    )
    by_channel = []
    if split is not None and split.figures:
        by_channel = [
            (
                _("By channel"),
                [_("Channel"), _("Forms received"), _("Share"), _("Rate")],
                [
                    [
                        channel_label(f.channel),
                        str(f.responses),
                        percent(f.share),
                        percent(f.overall.rate) if f.overall.valid else "–",
                    ]
                    for f in split.figures
                ],
            )
        ]
    comments = comment_list(s.unit, s.period)
    distributions = [
        (
            pick(d.text),
            [_("Answer"), _("Responses"), _("Share")],
            [[pick(row.label), str(row.count), percent(row.share)] for row in d.rows],
        )
        for d in s.distributions
    ]
    content = report_pdf.ReportContent(
        title=_title(s.period, current_lang()),
        unit_name=s.unit.name,
        subtitle=_(
            "%(dates)s · produced on %(today)s",
            dates=s.period.range_label(),
            today=today_in_vietnam().strftime("%d/%m/%Y"),
        ),
        summary=summary,
        verdicts=verdicts,
        tables=[elements, fields, *by_channel, *distributions],
        chart=None,
        comments_heading=_("Comments, suggestions and complaints (%(n)d)", n=len(comments)),
        comments=comments,
        footer=_footer(s.unit.name, s.period.code),
        letterhead=letterhead(s.unit, s.period, today_in_vietnam()),
    )
    return content, trend_drawing(s)


def comment_list(unit, period) -> list[tuple[str, str]]:
    """The period's comments of ``unit`` and the units below it, newest first, each with
    a line saying when, where, in which field and with which overall rating."""
    definition = definition_of(current_questionnaire())
    overall_q = definition.by_role("overall")
    field_q = definition.by_role("procedure_field")
    field_labels = {o.value: pick(o.label) for o in field_q.options} if field_q else {}
    rating_labels = {o.value: pick(o.label) for o in overall_q.options}
    status_labels = {value: str(label) for value, label in FEEDBACK_STATUSES}
    comments = []
    for r in responses_in(unit, period):
        if not r.comment:
            continue
        rating = rating_labels.get(r.answer_map().get(overall_q.id), "")
        meta = " · ".join(
            x
            for x in (
                local_datetime(r.submitted_at),
                r.unit.name,
                field_labels.get(r.procedure_field or "", ""),
                rating,
            )
            if x
        )
        handling = status_labels.get(r.feedback_status, r.feedback_status)
        text = f"{r.comment}\n{_('Status')}: {handling}"
        if r.feedback_reply:
            text += f"\n{_('Reply or action taken')}: {r.feedback_reply}"
        comments.append((meta, text))
    return comments


def comment_count(s: DistrictSummary) -> int:
    """How many counted responses of the district's communes carry a comment."""
    return len(comment_list(s.unit, s.period))


def funnel_drawing(s: DistrictSummary) -> Drawing:
    """The funnel plot of the communes, as the plain data it is drawn from."""
    points, zones, limits = funnel_data(s)
    title = _(
        "%(unit)s – communes compared with the target, %(period)s",
        unit=s.unit.name,
        period=s.period.label(current_lang()),
    )
    return funnel_figure(points, zones, limits, s.target.rate, title)


def funnel_figure(points, zones, limits, target: float, title: str) -> Drawing:
    """A funnel plot around ``target`` with the house's labels (communes or officers)."""
    lang = current_lang()
    return Drawing(
        charts.funnel_chart,
        (points, target, limits, title),
        {
            "decimal_comma": lang == "vi",
            "xlabel": _("Valid answers (n)"),
            "ylabel": _("Satisfied"),
            "target_label": _("Target %(target)s", target=target_text(target)),
            "limit_labels": (
                _("Limits %(level)s", level="95%"),
                _("Limits %(level)s", level="99,8%"),
            ),
            "zones": zones,
            "steps": 0 < target < 1,
            "zone_labels": {
                "outside998": _("Outside the %(level)s limits: beyond chance", level="99,8%"),
                "outside95": _(
                    "Between the %(inner)s and %(outer)s limits", inner="95%", outer="99,8%"
                ),
                "inside": _("Inside the funnel: may be chance"),
            },
        },
    )


def pooled_note() -> str:
    return _(
        "The pooled figure counts every response equally, so a commune that collects many "
        "responses weighs more than its share of dossiers."
    )


def district_tables(s: DistrictSummary) -> list[Table]:
    rate, low, high = s.headline_rate
    summary = [
        (_("Unit"), s.unit.name),
        (_("Channels included"), channels_text(s.channels)),
        (_("Period"), s.period.label(current_lang())),
        (_("From"), s.period.start),
        (_("To"), s.period.end),
        (_("Status"), period_status(s.period)),
        (headline_title(s), _percent(rate)),
        (_("Lower bound (%(level)s)", level="95%"), _percent(low)),
        (_("Upper bound (%(level)s)", level="95%"), _percent(high)),
        (_("Target"), _percent(s.target.rate)),
        (_("Verdict"), verdict_text(s.headline_verdict)),
        (_("Pooled figure (every response equal)"), _percent(s.pooled.rate)),
        (_("Forms received"), s.responses),
        (_("Comments"), comment_count(s)),
        (_("Weights"), weights_text(s)),
    ] + [(_("Note"), note_text(note)) for note in s.notes]
    communes = [
        (
            number,
            c.unit.code,
            c.unit.name,
            c.responses,
            c.rate.valid,
            c.rate.satisfied,
            c.rate.rate,
            c.rate.low,
            c.rate.high,
            c.target.rate,
            verdict_text(c.verdict) if c.rate.valid else _("No responses"),
            c.comments,
            c.dossiers,
        )
        for number, c in enumerate(s.children, start=1)
    ]
    return [
        Table(_("Summary"), [_("Item"), _("Value")], summary),
        Table(
            _("Communes"),
            [
                _("No."),
                _("Code"),
                _("Unit"),
                _("Forms received"),
                _("Answers"),
                _("Satisfied"),
                _("Rate"),
                _("Lower bound (%(level)s)", level="95%"),
                _("Upper bound (%(level)s)", level="95%"),
                _("Target"),
                _("Verdict"),
                _("Comments"),
                _("Dossiers"),
            ],
            communes,
            percent_columns=frozenset({6, 7, 8, 9}),
        ),
    ]


def district_report(s: DistrictSummary) -> tuple[ReportContent, Drawing]:
    """The printable report's content, without its chart, and the funnel plot to put in it."""
    rate, low, high = s.headline_rate
    summary = [
        (_("Channels included"), channels_text(s.channels)),
        (
            headline_title(s),
            f"{percent(rate)} ({interval_text(low, high)})" if rate is not None else "–",
        ),
        (
            _("Pooled figure (every response equal)"),
            f"{percent(s.pooled.rate)} ({interval_text(s.pooled.low, s.pooled.high)})"
            if s.pooled.valid
            else "–",
        ),
        (_("Forms received"), str(s.responses)),
        (_("Weights"), weights_text(s)),
    ]
    comments = comment_list(s.unit, s.period)
    table = (
        _("Communes"),
        [
            _("Unit"),
            _("Answers"),
            _("Satisfied"),
            _("Rate"),
            _("Interval (%(level)s)", level="95%"),
            _("Verdict"),
            _("Comments"),
        ],
        [
            [
                c.unit.name,
                str(c.rate.valid),
                str(c.rate.satisfied),
                percent(c.rate.rate),
                range_text(c.rate.low, c.rate.high),
                verdict_text(c.verdict) if c.rate.valid else _("No responses"),
                str(c.comments),
            ]
            for c in s.children
        ],
    )
    return report_pdf.ReportContent(
        title=_title(s.period, current_lang()),
        unit_name=s.unit.name,
        subtitle=_(
            "%(dates)s · produced on %(today)s",
            dates=s.period.range_label(),
            today=today_in_vietnam().strftime("%d/%m/%Y"),
        ),
        summary=summary,
        verdicts=[verdict_text(s.headline_verdict), pooled_note()]
        + [note_text(note) for note in s.notes],
        tables=[table],
        chart=None,
        comments_heading=_("Comments, suggestions and complaints (%(n)d)", n=len(comments)),
        comments=comments,
        footer=_footer(s.unit.name, s.period.code),
        letterhead=letterhead(s.unit, s.period, today_in_vietnam()),
    ), funnel_drawing(s)
