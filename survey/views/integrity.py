"""Officers' side of the integrity controls: flagged responses, desks and posters.

- ``/units/<unit>/flagged``: responses kept but left out of the statistics,
  with the reason; district officers and administrators may reinstate them
  (or exclude them again), in the audit log. Commune officers see the list but
  do not judge their own unit's responses.
- ``/units/<unit>/desks``: per desk and period, how many phones opened the
  form (scans), how many forms were sent, verified by a receipt token or open,
  and flagged; the share of verified ratings; the posters.
- ``/units/<unit>/posters.pdf``: every active desk's poster in one PDF.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import Blueprint
from flask import Response as HttpResponse
from flask import abort
from flask import flash
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import AnyOf

from .. import posters
from ..audit import record
from ..extensions import db
from ..models import Desk
from ..models import DeskScanDay
from ..models import Response
from ..models import Role
from ..models import Unit
from ..params import bounded_int
from ..periods import Period
from ..reporting import source_split
from ..services import current_questionnaire
from ..services import definition_of
from .officer import MAX_PAGE
from .officer import resolve_period
from .officer import visible_unit_or_404
from .public import poster_content
from .public import poster_size_or_400

bp = Blueprint("integrity", __name__)

PAGE_SIZE = 50


def flag_labels() -> dict[str, str]:
    return {
        "honeypot": _("Hidden anti-robot field filled in"),
        "too_fast": _("Sent faster than a person can read the form"),
        "unsigned": _("Form not served by this site (no valid time stamp)"),
    }


class FlagActionForm(FlaskForm):
    action = HiddenField(validators=[AnyOf(["reinstate", "exclude"])])


def may_judge(unit: Unit) -> bool:
    """District officers and administrators judge flagged responses; communes do not."""
    return current_user.role in (Role.DISTRICT, Role.ADMIN) and current_user.can_see(unit)


@bp.app_context_processor
def _helpers():
    return {"flag_labels": flag_labels}


@bp.get("/units/<unit_code>/flagged")
@login_required
def flagged(unit_code: str):
    """Responses flagged as likely automated or gamed, newest first, with the reason."""
    unit = visible_unit_or_404(unit_code)
    page = request.args.get("page", "1")
    page = bounded_int(page, 1, MAX_PAGE) or 1
    query = (
        sa.select(Response)
        .where(Response.unit_id.in_(unit.subtree_ids()), Response.flag_reason.is_not(None))
        .order_by(Response.submitted_at.desc(), Response.id.desc())
    )
    pagination = db.paginate(query, page=page, per_page=PAGE_SIZE, error_out=False)
    definition = definition_of(current_questionnaire())
    return render_template(
        "officer/flagged.html",
        unit=unit,
        period=None,
        pagination=pagination,
        overall_q=definition.by_role("overall"),
        may_judge=may_judge(unit),
        form=FlagActionForm(),
        tab="flagged",
    )


@bp.post("/units/<unit_code>/flagged/<int(max=9223372036854775807):response_id>")
@login_required
def judge(unit_code: str, response_id: int):
    """Reinstate a flagged response in the statistics, or exclude it again."""
    unit = visible_unit_or_404(unit_code)
    response = db.session.get(Response, response_id)
    if (
        response is None
        or response.unit_id not in unit.subtree_ids()
        or response.flag_reason is None
    ):
        abort(404)
    if not may_judge(response.unit):
        abort(403, description=_("Only district officers may reinstate flagged responses."))
    form = FlagActionForm()
    if not form.validate_on_submit():
        abort(400)
    reinstate = form.action.data == "reinstate"
    if response.flagged == reinstate:  # a change, not a repeat
        response.flagged = not reinstate
        record(
            "reinstate" if reinstate else "exclude",
            officer=current_user,
            unit=response.unit,
            response=response,
            detail=f"flag: {response.flag_reason}",
        )
        db.session.commit()
    flash(
        _("Response reinstated in the statistics.")
        if reinstate
        else _("Response left out of the statistics."),
        "info",
    )
    return redirect(url_for("integrity.flagged", unit_code=unit.code) + f"#r{response.id}", 303)


@dataclass(frozen=True)
class DeskRow:
    desk: Desk
    scans: int
    verified: int
    open: int
    flagged: int

    @property
    def sent(self) -> int:
        return self.verified + self.open + self.flagged

    @property
    def sent_per_scan(self) -> float | None:
        return self.sent / self.scans if self.scans else None


def desk_rows(unit: Unit, period: Period) -> list[DeskRow]:
    """Scans and submissions per desk of the unit (and the units below it) in a period."""
    unit_ids = unit.subtree_ids()
    desks = list(
        db.session.scalars(
            sa.select(Desk)
            .join(Unit, Unit.id == Desk.unit_id)
            .where(Desk.unit_id.in_(unit_ids))
            .order_by(Unit.name, Desk.code)
        )
    )
    scans = dict(
        db.session.execute(
            sa.select(DeskScanDay.desk_id, sa.func.sum(DeskScanDay.scans))
            .where(
                DeskScanDay.desk_id.in_([d.id for d in desks]),
                DeskScanDay.day >= period.start,
                DeskScanDay.day <= period.end,
            )
            .group_by(DeskScanDay.desk_id)
        ).all()
    )
    start, end = period.utc_bounds()
    verified = Response.receipt_token_id.is_not(None)
    counts: dict[tuple[int, bool, bool], int] = {}
    for desk_id, is_verified, is_flagged, n in db.session.execute(
        sa.select(Response.desk_id, verified, Response.flagged, sa.func.count(Response.id))
        .where(
            Response.unit_id.in_(unit_ids),
            Response.submitted_at >= start,
            Response.submitted_at < end,
        )
        .group_by(Response.desk_id, verified, Response.flagged)
    ):
        counts[(desk_id, bool(is_verified), bool(is_flagged))] = n
    return [
        DeskRow(
            desk=d,
            scans=int(scans.get(d.id) or 0),
            verified=counts.get((d.id, True, False), 0),
            open=counts.get((d.id, False, False), 0),
            flagged=counts.get((d.id, True, True), 0) + counts.get((d.id, False, True), 0),
        )
        for d in desks
    ]


@bp.get("/units/<unit_code>/desks")
@login_required
def desks(unit_code: str):
    """Scans against submissions per desk, the verified share, and the posters."""
    unit = visible_unit_or_404(unit_code)
    period = resolve_period(unit, request.args.get("period"))
    return render_template(
        "officer/desks.html",
        unit=unit,
        period=period,
        rows=desk_rows(unit, period),
        split=source_split(unit, period),
        tab="desks",
    )


def _rate_json(rate) -> dict:
    return {
        "valid": rate.valid,
        "satisfied": rate.satisfied,
        "rate": rate.rate,
        "ci_low": rate.low,
        "ci_high": rate.high,
    }


@bp.get("/api/v1/units/<unit_code>/desks")
@login_required
def api_desks(unit_code: str):
    """JSON: per desk scans and submissions, and the verified/open split of the unit."""
    unit = visible_unit_or_404(unit_code)
    period = resolve_period(unit, request.args.get("period"))
    split = source_split(unit, period)
    return jsonify(
        unit={"code": unit.code, "name": unit.name},
        period={
            "code": period.code,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
        },
        desks=[
            {
                "code": r.desk.code,
                "name": r.desk.name,
                "unit": r.desk.unit.code,
                "active": r.desk.active,
                "scans": r.scans,
                "submitted": r.sent,
                "verified": r.verified,
                "open": r.open,
                "flagged": r.flagged,
            }
            for r in desk_rows(unit, period)
        ],
        sources=sources_json(split),
    )


def sources_json(split) -> dict:
    """The verified/open split as JSON (also part of the unit summary API)."""
    return {
        "verified": {"responses": split.verified_responses, **_rate_json(split.verified)},
        "open": {"responses": split.open_responses, **_rate_json(split.open)},
        "verified_share": split.verified_share,
        "flagged_excluded": split.flagged,
    }


@bp.get("/units/<unit_code>/posters.pdf")
@login_required
def unit_posters(unit_code: str):
    """Every active desk's poster of the unit (and the units below it), one per page."""
    unit = visible_unit_or_404(unit_code)
    size = poster_size_or_400()
    desks_ = active_desks(unit)
    if not desks_:
        abort(404, description=_("This unit has no active desk."))
    data = posters.render_posters([poster_content(d) for d in desks_], size)
    response = HttpResponse(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="posters-{unit.code}-{size}.pdf"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def active_desks(unit: Unit) -> list[Desk]:
    """The active desks of a unit and the units below it, by unit name then code."""
    return list(
        db.session.scalars(
            sa.select(Desk)
            .join(Unit, Unit.id == Desk.unit_id)
            .where(Desk.unit_id.in_(unit.subtree_ids()), Desk.active.is_(True))
            .order_by(Unit.name, Desk.code)
        )
    )
