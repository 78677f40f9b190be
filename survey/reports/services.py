"""How a unit's reports are issued: the settings of its administrative document
(Nghị định 30/2020/NĐ-CP) and the letterhead made from them.

``save_settings`` is a use case: one transaction with its audit entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import sqlalchemy as sa

from survey.data.audit import record
from survey.data.models import Officer
from survey.data.models import ReportSettings
from survey.data.models import Unit
from survey.data.models import utcnow
from survey.domain.periods import Period
from survey.extensions import db
from survey.render import report_pdf

if TYPE_CHECKING:
    from survey.render.report_pdf import Letterhead

# The words a unit's name starts with that are not part of the place's own name.
_LEVEL_WORDS = re.compile(
    r"^(xã|thị trấn|phường|huyện|quận|thị xã|thành phố|tỉnh)\s+", re.IGNORECASE
)
WATERMARK = "TẠM TÍNH"


@dataclass(frozen=True)
class SettingsValues:
    """What an officer sets; every text already stripped."""

    parent_body: str
    issuing_body: str
    number_symbol: str
    place: str
    signer_title: str
    signer_name: str
    recipients: str


def default_settings(unit: Unit) -> SettingsValues:
    """What a unit's document says until an officer sets it: from its name and its parent's."""
    parent = unit.parent
    recipients = [f"- UBND {parent.name} (để báo cáo);"] if parent else []
    return SettingsValues(
        parent_body=f"UBND {parent.name}" if parent else "",
        issuing_body=f"UBND {unit.name}",
        number_symbol="BC-UBND",
        place=_LEVEL_WORDS.sub("", unit.name).strip() or unit.name,
        signer_title="TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH",
        signer_name="",
        recipients="\n".join([*recipients, "- Lưu: VT."]),
    )


def stored_settings(unit: Unit) -> ReportSettings | None:
    return db.session.scalar(sa.select(ReportSettings).where(ReportSettings.unit_id == unit.id))


def settings_for(unit: Unit) -> SettingsValues:
    """The unit's settings, or the defaults when none are stored."""
    row = stored_settings(unit)
    if row is None:
        return default_settings(unit)
    return SettingsValues(
        parent_body=row.parent_body,
        issuing_body=row.issuing_body,
        number_symbol=row.number_symbol,
        place=row.place,
        signer_title=row.signer_title,
        signer_name=row.signer_name,
        recipients=row.recipients,
    )


def save_settings(officer: Officer, unit: Unit, values: SettingsValues) -> None:
    """Store the unit's settings with the audit entry that records the change; commit."""
    row = stored_settings(unit)
    if row is None:
        row = ReportSettings(unit_id=unit.id)
        db.session.add(row)
    for name, value in vars(values).items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    record(
        "report_settings",
        officer=officer,
        unit=unit,
        detail=f"{values.issuing_body} · {values.number_symbol} · {values.signer_name}",
    )
    db.session.commit()


def vietnamese_date(place: str, day: date) -> str:
    """ "Lai Cách, ngày 05 tháng 01 năm 2026": days below 10 and months 1 and 2 get a
    leading zero (Nghị định 30/2020/NĐ-CP, Phụ lục I).

    >>> vietnamese_date("Lai Cách", date(2026, 1, 5))
    'Lai Cách, ngày 05 tháng 01 năm 2026'
    >>> vietnamese_date("Lai Cách", date(2026, 11, 30))
    'Lai Cách, ngày 30 tháng 11 năm 2026'
    """
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"


def is_provisional(period: Period, today: date) -> bool:
    """Whether the period has not ended yet: its figures are "tạm tính"."""
    return not period.is_complete(today)


def letterhead(unit: Unit, period: Period, today: date) -> Letterhead:
    """The unit's letterhead for a report on ``period`` issued ``today``."""
    s = settings_for(unit)
    return report_pdf.Letterhead(
        parent_body=s.parent_body,
        issuing_body=s.issuing_body,
        # The number is given when the clerk registers the document: left blank.
        number=f"Số: ……/{s.number_symbol}" if s.number_symbol else "Số: ……",
        place_date=vietnamese_date(s.place, today),
        recipients_heading="Nơi nhận:",
        recipients=tuple(line.strip() for line in s.recipients.splitlines() if line.strip()),
        signer_title=tuple(line.strip() for line in s.signer_title.splitlines() if line.strip()),
        signer_name=s.signer_name,
        watermark=WATERMARK if is_provisional(period, today) else "",
    )
