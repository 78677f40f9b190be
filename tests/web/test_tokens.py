"""Receipt tokens: the API for the one-stop software, one dossier one rating,
single use under concurrency, and bad tokens that still let the citizen answer."""

from __future__ import annotations

import base64
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from survey.data.models import ApiKey
from survey.data.models import ReceiptToken
from survey.data.models import SurveyResponse
from survey.data.models import utcnow
from survey.extensions import db
from tests.conftest import VALID_ANSWERS
from tests.conftest import hidden_fields
from tests.web.test_qr_and_health import decode_qr

DOSSIER = "000.00.12.H23-250301-0001"
ATTEMPTS = 8  # races are timing-dependent: try several times


@pytest.fixture
def api_key(app, runner, demo_units):
    result = runner.invoke(args=["survey", "create-api-key", "HD-CG-LC", "--label", "Một cửa"])
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert key.startswith("sk_")
    return key


def mint(client, key, **body):
    payload = {"desk_code": "LC-01", "dossier_number": DOSSIER, **body}
    return client.post("/api/v1/tokens", json=payload, headers={"Authorization": f"Bearer {key}"})


def test_key_is_stored_hashed_and_shown_once(app, api_key):
    with app.app_context():
        row = db.session.scalar(sa.select(ApiKey))
        assert row.key_hash != api_key and len(row.key_hash) == 64
        assert api_key.startswith(row.prefix)


def test_token_is_minted_once_per_dossier(app, client, api_key, tmp_path):
    first = mint(client, api_key, expires_in_days=10)
    assert first.status_code == 201
    body = first.get_json()
    code = body["token"]
    assert len(code) == 8 and not set(code) & set("01OI")
    assert body["url"] == f"https://khaosat.example.vn/s/LC-01?t={code}"
    assert body["qr_png"] == f"https://khaosat.example.vn/t/{code}/qr.png"
    assert decode_qr(base64.b64decode(body["qr_png_base64"]), tmp_path) == body["url"]
    assert decode_qr(client.get(f"/t/{code}/qr.png").data, tmp_path) == body["url"]
    again = mint(client, api_key, dossier_number=f"  {DOSSIER.lower()} ")
    assert again.status_code == 200
    assert again.get_json()["token"] == code and again.get_json()["created"] is False
    assert mint(client, api_key, dossier_number="OTHER-1").get_json()["token"] != code
    with app.app_context():
        tokens = db.session.scalars(sa.select(ReceiptToken)).all()
        assert len(tokens) == 2
        # The dossier number is kept only as a keyed hash, never in clear.
        dump = " ".join(f"{t.code} {t.dossier_hash}" for t in tokens)
        assert DOSSIER not in dump and "H23" not in dump
        assert all(len(t.dossier_hash) == 64 for t in tokens)


@pytest.mark.parametrize(
    "headers, body, status, error",
    [
        ({}, {"desk_code": "LC-01", "dossier_number": "A1"}, 401, "unauthorized"),
        ({"Authorization": "Bearer sk_wrong"}, {"desk_code": "LC-01"}, 401, "unauthorized"),
        ({"Authorization": "Basic x"}, {"desk_code": "LC-01"}, 401, "unauthorized"),
        (None, {"desk_code": "NOPE-1", "dossier_number": "A1"}, 404, "unknown_desk"),
        (None, {"desk_code": "CA-01", "dossier_number": "A1"}, 403, "foreign_desk"),
        (None, {"dossier_number": "A1"}, 422, "invalid_fields"),
        (None, {"desk_code": "LC-01", "dossier_number": "x" * 65}, 422, "invalid_fields"),
        (None, {"desk_code": "LC-01", "dossier_number": "<b>"}, 422, "invalid_fields"),
        (
            None,
            {"desk_code": "LC-01", "dossier_number": "A1", "expires_in_days": 0},
            422,
            "invalid_fields",
        ),
        (
            None,
            {"desk_code": "LC-01", "dossier_number": "A1", "expires_in_days": True},
            422,
            "invalid_fields",
        ),
        (None, ["not", "an", "object"], 422, "invalid_json"),
    ],
)
def test_api_errors_are_json_with_the_right_status(client, api_key, headers, body, status, error):
    headers = {"Authorization": f"Bearer {api_key}"} if headers is None else headers
    reply = client.post("/api/v1/tokens", json=body, headers=headers)
    assert reply.status_code == status
    data = reply.get_json()
    assert data["error"] == error and data["status"] == status and data["detail"]
    if status == 401:
        assert reply.headers["WWW-Authenticate"].startswith("Bearer")


def test_api_refuses_non_json_and_revoked_keys(app, client, runner, api_key):
    reply = client.post(
        "/api/v1/tokens",
        data="desk_code=LC-01",
        headers={"Authorization": f"Bearer {api_key}"},
        content_type="application/x-www-form-urlencoded",
    )
    assert reply.status_code == 415
    assert runner.invoke(args=["survey", "revoke-api-key", api_key[:10]]).exit_code == 0
    assert mint(client, api_key).status_code == 401


def _form_with_token(client, code, desk="LC-01"):
    page = client.get(f"/s/{desk}?t={code}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    return html, {**hidden_fields(html), **VALID_ANSWERS}


def test_a_token_verifies_one_rating_then_is_used(app, client, api_key):
    app.config["SURVEY_MIN_FILL_SECONDS"] = 0
    code = mint(client, api_key).get_json()["token"]
    html, data = _form_with_token(client, code.lower())
    assert 'id="verified"' in html and code in html
    assert data["receipt"] == code
    assert client.post("/s/LC-01", data=data).status_code == 303
    with app.app_context():
        response = db.session.scalar(sa.select(SurveyResponse))
        token = db.session.scalar(sa.select(ReceiptToken))
        assert response.receipt_token_id == token.id and token.used_at is not None
    # The dossier cannot be rated again, and the API says so.
    assert mint(client, api_key).status_code == 409
    html, data = _form_with_token(client, code)
    assert "đã được sử dụng: mỗi hồ sơ chỉ được đánh giá một lần" in html
    assert "vẫn có thể trả lời" in html
    assert "receipt" not in data
    # The citizen still answers: stored as an open (unverified) rating.
    assert client.post("/s/LC-01", data=data).status_code == 303
    with app.app_context():
        ids = db.session.scalars(
            sa.select(SurveyResponse.receipt_token_id).order_by(SurveyResponse.id)
        ).all()
        assert ids[0] is not None and ids[1] is None


def test_bad_tokens_each_get_a_clear_message(app, client, api_key, runner):
    runner.invoke(args=["survey", "add-unit", "BN", "Tỉnh Bắc Ninh", "--level", "province"])
    expired = mint(client, api_key, dossier_number="EXP-1").get_json()["token"]
    with app.app_context():
        token = db.session.scalar(sa.select(ReceiptToken).where(ReceiptToken.code == expired))
        token.expires_at = utcnow() - timedelta(days=1)
        db.session.commit()
    foreign = mint(client, api_key, dossier_number="F-1").get_json()["token"]
    cases = {
        f"/s/LC-01?t={expired}": f"Mã phiếu hẹn {expired} đã hết hạn ngày",
        "/s/LC-01?t=0O1I-XYZ": "Mã phiếu hẹn “0O1I-XYZ” không hợp lệ.",
        "/s/LC-01?t=<script>": "không hợp lệ",
        "/s/LC-01?t=ABCDEFGH": "Không tìm thấy mã phiếu hẹn ABCDEFGH.",
        f"/s/CA-01?t={foreign}": f"Mã phiếu hẹn {foreign} do cơ quan khác cấp, "
        "không phải Xã Cao An.",
    }
    for path, message in cases.items():
        page = client.get(path)
        html = page.get_data(as_text=True)
        assert page.status_code == 200, path
        assert message in html, path
        assert "vẫn có thể trả lời" in html
        assert 'name="receipt"' not in html and "<script>" not in html


def test_a_token_used_meanwhile_keeps_the_answers(app, client, api_key):
    app.config["SURVEY_MIN_FILL_SECONDS"] = 0
    code = mint(client, api_key).get_json()["token"]
    _, first = _form_with_token(client, code)
    other_phone = app.test_client()
    _, second = _form_with_token(other_phone, code)
    assert client.post("/s/LC-01", data=first).status_code == 303
    reply = other_phone.post("/s/LC-01", data=second)
    html = reply.get_data(as_text=True)
    assert reply.status_code == 409
    assert "đã được sử dụng" in html
    assert 'name="q_access" value="4" checked' in html
    again = hidden_fields(html)
    assert "receipt" not in again
    assert other_phone.post("/s/LC-01", data={**again, **VALID_ANSWERS}).status_code == 303
    with app.app_context():
        ids = db.session.scalars(sa.select(SurveyResponse.receipt_token_id)).all()
        assert len(ids) == 2 and ids.count(None) == 1


def test_verified_ratings_are_not_limited_by_address(app, client, api_key):
    app.config.update(SURVEY_MIN_FILL_SECONDS=0, SURVEY_LIMIT_IP_PER_HOUR=1)
    codes = [mint(client, api_key, dossier_number=f"D-{i}").get_json()["token"] for i in range(3)]
    for code in codes:
        phone = app.test_client()
        _, data = _form_with_token(phone, code)
        assert phone.post("/s/LC-01", data=data).status_code == 303
    with app.app_context():
        verified = db.session.scalar(
            sa.select(sa.func.count(SurveyResponse.id)).where(
                SurveyResponse.receipt_token_id.is_not(None)
            )
        )
    assert verified == 3


@pytest.mark.parametrize("same_submission", [False, True])
def test_token_is_single_use_under_concurrency(app, live_server, same_submission):
    """Two simultaneous posts with one token: exactly one verified response is stored."""
    import requests

    app.config["SURVEY_MIN_FILL_SECONDS"] = 0
    with app.app_context():
        from survey.data.models import Unit
        from survey.integrity.tokens import issue_api_key

        key = issue_api_key(db.session.scalar(sa.select(Unit).where(Unit.code == "HD-CG-LC")))
    base = live_server.url
    for attempt in range(ATTEMPTS):
        minted = requests.post(
            f"{base}/api/v1/tokens",
            json={"desk_code": "LC-01", "dossier_number": f"RACE-{same_submission}-{attempt}"},
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        )
        assert minted.status_code == 201, minted.text
        code = minted.json()["token"]
        phones = [requests.Session(), requests.Session()]
        forms = []
        for phone in phones:
            page = phone.get(f"{base}/s/LC-01?t={code}", timeout=10)
            forms.append({**hidden_fields(page.text), **VALID_ANSWERS})
        if same_submission:  # one phone's double tap, sent over two connections
            phones[1] = phones[0]
            forms[1] = forms[0]
        barrier = threading.Barrier(2)
        statuses = [None, None]

        def post(i, barrier=barrier, phones=phones, forms=forms, statuses=statuses):
            barrier.wait()
            reply = phones[i].post(
                f"{base}/s/LC-01", data=forms[i], allow_redirects=False, timeout=30
            )
            statuses[i] = reply.status_code

        threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        with app.app_context():
            token = db.session.scalar(sa.select(ReceiptToken).where(ReceiptToken.code == code))
            linked = db.session.scalar(
                sa.select(sa.func.count(SurveyResponse.id)).where(
                    SurveyResponse.receipt_token_id == token.id
                )
            )
            assert linked == 1
            assert token.used_at is not None
        if same_submission:
            assert statuses == [303, 303]
        else:
            assert sorted(statuses) == [303, 409]
    with app.app_context():
        # Nothing else was stored: the loser's answers came back to its phone.
        assert db.session.scalar(sa.select(sa.func.count(SurveyResponse.id))) == ATTEMPTS
