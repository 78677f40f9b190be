"""The addresses a desk's QR code and poster carry."""

from __future__ import annotations

from flask import current_app
from flask import has_request_context
from flask import request
from flask import url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from survey.data.models import ReceiptToken
from survey.render import posters


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


def public_results_url(unit_code: str) -> str:
    """The absolute URL of a unit's published results (printed on its posters)."""
    form = public_form_url("X")
    base = form[: form.index("/s/")]
    with current_app.test_request_context():
        path = url_for("site.results", unit_code=unit_code)
    return f"{base}{path}"


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
            footer=_("Anonymous · no sign-in · under a minute · desk code %(code)s", code=desk.code)
            + " · "
            + _(
                "See the results: %(url)s",
                url=posters.short_url(public_results_url(desk.unit.code)),
            ),
        )


def token_url(token: ReceiptToken) -> str:
    """The form URL with the token, as printed (and QR-encoded) on the receipt."""
    return f"{public_form_url(token.desk.code)}?t={token.code}"
