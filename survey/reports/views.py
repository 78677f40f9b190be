"""Downloads for the monthly and quarterly reports.

URLs are stable so that officers can bookmark them:
``/reports/<unit_code>/<period>/chart.png|svg|pdf`` and ``report.xlsx|csv|pdf``.
"""

from __future__ import annotations

from flask import Blueprint
from flask import Response as HttpResponse
from flask import abort
from flask import request
from flask_babel import gettext as _
from flask_login import login_required

from survey.district.summary import summarise_children
from survey.reports.content import MIMETYPES
from survey.reports.content import chart_bytes
from survey.reports.content import district_report
from survey.reports.content import district_tables
from survey.reports.content import file_name
from survey.reports.content import funnel_drawing
from survey.reports.content import report_content
from survey.reports.content import report_docx_bytes
from survey.reports.content import report_pdf_bytes
from survey.reports.content import response_table
from survey.reports.content import spreadsheet_bytes
from survey.reports.content import summary_tables
from survey.reports.content import trend_drawing
from survey.reports.summary import channel_split
from survey.reports.summary import summarise
from survey.web.downloads import content_disposition
from survey.web.i18n import current_lang
from survey.web.lookup import channels_or_400
from survey.web.lookup import resolve_period
from survey.web.lookup import visible_unit_or_404

bp = Blueprint("reports", __name__, url_prefix="/reports/<unit_code>/<period>")


def _download(data: bytes, fmt: str, name: str, inline: bool = False) -> HttpResponse:
    response = HttpResponse(data, mimetype=MIMETYPES[fmt])
    disposition = "inline" if inline else "attachment"
    response.headers["Content-Disposition"] = content_disposition(disposition, f"{name}.{fmt}")
    # Officers' data: never kept by shared caches.
    response.headers["Cache-Control"] = "private, no-store"
    return response


CSV_SEPARATORS = {"semicolon": ";", "comma": ","}


def _csv_separator() -> str:
    """The CSV's form: ``?sep=semicolon`` (";" and decimal comma, as Excel set up for
    Vietnam expects; the default in Vietnamese) or ``?sep=comma`` ("," and decimal
    point, for other programs; the default in English)."""
    asked = request.args.get("sep")
    if asked is None:
        return ";" if current_lang() == "vi" else ","
    if asked not in CSV_SEPARATORS:
        abort(400, description=_("The CSV separator must be “semicolon” or “comma”."))
    return CSV_SEPARATORS[asked]


@bp.get("/chart.<any(png, svg, pdf):fmt>")
@login_required
def chart(unit_code: str, period: str, fmt: str):
    """The trend chart ending with ``period``."""
    unit = visible_unit_or_404(unit_code)
    channels = channels_or_400(request.args.get("channel"))
    if unit.children:
        # A district's chart compares its communes (funnel plot).
        d = summarise_children(unit, resolve_period(unit, period), channels=channels)
        name = file_name(d, "funnel")
        drawing = funnel_drawing(d)
    else:
        summary = summarise(unit, resolve_period(unit, period), channels=channels)
        name = file_name(summary, "chart")
        drawing = trend_drawing(summary)
    return _download(chart_bytes(drawing, fmt), fmt, name, inline=fmt != "pdf")


def _document(content_and_chart, fmt: str, name: str) -> HttpResponse:
    """The administrative document as PDF (to print) or DOCX (to edit before signing)."""
    if fmt == "docx":
        return _download(report_docx_bytes(*content_and_chart), fmt, name)
    return _download(report_pdf_bytes(*content_and_chart), fmt, name)


@bp.get("/report.<any(xlsx, csv, pdf, docx):fmt>")
@login_required
def report(unit_code: str, period: str, fmt: str):
    """The period's report as a spreadsheet (summary and responses), or as the
    administrative document in PDF or DOCX."""
    unit = visible_unit_or_404(unit_code)
    channels = channels_or_400(request.args.get("channel"))
    if unit.children:
        d = summarise_children(unit, resolve_period(unit, period), channels=channels)
        name = file_name(d, "communes")
        if fmt in ("pdf", "docx"):
            return _document(district_report(d), fmt, name)
        tables = district_tables(d)
        sheet_names = [_("Summary"), _("Communes")]
    else:
        summary = summarise(unit, resolve_period(unit, period), channels=channels)
        name = file_name(summary, "report")
        # Each channel's rate beside the others, unless the report is of some channels.
        split = None if channels else channel_split(unit, summary.period)
        if fmt in ("pdf", "docx"):
            return _document(report_content(summary, split), fmt, name)
        tables = [*summary_tables(summary, split), response_table(summary)]
        sheet_names = [_("Summary"), _("Elements"), _("Fields")]
        sheet_names += [_("Channels")] if split is not None else []
        sheet_names += [_("Responses")]
    separator = _csv_separator() if fmt == "csv" else ","
    return _download(spreadsheet_bytes(tables, sheet_names, fmt, separator), fmt, name)
