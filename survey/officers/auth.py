"""Officer sign-in: Flask-Login sessions held server-side, scrypt password
hashes, throttling per account and client.

Failed attempts and sessions are stored in the database (not in a worker's
memory), so the limits and a sign-out hold however many gunicorn workers serve
the site.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import Blueprint
from flask import Flask
from flask import current_app
from flask import flash
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager
from flask_login import current_user
from flask_login import login_required
from flask_login import login_user
from flask_login import logout_user
from itsdangerous import BadSignature
from itsdangerous import URLSafeTimedSerializer

from survey.data.models import Officer
from survey.data.models import Role
from survey.extensions import db
from survey.forms.officer import EmptyForm
from survey.forms.officer import LoginForm
from survey.forms.officer import ProfileForm
from survey.integrity.guard import keyed_hash
from survey.officers import accounts

# Sign-in, sign-out and the officers' landing page sit at the top of the site
# (/login, /logout, /officer): addresses officers have bookmarked.
bp = Blueprint("auth", __name__, template_folder="templates")
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please sign in to see this page.")
# "basic": an identifier change marks the session non-fresh. "strong" would also
# sign officers out whenever a mobile connection changes address.
login_manager.session_protection = "basic"


#: The session key holding the random id of the server-side session.
SESSION_ID = "sid"
#: A signed cookie naming the accounts this browser signed in to before: its own
#: failures then count apart from strangers' (who cannot lock it out).
KNOWN_DEVICE_COOKIE = "known"
KNOWN_DEVICE_AGE = 365 * 24 * 3600
_KNOWN_MAX_ACCOUNTS = 5


@login_manager.user_loader
def load_officer(officer_id: str) -> Officer | None:
    # Only while the server still holds the session: a cookie copied before a
    # sign-out, a password reset or a role change opens nothing.
    if not (officer_id.isdigit() and len(officer_id) < 12):
        return None
    officer = accounts.live_officer(int(officer_id), session.get(SESSION_ID))
    if officer is None or not officer.active:
        return None
    if officer.is_demo and not current_app.config["SURVEY_DEMO"]:
        return None
    return officer


def _known_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="known-device")


def _known_device() -> tuple[str, list[str]] | None:
    """(device id, usernames) from this browser's signed known-device cookie."""
    raw = request.cookies.get(KNOWN_DEVICE_COOKIE)
    if not raw or len(raw) > 1000:
        return None
    try:
        value = _known_serializer().loads(raw, max_age=KNOWN_DEVICE_AGE)
    except BadSignature:
        return None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not isinstance(value[0], str)
        or not isinstance(value[1], list)
        or not all(isinstance(name, str) for name in value[1])
    ):
        return None
    return value[0], value[1]


def _sign_in_client(username: str) -> tuple[str, bool]:
    """Who is trying, for the throttle: a device known to this account, or an address."""
    known = _known_device()
    if known and username in known[1]:
        return "d:" + keyed_hash("known-device", f"{known[0]}:{username}"), True
    return "i:" + keyed_hash("sign-in-ip", request.remote_addr or "-"), False


def _remember_device(response, username: str):
    known = _known_device()
    device, names = known if known else (secrets.token_hex(16), [])
    names = [name for name in names if name != username][-(_KNOWN_MAX_ACCOUNTS - 1) :]
    response.set_cookie(
        KNOWN_DEVICE_COOKIE,
        _known_serializer().dumps([device, [*names, username]]),
        max_age=KNOWN_DEVICE_AGE,
        httponly=True,
        samesite="Lax",
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
    )
    return response


def _safe_next(target: str | None) -> str | None:
    """Only a local path: an absolute or scheme-relative URL would be an open redirect."""
    if not target:
        return None
    # Browsers read "/\evil.example" as "//evil.example" and drop tabs and
    # newlines ("/\t/evil.example"): refuse backslashes and control characters.
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign an officer in."""
    if current_user.is_authenticated:
        return redirect(url_for("auth.home"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    status = 200
    if form.validate_on_submit():
        client, known = _sign_in_client(form.username.data)
        result = accounts.sign_in(
            form.username.data,
            form.password.data,
            allow_demo=current_app.config["SURVEY_DEMO"],
            client=client,
            known=known,
        )
        if result.outcome == accounts.SignIn.THROTTLED:
            flash(_("Too many failed attempts. Please wait 15 minutes and try again."), "error")
            return render_template("auth/login.html", form=form), 429
        if result.outcome == accounts.SignIn.DEMO_DISABLED:
            flash(_("Demo accounts are disabled on this server."), "error")
            return render_template("auth/login.html", form=form), 403
        if result.outcome == accounts.SignIn.OK:
            next_url = _safe_next(form.next.data)
            # A fresh session at sign-in: nothing from before survives (session fixation).
            lang = session.get("lang")
            session.clear()
            if lang:
                session["lang"] = lang
            session[SESSION_ID] = result.session_token
            login_user(result.officer)
            return _remember_device(
                redirect(next_url or url_for("auth.home")), result.officer.username
            )
        flash(_("Wrong username or password."), "error")
        status = 401
    elif request.method == "POST":
        status = 400 if "csrf_token" in form.errors else 422
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    """Sign out: end the session on the server (a copy of its cookie opens nothing) and
    clear it here."""
    form = EmptyForm()
    if form.validate_on_submit():
        accounts.record_sign_out(current_user, session.get(SESSION_ID))
        logout_user()
        session.clear()
        flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.get("/officer")
@login_required
def home():
    """Send the officer to their unit's dashboard (administrators: the list of units)."""
    if current_user.role != Role.ADMIN and current_user.unit is not None:
        return redirect(url_for("officer.dashboard", unit_code=current_user.unit.code))
    return render_template("officer/units.html", units=accounts.top_units())


_PROFILE_ERRORS = {
    "invalid_email": _l("This is not an e-mail address. Please write it as name@domain.vn."),
    "invalid_time": _l("Please write a time of day as HH:MM, for example 21:30."),
}


@bp.route("/officer/profile", methods=["GET", "POST"])
@login_required
def profile():
    """The officer's e-mail address, what they receive, and their quiet hours."""
    form = ProfileForm(obj=current_user)
    status = 200
    if form.validate_on_submit():
        try:
            accounts.update_contact(
                current_user,
                email=form.email.data or "",
                wants_alerts=form.wants_alerts.data,
                wants_comments=form.wants_comments.data,
                wants_reports=form.wants_reports.data,
                quiet_start=form.quiet_start.data or "",
                quiet_end=form.quiet_end.data or "",
            )
        except accounts.ProfileError as exc:
            db.session.rollback()
            getattr(form, exc.field).errors.append(_PROFILE_ERRORS[str(exc)])
            return render_template("officer/profile.html", form=form), 422
        flash(_("Saved."), "info")
        return redirect(url_for("auth.profile"), 303)
    elif request.method == "POST":
        status = 400 if "csrf_token" in form.errors else 422
    return render_template("officer/profile.html", form=form), status


@login_manager.unauthorized_handler
def unauthorized():
    """JSON 401 for the API; the sign-in page (coming back afterwards) for pages."""
    message = _("Please sign in to see this page.")
    if request.path.startswith("/api/"):
        return jsonify(error=message, status=401), 401
    flash(message, "info")
    target = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.login", next=target))


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    app.register_blueprint(bp)
