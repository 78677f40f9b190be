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
from flask_babel import gettext as _

from .. import qr
from ..extensions import csrf
from ..forms.response import FIELD_PREFIX
from ..forms.response import response_form_class
from ..i18n import current_lang
from ..services import current_questionnaire
from ..services import definition_of
from ..services import find_desk
from ..services import questionnaire_by_version
from ..services import store_response

bp = Blueprint("public", __name__)

FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _desk_or_404(desk_code: str):
    desk = find_desk(desk_code)
    if desk is None:
        abort(404, description=_("There is no desk with the code %(code)s.", code=desk_code))
    if not desk.active:
        abort(410)
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


def _render(desk, questionnaire_row, form, status=200, notice=None):
    definition = definition_of(questionnaire_row)
    body = render_template(
        "public/form.html",
        desk=desk,
        questionnaire=definition,
        form=form,
        prefix=FIELD_PREFIX,
        notice=notice,
    )
    return body, status


@bp.route("/s/<desk_code>", methods=["GET", "POST"])
@csrf.exempt  # checked by the form itself, so a stale token re-shows the answers
def respond(desk_code: str):
    """Show the desk's form, or store a submitted response and redirect to thanks."""
    desk = _desk_or_404(desk_code)
    if desk.code != desk_code:
        return redirect(url_for("public.respond", desk_code=desk.code, **request.args), 301)
    if request.method == "GET":
        row = current_questionnaire()
        form = response_form_class(definition_of(row))(
            formdata=None,
            submission_id=str(uuid.uuid4()),
            questionnaire_version=str(row.version),
        )
        return _render(desk, row, form)

    if request.mimetype not in FORM_CONTENT_TYPES:
        abort(415)
    current = current_questionnaire()
    version_text = request.form.get("questionnaire_version", "")
    row = questionnaire_by_version(int(version_text)) if version_text.isdigit() else None
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

    answers = {
        q.id: form[FIELD_PREFIX + q.id].data
        for q in definition.answer_questions
        if form[FIELD_PREFIX + q.id].data
    }
    comment_q = definition.comment_question
    comment = form[FIELD_PREFIX + comment_q.id].data if comment_q else None
    store_response(
        desk=desk,
        questionnaire=row,
        submission_id=form.submission_id.data,
        answers=answers,
        comment=comment,
        contact=form.contact.data,
        contact_consent=form.contact_consent.data,
        language=current_lang(),
    )
    return redirect(url_for("public.thanks", desk_code=desk.code), 303)


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
        box = int(scale) if scale.isdigit() and 2 <= int(scale) <= 40 else 10
        data, mimetype = qr.png(url, box_size=box), "image/png"
    else:
        data, mimetype = qr.svg(url), "image/svg+xml"
    response = HttpResponse(data, mimetype=mimetype)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/")
def index():
    """A plain landing page: citizens arrive by QR code, not here."""
    return render_template("public/index.html")
