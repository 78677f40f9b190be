"""Downloads for the monthly and quarterly reports, and the JSON summary API.

URLs are stable so that officers can bookmark them:
``/reports/<unit_code>/<period>/chart.png|svg|pdf`` and ``report.xlsx|csv|pdf``.
"""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint
from flask import Response as HttpResponse
from flask import jsonify
from flask import request
from flask_babel import gettext as _
from flask_login import login_required

from .. import charts
from ..district import summarise_children
from ..exports import Table
from ..exports import to_csv
from ..exports import to_xlsx
from ..i18n import current_lang
from ..i18n import local_datetime
from ..i18n import percent
from ..i18n import pick
from ..presenters import interval_text
from ..presenters import range_text
from ..presenters import target_text
from ..presenters import verdict_text
from ..render_cache import Drawing
from ..render_cache import cached
from ..report_pdf import ReportContent
from ..report_pdf import render_report
from ..reporting import UnitSummary
from ..reporting import responses_in
from ..reporting import source_split
from ..reporting import summarise
from .district import district_json
from .district import district_report
from .district import district_tables
from .district import funnel_drawing
from .integrity import sources_json
from .officer import resolve_period
from .officer import today_in_vietnam
from .officer import visible_unit_or_404

bp = Blueprint("reports", __name__)

MIMETYPES = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


def _download(data: bytes, fmt: str, name: str, inline: bool = False) -> HttpResponse:
    response = HttpResponse(data, mimetype=MIMETYPES[fmt])
    disposition = "inline" if inline else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{name}.{fmt}"'
    # Officers' data: never kept by shared caches.
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _filename(s: UnitSummary, kind: str) -> str:
    return f"sipas-{s.unit.code}-{s.period.code}-{kind}"


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
            _("%(unit)s – satisfaction rate by month", unit=s.unit.name),
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
        lambda: render_report(replace(content, chart=chart.figure())),
    )


def spreadsheet_bytes(tables: list[Table], sheet_names: list[str], fmt: str) -> bytes:
    """The tables as XLSX (one sheet each) or CSV, rendered only on a cache miss."""
    if fmt == "xlsx":
        return cached(
            "report.xlsx", (tables, sheet_names), lambda: to_xlsx(tables, sheet_names=sheet_names)
        )
    return cached("report.csv", tables, lambda: to_csv(tables))


@bp.get("/reports/<unit_code>/<period>/chart.<any(png, svg, pdf):fmt>")
@login_required
def chart(unit_code: str, period: str, fmt: str):
    """The trend chart ending with ``period``."""
    unit = visible_unit_or_404(unit_code)
    if unit.children:
        # A district's chart compares its communes (funnel plot).
        d = summarise_children(unit, resolve_period(unit, period))
        name = f"sipas-{unit.code}-{d.period.code}-funnel"
        drawing = funnel_drawing(d)
    else:
        summary = summarise(unit, resolve_period(unit, period))
        name = _filename(summary, "chart")
        drawing = trend_drawing(summary)
    return _download(chart_bytes(drawing, fmt), fmt, name, inline=fmt != "pdf")


def summary_tables(s: UnitSummary) -> list[Table]:
    """The report's tables: summary, elements, procedure fields."""
    lang = current_lang()
    summary_rows = [
        (_("Unit"), s.unit.name),
        (_("Period"), s.period.label(lang)),
        (_("Dates"), s.period.range_label()),
        (_("Forms received"), s.responses),
        (_("Valid answers (overall question)"), s.overall.valid),
        (_("Satisfied"), s.overall.satisfied),
        (_("“No opinion” (not counted)"), s.overall.no_opinion),
        (_("Satisfaction rate"), s.overall.rate),
        (_("Lower bound (%(level)s)", level="95%"), s.overall.low),
        (_("Upper bound (%(level)s)", level="95%"), s.overall.high),
        (_("Target"), s.overall_target.rate),
        (_("Verdict"), verdict_text(s.verdict)),
        (_("SIPAS index (mean of the elements)"), s.sipas.index),
        (_("Reported trouble or harassment"), s.harassment.rate),
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
    ]


def response_table(s: UnitSummary) -> Table:
    """One row per response: time, desk, every coded answer as its label, comment, status."""
    definition = s.definition
    questions = definition.answer_questions
    header = (
        [_("No."), _("Time"), _("Unit"), _("Desk")]
        + [pick(q.text) for q in questions]
        + [_("Comment"), _("Status")]
    )
    status_labels = {"new": _("New"), "in_progress": _("In progress"), "answered": _("Answered")}
    # Each question's answer labels, looked up once rather than for every response.
    labels = {q.id: {o.value: pick(o.label) for o in q.options} for q in questions}
    for q in questions:
        if q.no_opinion:
            labels[q.id][q.no_opinion.value] = pick(q.no_opinion.label)
    rows = []
    for r in responses_in(s.unit, s.period):
        answers = r.answer_map()
        cells = [r.id, local_datetime(r.submitted_at), r.unit.name, r.desk.code]
        for q in questions:
            value = answers.get(q.id)
            cells.append(labels[q.id].get(value, value or ""))
        cells += [r.comment or "", status_labels[r.feedback_status] if r.comment else ""]
        rows.append(cells)
    return Table(_("Responses"), header, rows)


def report_content(s: UnitSummary) -> tuple[ReportContent, Drawing]:
    """The printable report's content, without its chart, and the chart to put in it."""
    lang = current_lang()
    summary = [
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
    verdicts = [f"{overall_label}: {verdict_text(s.verdict)}"] + [
        f"{pick(f.label)}: {verdict_text(f.comparison)}" for f in s.fields if f.rate.valid
    ]
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
    overall_q = s.definition.by_role("overall")
    field_q = s.definition.by_role("procedure_field")
    field_labels = {o.value: pick(o.label) for o in field_q.options} if field_q else {}
    rating_labels = {o.value: pick(o.label) for o in overall_q.options}
    comments = []
    for r in responses_in(s.unit, s.period):
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
        comments.append((meta, r.comment))
    content = ReportContent(
        title=_("Citizen satisfaction report – %(period)s", period=s.period.label(lang)),
        unit_name=s.unit.name,
        subtitle=_(
            "%(dates)s · produced on %(today)s",
            dates=s.period.range_label(),
            today=today_in_vietnam().strftime("%d/%m/%Y"),
        ),
        summary=summary,
        verdicts=verdicts,
        tables=[elements, fields],
        chart=None,
        comments_heading=_("Comments, suggestions and complaints (%(n)d)", n=len(comments)),
        comments=comments,
        footer=f"sipas-survey · {s.unit.name} · {s.period.code}",
    )
    return content, trend_drawing(s)


@bp.get("/reports/<unit_code>/<period>/report.<any(xlsx, csv, pdf):fmt>")
@login_required
def report(unit_code: str, period: str, fmt: str):
    """The period's report as a spreadsheet (summary and responses) or a printable PDF."""
    unit = visible_unit_or_404(unit_code)
    if unit.children:
        d = summarise_children(unit, resolve_period(unit, period))
        name = f"sipas-{unit.code}-{d.period.code}-communes"
        if fmt == "pdf":
            return _download(report_pdf_bytes(*district_report(d)), fmt, name)
        tables = district_tables(d)
        sheet_names = [_("Summary"), _("Communes")]
    else:
        summary = summarise(unit, resolve_period(unit, period))
        name = _filename(summary, "report")
        if fmt == "pdf":
            return _download(report_pdf_bytes(*report_content(summary)), fmt, name)
        tables = [*summary_tables(summary), response_table(summary)]
        sheet_names = [_("Summary"), _("Elements"), _("Fields"), _("Responses")]
    return _download(spreadsheet_bytes(tables, sheet_names, fmt), fmt, name)


def _rate_json(rate) -> dict:
    return {
        "valid": rate.valid,
        "satisfied": rate.satisfied,
        "rate": rate.rate,
        "ci_low": rate.low,
        "ci_high": rate.high,
    }


@bp.get("/api/v1/units/<unit_code>/summary")
@login_required
def api_summary(unit_code: str):
    """The period's figures as JSON (same permissions as the pages)."""
    unit = visible_unit_or_404(unit_code)
    s = summarise(unit, resolve_period(unit, request.args.get("period")), trend=False)
    extra = district_json(summarise_children(unit, s.period)) if unit.children else {}
    return jsonify(
        **extra,
        unit={"code": unit.code, "name": unit.name, "level": unit.level},
        period={
            "code": s.period.code,
            "start": s.period.start.isoformat(),
            "end": s.period.end.isoformat(),
        },
        responses=s.responses,
        satisfied=s.overall.satisfied,
        valid=s.overall.valid,
        no_opinion=s.overall.no_opinion,
        rate=s.overall.rate,
        ci_low=s.overall.low,
        ci_high=s.overall.high,
        target=s.overall_target.rate,
        verdict=s.verdict.status,
        verdict_text=verdict_text(s.verdict),
        responses_needed=s.verdict.responses_needed,
        sipas_index=s.sipas.index,
        elements=[
            {"element": e.element, "rate": e.rate, **(_rate_json(e.overall) if e.overall else {})}
            for e in s.sipas.elements
        ],
        fields=[
            {
                "field": f.field,
                "target": f.target.rate,
                "verdict": f.comparison.status,
                **_rate_json(f.rate),
            }
            for f in s.fields
        ],
        harassment={
            "yes": s.harassment.yes,
            "answered": s.harassment.answered,
            "rate": s.harassment.rate,
        },
        # Receipt-verified and open-QR responses apart; flagged ones left out.
        sources=sources_json(source_split(unit, s.period)),
    )
