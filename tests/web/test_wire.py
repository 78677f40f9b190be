"""The citizen's form on the wire: compressed, with a stylesheet cached for a year;
officers' pages never compressed (BREACH)."""

from __future__ import annotations

import gzip
import re

import brotli

from tests.conftest import sign_in


def _fetch(client, url: str) -> tuple[int, bytes, dict]:
    reply = client.get(url, headers={"Accept-Encoding": "br, gzip"})
    raw = reply.data
    encoding = reply.headers.get("Content-Encoding")
    body = {"br": brotli.decompress, "gzip": gzip.decompress}.get(encoding, lambda b: b)(raw)
    return len(raw), body, reply.headers


def test_the_form_and_its_style_are_small_on_the_wire(client, demo_units):
    sent, html, headers = _fetch(client, "/s/LC-01")
    assert headers["Content-Encoding"] in ("br", "gzip")
    assert "Vary" in headers and "Accept-Encoding" in headers["Vary"]
    page = html.decode()
    assert 'name="csrf_token"' in page  # the whole form, decompressed
    css_url = re.search(r'href="(/static/site\.css\?v=[0-9a-f]{12})"', page).group(1)
    css_sent, css, css_headers = _fetch(client, css_url)
    assert css.startswith(b"/*") or b"{" in css
    assert "max-age=31536000" in css_headers["Cache-Control"]
    assert "no-cache" not in css_headers["Cache-Control"]
    # The goal of the performance issue: form and stylesheet within 6 KB together.
    assert sent + css_sent <= 6 * 1024, (sent, css_sent)
    # A client that does not ask for compression gets the page as it is.
    plain = client.get("/s/LC-01")
    assert "Content-Encoding" not in plain.headers and b"csrf_token" in plain.data


def test_officers_pages_are_never_compressed(client, officers):
    sign_in(client, "laicach")
    for url in ("/units/HD-CG-LC", "/units/HD-CG-LC/feedback", "/api/v1/units/HD-CG-LC/summary"):
        reply = client.get(url, headers={"Accept-Encoding": "br, gzip"})
        assert reply.status_code == 200, url
        assert "Content-Encoding" not in reply.headers, url
