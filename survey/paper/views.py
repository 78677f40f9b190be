"""The paper ballots' pages of a unit.

- ``/units/<unit>/paper``: print ballots for a desk (a batch), the batches,
  printed against entered per desk for a period, the ballots waiting for a
  second reading, and the readings that differ (decided by the district).
- ``/units/<unit>/paper/batches/<id>.pdf``: the batch's ballots.
- ``/units/<unit>/paper/entry``: the entry screen, one keystroke per answer;
  ``/units/<unit>/paper/recheck``: the same screen for the second reading.
- ``/units/<unit>/paper/rechecks/<id>``: the district decides which reading stands.
- ``/p/<serial>``: the address in a ballot's QR code.

The entry screen works as a plain form (a redirect to the next, empty ballot);
its script (``static/paper_entry.js``) moves the focus on by itself and posts
with ``Accept: application/json``, answered with the same outcome as JSON.
"""

from __future__ import annotations

from flask import Blueprint
from flask import Response as HttpResponse
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required

from survey.data.models import PaperLayout
from survey.data.queries import current_questionnaire
from survey.data.queries import definition_of
from survey.domain import ballots
from survey.forms.paper import DecisionForm
from survey.forms.paper import EntryForm
from survey.forms.paper import PrintForm
from survey.paper import services
from survey.paper.services import Refusal
from survey.render import ballots as ballot_pdf
from survey.web.downloads import content_disposition
from survey.web.i18n import pick
from survey.web.lookup import period_choices
from survey.web.lookup import resolve_period
from survey.web.lookup import visible_unit_or_404
from survey.web.render_cache import cached

bp = Blueprint("paper", __name__, template_folder="templates", url_prefix="/units/<unit_code>")
# The QR code printed on each ballot: a public address, so under its own short prefix.
links = Blueprint("ballot_links", __name__, template_folder="templates", url_prefix="/p")


def _print_form(unit, desks) -> PrintForm:
    form = PrintForm()
    form.set_limits(
        [(d.code, f"{d.code} – {d.name}") for d in desks],
        current_app.config["SURVEY_PAPER_MAX_BATCH"],
    )
    return form


def _readable() -> dict[str, tuple[str, dict[str, str]]]:
    """{question id: ("n. question", {value: "key label"})} to show two readings side by side."""
    definition = definition_of(current_questionnaire())
    found = {}
    for number, q in enumerate(ballots.ballot_questions(definition), start=1):
        labels = {o.value: pick(o.label) for o in q.options}
        if q.no_opinion is not None:
            labels[q.no_opinion.value] = pick(q.no_opinion.label)
        keyed = {value: f"{key} – {labels[value]}" for key, value in ballots.printed_numbers(q)}
        found[q.id] = (f"{number}. {pick(q.text)}", keyed)
    return found


def _page(unit, form: PrintForm, status: int = 200):
    period = resolve_period(unit, request.args.get("period"))
    total, agreeing, waiting = services.recheck_counts(unit)
    return (
        render_template(
            "paper/index.html",
            unit=unit,
            period=period,
            choices=period_choices(unit, period),
            form=form,
            max_batch=current_app.config["SURVEY_PAPER_MAX_BATCH"],
            share=current_app.config["SURVEY_PAPER_RECHECK_SHARE"],
            counts=services.desk_counts(unit, period),
            totals=services.ballots_printed_entered(unit, period),
            batches=services.recent_batches(unit),
            queue=services.recheck_queue(unit),
            rechecks=(total, agreeing, waiting),
            disagreements=services.disagreements(unit),
            readable=_readable(),
            may_decide=services.may_decide(current_user, unit),
            decision_form=DecisionForm(),
            tab="paper",
            picker_endpoint="paper.index",
        ),
        status,
    )


@bp.get("/paper")
@login_required
def index(unit_code: str):
    unit = visible_unit_or_404(unit_code)
    return _page(unit, _print_form(unit, services.paper_desks(unit)))


@bp.post("/paper/batches")
@login_required
def create_batch(unit_code: str):
    """Number a batch of ballots for a desk, then offer its PDF."""
    unit = visible_unit_or_404(unit_code)
    desks = services.paper_desks(unit)
    form = _print_form(unit, desks)
    if not form.validate_on_submit():
        # An expired session's token is a 400 (reload), the officer's typing a 422.
        return _page(unit, form, 400 if "csrf_token" in form.errors else 422)
    desk = next(d for d in desks if d.code == form.desk.data)
    try:
        batch = services.create_batch(
            current_user,
            desk,
            form.count.data,
            PaperLayout(form.layout.data),
            recheck_all=form.recheck_all.data,
        )
    except services.BatchRefused as exc:
        message = (
            _("The ballot numbers of desk %(desk)s are used up.", desk=desk.code)
            if exc.reason == "full"
            else _("Another officer printed ballots for this desk at the same moment. Try again.")
        )
        form.count.errors = [*form.count.errors, message]
        return _page(unit, form, 409)
    flash(
        _(
            "%(n)d ballots numbered for desk %(desk)s (%(first)s to %(last)s).",
            n=batch.count,
            desk=desk.code,
            first=ballots.make_serial(desk.code, batch.first_seq),
            last=services.batch_ballots(batch)[-1].serial,
        ),
        "info",
    )
    return redirect(url_for("paper.index", unit_code=unit.code, batch=batch.id) + "#batches", 303)


@bp.get("/paper/batches/<int(max=9223372036854775807):batch_id>.pdf")
@login_required
def batch_pdf(unit_code: str, batch_id: int):
    unit = visible_unit_or_404(unit_code)
    batch = services.find_batch(unit, batch_id)
    if batch is None:
        abort(404, description=_("There is no such batch of ballots in this unit."))
    sheet = services.batch_sheet(batch)
    items = services.batch_ballots(batch)
    data = cached(
        "ballots.pdf",
        (sheet, items, batch.layout),
        lambda: ballot_pdf.render_ballots(sheet, items, batch.layout),
    )
    response = HttpResponse(data, mimetype="application/pdf")
    first, last = items[0].serial, items[-1].serial
    response.headers["Content-Disposition"] = content_disposition(
        "attachment", f"phieu-{first}-{last}.pdf"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- Entry ---------------------------------------------------------------------------------


def refusal_text(result: services.EntryResult, recheck: bool) -> str:
    serial = result.serial
    refusal = result.refusal
    if refusal is Refusal.EMPTY:
        return _("Type the ballot number printed at the top of the ballot.")
    if refusal is Refusal.SHORT:
        return _(
            "The ballot number %(serial)s is too short: type all of it, its last character too.",
            serial=serial,
        )
    if refusal is Refusal.CHECK:
        return _(
            "The ballot number %(serial)s is not valid: its last character does not match "
            "(a typing mistake?). Check the number on the ballot.",
            serial=serial,
        )
    if refusal is Refusal.UNKNOWN:
        return _(
            "No ballot with the number %(serial)s was printed. Check the number on the ballot.",
            serial=serial,
        )
    if refusal is Refusal.OTHER_UNIT:
        return _(
            "Ballot %(serial)s was printed for another commune's desk: it cannot be entered "
            "here. Nothing was saved.",
            serial=serial,
        )
    if refusal is Refusal.ALREADY:
        if recheck:
            return _("Ballot %(serial)s has already had its second reading.", serial=serial)
        return _(
            "Ballot %(serial)s was already entered: it is counted once. Nothing was saved.",
            serial=serial,
        )
    if refusal is Refusal.NOT_ENTERED:
        return _(
            "Ballot %(serial)s has not been entered yet: enter it first; the second reading "
            "comes after.",
            serial=serial,
        )
    if refusal is Refusal.NOT_CHOSEN:
        return _("Ballot %(serial)s was not chosen for a second reading.", serial=serial)
    if refusal is Refusal.SAME_OFFICER:
        return _(
            "You entered ballot %(serial)s yourself: the second reading must be another officer's.",
            serial=serial,
        )
    return _(
        "Ballot %(serial)s: some answers are missing or not valid. Nothing was saved.",
        serial=serial,
    )


def _problem_texts(definition, result: services.EntryResult) -> dict[str, str]:
    found = {}
    numbers = {q.id: i for i, q in enumerate(ballots.ballot_questions(definition), start=1)}
    for problem in result.problems:
        try:
            question = definition.question(problem.question_id)
        except KeyError:  # a ballot of an older questionnaire: name the question by its id
            found[problem.question_id] = problem.question_id
            continue
        if problem.kind == "missing":
            found[question.id] = _(
                "Question %(n)d: no answer typed (type 0 for no opinion where the ballot "
                "has that box).",
                n=numbers[question.id],
            )
        else:
            keys = sorted({k for k in ballots.keys_of(question) if k != "n"})
            found[question.id] = _(
                "Question %(n)d: %(typed)s is not one of its boxes (type one of %(keys)s).",
                n=numbers[question.id],
                typed=problem.typed,
                keys=", ".join(keys),
            )
    return found


def _success_text(result: services.EntryResult, recheck: bool) -> str:
    if recheck:
        if result.agrees:
            return _("Ballot %(serial)s: both readings agree.", serial=result.serial)
        return _(
            "Ballot %(serial)s: the two readings differ. The district will decide which stands.",
            serial=result.serial,
        )
    if result.recheck_wanted:
        return _(
            "Ballot %(serial)s saved. It was chosen for a second reading by another officer.",
            serial=result.serial,
        )
    return _("Ballot %(serial)s saved.", serial=result.serial)


def _entry(unit_code: str, recheck: bool):
    unit = visible_unit_or_404(unit_code)
    questionnaire = current_questionnaire()
    definition = definition_of(questionnaire)
    questions = ballots.ballot_questions(definition)
    form = EntryForm()
    endpoint = "paper.recheck" if recheck else "paper.entry"
    wants_json = request.accept_mimetypes.best == "application/json"
    typed = {}
    result = None
    problems: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        typed = {q.id: request.form.get(f"a_{q.id}", "")[:20] for q in questions}
        if not form.validate_on_submit():
            if "csrf_token" in form.errors:
                message = _("Your session has expired. Please reload the page and try again.")
            else:
                message = _("The ballot number or the comment is too long.")
            if wants_json:
                return {"ok": False, "message": message, "field": "serial"}, 400
            status = 400
            flash(message, "error")
        else:
            if recheck:
                result = services.recheck_ballot(current_user, unit, form.serial.data or "", typed)
            else:
                result = services.enter_ballot(
                    current_user, unit, form.serial.data or "", typed, form.comment.data
                )
            if result.ok:
                message = _success_text(result, recheck)
                if wants_json:
                    return {
                        "ok": True,
                        "message": message,
                        "serial": result.serial,
                        "agrees": result.agrees,
                    }
                flash(message, "info")
                return redirect(url_for(endpoint, unit_code=unit.code), 303)
            problems = _problem_texts(definition, result)
            message = refusal_text(result, recheck)
            status = result.refusal.status
            field = "a_" + result.problems[0].question_id if result.problems else "serial"
            if wants_json:
                return {
                    "ok": False,
                    "message": message,
                    "serial": result.serial,
                    "field": field,
                    "problems": [{"field": "a_" + k, "message": v} for k, v in problems.items()],
                }, status
    return (
        render_template(
            "paper/entry.html",
            unit=unit,
            period=None,
            form=form,
            recheck=recheck,
            questions=[(q, ballots.keys_of(q), ballots.printed_numbers(q)) for q in questions],
            typed=typed,
            refusal=refusal_text(result, recheck) if result is not None else None,
            problems=problems,
            serial_prefill=request.args.get("serial", "")[:60],
            desk_keys=" ".join(
                sorted({ballots.key_of(d.code) for d in services.paper_desks(unit)})
            ),
            queue=services.recheck_queue(unit) if recheck else [],
            tab="paper",
        ),
        status,
    )


@bp.route("/paper/entry", methods=["GET", "POST"])
@login_required
def entry(unit_code: str):
    return _entry(unit_code, recheck=False)


@bp.route("/paper/recheck", methods=["GET", "POST"])
@login_required
def recheck(unit_code: str):
    return _entry(unit_code, recheck=True)


@bp.post("/paper/rechecks/<int(max=9223372036854775807):recheck_id>")
@login_required
def decide(unit_code: str, recheck_id: int):
    """The district decides which of two differing readings of a ballot stands."""
    unit = visible_unit_or_404(unit_code)
    found = services.find_recheck(unit, recheck_id)
    if found is None:
        abort(404)
    if not services.may_decide(current_user, found.ballot.unit):
        abort(403, description=_("Only district officers decide which reading stands."))
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    serial = found.ballot.serial
    try:
        services.decide(current_user, found, form.reading.data)
    except services.DecisionRefused:
        flash(_("Ballot %(serial)s was decided before.", serial=serial), "error")
        return redirect(url_for("paper.index", unit_code=unit.code) + "#disagreements", 303)
    flash(
        _(
            "Ballot %(serial)s: the second reading stands; the response was corrected.",
            serial=serial,
        )
        if form.reading.data == "second"
        else _("Ballot %(serial)s: the first reading stands.", serial=serial),
        "info",
    )
    return redirect(url_for("paper.index", unit_code=unit.code) + "#disagreements", 303)


@links.get("/<serial>")
def ballot_link(serial: str):
    """A ballot's QR code: an officer who may enter it goes to the entry screen with the
    serial filled in; anyone else is told what the code is for."""
    if current_user.is_authenticated:
        ballot = services.find_ballot(serial)
        if ballot is not None and current_user.can_see(ballot.unit):
            return redirect(
                url_for("paper.entry", unit_code=ballot.unit.code, serial=ballot.serial), 303
            )
    return render_template("paper/public.html", serial=serial[:60]), 200
