"""Field interviews: the district's interviewers page and quality checks
(``/units/<unit>/interviewers``), and the interviewer's screen (``/interview/``).

An interviewer's account opens only the interview screen: every other officer
page, download and API answers 403 for it (``keep_interviewers_to_their_screen``),
and ``Officer.can_see`` is false for every unit, so a page that forgot the
check still answers 404.
"""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

from flask import Blueprint
from flask import Response as HttpResponse
from flask import abort
from flask import current_app
from flask import flash
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_login import login_required
from flask_wtf.csrf import generate_csrf

from survey.data.models import Role
from survey.data.queries import current_questionnaire
from survey.data.queries import definition_of
from survey.domain import fieldwork
from survey.domain.params import bounded_int
from survey.domain.periods import today_in_vietnam
from survey.extensions import csrf
from survey.forms.interviews import AssignmentForm
from survey.forms.interviews import InterviewerForm
from survey.forms.officer import EmptyForm
from survey.forms.response import FIELD_PREFIX
from survey.forms.response import response_form_class
from survey.interviews import services
from survey.web.i18n import current_lang
from survey.web.i18n import local_date
from survey.web.i18n import local_datetime
from survey.web.i18n import percent
from survey.web.lookup import period_choices
from survey.web.lookup import resolve_period
from survey.web.lookup import visible_unit_or_404

#: The district's pages about its interviewers, beside its other unit pages.
bp = Blueprint(
    "interviewers",
    __name__,
    template_folder="templates",
    url_prefix="/units/<unit_code>/interviewers",
)
#: The interviewer's own screen. Its service worker's scope is this folder.
field = Blueprint("interview", __name__, template_folder="templates", url_prefix="/interview")

#: Where an interviewer may go besides their screen: signing in and out, and the
#: public pages anyone may open (the citizen's form, results, receipt QR codes).
_OPEN_TO_INTERVIEWERS = {"static", "auth.login", "auth.logout"}
_PUBLIC_BLUEPRINTS = {"public", "site", "receipts", "interview"}


@field.before_app_request
def keep_interviewers_to_their_screen():
    """Refuse an interviewer every page but their screen (deny by default: an
    officer page added later is closed to them without a change here)."""
    if request.blueprint in _PUBLIC_BLUEPRINTS or request.endpoint in _OPEN_TO_INTERVIEWERS:
        return None
    if not (current_user.is_authenticated and current_user.role == Role.INTERVIEWER):
        return None
    if request.endpoint == "auth.home":
        return redirect(url_for("interview.screen"))
    message = _("An interviewer's account opens only the interview screen.")
    if request.path.startswith("/api/"):
        return jsonify(error=message, status=403), 403
    abort(403, description=message)


# --- The district's pages ---------------------------------------------------------


def duration_text(seconds: float | None) -> str:
    """A duration as minutes and seconds ("4 min 05 s")."""
    if seconds is None:
        return "–"
    seconds = round(seconds)
    return _("%(m)d min %(s)02d s", m=seconds // 60, s=seconds % 60)


@bp.context_processor
def _helpers():
    return {"duration_text": duration_text, "percent": percent}


def _managed_unit_or_403(unit_code: str):
    unit = visible_unit_or_404(unit_code)
    if not services.manages(current_user, unit):
        abort(
            403,
            description=_("Only the officers of a district (or province) manage its interviewers."),
        )
    return unit


_ACCOUNT_ERRORS = {
    "bad_username": (
        "username",
        _l("A username has 3 to 64 lower-case letters, digits, '.', '_' or '-'."),
    ),
    "taken": ("username", _l("The username %(username)s is taken. Please choose another.")),
    "no_name": ("full_name", _l("Please enter the interviewer's full name.")),
    "weak_password": (
        "password",
        _l(
            "The password is too weak: at least 10 characters, not a common password, "
            "not containing the username."
        ),
    ),
    "not_a_district": ("username", _l("%(unit)s has no communes to interview in.")),
    "unknown_commune": (
        "commune",
        _l("%(code)s is not a commune of %(unit)s: nothing was saved."),
    ),
    "bad_dates": (
        "starts_on",
        _l("Please enter both days as dd/mm/yyyy, the last one not before the first."),
    ),
    "too_long": ("ends_on", _l("An assignment lasts at most %(days)d days.")),
}


def _interviewers_page(unit, *, form=None, assign_form=None, assign_for=None, status=200):
    interviewers = services.interviewers_of(unit)
    return render_template(
        "interviews/interviewers.html",
        unit=unit,
        interviewers=interviewers,
        assignments=services.assignments_of(interviewers),
        communes=unit.leaves(),
        form=form or InterviewerForm(formdata=None),
        assign_form=assign_form,
        assign_for=assign_for,
        action_form=EmptyForm(),
        today=today_in_vietnam(),
        tab="interviewers",
    ), status


@bp.route("", methods=["GET", "POST"])
@login_required
def interviewers(unit_code: str):
    """The district's interviewers with their assignments; create one."""
    unit = _managed_unit_or_403(unit_code)
    if request.method == "GET":
        return _interviewers_page(unit)
    form = InterviewerForm()
    if not form.validate_on_submit():
        return _interviewers_page(
            unit, form=form, status=400 if "csrf_token" in form.errors else 422
        )
    try:
        officer = services.create_interviewer(
            current_user, unit, form.username.data, form.full_name.data, form.password.data
        )
    except services.AccountError as exc:
        name, message = _ACCOUNT_ERRORS[str(exc)]
        getattr(form, name).errors.append(message % exc.params if exc.params else str(message))
        return _interviewers_page(unit, form=form, status=422)
    flash(
        _(
            "Interviewer %(name)s (%(username)s) created. Now assign them to communes and dates.",
            name=officer.full_name,
            username=officer.username,
        ),
        "info",
    )
    return redirect(url_for("interviewers.interviewers", unit_code=unit.code), 303)


@bp.post("/<int(max=2147483647):officer_id>/assignments")
@login_required
def add_assignment(unit_code: str, officer_id: int):
    """Assign an interviewer to one of the district's communes for a range of dates."""
    unit = _managed_unit_or_403(unit_code)
    interviewer = services.interviewer_of(unit, officer_id)
    if interviewer is None:
        abort(404, description=_("There is no such interviewer in %(unit)s.", unit=unit.name))
    form = AssignmentForm()
    if not form.validate_on_submit():
        status = 400 if "csrf_token" in form.errors else 422
        return _interviewers_page(unit, assign_form=form, assign_for=interviewer.id, status=status)
    try:
        services.assign(
            current_user,
            unit,
            interviewer,
            form.commune.data,
            fieldwork.parse_day(form.starts_on.data),
            fieldwork.parse_day(form.ends_on.data),
        )
    except services.AccountError as exc:
        name, message = _ACCOUNT_ERRORS[str(exc)]
        getattr(form, name).errors.append(message % exc.params if exc.params else str(message))
        return _interviewers_page(unit, assign_form=form, assign_for=interviewer.id, status=422)
    flash(_("Assignment saved."), "info")
    return redirect(url_for("interviewers.interviewers", unit_code=unit.code), 303)


@bp.post("/assignments/<int(max=2147483647):assignment_id>/delete")
@login_required
def delete_assignment(unit_code: str, assignment_id: int):
    unit = _managed_unit_or_403(unit_code)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if not services.remove_assignment(current_user, unit, assignment_id):
        abort(404, description=_("There is no such assignment in %(unit)s.", unit=unit.name))
    flash(_("Assignment removed."), "info")
    return redirect(url_for("interviewers.interviewers", unit_code=unit.code), 303)


@bp.get("/quality")
@login_required
def quality(unit_code: str):
    """Interviews per interviewer and day, durations, repeated answers, and
    interviews outside the assignments, for a period."""
    unit = _managed_unit_or_403(unit_code)
    period = resolve_period(unit, request.args.get("period"))
    return render_template(
        "interviews/quality.html",
        unit=unit,
        period=period,
        q=services.quality(unit, period),
        choices=period_choices(unit, period),
        action_form=EmptyForm(),
        tab="interviewers",
    )


@bp.post("/responses/<int(max=9223372036854775807):response_id>/exclude")
@login_required
def exclude(unit_code: str, response_id: int):
    """Leave one interview out of the figures (it can be reinstated on the flagged page)."""
    unit = _managed_unit_or_403(unit_code)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if services.exclude_interview(current_user, unit, response_id) is None:
        abort(404, description=_("There is no such interview in %(unit)s.", unit=unit.name))
    flash(
        _(
            "Interview %(id)d is left out of the figures. It is listed under flagged "
            "responses, where it can be reinstated.",
            id=response_id,
        ),
        "info",
    )
    return redirect(
        url_for("interviewers.quality", unit_code=unit.code, period=request.args.get("period")),
        303,
    )


# --- The interviewer's screen -----------------------------------------------------


def _interviewer_or_none():
    if current_user.is_authenticated and current_user.role == Role.INTERVIEWER:
        return current_user
    return None


@field.get("")
def bare():
    return redirect(url_for("interview.screen"), 301)


@field.get("/")
@login_required
def screen():
    """The interview screen: today's desks, then the questionnaire; kept working
    offline by its script (interviews wait in the device's storage)."""
    if _interviewer_or_none() is None:
        abort(403, description=_("This screen is for interviewers' accounts."))
    row = current_questionnaire()
    definition = definition_of(row)
    form = response_form_class(definition)(formdata=None, questionnaire_version=str(row.version))
    body = render_template(
        "interviews/screen.html",
        s=services.screen(current_user, today_in_vietnam()),
        questionnaire=definition,
        form=form,
        prefix=FIELD_PREFIX,
        version=row.version,
        logout_form=EmptyForm(),
    )
    response = HttpResponse(body)
    # The service worker keeps its own copy for offline use; nobody else may.
    response.headers["Cache-Control"] = "private, no-store"
    return response


@field.get("/token")
def token():
    """A fresh CSRF token for sending queued interviews (the page's may have expired
    while the device was offline)."""
    if _interviewer_or_none() is None:
        return jsonify(error="signed_out", message=_signed_out_text()), 401
    response = jsonify(csrf_token=generate_csrf())
    response.headers["Cache-Control"] = "no-store"
    return response


def _signed_out_text() -> str:
    return _(
        "You are signed out. Sign in again to send the interviews kept on this device: "
        "they are not lost."
    )


_PROBLEMS = {
    fieldwork.Problem.NOT_ASSIGNED: _l(
        "You are not assigned to %(unit)s: this interview was not saved."
    ),
    fieldwork.Problem.OUTSIDE_DATES: _l(
        "Your assignment in %(unit)s does not cover %(date)s: this interview was not saved."
    ),
    fieldwork.Problem.FUTURE: _l(
        "The start time of this interview (%(date)s) is in the future: please check the "
        "device's clock. It was not saved."
    ),
    fieldwork.Problem.TOO_OLD: _l(
        "This interview (%(date)s) was sent more than %(days)d days after it started: "
        "it was not saved. Please tell the district."
    ),
    fieldwork.Problem.BAD_DURATION: _l("The duration of this interview is not valid."),
}


@field.post("/interviews")
@csrf.exempt  # checked by the form, so an expired token gets a JSON answer, not a page
def send():
    """Store one interview (form-encoded, from the screen's script); JSON answer."""
    interviewer = _interviewer_or_none()
    if interviewer is None:
        if current_user.is_authenticated:
            return jsonify(
                error="not_interviewer", message=_("This screen is for interviewers' accounts.")
            ), 403
        return jsonify(error="signed_out", message=_signed_out_text()), 401
    current = current_questionnaire()
    version = bounded_int(request.form.get("questionnaire_version", ""), 1, 1_000_000)
    if version != current.version:
        return _invalid(
            _("The questionnaire has changed: please reload the screen."), 409, "version"
        )
    form = response_form_class(definition_of(current))(formdata=request.form)
    started_ms = bounded_int(request.form.get("started_at", ""), 946_684_800_000, 4_102_444_800_000)
    duration = bounded_int(request.form.get("duration_seconds", ""), 0, 10**6)
    valid = form.validate()
    if "csrf_token" in form.errors:
        return jsonify(error="csrf", message=_("The page has expired: sending again.")), 400
    if not valid:
        fields = sorted(name.removeprefix(FIELD_PREFIX) for name in form.errors)
        return _invalid(
            _("Some answers are missing or not valid. Please see the marked questions."),
            422,
            "invalid",
            fields=fields,
        )
    if started_ms is None or duration is None:
        return _invalid(
            _("The start time or duration of the interview is missing."), 422, "invalid"
        )
    definition = definition_of(current)
    comment_q = definition.comment_question
    sent = services.InterviewSubmission(
        desk_code=request.form.get("desk", "")[:32],
        submission_id=form.submission_id.data,
        answers={
            q.id: form[FIELD_PREFIX + q.id].data
            for q in definition.answer_questions
            if form[FIELD_PREFIX + q.id].data
        },
        comment=form[FIELD_PREFIX + comment_q.id].data if comment_q else None,
        language=current_lang(),
        started_at=datetime.fromtimestamp(started_ms / 1000, UTC),
        duration_seconds=duration,
    )
    result = services.record_interview(interviewer, current, sent)
    if result.outcome == services.Outcome.STORED:
        return jsonify(status="stored", response_id=result.response_id), 201
    if result.outcome == services.Outcome.ALREADY:
        return jsonify(status="already"), 200
    if result.outcome == services.Outcome.UNKNOWN_DESK:
        return _invalid(
            _("There is no desk with the code %(code)s.", code=sent.desk_code), 422, "unknown_desk"
        )
    if result.outcome == services.Outcome.FOREIGN:
        return _invalid(
            _("This interview's number is already used. It was not saved."), 409, "foreign"
        )
    problem = result.problem
    when = local_date if problem == fieldwork.Problem.OUTSIDE_DATES else local_datetime
    message = _PROBLEMS[problem] % {
        "unit": result.desk.unit.name,
        "date": when(sent.started_at),
        "days": current_app.config["SURVEY_INTERVIEW_SEND_DAYS"],
    }
    # A duration no interview has is bad input; the rest is outside the assignment.
    status = 422 if problem == fieldwork.Problem.BAD_DURATION else 403
    return jsonify(error="outside_assignment", problem=problem.value, message=message), status


def _invalid(message: str, status: int, code: str, **extra):
    return jsonify(error=code, message=message, **extra), status


@field.get("/sw.js")
def service_worker():
    """The service worker that keeps the screen and its files for offline use."""
    response = current_app.send_static_file("interview-sw.js")
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    response.headers["Cache-Control"] = "no-cache"
    return response
