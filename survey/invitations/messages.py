"""What an invitation says: a short SMS, an e-mail and the Zalo bridge's JSON.

Vietnamese, polite, with the link and the date it stops working. The SMS is
written without diacritics: Vietnamese carriers' brand-name SMS take
unaccented text, and an accented one costs a 70-character segment instead of
160. Nothing here names the citizen or repeats the contact.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from survey.domain.periods import LOCAL_TZ

PREFIX = "[Khảo sát hài lòng]"


@dataclass(frozen=True)
class InvitationText:
    unit_code: str
    unit_name: str
    link: str
    token: str
    expires_at: datetime
    reminder: bool


def unaccented(text: str) -> str:
    """Vietnamese without diacritics, as brand-name SMS are written.

    >>> unaccented("Thị trấn Lai Cách – Đánh giá")
    'Thi tran Lai Cach - Danh gia'
    """
    text = text.replace("đ", "d").replace("Đ", "D").replace("–", "-")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _day(moment: datetime) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%d/%m/%Y")


def sms(text: InvitationText) -> str:
    lead = "Nhac lai: moi" if text.reminder else "Moi"
    return (
        f"{unaccented(text.unit_name)}: {lead} Ong/Ba danh gia muc do hai long ve ho so "
        f"da giai quyet tai {text.link} (den het {_day(text.expires_at)}). Tran trong."
    )


def subject(text: InvitationText) -> str:
    lead = "Nhắc lại: mời" if text.reminder else "Mời"
    return f"{PREFIX} {text.unit_name}: {lead} Ông/Bà đánh giá hồ sơ đã giải quyết"


def body(text: InvitationText) -> str:
    lines = [
        "Kính gửi Ông/Bà,",
        "",
        f"{text.unit_name} cảm ơn Ông/Bà đã nộp hồ sơ trực tuyến. Hồ sơ đã được giải quyết.",
        "Xin Ông/Bà dành một phút cho biết mức độ hài lòng (không cần đăng nhập, không ghi tên):",
        "",
        text.link,
        "",
        f"Mã đánh giá: {text.token}. Đường dẫn dùng được một lần, đến hết ngày "
        f"{_day(text.expires_at)}.",
    ]
    if not text.reminder:
        lines.append("Nếu chưa đánh giá, Ông/Bà sẽ nhận một thư nhắc lại, chỉ một lần.")
    lines += [
        "",
        "Địa chỉ thư của Ông/Bà chỉ dùng để gửi lời mời này và được xoá sau lần gửi cuối.",
    ]
    return "\n".join(lines) + "\n"


def payload(text: InvitationText, key: str) -> dict:
    """The Zalo bridge's JSON (the phone number is added when it is sent)."""
    return {
        "id": key,
        "type": "invitation.reminder" if text.reminder else "invitation.rating",
        "unit": {"code": text.unit_code, "name": text.unit_name},
        "link": text.link,
        "token": text.token,
        "expires_at": text.expires_at.isoformat(),
        "text": subject(text),
    }
