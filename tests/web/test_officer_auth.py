"""Officer sign-in: sessions, throttling, demo accounts, safe redirects, the CLI."""

from __future__ import annotations

import sqlalchemy as sa

from survey.data.models import AuditEntry
from survey.data.models import Officer
from survey.extensions import db
from tests.conftest import csrf_of
from tests.conftest import sign_in


def test_sign_in_page_is_vietnamese(client, officers):
    html = client.get("/login").get_data(as_text=True)
    assert "Đăng nhập dành cho cán bộ" in html
    assert 'autocomplete="current-password"' in html


def test_sign_in_lands_on_own_dashboard_and_cookie_is_safe(client, officers):
    reply = sign_in(client, "laicach")
    assert reply.status_code == 302
    assert reply.headers["Location"] == "/officer"
    cookie = reply.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    home = client.get("/officer")
    assert home.headers["Location"] == "/units/HD-CG-LC"
    assert client.get("/units/HD-CG-LC").status_code == 200


def test_wrong_password_is_refused_and_counted(client, officers):
    reply = sign_in(client, "laicach", "wrong-password")
    assert reply.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu" in reply.get_data(as_text=True)
    assert client.get("/units/HD-CG-LC").status_code == 302


def test_sign_in_is_throttled_after_five_failures(client, officers):
    for _ in range(5):
        assert sign_in(client, "laicach", "wrong-password").status_code == 401
    reply = sign_in(client, "laicach")  # even the right password is held back
    assert reply.status_code == 429
    assert "Đăng nhập sai quá nhiều lần" in reply.get_data(as_text=True)
    # Another account is not affected.
    assert sign_in(client, "camgiang").status_code == 302


def test_unknown_username_gets_the_same_answer(client, officers):
    reply = sign_in(client, "nobody", "whatever-pass")
    assert reply.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu" in reply.get_data(as_text=True)


def test_demo_accounts_are_refused_outside_demo_mode(app, client, officers):
    app.config["SURVEY_DEMO"] = False
    reply = sign_in(client, "laicach")
    assert reply.status_code == 403
    assert "Tài khoản dùng thử đã bị tắt" in reply.get_data(as_text=True)
    assert sign_in(client, "binhgiang").status_code == 302


def test_sign_in_without_csrf_is_refused(client, officers):
    reply = client.post("/login", data={"username": "laicach", "password": "demo-laicach"})
    assert reply.status_code == 400
    assert client.get("/units/HD-CG-LC").status_code == 302


def test_next_is_followed_only_to_local_paths(client, officers):
    token = csrf_of(client, "/login")
    for target, expected in [
        ("/units/HD-CG-LC?period=2025-03", "/units/HD-CG-LC?period=2025-03"),
        ("//evil.example/x", "/officer"),
        ("https://evil.example/", "/officer"),
    ]:
        reply = client.post(
            "/login",
            data={
                "csrf_token": token,
                "username": "laicach",
                "password": "demo-laicach",
                "next": target,
            },
        )
        assert reply.headers["Location"] == expected, target
        client.post("/logout", data={"csrf_token": csrf_of(client, "/units/HD-CG-LC")})
        token = csrf_of(client, "/login")


def test_pages_ask_for_sign_in_and_come_back(client, officers):
    reply = client.get("/units/HD-CG-LC?period=2025-03")
    assert reply.status_code == 302
    assert reply.headers["Location"].startswith("/login?next=")
    api = client.get("/api/v1/units/HD-CG-LC/summary")
    assert api.status_code == 401
    assert api.get_json()["status"] == 401


def test_sign_out_clears_the_session(app, client, officers):
    sign_in(client, "laicach")
    token = csrf_of(client, "/units/HD-CG-LC")
    reply = client.post("/logout", data={"csrf_token": token})
    assert reply.status_code == 302
    assert client.get("/units/HD-CG-LC").status_code == 302
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert actions == ["login", "logout"]


def test_create_officer_and_reset_password(app, runner, client, officers):
    result = runner.invoke(
        args=[
            "survey",
            "create-officer",
            "caoan",
            "--name",
            "Cán bộ Cao An",
            "--role",
            "commune",
            "--unit",
            "HD-CG-CA",
            "--password-stdin",
        ],
        input="mat-khau-cao-an\n",
    )
    assert result.exit_code == 0, result.output
    assert sign_in(client, "caoan", "mat-khau-cao-an").status_code == 302
    reset = runner.invoke(
        args=["survey", "reset-password", "caoan", "--password-stdin"], input="mat-khau-moi-2025\n"
    )
    assert reset.exit_code == 0, reset.output
    with app.app_context():
        officer = db.session.scalar(sa.select(Officer).where(Officer.username == "caoan"))
        assert officer.password_hash.startswith("scrypt:")


def test_officer_cli_errors_are_clear(runner, officers):
    cases = [
        (
            ["create-officer", "x1", "--name", "X", "--role", "commune", "--password-stdin"],
            "needs --unit",
            "long-enough-pass\n",
        ),
        (
            [
                "create-officer",
                "x2",
                "--name",
                "X",
                "--role",
                "commune",
                "--unit",
                "HD-CG",
                "--password-stdin",
            ],
            "cannot belong to a district",
            "long-enough-pass\n",
        ),
        (
            ["create-officer", "x3", "--name", "X", "--role", "admin", "--password-stdin"],
            "at least 10 characters",
            "short\n",
        ),
        (
            ["create-officer", "laicach", "--name", "X", "--role", "admin", "--password-stdin"],
            "exists already",
            "long-enough-pass\n",
        ),
        (
            ["reset-password", "nobody", "--password-stdin"],
            "No officer named nobody",
            "long-enough-pass\n",
        ),
    ]
    for args, message, stdin in cases:
        result = runner.invoke(args=["survey", *args], input=stdin)
        assert result.exit_code != 0, args
        assert message in result.output, (args, result.output)
