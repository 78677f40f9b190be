"""The receipt-token API for the one-stop software, and the token's QR code.

``POST /api/v1/tokens`` with ``Authorization: Bearer <key>`` (a key of the
unit, from ``flask survey create-api-key``) and a JSON body
``{"desk_code": ..., "dossier_number": ..., "expires_in_days": ...}``.
Errors are JSON ``{"error": <code>, "detail": <message>, "status": <int>}``;
the codes are stable, the messages are for the integrator (English).
"""

from __future__ import annotations

import base64

import sqlalchemy as sa
from flask import Blueprint
from flask import Response as HttpResponse
from flask import abort
from flask import current_app
from flask import jsonify
from flask import request
from flask import url_for

from .. import qr
from ..extensions import csrf
from ..extensions import db
from ..models import ReceiptToken
from ..models import utcnow
from ..params import bounded_int
from ..services import find_desk
from ..tokens import MAX_TOKEN_DAYS
from ..tokens import DossierAlreadyRated
from ..tokens import api_key_for
from ..tokens import mint
from ..tokens import normalise_code
from ..tokens import valid_dossier
from .public import public_form_url

bp = Blueprint("tokens", __name__)


def _error(status: int, code: str, detail: str, **extra):
    response = jsonify(error=code, detail=detail, status=status, **extra)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="sipas-survey"'
    return response


def token_url(token: ReceiptToken) -> str:
    """The form URL with the token, as printed (and QR-encoded) on the receipt."""
    return f"{public_form_url(token.desk.code)}?t={token.code}"


def _absolute(path: str) -> str:
    base = current_app.config.get("SURVEY_PUBLIC_BASE_URL") or request.host_url.rstrip("/")
    return base + path


@bp.post("/api/v1/tokens")
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

    desk = find_desk(desk_code)
    if desk is None:
        return _error(404, "unknown_desk", f"There is no desk with the code {desk_code.strip()}.")
    if desk.unit_id not in key.unit.subtree_ids():
        return _error(403, "foreign_desk", f"Desk {desk.code} does not belong to your unit.")
    if not desk.active:
        return _error(
            422,
            "retired_desk",
            f"Desk {desk.code} is retired; ask for tokens for the desk that replaced it.",
            fields={"desk_code": "retired"},
        )
    try:
        minted = mint(desk, dossier, days, key)
    except DossierAlreadyRated:
        return _error(409, "already_rated", "This dossier has already been rated.")
    key.last_used_at = utcnow()
    db.session.commit()
    token = minted.token
    qr_png = qr.png(token_url(token), box_size=6)
    response = jsonify(
        token=token.code,
        desk_code=token.desk.code,
        url=token_url(token),
        qr_png=_absolute(url_for("tokens.token_qr", code=token.code)),
        qr_png_base64=base64.b64encode(qr_png).decode(),
        expires_at=token.expires_at.isoformat(),
        created=minted.created,
    )
    response.status_code = 201 if minted.created else 200
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/t/<code>/qr.png")
def token_qr(code: str):
    """The QR code of a token's URL, to print on the receipt slip."""
    normal = normalise_code(code)
    token = (
        db.session.scalar(sa.select(ReceiptToken).where(ReceiptToken.code == normal))
        if normal
        else None
    )
    if token is None:
        abort(404)
    scale = request.args.get("scale", "6")
    box = bounded_int(scale, 2, 40) or 6
    response = HttpResponse(qr.png(token_url(token), box_size=box), mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
