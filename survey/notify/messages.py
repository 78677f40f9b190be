"""What an alert says: Vietnamese subject and body, and the webhook's JSON.

Never the citizen's words or contact: a count, the desks, the times and a link
to the page (which requires signing in) where an officer reads the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from survey.domain.alerts import AlertKind
from survey.domain.periods import LOCAL_TZ

PREFIX = "[Khảo sát hài lòng]"


@dataclass(frozen=True)
class AlertItem:
    desk_code: str | None
    at: datetime
    detail: str | None  # negative runs: "negative/responses/minutes"


@dataclass(frozen=True)
class AlertGroup:
    kind: str
    unit_code: str
    unit_name: str
    items: list[AlertItem]
    link: str


def when(moment: datetime) -> str:
    """Vietnam time as officers write it: ``09:12 30/11/2026``."""
    return moment.astimezone(LOCAL_TZ).strftime("%H:%M %d/%m/%Y")


def subject(group: AlertGroup) -> str:
    n = len(group.items)
    if group.kind == AlertKind.HARASSMENT:
        what = f"{n} phiếu báo bị gây phiền hà, sách nhiễu"
    elif group.kind == AlertKind.NEGATIVE_RUN:
        desks = ", ".join(sorted({i.desk_code or "?" for i in group.items}))
        what = f"nhiều đánh giá không hài lòng tại quầy {desks}"
    else:
        what = f"{n} ý kiến cần liên hệ lại người dân"
    return f"{PREFIX} {group.unit_name}: {what}"


def _line(group: AlertGroup, item: AlertItem) -> str:
    desk = f"Quầy {item.desk_code}" if item.desk_code else "Không rõ quầy"
    if group.kind == AlertKind.NEGATIVE_RUN and item.detail:
        negative, total, minutes = item.detail.split("/")
        return (
            f"- {desk}: {negative}/{total} phiếu không hài lòng trong {minutes} phút, "
            f"đến {when(item.at)}"
        )
    return f"- {desk}: lúc {when(item.at)}"


def body(group: AlertGroup, greeting_name: str | None, profile_link: str) -> str:
    intro = {
        AlertKind.HARASSMENT: "Người dân cho biết đã bị gây phiền hà, sách nhiễu khi làm thủ tục:",
        AlertKind.NEGATIVE_RUN: "Nhiều người dân không hài lòng tại một quầy trong thời gian ngắn:",
        AlertKind.COMMENT: (
            "Người dân gửi ý kiến và đồng ý được liên hệ lại; đề nghị liên hệ trong ngày làm việc:"
        ),
    }[group.kind]
    lines = [f"Kính gửi {greeting_name}," if greeting_name else "Kính gửi đồng chí,", ""]
    lines += [f"{group.unit_name} ({group.unit_code}). {intro}"]
    lines += [_line(group, item) for item in sorted(group.items, key=lambda i: i.at)]
    lines += [
        "",
        f"Xem và xử lý (cần đăng nhập): {group.link}",
        "",
        "Thư này không chứa nội dung ý kiến hay thông tin liên hệ của người dân.",
        f"Chọn loại thư nhận và giờ không nhận thư: {profile_link}",
    ]
    return "\n".join(lines) + "\n"


def payload(group: AlertGroup, key: str) -> dict:
    """The webhook's JSON: the same facts as the e-mail, for a messenger bridge."""
    return {
        "id": key,
        "type": f"alert.{group.kind}",
        "unit": {"code": group.unit_code, "name": group.unit_name},
        "count": len(group.items),
        "items": [
            {"desk": i.desk_code, "at": i.at.isoformat(), "detail": i.detail}
            for i in sorted(group.items, key=lambda i: i.at)
        ],
        "text": subject(group),
        "link": group.link,
    }
