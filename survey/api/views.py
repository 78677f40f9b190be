"""The JSON API: figures for a unit and period, desks, and what the one-stop
software sends (receipt tokens, dossier volumes).

Machine clients authenticate with ``Authorization: Bearer <key>`` (a key of
the unit, from ``flask survey create-api-key``); the read endpoints take the
officer's session, with the same permissions as the pages.

``POST /api/v1/tokens`` takes ``{"desk_code": ..., "dossier_number": ...,
"expires_in_days": ...}``. Its errors are JSON ``{"error": <code>, "detail":
<message>, "status": <int>}``; the codes are stable, the messages are for the
integrator (English).
"""

from __future__ import annotations

import base64

from flask import Blueprint
from flask import current_app
from flask import jsonify
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import login_required

from survey.api.serialise import channels_json
from survey.api.serialise import district_json
from survey.api.serialise import rate_json
from survey.api.serialise import sources_json
from survey.citizen.links import token_url
from survey.district import services as volumes_service
from survey.district.summary import summarise_children
from survey.domain.periods import today_in_vietnam
from survey.extensions import csrf
from survey.integrity.services import desk_rows
from survey.integrity.tokens import MAX_TOKEN_DAYS
from survey.integrity.tokens import DeskRefused
from survey.integrity.tokens import DossierAlreadyRated
from survey.integrity.tokens import api_key_for
from survey.integrity.tokens import issue
from survey.integrity.tokens import valid_dossier
from survey.render import qr
from survey.reports.summary import channel_split
from survey.reports.summary import summarise
from survey.web.lookup import channels_or_400
from survey.web.lookup import resolve_period
from survey.web.lookup import visible_unit_or_404
from survey.web.presenters import verdict_text

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _error(status: int, code: str, detail: str, **extra):
    response = jsonify(error=code, detail=detail, status=status, **extra)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="sipas-survey"'
    return response


def _absolute(path: str) -> str:
    base = current_app.config.get("SURVEY_PUBLIC_BASE_URL") or request.host_url.rstrip("/")
    return base + path


@bp.post("/tokens")
@csrf.exempt  # authenticated by the API key, not a session
def create_token():
    """Mint (or return the existing unused) receipt token of a dossier."""
    key = api_key_for(request.headers.get("Authorization"))
    if key is None:
        return _error(
            401,
            "unauthorized",
            "Send a valid API key of your unit as 'Authorization: Bearer <key>'.",
        )
    if not request.is_json:
        return _error(415, "unsupported_media_type", "Send the request body as application/json.")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _error(422, "invalid_json", "The body must be a JSON object.")

    fields = {}
    desk_code = body.get("desk_code")
    if not isinstance(desk_code, str) or not desk_code.strip():
        fields["desk_code"] = "required: the code of the desk that returned the dossier"
    dossier = body.get("dossier_number")
    if not valid_dossier(dossier):
        fields["dossier_number"] = (
            "required: 1 to 64 characters (letters, digits, '.', '-', '_', '/', spaces)"
        )
    days = body.get("expires_in_days", current_app.config["SURVEY_TOKEN_DAYS"])
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_TOKEN_DAYS:
        fields["expires_in_days"] = f"an integer from 1 to {MAX_TOKEN_DAYS}"
    if fields:
        return _error(422, "invalid_fields", "Some fields are missing or not valid.", fields=fields)

    try:
        minted = issue(key, desk_code, dossier, days)
    except DeskRefused as refused:
        return _error(refused.status, refused.code, refused.detail, **refused.extra)
    except DossierAlreadyRated:
        return _error(409, "already_rated", "This dossier has already been rated.")
    token = minted.token
    qr_png = qr.png(token_url(token), box_size=6)
    response = jsonify(
        token=token.code,
        desk_code=token.desk.code,
        url=token_url(token),
        qr_png=_absolute(url_for("receipts.token_qr", code=token.code)),
        qr_png_base64=base64.b64encode(qr_png).decode(),
        expires_at=token.expires_at.isoformat(),
        created=minted.created,
    )
    response.status_code = 201 if minted.created else 200
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/units/<unit_code>/summary")
@login_required
def api_summary(unit_code: str):
    """The period's figures as JSON (same permissions as the pages)."""
    unit = visible_unit_or_404(unit_code)
    channels = channels_or_400(request.args.get("channel"))
    s = summarise(
        unit, resolve_period(unit, request.args.get("period")), trend=False, channels=channels
    )
    split = channel_split(unit, s.period)
    body = dict(
        unit={"code": unit.code, "name": unit.name, "level": unit.level},
        period={
            "code": s.period.code,
            "start": s.period.start.isoformat(),
            "end": s.period.end.isoformat(),
            # Not ended yet: the figures are provisional.
            "provisional": not s.period.is_complete(today_in_vietnam()),
        },
        # Which channels the figures include: those asked for, else every one that
        # brought responses.
        channels_included=sorted(s.channels)
        if s.channels
        else [f.channel.value for f in split.figures],
        responses=s.responses,
        satisfied=s.overall.satisfied,
        valid=s.overall.valid,
        no_opinion=s.overall.no_opinion,
        comments=s.comments,
        rate=s.overall.rate,
        ci_low=s.overall.low,
        ci_high=s.overall.high,
        target=s.overall_target.rate,
        verdict=s.verdict.status,
        verdict_text=verdict_text(s.verdict),
        responses_needed=s.verdict.responses_needed,
        sipas_index=s.sipas.index,
        elements=[
            {"element": e.element, "rate": e.rate, **(rate_json(e.overall) if e.overall else {})}
            for e in s.sipas.elements
        ],
        fields=[
            {
                "field": f.field,
                "target": f.target.rate,
                "verdict": f.comparison.status,
                **rate_json(f.rate),
            }
            for f in s.fields
        ],
        harassment={
            "yes": s.harassment.yes,
            "answered": s.harassment.answered,
            "rate": s.harassment.rate,
        },
        # Receipt-verified and open-QR responses apart, and every channel side by
        # side; flagged ones left out.
        sources=sources_json(split),
        channels=channels_json(split),
    )
    if unit.children:
        # A district's headline is its weighted figure: the top-level rate, interval
        # and verdict are the ones its page leads with (the pooled ones are under "pooled").
        body.update(district_json(summarise_children(unit, s.period)))
    return jsonify(body)


@bp.get("/units/<unit_code>/desks")
@login_required
def api_desks(unit_code: str):
    """JSON: per desk scans and submissions, and the verified/open split of the unit."""
    unit = visible_unit_or_404(unit_code)
    period = resolve_period(unit, request.args.get("period"))
    split = channel_split(unit, period)
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
                "channels": r.by_channel,
                "flagged": r.flagged,
            }
            for r in desk_rows(unit, period)
        ],
        sources=sources_json(split),
        channels=channels_json(split),
    )


@bp.post("/volumes")
@csrf.exempt  # a machine client authenticated by its API key, not a browser session
def api_volumes():
    """Post dossier volumes from the one-stop software: all rows or none.

    ``Authorization: Bearer <key>`` of the unit (or of a unit above it); body
    ``{"rows": [{"unit_code": "HD-CG-LC", "month": "2025-03", "dossiers": 420,
    "field": ""}]}``.
    """
    key = api_key_for(request.headers.get("Authorization"))
    if key is None:
        return jsonify(error=_("A valid API key is required."), status=401), 401
    if not request.is_json:
        return jsonify(error=_("Send the volumes as JSON."), status=415), 415
    body = request.get_json(silent=True)
    rows = body.get("rows") if isinstance(body, dict) else None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        return jsonify(error=_('The body must be {"rows": [ ... ]}.'), status=422), 422
    result = volumes_service.save_from_api(key, rows, confirmed=body.get("confirm") is True)
    if result.errors:
        return jsonify(
            error=_("Nothing was saved. Please correct:"), problems=list(result.errors), status=422
        ), 422
    if not result.saved:
        return jsonify(error=_("The file has no rows of volumes."), status=422), 422
    return jsonify(saved=result.saved), 200
