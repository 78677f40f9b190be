"""The officers' pages of a unit: dashboard, feedback inbox, targets.

Every page answers 404 for a unit the officer may not see, so that other
units' codes and data never leak. A unit with communes below it (a district,
a province) has the district dashboard: its communes compared.
"""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_login import login_required
from wtforms.fields.choices import SelectChoice

from survey.data.models import Role
from survey.data.models import utcnow
from survey.data.queries import current_questionnaire
from survey.data.queries import definition_of
from survey.data.targets import OVERALL
from survey.data.targets import effective_targets
from survey.district.summary import summarise_children
from survey.domain.params import bounded_int
from survey.domain.periods import today_in_vietnam
from survey.forms.officer import FEEDBACK_STATUSES
from survey.forms.officer import AppealDecisionForm
from survey.forms.officer import AppealForm
from survey.forms.officer import FeedbackForm
from survey.forms.officer import ReportSettingsForm
from survey.forms.officer import TargetForm
from survey.officers import services
from survey.reports import services as report_services
from survey.reports.summary import channel_split
from survey.reports.summary import summarise
from survey.web.i18n import current_lang
from survey.web.lookup import MAX_PAGE
from survey.web.lookup import channel_arg
from survey.web.lookup import channels_or_400
from survey.web.lookup import period_choices
from survey.web.lookup import resolve_period
from survey.web.lookup import visible_unit_or_404
from survey.web.presenters import target_text

bp = Blueprint("officer", __name__, template_folder="templates", url_prefix="/units/<unit_code>")

LOW_RATINGS = {"1", "2"}


@bp.get("")
@login_required
def dashboard(unit_code: str):
    """A unit's satisfaction for a period, against its targets."""
    unit = visible_unit_or_404(unit_code)
    period = resolve_period(unit, request.args.get("period"))
    channels = channels_or_400(request.args.get("channel"))
    shown = dict(
        unit=unit,
        period=period,
        split=channel_split(unit, period),
        channels=channels,
        channel_arg=channel_arg(channels),
        choices=period_choices(unit, period),
        tab="dashboard",
    )
    if unit.children:
        return render_template(
            "district/dashboard.html",
            d=summarise_children(unit, period, channels=channels),
            **shown,
        )
    return render_template(
        "officer/dashboard.html", s=summarise(unit, period, channels=channels), **shown
    )


@bp.get("/feedback")
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
    field_codes = set(field_q.values()) if field_q else set()
    found = services.feedback_page(
        unit, status=status, field=field, field_codes=field_codes, page=page
    )
    overall_q = definition.by_role("overall")
    return render_template(
        "officer/feedback.html",
        unit=unit,
        pagination=found.pagination,
        status=status,
        field=field,
        field_q=field_q,
        overall_q=overall_q,
        definition=definition,
        low_ratings=LOW_RATINGS,
        history=found.history,
        cases=found.cases,
        may_decide=current_user.role in (Role.DISTRICT, Role.ADMIN),
        now=utcnow(),
        form=FeedbackForm(),
        statuses=FEEDBACK_STATUSES,
        tab="feedback",
    )


def _comment_or_404(unit_code: str, response_id: int):
    """The unit the officer may see and its commented response, or 404."""
    unit = visible_unit_or_404(unit_code)
    response = services.commented_response(unit, response_id)
    if response is None:
        abort(404)
    return unit, response


@bp.post("/feedback/<int(max=9223372036854775807):response_id>")
@login_required
def update_feedback(unit_code: str, response_id: int):
    """Change a comment's status and record the reply, in the audit log."""
    unit, response = _comment_or_404(unit_code, response_id)
    form = FeedbackForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(url_for("officer.feedback", unit_code=unit.code) + f"#r{response.id}"), 303
    services.update_feedback(current_user, unit, response, form.status.data, form.reply.data)
    flash(_("Saved."), "info")
    return redirect(
        url_for("officer.feedback", unit_code=unit.code, status=request.args.get("status", ""))
        + f"#r{response.id}",
        303,
    )


@bp.post("/feedback/<int(max=9223372036854775807):response_id>/appeal")
@login_required
def appeal(unit_code: str, response_id: int):
    """Appeal a case's rating as unfair (any officer who sees it), with a reason."""
    unit, response = _comment_or_404(unit_code, response_id)
    form = AppealForm()
    back = url_for("officer.feedback", unit_code=unit.code) + f"#r{response.id}"
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(back, 303)
    try:
        services.appeal_rating(current_user, unit, response, form.reason.data)
    except services.AppealRefused as exc:
        flash(_APPEAL_REFUSED[exc.reason], "error")
        return redirect(back, 303)
    flash(_("Appeal sent to the district."), "info")
    return redirect(back, 303)


@bp.post("/feedback/<int(max=9223372036854775807):response_id>/appeal/decision")
@login_required
def decide_appeal(unit_code: str, response_id: int):
    """The district upholds or rejects a pending appeal."""
    unit, response = _comment_or_404(unit_code, response_id)
    if current_user.role not in (Role.DISTRICT, Role.ADMIN):
        abort(403, description=_("Only the district decides appeals."))
    form = AppealDecisionForm()
    back = url_for("officer.feedback", unit_code=unit.code) + f"#r{response.id}"
    if not form.validate_on_submit():
        abort(400)
    try:
        services.decide_appeal(current_user, unit, response, uphold=form.action.data == "uphold")
    except services.AppealRefused as exc:
        flash(_APPEAL_REFUSED[exc.reason], "error")
        return redirect(back, 303)
    flash(_("Saved."), "info")
    return redirect(back, 303)


_APPEAL_REFUSED = {
    "not_a_case": _l("Only a low rating with a comment or a harassment report can be appealed."),
    "already": _l("This rating has been appealed already."),
    "not_pending": _l("There is no pending appeal for this rating."),
}


@bp.route("/targets", methods=["GET", "POST"])
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
            try:
                services.set_unit_target(current_user, unit, year, field, rate, field_codes)
            except services.TargetTooLoose as refused:
                form.percent.errors = list(form.percent.errors) + [
                    _(
                        "A unit may only set a stricter target than the one it inherits "
                        "(%(target)s).",
                        target=target_text(refused.inherited.rate),
                    )
                ]
                status = 422
            else:
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


@bp.route("/report-settings", methods=["GET", "POST"])
@login_required
def report_settings(unit_code: str):
    """How the unit's report is issued: issuing body, number symbol, place, signer, recipients."""
    unit = visible_unit_or_404(unit_code)
    form = ReportSettingsForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            values = report_services.SettingsValues(
                parent_body=form.parent_body.data or "",
                issuing_body=form.issuing_body.data,
                number_symbol=form.number_symbol.data,
                place=form.place.data,
                signer_title=form.signer_title.data,
                signer_name=form.signer_name.data or "",
                recipients=form.recipients.data or "",
            )
            report_services.save_settings(current_user, unit, values)
            flash(_("Report settings saved."), "info")
            return redirect(url_for("officer.report_settings", unit_code=unit.code), 303)
        status = 400 if "csrf_token" in form.errors else 422
    else:
        form.process(data=vars(report_services.settings_for(unit)))
    return render_template(
        "officer/report_settings.html",
        unit=unit,
        period=None,
        form=form,
        stored=report_services.stored_settings(unit) is not None,
        tab="report_settings",
    ), status
