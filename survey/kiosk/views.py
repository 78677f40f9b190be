"""Kiosk mode: the rating tablet at a desk, and the officers' side of it.

The tablet (no sign-in; a long-lived credential cookie from pairing):

- ``GET /kiosk``: the rating form of the tablet's desk, or the pairing form.
- ``POST /kiosk/pair``: type the one-time code shown on the desks page.
- ``POST /kiosk/ratings`` (JSON): one rating, stored once per submission id.
- ``GET /kiosk/state`` (JSON): who is serving, who may start a shift.
- ``POST /kiosk/shift`` and ``/kiosk/shift/end`` (JSON): an officer's shift by PIN.

The officers (signed in):

- ``POST /kiosk/desks/<desk>/code``: a pairing code for a tablet at the desk.
- ``POST /kiosk/<id>/revoke``: end a tablet's pairing.
- ``GET /kiosk/me``, ``POST /kiosk/me/pin``, ``/kiosk/me/shift``, ``/kiosk/me/shift/end``:
  the officer's PIN, and shifts started from their own phone.

The JSON endpoints are exempt from the session's CSRF token (a kiosk stays on
one page for days, past the token's life): they need a JSON body, which a
cross-site form cannot send, and the credential cookie is ``SameSite=Lax``.
"""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import jsonify
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import StringField

from survey.data.models import Kiosk
from survey.data.queries import current_questionnaire
from survey.data.queries import definition_of
from survey.data.queries import questionnaire_by_version
from survey.domain.params import DB_INT32_MAX
from survey.domain.params import bounded_int
from survey.extensions import csrf
from survey.kiosk import services
from survey.kiosk.followup import follow_up_of
from survey.kiosk.services import PairProblem
from survey.kiosk.services import PinProblem
from survey.kiosk.services import RatingOutcome
from survey.kiosk.services import ShiftProblem
from survey.web.i18n import current_lang

bp = Blueprint("kiosk", __name__, template_folder="templates", url_prefix="/kiosk")


@bp.after_request
def _private(response):
    # The kiosk's pages name the officer on duty; the officers' pages show codes.
    response.headers["Cache-Control"] = "private, no-store"
    return response


class PairForm(FlaskForm):
    code = StringField()


class ActionForm(FlaskForm):
    """A button that changes something (CSRF only)."""


class PinForm(FlaskForm):
    pin = StringField()


class DeskForm(FlaskForm):
    desk = StringField()


# -- the tablet -----------------------------------------------------------------


def _this_kiosk() -> Kiosk | None:
    return services.kiosk_of(request.cookies.get(services.CREDENTIAL_COOKIE))


def _pair_page(message: str | None = None, status: int = 200, form: PairForm | None = None):
    return (
        render_template("kiosk/pair.html", form=form or PairForm(), message=message),
        status,
    )


@bp.get("")
def page():
    """The rating form of the tablet's desk; the pairing form on an unpaired tablet."""
    kiosk = _this_kiosk()
    if kiosk is None:
        return _pair_page()
    if kiosk.revoked_at is not None:
        return _pair_page(_revoked_text(), 403)
    row = current_questionnaire()
    definition = definition_of(row)
    shift = services.current_shift(kiosk.desk_id)
    config = current_app.config
    return render_template(
        "kiosk/kiosk.html",
        kiosk=kiosk,
        desk=kiosk.desk,
        questionnaire=definition,
        version=row.version,
        follow_up=follow_up_of(definition),
        serving=shift.officer.full_name if shift else None,
        officers=services.officers_with_pin(kiosk.desk),
        gap=config["SURVEY_KIOSK_MIN_GAP_SECONDS"],
        idle=config["SURVEY_KIOSK_IDLE_SECONDS"],
    )


def _revoked_text() -> str:
    return _(
        "This tablet's pairing was revoked: it no longer takes ratings. Ratings it "
        "still held have been sent for review. To use it again, ask an officer for a "
        "new pairing code."
    )


def _pair_problem_text(problem: PairProblem) -> tuple[str, int]:
    if problem == PairProblem.MALFORMED:
        return _("A pairing code has 8 letters and digits, like ABCD-2345."), 422
    if problem == PairProblem.UNKNOWN:
        return _("This pairing code was not found. Please check it and type it again."), 404
    if problem == PairProblem.EXPIRED:
        return _("This pairing code has expired. Please ask for a new code."), 410
    if problem == PairProblem.USED:
        return _(
            "This pairing code has already been used: each code pairs one tablet once. "
            "Please ask for a new code."
        ), 409
    if problem == PairProblem.CANCELLED:
        return _("This pairing code was cancelled. Please ask for a new code."), 410
    return _("This desk no longer takes ratings: pair the tablet with another desk."), 410


@bp.post("/pair")
def pair():
    """Pair this tablet with a desk by the code shown on the desks page."""
    form = PairForm()
    if not form.validate_on_submit():
        return _pair_page(_("The page had expired. Please type the code again."), 400, form)
    result = services.pair(form.code.data)
    if result.problem is not None:
        text, status = _pair_problem_text(result.problem)
        return _pair_page(text, status, form)
    response = redirect(url_for("kiosk.page"), 303)
    response.set_cookie(
        services.CREDENTIAL_COOKIE,
        result.credential,
        max_age=current_app.config["SURVEY_KIOSK_DAYS"] * 24 * 3600,
        path=url_for("kiosk.page"),
        httponly=True,
        samesite="Lax",
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
    )
    return response


def _json_body() -> dict:
    """The JSON object posted, read before anything else: a form post (which a
    cross-site page could send, and which carries no CSRF token here) is refused
    with 400 before the tablet's credential is even looked at."""
    body = request.get_json(silent=True) if request.is_json else None
    if not isinstance(body, dict):
        abort(_json(_("The request is not valid."), 400))
    return body


def _json(message: str, status: int, **extra):
    """A JSON answer whose ``message`` the kiosk shows as it is (in the tablet's
    language); errors also carry ``error`` and ``status``, as the API's do."""
    if status >= 400:
        extra = {"error": message, "status": status, **extra}
    return make_response(jsonify(message=message, **extra), status)


def _kiosk_or_401(*, allow_revoked: bool = False) -> Kiosk:
    kiosk = _this_kiosk()
    if kiosk is None:
        abort(_json(_("This tablet is not paired with a desk."), 401, paired=False))
    if kiosk.revoked_at is not None and not allow_revoked:
        abort(_json(_revoked_text(), 403, revoked=True))
    return kiosk


def _rating_from(body: dict) -> tuple[services.KioskRating, int | None]:
    answers = body.get("answers")
    if not isinstance(answers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in answers.items()
    ):
        abort(_json(_("The rating is not valid."), 422))
    texts = {}
    for name in ("submission_id", "comment", "reason", "reason_text", "language"):
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            abort(_json(_("The rating is not valid."), 422))
        texts[name] = value
    made_at = None
    stamp = body.get("made_at")
    if isinstance(stamp, int | float) and 0 < stamp < 1e14:
        made_at = datetime.fromtimestamp(stamp / 1000, UTC)
    version = bounded_int(str(body.get("questionnaire_version", "")), 1, DB_INT32_MAX)
    kiosk_id = body.get("kiosk")
    rating = services.KioskRating(
        submission_id=texts["submission_id"] or "",
        version=version or 0,
        answers=answers,
        comment=texts["comment"],
        reason=texts["reason"],
        reason_text=texts["reason_text"],
        language=texts["language"] or current_lang(),
        made_at=made_at,
        offline=body.get("offline") is True,
    )
    return rating, kiosk_id if isinstance(kiosk_id, int) else None


@bp.post("/ratings")
@csrf.exempt
def rate():
    """Store one rating of the tablet's desk: 201 stored, 200 already stored (a
    resend), 202 stored for review (the tablet was revoked), 409 made under another
    pairing, 422 not valid, 429 within the minimum gap (nothing stored), 400 not a
    JSON object, 401 not a paired tablet."""
    body = _json_body()
    kiosk = _kiosk_or_401(allow_revoked=True)
    rating, made_on = _rating_from(body)
    if made_on is not None and made_on != kiosk.id:
        # Queued under an earlier pairing of this browser (it was paired again,
        # after a revocation or a new secret key): stored as made under that
        # pairing when it was at the same desk; another desk's would be the
        # wrong place, so it is refused.
        earlier = services.find_kiosk(made_on) if made_on <= DB_INT32_MAX else None
        if earlier is None or earlier.desk_id != kiosk.desk_id or earlier.paired_at is None:
            return _json(_("This rating was made under another pairing of the tablet."), 409)
        kiosk = earlier
    row = questionnaire_by_version(rating.version) if rating.version else None
    if row is None:
        return _json(_("The rating is not valid."), 422, problem="questionnaire version")
    result = services.submit_rating(kiosk, row, rating)
    if result.outcome == RatingOutcome.INVALID:
        current_app.logger.info("kiosk %s: invalid rating (%s)", kiosk.id, result.problem)
        return _json(_("The rating is not valid."), 422, problem=result.problem)
    if result.outcome == RatingOutcome.TOO_SOON:
        response = _json(
            _("Please wait a few seconds between two ratings."), 429, retry=result.retry_after
        )
        response.headers["Retry-After"] = str(result.retry_after)
        return response
    if result.outcome == RatingOutcome.REVOKED:
        return _json(_revoked_text(), 202, stored=True, revoked=True)
    if result.outcome == RatingOutcome.ALREADY:
        return _json(_("Thank you! Your rating has been recorded."), 200, stored=True)
    return _json(_("Thank you! Your rating has been recorded."), 201, stored=True)


def _state(kiosk: Kiosk) -> dict:
    shift = services.current_shift(kiosk.desk_id)
    return {
        "serving": shift.officer.full_name if shift else None,
        "officers": [
            {"id": o.id, "name": o.full_name} for o in services.officers_with_pin(kiosk.desk)
        ],
    }


@bp.get("/state")
def state():
    """Who is on duty at the tablet's desk (refreshed after each rating)."""
    kiosk = _kiosk_or_401()
    return jsonify(_state(kiosk))


def _shift_problem_text(result: services.ShiftResult, desk) -> tuple[str, int]:
    problem = result.problem
    if problem == ShiftProblem.NOT_OF_COMMUNE:
        return _(
            "%(name)s is not an officer of %(unit)s: only its own officers serve at its desks.",
            name=result.officer.full_name,
            unit=desk.unit.name,
        ), 403
    if problem == ShiftProblem.UNKNOWN_OFFICER:
        return _("There is no such officer."), 404
    if problem == ShiftProblem.NO_PIN:
        return _(
            "%(name)s has not set a kiosk PIN yet: set one on your profile page.",
            name=result.officer.full_name,
        ), 409
    if problem == ShiftProblem.WRONG_PIN:
        return _("Wrong PIN. %(n)d tries left before it is locked.", n=result.attempts_left), 403
    if problem == ShiftProblem.LOCKED:
        minutes = max(1, -(-result.retry_after // 60))
        return _(
            "Too many wrong PINs: starting a shift with this PIN is locked for %(n)d "
            "minutes. You can start your shift from your own phone.",
            n=minutes,
        ), 429
    return _("This desk no longer takes ratings."), 410


@bp.post("/shift")
@csrf.exempt
def start_shift():
    """An officer of the desk's commune starts a shift on the tablet with a PIN."""
    body = _json_body()
    kiosk = _kiosk_or_401()
    officer_id, pin = body.get("officer"), body.get("pin")
    if not isinstance(officer_id, int) or not isinstance(pin, str) or len(pin) > 32:
        return _json(_("Please choose your name and type your PIN."), 422)
    result = services.start_shift_with_pin(kiosk, officer_id, pin)
    if result.problem is not None:
        text, status = _shift_problem_text(result, kiosk.desk)
        response = _json(text, status)
        if result.retry_after:
            response.headers["Retry-After"] = str(result.retry_after)
        return response
    return _json(
        _("Serving: %(name)s", name=result.officer.full_name),
        201,
        **_state(kiosk),
    )


@bp.post("/shift/end")
@csrf.exempt
def end_shift():
    """End the shift at the tablet's desk (the officer leaves the counter)."""
    _json_body()
    kiosk = _kiosk_or_401()
    services.end_shift_at(kiosk)
    return _json(_("Shift ended."), 200, **_state(kiosk))


# -- the officers -----------------------------------------------------------------


def _desk_managed_or_404(desk_code: str):
    desk = services.find_desk_by_code(desk_code)
    if desk is None or not current_user.can_see(desk.unit):
        abort(404, description=_("There is no desk with the code %(code)s.", code=desk_code))
    return desk


@bp.post("/desks/<desk_code>/code")
@login_required
def issue_code(desk_code: str):
    """A one-time code that pairs a tablet with the desk, shown once."""
    if not ActionForm().validate_on_submit():
        abort(400)
    desk = _desk_managed_or_404(desk_code)
    if not desk.active:
        abort(409, description=_("This desk no longer takes ratings."))
    kiosk, code = services.issue_code(current_user, desk)
    return render_template(
        "kiosk/code.html",
        desk=desk,
        unit=desk.unit,
        code=services.format_code(code),
        expires=kiosk.code_expires_at,
    ), 201


@bp.post("/<int(max=2147483647):kiosk_id>/revoke")
@login_required
def revoke(kiosk_id: int):
    """End a tablet's pairing (or cancel its code), from the desks page."""
    if not ActionForm().validate_on_submit():
        abort(400)
    kiosk = services.find_kiosk(kiosk_id)
    if kiosk is None or not current_user.can_see(kiosk.desk.unit):
        abort(404)
    if services.revoke(current_user, kiosk):
        flash(_("The tablet at %(desk)s is no longer paired.", desk=kiosk.desk.name), "info")
    unit_code = request.form.get("unit") or kiosk.desk.unit.code
    return redirect(url_for("integrity.desks", unit_code=unit_code) + "#kiosks", 303)


def _me_page(status: int = 200, pin_form: PinForm | None = None):
    return render_template(
        "kiosk/me.html",
        desks=services.commune_desks(current_user),
        shift=services.officer_shift(current_user),
        has_pin=services.has_pin(current_user),
        pin_form=pin_form or PinForm(),
        form=ActionForm(),
    ), status


@bp.get("/me")
@login_required
def me():
    """The officer's kiosk PIN and shifts: start one at a desk of their commune."""
    return _me_page()


@bp.post("/me/pin")
@login_required
def set_pin():
    form = PinForm()
    if not form.validate_on_submit():
        return _me_page(400, form)
    problem = services.set_pin(current_user, (form.pin.data or "").strip())
    if problem == PinProblem.FORMAT:
        form.pin.errors = [_("A PIN is 4 to 8 digits.")]
        return _me_page(422, form)
    if problem == PinProblem.TOO_SIMPLE:
        form.pin.errors = [_("This PIN is too easy to guess: avoid 1111 or 1234.")]
        return _me_page(422, form)
    flash(_("Your kiosk PIN is set."), "info")
    return redirect(url_for("kiosk.me"), 303)


@bp.post("/me/shift")
@login_required
def start_my_shift():
    form = DeskForm()
    if not form.validate_on_submit():
        abort(400)
    desk = services.find_desk_by_code(form.desk.data or "")
    if desk is None:
        abort(404, description=_("There is no desk with the code %(code)s.", code=form.desk.data))
    result = services.start_shift_from_phone(current_user, desk)
    if result.problem is not None:
        if result.problem == ShiftProblem.NOT_OF_COMMUNE:
            abort(
                403,
                description=_(
                    "You are not an officer of %(unit)s: only its own officers serve at its desks.",
                    unit=desk.unit.name,
                ),
            )
        abort(410, description=_("This desk no longer takes ratings."))
    flash(_("Your shift at %(desk)s has started.", desk=desk.name), "info")
    return redirect(url_for("kiosk.me"), 303)


@bp.post("/me/shift/end")
@login_required
def end_my_shift():
    if not ActionForm().validate_on_submit():
        abort(400)
    if services.end_own_shift(current_user):
        flash(_("Shift ended."), "info")
    return redirect(url_for("kiosk.me"), 303)
