"""District and province pages: the stratified figure, the comparison of their
communes, the funnel plot, and the dossier volumes that weight them."""

from __future__ import annotations

from flask import Blueprint
from flask import flash
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required

from .. import charts
from ..audit import record
from ..district import DistrictSummary
from ..district import funnel_data
from ..district import summarise_children
from ..exports import Table
from ..extensions import csrf
from ..extensions import db
from ..forms.officer import EmptyForm
from ..i18n import current_lang
from ..i18n import percent
from ..models import DossierVolume
from ..periods import Period
from ..presenters import interval_text
from ..presenters import range_text
from ..presenters import target_text
from ..presenters import verdict_text
from ..render_cache import Drawing
from ..report_pdf import ReportContent
from ..services import current_questionnaire
from ..services import definition_of
from ..volumes import VolumeFileError
from ..volumes import check_rows
from ..volumes import import_rows
from ..volumes import read_table
from ..volumes import save_rows
from .officer import period_choices
from .officer import resolve_period
from .officer import today_in_vietnam
from .officer import visible_unit_or_404

bp = Blueprint("district", __name__)


def district_dashboard(unit, period: Period):
    """The district's page (called by the dashboard view for units with children)."""
    s = summarise_children(unit, period)
    return render_template(
        "district/dashboard.html",
        unit=unit,
        period=period,
        d=s,
        choices=period_choices(unit, period),
        tab="dashboard",
    )


def funnel_drawing(s: DistrictSummary) -> Drawing:
    """The funnel plot of the communes, as the plain data it is drawn from."""
    points, zones, limits = funnel_data(s)
    lang = current_lang()
    return Drawing(
        charts.funnel_chart,
        (
            points,
            s.target.rate,
            limits,
            _(
                "%(unit)s – communes compared with the target, %(period)s",
                unit=s.unit.name,
                period=s.period.label(lang),
            ),
        ),
        {
            "decimal_comma": lang == "vi",
            "xlabel": _("Valid answers (n)"),
            "ylabel": _("Satisfied"),
            "target_label": _("Target %(target)s", target=target_text(s.target.rate)),
            "limit_labels": (
                _("Limits %(level)s", level="95%"),
                _("Limits %(level)s", level="99,8%"),
            ),
            "zones": zones,
        },
    )


def weights_note(s: DistrictSummary) -> str:
    if s.weights_from_volumes:
        return _("Each commune is weighted by the dossiers it handled in the period.")
    return _(
        "Dossier volumes are missing for some months, so communes are weighted by their "
        "number of responses: the district figure equals the pooled one."
    )


def pooled_note() -> str:
    return _(
        "The pooled figure counts every response equally, so a commune that collects many "
        "responses weighs more than its share of dossiers."
    )


def district_tables(s: DistrictSummary) -> list[Table]:
    strat = s.stratified
    summary = [
        (_("Unit"), s.unit.name),
        (_("Period"), s.period.label(current_lang())),
        (_("Dates"), s.period.range_label()),
        (_("District figure (weighted by dossiers)"), strat.rate if strat else None),
        (_("Lower bound (%(level)s)", level="95%"), strat.low if strat else None),
        (_("Upper bound (%(level)s)", level="95%"), strat.high if strat else None),
        (_("Target"), s.target.rate),
        (_("Verdict"), verdict_text(s.stratified_verdict)),
        (_("Pooled figure (every response equal)"), s.pooled.rate),
        (_("Weights"), weights_note(s)),
    ]
    communes = [
        (
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
            c.dossiers,
        )
        for c in s.children
    ]
    return [
        Table(_("Summary"), [_("Item"), _("Value")], summary),
        Table(
            _("Communes"),
            [
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
                _("Dossiers"),
            ],
            communes,
            percent_columns=frozenset({5, 6, 7, 8}),
        ),
    ]


def district_report(s: DistrictSummary) -> tuple[ReportContent, Drawing]:
    """The printable report's content, without its chart, and the funnel plot to put in it."""
    lang = current_lang()
    strat = s.stratified
    summary = [
        (
            _("District figure (weighted by dossiers)"),
            f"{percent(strat.rate)} ({interval_text(strat.low, strat.high)})" if strat else "–",
        ),
        (
            _("Pooled figure (every response equal)"),
            f"{percent(s.pooled.rate)} ({interval_text(s.pooled.low, s.pooled.high)})"
            if s.pooled.valid
            else "–",
        ),
        (_("Forms received"), str(s.responses)),
        (_("Weights"), weights_note(s)),
    ]
    table = (
        _("Communes"),
        [_("Unit"), _("Answers"), _("Rate"), _("Interval (%(level)s)", level="95%"), _("Verdict")],
        [
            [
                c.unit.name,
                str(c.rate.valid),
                percent(c.rate.rate),
                range_text(c.rate.low, c.rate.high),
                verdict_text(c.verdict) if c.rate.valid else _("No responses"),
            ]
            for c in s.children
        ],
    )
    return ReportContent(
        title=_("Citizen satisfaction report – %(period)s", period=s.period.label(lang)),
        unit_name=s.unit.name,
        subtitle=_(
            "%(dates)s · produced on %(today)s",
            dates=s.period.range_label(),
            today=today_in_vietnam().strftime("%d/%m/%Y"),
        ),
        summary=summary,
        verdicts=[verdict_text(s.stratified_verdict), pooled_note()],
        tables=[table],
        chart=None,
        comments_heading=_("Comments, suggestions and complaints (%(n)d)", n=0),
        comments=[],
        footer=f"sipas-survey · {s.unit.name} · {s.period.code}",
    ), funnel_drawing(s)


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


def _field_codes() -> set[str]:
    field_q = definition_of(current_questionnaire()).by_role("procedure_field")
    return {o.value for o in field_q.options} if field_q else set()


@bp.route("/units/<unit_code>/volumes", methods=["GET", "POST"])
@login_required
def volumes(unit_code: str):
    """Enter the dossiers each commune handled in a month, or import a file."""
    unit = visible_unit_or_404(unit_code)
    month = resolve_period(unit, request.args.get("month") or request.form.get("month"))
    if month.kind != "month":
        month = month.months()[-1]
    leaves = unit.leaves()
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        form = EmptyForm()
        if not form.validate_on_submit():
            errors.append(_("Your session has expired. Please reload the page and try again."))
            status = 400
        else:
            rows = [["unit_code", "month", "dossiers"]]
            for leaf in leaves:
                value = request.form.get(f"v_{leaf.code}", "").strip()
                if value:
                    rows.append([leaf.code, month.code, value])
            good, errors = check_rows(rows, current_user, _field_codes())
            if errors:
                status = 422
            else:
                saved = save_rows(good, "form")
                record(
                    "volumes",
                    officer=current_user,
                    unit=unit,
                    detail=f"{month.code}: {saved} rows (form)",
                )
                db.session.commit()
                flash(_("Saved %(n)d volumes.", n=saved), "info")
                return redirect(
                    url_for("district.volumes", unit_code=unit.code, month=month.code), 303
                )
    current = {
        v.unit_id: v.dossiers
        for v in db.session.scalars(
            db.select(DossierVolume).where(
                DossierVolume.month == month.code,
                DossierVolume.procedure_field == "",
                DossierVolume.unit_id.in_([u.id for u in leaves]),
            )
        )
    }
    return render_template(
        "district/volumes.html",
        unit=unit,
        period=None,
        month=month,
        leaves=leaves,
        current=current,
        errors=errors,
        posted=request.form,
        tab="volumes",
    ), status


@bp.post("/units/<unit_code>/volumes/import")
@login_required
def import_volumes(unit_code: str):
    """Import the one-stop software's monthly export: all rows or none."""
    unit = visible_unit_or_404(unit_code)
    form = EmptyForm()
    upload = request.files.get("file")
    errors: list[str] = []
    status = 422
    if not form.validate_on_submit():
        errors = [_("Your session has expired. Please reload the page and try again.")]
        status = 400
    elif upload is None or not upload.filename:
        errors = [_("Please choose a file to import.")]
    else:
        try:
            rows = read_table(upload.filename, upload.read())
        except VolumeFileError as exc:
            errors = [str(exc)]
            status = 415
        else:
            result = import_rows(rows, current_user, _field_codes(), "import")
            if result.ok:
                record(
                    "volumes",
                    officer=current_user,
                    unit=unit,
                    detail=f"{result.saved} rows imported from {upload.filename}",
                )
                db.session.commit()
                flash(_("Imported %(n)d volumes.", n=result.saved), "info")
                return redirect(url_for("district.volumes", unit_code=unit.code), 303)
            errors = list(result.errors)
    month = resolve_period(unit, None)
    leaves = unit.leaves()
    return render_template(
        "district/volumes.html",
        unit=unit,
        period=None,
        month=month,
        leaves=leaves,
        current={},
        errors=errors,
        posted={},
        tab="volumes",
    ), status


class _KeyScope:
    """The reach of an API key: its unit and the units below it (like an officer's)."""

    def __init__(self, unit) -> None:
        self.unit = unit

    def can_see(self, unit) -> bool:
        return unit.id == self.unit.id or any(a.id == self.unit.id for a in unit.ancestors())


@bp.post("/api/v1/volumes")
@csrf.exempt  # a machine client authenticated by its API key, not a browser session
def api_volumes():
    """Post dossier volumes from the one-stop software: all rows or none.

    ``Authorization: Bearer <key>`` of the unit (or of a unit above it); body
    ``{"rows": [{"unit_code": "HD-CG-LC", "month": "2025-03", "dossiers": 420,
    "field": ""}]}``.
    """
    from ..tokens import api_key_for

    key = api_key_for(request.headers.get("Authorization"))
    if key is None:
        return jsonify(error=_("A valid API key is required."), status=401), 401
    if not request.is_json:
        return jsonify(error=_("Send the volumes as JSON."), status=415), 415
    body = request.get_json(silent=True)
    rows = body.get("rows") if isinstance(body, dict) else None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        return jsonify(error=_('The body must be {"rows": [ ... ]}.'), status=422), 422
    table = [["unit_code", "month", "dossiers", "field"]] + [
        [
            str(r.get("unit_code", "")),
            str(r.get("month", "")),
            str(r.get("dossiers", "")),
            str(r.get("field") or ""),
        ]
        for r in rows
    ]
    # Messages say "line N": line 2 is the first row sent (line 1 is the header).
    good, errors = check_rows(table, _KeyScope(key.unit), _field_codes())
    if errors:
        return jsonify(
            error=_("Nothing was saved. Please correct:"), problems=errors, status=422
        ), 422
    if not good:
        return jsonify(error=_("The file has no rows of volumes."), status=422), 422
    saved = save_rows(good, "api")
    record("volumes", unit=key.unit, detail=f"{saved} rows from API key {key.prefix}")
    db.session.commit()
    return jsonify(saved=saved), 200
