"""The citizen's side: the form behind each desk's QR code, and the QR itself.

``/s/<desk_code>`` is printed on posters that stay on walls for years: never
change this URL scheme.
"""

from __future__ import annotations

import uuid
from urllib.parse import quote_from_bytes

from flask import Blueprint
from flask import Response as HttpResponse
from flask import abort
from flask import current_app
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _

from survey.citizen import services
from survey.citizen.links import poster_content
from survey.citizen.links import public_form_url
from survey.data.queries import attached
from survey.data.queries import current_questionnaire
from survey.data.queries import current_questionnaire_kept
from survey.data.queries import definition_of
from survey.data.queries import find_desk
from survey.data.queries import find_desk_remembered
from survey.data.queries import forget_desk
from survey.data.queries import questionnaire_by_version
from survey.domain.params import DB_INT32_MAX
from survey.domain.params import bounded_int
from survey.extensions import csrf
from survey.forms.response import FIELD_PREFIX
from survey.forms.response import response_form_class
from survey.integrity import guard
from survey.integrity import tokens
from survey.integrity.guard import HONEYPOT_FIELD
from survey.integrity.tokens import TokenProblem
from survey.render import posters
from survey.render import qr
from survey.web.downloads import content_disposition
from survey.web.errors import render_error
from survey.web.i18n import current_lang
from survey.web.i18n import local_date
from survey.web.lookup import poster_size_or_400
from survey.web.render_cache import cached

bp = Blueprint("public", __name__, template_folder="templates", url_prefix="/s/<desk_code>")

FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _replacement(desk):
    """The active desk that finally replaces a retired one (following a short chain)."""
    seen = {desk.id}
    while desk.replaced_by is not None and desk.replaced_by.id not in seen:
        desk = desk.replaced_by
        seen.add(desk.id)
        if desk.active:
            return desk
    return None


def _with_query(path: str) -> str:
    """``path`` with this request's query string, passed on as sent.

    Not through url_for's keywords: a parameter named like the URL's own
    (``desk_code``) or one of url_for's (``_external``, ``_scheme``) raised a
    500 or steered the redirect elsewhere.
    """
    query = quote_from_bytes(request.query_string, safe="&=%+/:@,;!$'()*~?")
    return f"{path}?{query}" if query else path


def _desk_or_404(desk_code: str, *, remembered: bool = False):
    """The desk with this code; a retired desk forwards to its replacement or says 410.

    A form posted to a retired desk is forwarded with 307 so its answers are
    not lost; pages and images are forwarded with 302 (the replacement may
    itself change one day, so nothing is cached as permanent).
    """
    desk = find_desk_remembered(desk_code) if remembered else find_desk(desk_code)
    if desk is None:
        abort(404, description=_("There is no desk with the code %(code)s.", code=desk_code))
    if not desk.active:
        new = _replacement(desk)
        if new is not None and current_app.config["SURVEY_FORWARD_RETIRED_DESKS"]:
            args = {**request.view_args, "desk_code": new.code}
            target = _with_query(url_for(request.endpoint, **args))
            abort(redirect(target, 307 if request.method == "POST" else 302))
        body = render_template("public/retired.html", desk=desk, new=new)
        abort(HttpResponse(body, status=410))
    return desk


def _render(desk, questionnaire_row, form, status=200, notice=None, verified=None):
    definition = definition_of(questionnaire_row)
    body = render_template(
        "public/form.html",
        desk=attached(desk),
        questionnaire=definition,
        form=form,
        prefix=FIELD_PREFIX,
        notice=notice,
        verified=verified,
        honeypot=HONEYPOT_FIELD,
    )
    return body, status


def token_problem_text(result: tokens.TokenCheck, desk) -> str:
    """Why a receipt code cannot verify this rating, and that the citizen may still answer."""
    problem = result.problem
    if problem == TokenProblem.MALFORMED:
        text = _("The receipt code “%(code)s” is not valid.", code=result.code)
    elif problem == TokenProblem.UNKNOWN:
        text = _("The receipt code %(code)s was not found.", code=result.code)
    elif problem == TokenProblem.EXPIRED:
        text = _(
            "The receipt code %(code)s expired on %(date)s.",
            code=result.code,
            date=local_date(result.token.expires_at),
        )
    elif problem == TokenProblem.USED:
        text = _(
            "The receipt code %(code)s has already been used: each dossier is rated once.",
            code=result.code,
        )
    else:
        text = _(
            "The receipt code %(code)s was issued by another office, not %(unit)s.",
            code=result.code,
            unit=attached(desk).unit.name,
        )
    return (
        text
        + " "
        + _("You can still answer: your rating will be counted as not linked to a receipt.")
    )


def _too_many(limit) -> HttpResponse:
    if limit.kind == "device":
        hint = _(
            "This phone has already sent %(n)d ratings for this desk in the last 24 hours. "
            "Thank you! If you have more to tell us, please speak to the staff at the desk.",
            n=limit.limit,
        )
    else:
        hint = _(
            "Many ratings have been sent from this network in the last hour. "
            "Please try again a little later."
        )
    body, status = render_error(429, hint)
    response = HttpResponse(body, status=status)
    response.headers["Retry-After"] = str(int(limit.window.total_seconds()))
    return response


@bp.route("", methods=["GET", "POST"])
@csrf.exempt  # checked by the form itself, so a stale token re-shows the answers
def respond(desk_code: str):
    """Show the desk's form, or store a submitted response and redirect to thanks."""
    posted = request.method == "POST"
    # A post may take the desk from this worker's memory: its write checks the
    # desk is still active in its unit, and it is looked up afresh if not.
    desk = _desk_or_404(desk_code, remembered=posted)
    if desk.code != desk_code:
        return redirect(_with_query(url_for("public.respond", desk_code=desk.code)), 301)
    if not posted:
        return _new_form(desk)
    if request.mimetype not in FORM_CONTENT_TYPES:
        abort(415)
    for _attempt in range(_DESK_LOOKUPS):
        try:
            return _receive(desk)
        except services.DeskChanged:
            # Retired (the post is forwarded to its replacement) or moved.
            forget_desk(desk_code)
            desk = _desk_or_404(desk_code)
    abort(503)


#: Lookups of a desk that keeps changing under a post before it gives up.
_DESK_LOOKUPS = 3


def _new_form(desk):
    """A fresh form, with its submission id and signed start time (and a receipt code)."""
    row = current_questionnaire()
    submission_id = str(uuid.uuid4())
    form = response_form_class(definition_of(row))(
        formdata=None,
        submission_id=submission_id,
        questionnaire_version=str(row.version),
        issued=guard.issue_stamp(submission_id),
    )
    guard.ensure_device_cookie()
    guard.count_scan(desk.id)
    notice = verified = None
    if "t" in request.args:
        result = tokens.check(request.args["t"], desk)
        if result.ok:
            form.receipt.data = result.code
            verified = result.code
        else:
            notice = token_problem_text(result, desk)
    return _render(desk, row, form, notice=notice, verified=verified)


def _posted_version(current):
    """The questionnaire version the form was served with: the current row, an
    older stored row, or None for a version that does not exist."""
    version = bounded_int(request.form.get("questionnaire_version", ""), 1, DB_INT32_MAX)
    if version == current.version:
        return current
    return questionnaire_by_version(version) if version is not None else None


def _receive(desk):
    """Check a posted form and hand it to the use case; every refusal keeps the answers."""
    current = current_questionnaire_kept()
    row = _posted_version(current)
    if row is None or row.version != current.version:
        # An unknown or superseded version: show the current form, keeping the
        # answers that still fit, and ask the citizen to check and send again.
        form = response_form_class(definition_of(current))(formdata=request.form)
        form.questionnaire_version.data = str(current.version)
        form.validate()
        if row is None:
            notice = _("The form version is not valid. Please check your answers and send again.")
            return _render(desk, current, form, status=422, notice=notice)
        notice = _("The form has been updated. Please check your answers and send again.")
        return _render(desk, current, form, status=409, notice=notice)

    form = response_form_class(definition_of(row))(formdata=request.form)
    if not form.validate():
        if "csrf_token" in form.errors:
            notice = _("Your session has expired. Your answers are kept: please press Send again.")
            return _render(desk, row, form, status=400, notice=notice)
        notice = _("Some answers are missing or not valid. Please see the marked questions.")
        return _render(desk, row, form, status=422, notice=notice)

    thanks_url = url_for("public.thanks", desk_code=desk.code)  # no reload after the commit
    result = services.submit(desk, row, _submission(form, row), guard.limits_for_request)
    if result.outcome == services.Outcome.TOO_MANY:
        return _too_many(result.limit)
    if result.outcome == services.Outcome.TOKEN_PROBLEM:
        # Used (or expired) since the form was opened: keep the answers and let
        # the citizen send them as a rating not linked to a receipt.
        form.receipt.data = ""
        return _render(desk, row, form, status=409, notice=token_problem_text(result.check, desk))
    if result.outcome == services.Outcome.UPDATED:
        return redirect(thanks_url + "?updated=1", 303)
    if result.outcome == services.Outcome.KEPT_FIRST:
        return redirect(thanks_url + "?kept=1", 303)
    # Stored now, or by an earlier tap of the same form: thank the citizen either way.
    return redirect(thanks_url, 303)


def _submission(form, row) -> services.Submission:
    """What the citizen sent, from a valid form."""
    definition = definition_of(row)
    comment_q = definition.comment_question
    return services.Submission(
        submission_id=form.submission_id.data,
        answers={
            q.id: form[FIELD_PREFIX + q.id].data
            for q in definition.answer_questions
            if form[FIELD_PREFIX + q.id].data
        },
        comment=form[FIELD_PREFIX + comment_q.id].data if comment_q else None,
        contact=form.contact.data,
        contact_consent=form.contact_consent.data,
        language=current_lang(),
        receipt=form.receipt.data or None,
        flag_reason=guard.flag_reason(request.form, form.submission_id.data),
        device_hash=guard.device_hash(),
    )


@bp.get("/thanks")
def thanks(desk_code: str):
    """The thank-you page shown after a stored response."""
    desk = _desk_or_404(desk_code)
    return render_template(
        "public/thanks.html",
        desk=desk,
        updated="updated" in request.args,
        kept="kept" in request.args,
    )


@bp.get("/qr.<any(png, svg):fmt>")
def qr_code(desk_code: str, fmt: str):
    """The desk's QR code, encoding the absolute URL of its form."""
    desk = _desk_or_404(desk_code)
    url = public_form_url(desk.code)
    if fmt == "png":
        scale = request.args.get("scale", "10")
        box = bounded_int(scale, 2, 40) or 10
        data, mimetype = qr.png(url, box_size=box), "image/png"
    else:
        data, mimetype = qr.svg(url), "image/svg+xml"
    response = HttpResponse(data, mimetype=mimetype)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/poster.pdf")
def poster(desk_code: str):
    """The desk's printable poster (A4 or A5): QR code, names, instruction, short URL."""
    desk = _desk_or_404(desk_code)
    size = poster_size_or_400()
    content = poster_content(desk)
    # Public and unlimited: drawn once per content and size, then served from the
    # cache shared by the workers (six looping clients used to slow the form down).
    data = cached("poster.pdf", (content, size), lambda: posters.render_posters([content], size))
    response = HttpResponse(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition(
        "inline", f"poster-{desk.code}-{size}.pdf"
    )
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
