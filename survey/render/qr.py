"""QR codes for the desks' form URLs."""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M


def _make(url: str, box_size: int = 10) -> qrcode.QRCode:
    # Level M survives a smudged or partly torn poster and keeps the code small
    # enough for a cheap phone camera at arm's length.
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=4)
    code.add_data(url)
    code.make(fit=True)
    return code


def png(url: str, box_size: int = 10) -> bytes:
    """PNG bytes of a QR code that encodes ``url``."""
    buffer = io.BytesIO()
    _make(url, box_size).make_image().save(buffer)
    return buffer.getvalue()


def svg(url: str) -> bytes:
    """SVG bytes (one path, scales to any poster size) of a QR code that encodes ``url``."""
    buffer = io.BytesIO()
    _make(url).make_image(image_factory=qrcode.image.svg.SvgPathImage).save(buffer)
    return buffer.getvalue()


def matrix(url: str) -> list[list[bool]]:
    """The QR code's modules (True = dark), quiet zone included, for vector drawing."""
    return _make(url).get_matrix()
