"""QR codes that decode to the desk's form URL, and the health check."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from io import BytesIO

import pytest
import sqlalchemy as sa
from PIL import Image

from tests.conftest import skip_or_fail


def decode_qr(png: bytes, tmp_path) -> str:
    """Decode a QR code with zbar, an implementation independent of ours."""
    if shutil.which("zbarimg") is None:
        skip_or_fail("zbarimg is not installed (apt-get install zbar-tools)")
    path = tmp_path / "qr.png"
    path.write_bytes(png)
    out = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(path)], capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_qr_png_encodes_the_absolute_form_url(client, demo_units, tmp_path):
    reply = client.get("/s/LC-01/qr.png")
    assert reply.status_code == 200
    assert reply.mimetype == "image/png"
    image = Image.open(BytesIO(reply.data))
    assert image.size[0] == image.size[1] >= 200
    assert decode_qr(reply.data, tmp_path) == "https://khaosat.example.vn/s/LC-01"


def test_qr_uses_request_host_without_configured_base(app, client, demo_units, tmp_path):
    app.config["SURVEY_PUBLIC_BASE_URL"] = ""
    reply = client.get("/s/LC-01/qr.png", base_url="http://ubnd.local:8000")
    assert decode_qr(reply.data, tmp_path) == "http://ubnd.local:8000/s/LC-01"


def test_qr_svg_is_valid_svg(client, demo_units):
    reply = client.get("/s/LC-01/qr.svg")
    assert reply.status_code == 200
    assert reply.mimetype == "image/svg+xml"
    root = ET.fromstring(reply.data)
    assert root.tag.endswith("svg")


@pytest.mark.parametrize("path", ["/s/NOPE/qr.png", "/s/NOPE/qr.svg", "/s/LC-01/qr.gif"])
def test_qr_for_unknown_desk_or_format_is_404(client, demo_units, path):
    assert client.get(path).status_code == 404


def test_healthz_reports_the_database(client):
    reply = client.get("/healthz")
    assert reply.status_code == 200
    assert reply.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_says_503_when_the_database_is_gone(tmp_path):
    from survey import create_app

    missing = tmp_path / "no-such-dir" / "survey.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{missing}"})
    reply = app.test_client().get("/healthz")
    assert reply.status_code == 503
    assert reply.get_json()["status"] == "error"


def test_security_headers(client, demo_units):
    reply = client.get("/s/LC-01")
    csp = reply.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_runs_in_wal_mode(app):
    from survey.extensions import db

    with app.app_context():
        assert db.session.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
