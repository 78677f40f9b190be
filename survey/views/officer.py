"""The officers' pages: dashboard, feedback inbox, targets.

Every unit-scoped page answers 404 for a unit the officer may not see, so
that other units' codes and data never leak.
"""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required
from wtforms.fields.choices import SelectChoice

from ..audit import record
from ..extensions import db
from ..forms.officer import FEEDBACK_STATUSES
from ..forms.officer import FeedbackForm
from ..forms.officer import TargetForm
from ..i18n import LOCAL_TZ
from ..i18n import current_lang
from ..models import AuditEntry
from ..models import Response
from ..models import Role
from ..models import Unit
from ..models import utcnow
from ..params import bounded_int
from ..periods import Period
from ..periods import PeriodError
from ..periods import parse_period
from ..periods import period_containing
from ..presenters import interval_text
from ..presenters import target_text
from ..presenters import verdict_class
from ..presenters import verdict_text
from ..reporting import summarise
from ..services import current_questionnaire
from ..services import definition_of
from ..targets import OVERALL
from ..targets import effective_targets
from ..targets import inherited_target
from ..targets import set_target

bp = Blueprint("officer", __name__)

FEEDBACK_PAGE_SIZE = 50
# Far beyond any real list (50 a page); any other page number shows the first page.
MAX_PAGE = 10_000
LOW_RATINGS = {"1", "2"}


def today_in_vietnam():
    return datetime.now(LOCAL_TZ).date()


def visible_unit_or_404(code: str) -> Unit:
    """The unit with this code, if the signed-in officer may see it; else 404."""
    unit = db.session.scalar(sa.select(Unit).where(Unit.code == code.strip().upper()))
    if unit is None or not current_user.can_see(unit):
        abort(
            404,
            description=_("There is no unit with the code %(code)s that you can see.", code=code),
        )
    return unit


def resolve_period(unit: Unit, code: str | None) -> Period:
    """The reporting period asked for (default: the current month), or 400 with the reason."""
    today = today_in_vietnam()
    if not code:
        return period_containing(today, "month", unit.report_cutoff_day)
    try:
        period = parse_period(code, unit.report_cutoff_day)
    except PeriodError:
        abort(
            400,
            description=_(
                "The reporting period %(code)s is not valid. Use YYYY-MM (month), "
                "YYYY-Qn (quarter), YYYY-H1, YYYY-9M or YYYY (year).",
                code=code,
            ),
        )
    if period.is_future(today):
        abort(
            400,
            description=_(
                "The reporting period %(period)s has not started yet.",
                period=period.label(current_lang()),
            ),
        )
    return period


def period_choices(unit: Unit, period: Period) -> list[tuple[str, str]]:
    """Quick links: this month, last month, this quarter, half year, nine months, year."""
    today = today_in_vietnam()
    cutoff = unit.report_cutoff_day
    this_month = period_containing(today, "month", cutoff)
    previous = period_containing(this_month.start - timedelta(days=1), "month", cutoff)
    kinds = [this_month, previous] + [
        period_containing(today, kind, cutoff)
        for kind in ("quarter", "half", "nine_months", "year")
    ]
    seen, choices = set(), []
    for p in kinds:
        if p.code not in seen:
            seen.add(p.code)
            choices.append((p.code, p.label(current_lang())))
    return choices


@bp.app_context_processor
def _helpers():
    return {
        "verdict_text": verdict_text,
        "verdict_class": verdict_class,
        "interval_text": interval_text,
        "target_text": target_text,
    }


@bp.get("/officer")
@login_required
def home():
    """Send the officer to their unit's dashboard (administrators: the list of units)."""
    if current_user.role != Role.ADMIN and current_user.unit is not None:
        return redirect(url_for("officer.dashboard", unit_code=current_user.unit.code))
    units = db.session.scalars(sa.select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.name))
    return render_template("officer/units.html", units=list(units))


@bp.get("/units/<unit_code>")
@login_required
def dashboard(unit_code: str):
    """A unit's satisfaction for a period, against its targets."""
    unit = visible_unit_or_404(unit_code)
    period = resolve_period(unit, request.args.get("period"))
    if unit.children:
        from .district import district_dashboard

        return district_dashboard(unit, period)
    summary = summarise(unit, period)
    children = sorted(unit.children, key=lambda u: u.name)
    return render_template(
        "officer/dashboard.html",
        unit=unit,
        period=period,
        s=summary,
        children=children,
        choices=period_choices(unit, period),
        tab="dashboard",
    )


@bp.get("/units/<unit_code>/feedback")
@login_required
def feedback(unit_code: str):
    """Every comment of the unit (and the units below it), newest first, with filters."""
    unit = visible_unit_or_404(unit_code)
    definition = definition_of(current_questionnaire())
    field_q = definition.by_role("procedure_field")
    status = request.args.get("status", "")
    field = request.args.get("field", "")
    page = request.args.get("page", "1")
    page = bounded_int(page, 1, MAX_PAGE) or 1
    query = (
        sa.select(Response)
        .where(Response.unit_id.in_(unit.subtree_ids()), Response.comment.is_not(None))
        .order_by(Response.submitted_at.desc(), Response.id.desc())
    )
    if status in {"new", "in_progress", "answered"}:
        query = query.where(Response.feedback_status == status)
    if field and field_q and field in field_q.values():
        query = query.where(Response.procedure_field == field)
    pagination = db.paginate(query, page=page, per_page=FEEDBACK_PAGE_SIZE, error_out=False)
    overall_q = definition.by_role("overall")
    history = {}
    ids = [r.id for r in pagination.items]
    if ids:
        for entry in db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.response_id.in_(ids))
            .order_by(AuditEntry.at, AuditEntry.id)
        ):
            history.setdefault(entry.response_id, []).append(entry)
    return render_template(
        "officer/feedback.html",
        unit=unit,
        pagination=pagination,
        status=status,
        field=field,
        field_q=field_q,
        overall_q=overall_q,
        definition=definition,
        low_ratings=LOW_RATINGS,
        history=history,
        form=FeedbackForm(),
        statuses=FEEDBACK_STATUSES,
        tab="feedback",
    )


@bp.post("/units/<unit_code>/feedback/<int(max=9223372036854775807):response_id>")
@login_required
def update_feedback(unit_code: str, response_id: int):
    """Change a comment's status and record the reply, in the audit log."""
    unit = visible_unit_or_404(unit_code)
    response = db.session.get(Response, response_id)
    if response is None or response.unit_id not in unit.subtree_ids() or response.comment is None:
        abort(404)
    form = FeedbackForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(url_for("officer.feedback", unit_code=unit.code) + f"#r{response.id}"), 303
    old = response.feedback_status
    response.feedback_status = form.status.data
    if form.reply.data:
        response.feedback_reply = form.reply.data
    response.feedback_updated_at = utcnow()
    record(
        "feedback",
        officer=current_user,
        unit=unit,
        response=response,
        detail=f"{old} → {form.status.data}" + (f": {form.reply.data}" if form.reply.data else ""),
    )
    db.session.commit()
    flash(_("Saved."), "info")
    return redirect(
        url_for("officer.feedback", unit_code=unit.code, status=request.args.get("status", ""))
        + f"#r{response.id}",
        303,
    )


@bp.route("/units/<unit_code>/targets", methods=["GET", "POST"])
@login_required
def targets(unit_code: str):
    """See and set the unit's targets for a year, overall and per procedure field."""
    unit = visible_unit_or_404(unit_code)
    definition = definition_of(current_questionnaire())
    field_q = definition.by_role("procedure_field")
    field_codes = [o.value for o in field_q.options] if field_q else []
    form = TargetForm()
    field_choices = [(OVERALL, _("Overall"))] + [
        (o.value, o.label.get(current_lang(), o.label["vi"]))
        for o in (field_q.options if field_q else ())
    ]
    form.procedure_field.choices = [SelectChoice(value, label) for value, label in field_choices]
    year = request.args.get("year", "")
    year = bounded_int(year, 2000, 2100) or today_in_vietnam().year
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            year = int(form.year.data)
            field = form.procedure_field.data or OVERALL
            rate = round(float(form.percent.data) / 100, 4)
            floor = inherited_target(unit, year, field, field_codes)
            may_loosen = current_user.role == Role.ADMIN or (
                current_user.role == Role.DISTRICT and current_user.unit_id != unit.id
            )
            if rate < floor.rate and not may_loosen:
                form.percent.errors = list(form.percent.errors) + [
                    _(
                        "A unit may only set a stricter target than the one it inherits "
                        "(%(target)s).",
                        target=target_text(floor.rate),
                    )
                ]
                status = 422
            else:
                set_target(unit, year, field, rate, current_user.id)
                record(
                    "target",
                    officer=current_user,
                    unit=unit,
                    detail=f"{year} {field or 'overall'} = {rate:.4f}",
                )
                db.session.commit()
                flash(_("Target saved."), "info")
                return redirect(url_for("officer.targets", unit_code=unit.code, year=year), 303)
        else:
            status = 400 if "csrf_token" in form.errors else 422
    elif not form.year.data:
        form.year.data = year
    current = effective_targets(unit, year, field_codes)
    return render_template(
        "officer/targets.html",
        unit=unit,
        form=form,
        year=year,
        current=current,
        field_q=field_q,
        field_choices=field_choices,
        tab="targets",
    ), status
