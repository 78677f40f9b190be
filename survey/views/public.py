"""The citizen's side: the form behind each desk's QR code, and the QR itself.

``/s/<desk_code>`` is printed on posters that stay on walls for years: never
change this URL scheme.
"""

from __future__ import annotations

import uuid

from flask import Blueprint
from flask import Response as HttpResponse
from flask import abort
from flask import current_app
from flask import has_request_context
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from .. import integrity
from .. import posters
from .. import qr
from .. import tokens
from ..errors import render_error
from ..extensions import csrf
from ..forms.response import FIELD_PREFIX
from ..forms.response import response_form_class
from ..i18n import current_lang
from ..i18n import local_date
from ..integrity import HONEYPOT_FIELD
from ..params import DB_INT_MAX
from ..params import bounded_int
from ..services import TokenClaimFailed
from ..services import current_questionnaire
from ..services import definition_of
from ..services import existing_response_id
from ..services import find_desk
from ..services import questionnaire_by_version
from ..services import store_response
from ..tokens import TokenProblem

bp = Blueprint("public", __name__)

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


def _desk_or_404(desk_code: str):
    """The desk with this code; a retired desk forwards to its replacement or says 410.

    A form posted to a retired desk is forwarded with 307 so its answers are
    not lost; pages and images are forwarded with 302 (the replacement may
    itself change one day, so nothing is cached as permanent).
    """
    desk = find_desk(desk_code)
    if desk is None:
        abort(404, description=_("There is no desk with the code %(code)s.", code=desk_code))
    if not desk.active:
        new = _replacement(desk)
        if new is not None and current_app.config["SURVEY_FORWARD_RETIRED_DESKS"]:
            args = {**request.view_args, "desk_code": new.code}
            target = url_for(request.endpoint, **args, **request.args)
            abort(redirect(target, 307 if request.method == "POST" else 302))
        body = render_template("public/retired.html", desk=desk, new=new)
        abort(HttpResponse(body, status=410))
    return desk


def public_form_url(desk_code: str) -> str:
    """The absolute URL a desk's QR code encodes."""
    base = current_app.config.get("SURVEY_PUBLIC_BASE_URL")
    if not base:
        # Without a configured public name, use the host the request came to;
        # outside a request (CLI) there is none, so fall back to the local server.
        base = request.host_url.rstrip("/") if has_request_context() else "http://127.0.0.1:8000"
    with current_app.test_request_context():
        path = url_for("public.respond", desk_code=desk_code)
    return f"{base}{path}"


def _render(desk, questionnaire_row, form, status=200, notice=None, verified=None):
    definition = definition_of(questionnaire_row)
    body = render_template(
        "public/form.html",
        desk=desk,
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
            unit=desk.unit.name,
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


@bp.route("/s/<desk_code>", methods=["GET", "POST"])
@csrf.exempt  # checked by the form itself, so a stale token re-shows the answers
def respond(desk_code: str):
    """Show the desk's form, or store a submitted response and redirect to thanks."""
    desk = _desk_or_404(desk_code)
    if desk.code != desk_code:
        return redirect(url_for("public.respond", desk_code=desk.code, **request.args), 301)
    if request.method == "GET":
        row = current_questionnaire()
        submission_id = str(uuid.uuid4())
        form = response_form_class(definition_of(row))(
            formdata=None,
            submission_id=submission_id,
            questionnaire_version=str(row.version),
            issued=integrity.issue_stamp(submission_id),
        )
        integrity.ensure_device_cookie()
        integrity.count_scan(desk.id)
        notice = verified = None
        if "t" in request.args:
            result = tokens.check(request.args["t"], desk)
            if result.ok:
                form.receipt.data = result.code
                verified = result.code
            else:
                notice = token_problem_text(result, desk)
        return _render(desk, row, form, notice=notice, verified=verified)

    if request.mimetype not in FORM_CONTENT_TYPES:
        abort(415)
    current = current_questionnaire()
    version_text = request.form.get("questionnaire_version", "")
    version = bounded_int(version_text, 1, DB_INT_MAX)
    if version == current.version:
        row = current
    else:
        row = questionnaire_by_version(version) if version is not None else None
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

    definition = definition_of(row)
    form = response_form_class(definition)(formdata=request.form)
    if not form.validate():
        if "csrf_token" in form.errors:
            notice = _("Your session has expired. Your answers are kept: please press Send again.")
            return _render(desk, row, form, status=400, notice=notice)
        notice = _("Some answers are missing or not valid. Please see the marked questions.")
        return _render(desk, row, form, status=422, notice=notice)

    submission_id = form.submission_id.data
    if existing_response_id(submission_id) is not None:
        # A double tap or a retry: already stored, thank the citizen again
        # (before checking its token, which the first tap has used).
        return redirect(url_for("public.thanks", desk_code=desk.code), 303)
    token = None
    if form.receipt.data:
        result = tokens.check(form.receipt.data, desk)
        if not result.ok and existing_response_id(submission_id) is not None:
            # Our own first tap used the token a moment ago.
            return redirect(url_for("public.thanks", desk_code=desk.code), 303)
        if not result.ok:
            # Used (or expired) since the form was opened: keep the answers and
            # let the citizen send them as an unverified rating.
            form.receipt.data = ""
            return _render(desk, row, form, status=409, notice=token_problem_text(result, desk))
        token = result.token

    reason = integrity.flag_reason(request.form, submission_id)
    thanks_url = url_for("public.thanks", desk_code=desk.code)  # no reload after the commit
    if token is None:
        # Recorded in the transaction that stores the response (committed with it).
        exceeded = integrity.claim_submission_slot(desk.id, integrity.limits_for_request())
        if exceeded is not None:
            return _too_many(exceeded)

    answers = {
        q.id: form[FIELD_PREFIX + q.id].data
        for q in definition.answer_questions
        if form[FIELD_PREFIX + q.id].data
    }
    comment_q = definition.comment_question
    comment = form[FIELD_PREFIX + comment_q.id].data if comment_q else None
    try:
        store_response(
            desk=desk,
            questionnaire=row,
            submission_id=submission_id,
            answers=answers,
            comment=comment,
            contact=form.contact.data,
            contact_consent=form.contact_consent.data,
            language=current_lang(),
            receipt_token_id=token.id if token is not None else None,
            flag_reason=reason,
        )
    except TokenClaimFailed:
        form.receipt.data = ""
        result = tokens.check(token.code, desk)
        return _render(desk, row, form, status=409, notice=token_problem_text(result, desk))
    return redirect(thanks_url, 303)


@bp.get("/s/<desk_code>/thanks")
def thanks(desk_code: str):
    """The thank-you page shown after a stored response."""
    desk = _desk_or_404(desk_code)
    return render_template("public/thanks.html", desk=desk)


@bp.get("/s/<desk_code>/qr.<any(png, svg):fmt>")
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


@bp.get("/s/<desk_code>/poster.pdf")
def poster(desk_code: str):
    """The desk's printable poster (A4 or A5): QR code, names, instruction, short URL."""
    desk = _desk_or_404(desk_code)
    size = poster_size_or_400()
    data = posters.render_posters([poster_content(desk)], size)
    response = HttpResponse(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="poster-{desk.code}-{size}.pdf"'
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def poster_size_or_400() -> str:
    size = request.args.get("size", "A4").upper()
    if size not in posters.SIZES:
        abort(400, description=_("The poster size must be A4 or A5."))
    return size


def poster_content(desk) -> posters.PosterContent:
    """A desk's poster text, in Vietnamese (posters hang in Vietnamese offices)."""
    url = public_form_url(desk.code)
    with force_locale("vi"):
        return posters.PosterContent(
            unit_name=desk.unit.name,
            desk_name=desk.name,
            heading=_("Citizen satisfaction survey"),
            instruction=_("Scan the code to rate how satisfied you are with our service"),
            url=url,
            short_url=posters.short_url(url),
            url_hint=_("No camera? Type this address:"),
            footer=_(
                "Anonymous · no sign-in · under a minute · desk code %(code)s", code=desk.code
            ),
        )


@bp.get("/")
def index():
    """A plain landing page: citizens arrive by QR code, not here."""
    return render_template("public/index.html")
