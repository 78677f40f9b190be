"""Sessions end when they should, and the sign-in throttle holds and cannot lock out.

A session cookie copied before a sign-out, a password reset, a role or unit
change or disabling the account must open nothing afterwards; failed sign-ins
are counted per account and client, atomically, and a device that signed in
before is not held back by strangers' failures.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
import sqlalchemy as sa

from survey.data.models import LoginFailure
from survey.data.models import Officer
from survey.data.models import utcnow
from survey.extensions import db
from survey.officers import accounts
from tests.conftest import PASSWORDS
from tests.conftest import csrf_of
from tests.conftest import sign_in


def _copy_of(app, client):
    """A second browser holding a copy of ``client``'s session cookie."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def _opens_dashboard(c) -> bool:
    return c.get("/units/HD-CG-LC").status_code == 200


def test_a_copied_cookie_dies_with_sign_out(app, client, officers):
    assert sign_in(client, "laicach").status_code == 302
    copy = _copy_of(app, client)
    assert _opens_dashboard(copy)
    assert copy.get("/api/v1/units/HD-CG-LC/summary").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_of(client, "/units/HD-CG-LC")})
    assert not _opens_dashboard(copy)
    assert copy.get("/api/v1/units/HD-CG-LC/summary").status_code == 401


def test_sign_out_ends_only_that_session(app, officers):
    first, second = app.test_client(), app.test_client()
    sign_in(first, "laicach")
    sign_in(second, "laicach")
    first.post("/logout", data={"csrf_token": csrf_of(first, "/units/HD-CG-LC")})
    assert _opens_dashboard(second)


def test_password_reset_ends_every_session(app, runner, client, officers):
    sign_in(client, "laicach")
    copy = _copy_of(app, client)
    reset = runner.invoke(
        args=["survey", "reset-password", "laicach", "--password-stdin"],
        input="cay-da-lai-cach-29\n",
    )
    assert reset.exit_code == 0, reset.output
    assert not _opens_dashboard(client)
    assert not _opens_dashboard(copy)
    assert sign_in(app.test_client(), "laicach", "cay-da-lai-cach-29").status_code == 302


@pytest.mark.parametrize("change", ["role", "unit", "disabled"])
def test_role_unit_or_status_change_ends_every_session(app, client, officers, change):
    sign_in(client, "camgiang")
    assert client.get("/units/HD-CG").status_code == 200
    with app.app_context():
        officer = db.session.scalar(sa.select(Officer).where(Officer.username == "camgiang"))
        if change == "role":
            officer.role = "commune"
        elif change == "unit":
            officer.unit_id = db.session.scalar(
                sa.select(Officer.unit_id).where(Officer.username == "laicach")
            )
        else:
            officer.active = False
        db.session.commit()
    assert client.get("/units/HD-CG").status_code == 302


def test_an_unrelated_change_keeps_the_session(app, client, officers):
    sign_in(client, "laicach")
    with app.app_context():
        officer = db.session.scalar(sa.select(Officer).where(Officer.username == "laicach"))
        officer.full_name = "Cán bộ Lai Cách (mới)"
        db.session.commit()
    assert _opens_dashboard(client)


def _sign_in_from(client, address: str, username: str, password: str):
    token = csrf_of(client, "/login")
    return client.post(
        "/login",
        data={"csrf_token": token, "username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_a_stranger_cannot_lock_out_a_known_device(app, officers):
    officer_phone = app.test_client()
    assert _sign_in_from(officer_phone, "10.1.1.1", "laicach", "demo-laicach").status_code == 302
    officer_phone.post("/logout", data={"csrf_token": csrf_of(officer_phone, "/units/HD-CG-LC")})
    # Strangers from many addresses use up every limit of the account.
    statuses = [
        _sign_in_from(app.test_client(), f"10.9.0.{n % 30}", "laicach", f"guess-{n}").status_code
        for n in range(accounts.MAX_STRANGER_FAILURES + 5)
    ]
    assert statuses.count(401) == accounts.MAX_STRANGER_FAILURES
    assert statuses[-1] == 429
    # A new device is held back (even with the right password) ...
    stranger = _sign_in_from(app.test_client(), "10.2.2.2", "laicach", "demo-laicach")
    assert stranger.status_code == 429
    # ... the officer's own phone is not.
    assert _sign_in_from(officer_phone, "10.1.1.1", "laicach", "demo-laicach").status_code == 302


def test_one_address_gets_five_guesses_and_another_address_is_not_held(app, officers):
    guesser = app.test_client()
    statuses = [
        _sign_in_from(guesser, "10.3.3.3", "laicach", "wrong").status_code for _ in range(7)
    ]
    assert statuses == [401] * accounts.MAX_FAILURES + [429, 429]
    other = _sign_in_from(app.test_client(), "10.4.4.4", "laicach", "demo-laicach")
    assert other.status_code == 302


def test_a_forged_known_device_cookie_counts_as_a_stranger(app, officers):
    guesser = app.test_client()
    guesser.set_cookie("known", "WyJ4IiwgWyJsYWljYWNoIl1d.forged.sig")
    statuses = [
        _sign_in_from(guesser, "10.5.5.5", "laicach", "wrong").status_code for _ in range(6)
    ]
    assert statuses[-1] == 429


def test_parallel_guesses_do_not_pass_the_limit(app, live_server, officers):
    """Thirty guesses at once from one address over real HTTP: five are checked."""

    def guess(n: int) -> int:
        with requests.Session() as s:
            html = s.get(f"{live_server.url}/login", timeout=30).text
            token = html.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
            reply = s.post(
                f"{live_server.url}/login",
                data={"csrf_token": token, "username": "laicach", "password": f"guess-{n}"},
                allow_redirects=False,
                timeout=60,
            )
            return reply.status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(guess, range(30)))
    assert statuses.count(401) == accounts.MAX_FAILURES, statuses
    assert statuses.count(429) == 30 - accounts.MAX_FAILURES
    assert set(statuses) == {401, 429}


def test_purge_deletes_old_failed_sign_ins(app, runner, client, officers):
    sign_in(client, "laicach", "wrong-password")
    with app.app_context():
        db.session.add(
            LoginFailure(username="laicach", client="i:x", at=utcnow() - timedelta(days=2))
        )
        db.session.commit()
    result = runner.invoke(args=["survey", "purge"])
    assert result.exit_code == 0, result.output
    assert "1 old failed sign-ins" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(LoginFailure.id))) == 1


@pytest.mark.parametrize(
    "password, message",
    [
        ("password123", "too common"),
        ("Password2024!", "too common"),
        ("matkhau@123456", "too common"),
        ("1234567890", "too common"),
        ("qwertyuiop", "too common"),
        ("aaaaaaaaaaaa", "too easy"),
        ("abababababab", "too easy"),
        ("quantri-moi-2026", "must not contain the username"),
    ],
)
def test_weak_passwords_are_refused(runner, officers, password, message):
    result = runner.invoke(
        args=["survey", "reset-password", "quantri", "--password-stdin"], input=password + "\n"
    )
    assert result.exit_code != 0
    assert message in result.output, result.output


def test_a_good_password_is_accepted(runner, officers):
    result = runner.invoke(
        args=["survey", "reset-password", "quantri", "--password-stdin"],
        input="song-Thai-Binh-chay-qua\n",
    )
    assert result.exit_code == 0, result.output


def test_the_demo_passwords_still_sign_in(client, officers):
    assert sign_in(client, "camgiang", PASSWORDS["camgiang"]).status_code == 302
