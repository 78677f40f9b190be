"""How a rating reached the service: its channel.

People answer differently on their own phone, on a tablet in front of the
officer, on paper or to an interviewer (mode effects), and each channel reaches
a different part of the public (self-selection), so every response keeps its
channel and every figure can be split by it (docs/STATISTICS.md).
"""

from __future__ import annotations

import enum


class Channel(enum.StrEnum):
    #: The open QR code at the desk, scanned with the citizen's own phone.
    QR = "qr"
    #: The link printed on the dossier's receipt (a one-time receipt token).
    RECEIPT = "receipt"
    #: The rating tablet on the counter.
    KIOSK = "kiosk"
    #: A paper ballot keyed in by an officer.
    PAPER = "paper"
    #: An interview by a trained interviewer.
    INTERVIEW = "interview"
    #: A link sent by SMS, e-mail or Zalo to a citizen who filed online.
    INVITATION = "invitation"


#: The channels in the order pages list them.
ORDER = tuple(Channel)


def parse(text: str | None) -> Channel | None:
    """The channel named by ``text`` (a query parameter), None when absent.

    >>> parse("kiosk")
    <Channel.KIOSK: 'kiosk'>
    >>> parse("") is None
    True

    :raise ValueError: not a channel's name.
    """
    if not text:
        return None
    try:
        return Channel(text.strip().lower())
    except ValueError:
        raise ValueError(text) from None
