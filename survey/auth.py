"""Officer sign-in: Flask-Login sessions, scrypt password hashes, throttling.

Failed attempts are stored in the database (not in a worker's memory), so the
limit holds however many gunicorn workers serve the site.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
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
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from .audit import record
from .extensions import db
from .forms.officer import EmptyForm
from .forms.officer import LoginForm
from .models import LoginFailure
from .models import Officer
from .models import utcnow

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please sign in to see this page.")
# "basic": an identifier change marks the session non-fresh. "strong" would also
# sign officers out whenever a mobile connection changes address.
login_manager.session_protection = "basic"

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
# Checked against when the username is unknown, so a wrong username takes as
# long as a wrong password and does not reveal which accounts exist.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def hash_password(password: str) -> str:
    """A salted scrypt hash (werkzeug's default KDF)."""
    return generate_password_hash(password, method="scrypt")


def check_password_strength(password: str) -> str | None:
    """An error message for a password too weak to accept, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"The password must have at least {MIN_PASSWORD_LENGTH} characters."
    if password.isdigit() or password.lower() == password.lower()[0] * len(password):
        return "The password is too easy to guess."
    return None


@login_manager.user_loader
def load_officer(officer_id: str) -> Officer | None:
    officer = db.session.get(Officer, int(officer_id)) if officer_id.isdigit() else None
    if officer is None or not officer.active:
        return None
    if officer.is_demo and not current_app.config["SURVEY_DEMO"]:
        return None
    return officer


def _recent_failures(username: str) -> int:
    since = utcnow() - FAILURE_WINDOW
    return db.session.scalar(
        sa.select(sa.func.count(LoginFailure.id)).where(
            LoginFailure.username == username, LoginFailure.at >= since
        )
    )


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
        return redirect(url_for("officer.home"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    status = 200
    if form.validate_on_submit():
        username = form.username.data
        if _recent_failures(username) >= MAX_FAILURES:
            flash(_("Too many failed attempts. Please wait 15 minutes and try again."), "error")
            return render_template("auth/login.html", form=form), 429
        officer = db.session.scalar(sa.select(Officer).where(Officer.username == username))
        password_ok = check_password_hash(
            officer.password_hash if officer else _DUMMY_HASH, form.password.data
        )
        if officer and password_ok and officer.active:
            if officer.is_demo and not current_app.config["SURVEY_DEMO"]:
                flash(_("Demo accounts are disabled on this server."), "error")
                return render_template("auth/login.html", form=form), 403
            db.session.execute(sa.delete(LoginFailure).where(LoginFailure.username == username))
            next_url = _safe_next(form.next.data)
            # A fresh session at sign-in: nothing from before survives (session fixation).
            lang = session.get("lang")
            session.clear()
            if lang:
                session["lang"] = lang
            login_user(officer)
            officer.last_login_at = utcnow()
            record("login", officer=officer)
            db.session.commit()
            return redirect(next_url or url_for("officer.home"))
        db.session.add(LoginFailure(username=username))
        db.session.commit()
        flash(_("Wrong username or password."), "error")
        status = 401
    elif request.method == "POST":
        status = 400 if "csrf_token" in form.errors else 422
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    """Sign out and clear the session."""
    form = EmptyForm()
    if form.validate_on_submit():
        record("logout", officer=current_user)
        db.session.commit()
        logout_user()
        session.clear()
        flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


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
