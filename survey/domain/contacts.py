"""A citizen's contact for an invitation to rate: a Vietnamese mobile number or an
e-mail address, checked and written one way, so that the same person typed two
ways gives the same keyed hash (de-duplication) and the gateway gets one format.
"""

from __future__ import annotations

import enum
import re

from .alerts import check_email

#: Separators people and one-stop software put in numbers: "0912 345 678",
#: "0912.345.678", "(+84) 912-345-678".
_SEPARATORS = re.compile(r"[\s.\-()]")
#: Mobile numbers: 10 digits from 03, 05, 07, 08 or 09 (after the 2018 renumbering);
#: 02x are landlines, which take no SMS.
_LOCAL = re.compile(r"^0([35789]\d{8})$")
_INTERNATIONAL = re.compile(r"^\+84([35789]\d{8})$")


class ContactKind(enum.StrEnum):
    PHONE = "phone"
    EMAIL = "email"


class ContactError(ValueError):
    """The text is not a contact we can send to; ``reason`` is a stable code."""

    def __init__(self, kind: ContactKind, reason: str) -> None:
        super().__init__(f"{kind}: {reason}")
        self.kind = kind
        self.reason = reason


def normalise_phone(text: str) -> str:
    """A Vietnamese mobile number in international form (``+84`` and 9 digits).

    >>> normalise_phone("0912 345 678")
    '+84912345678'
    >>> normalise_phone("+84 (912) 345-678")
    '+84912345678'
    >>> normalise_phone("0241 234 5678")
    Traceback (most recent call last):
    ...
    survey.domain.contacts.ContactError: phone: not_mobile
    """
    if not isinstance(text, str) or len(text) > 40:
        raise ContactError(ContactKind.PHONE, "format")
    compact = _SEPARATORS.sub("", text.strip())
    match = _LOCAL.match(compact) or _INTERNATIONAL.match(compact)
    if match:
        return "+84" + match.group(1)
    if re.fullmatch(r"(0|\+84)2\d{8,9}", compact):
        raise ContactError(ContactKind.PHONE, "not_mobile")
    raise ContactError(ContactKind.PHONE, "format")


def normalise_email(text: str) -> str:
    """An e-mail address, trimmed, with its domain lower-cased.

    >>> normalise_email(" Lan.Nguyen@Gmail.COM ")
    'Lan.Nguyen@gmail.com'
    """
    if not isinstance(text, str):
        raise ContactError(ContactKind.EMAIL, "format")
    try:
        return check_email(text)
    except ValueError:
        raise ContactError(ContactKind.EMAIL, "format") from None


def masked(kind: str, contact: str) -> str:
    """What an officer or a log may see of a contact: enough to recognise, not to use.

    >>> masked("phone", "+84912345678")
    '+84912***678'
    >>> masked("email", "lan.nguyen@gmail.com")
    'l***@gmail.com'
    """
    if kind == ContactKind.PHONE:
        return contact[:6] + "***" + contact[-3:]
    local, _sep, domain = contact.rpartition("@")
    return f"{local[:1]}***@{domain}"
