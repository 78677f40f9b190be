"""Monthly reports that arrive by themselves: the day after each unit's cut-off, a
message to each of its officers who want it, with links to the period's report
(PDF), spreadsheet and chart, and the period's cases: opened, answered on
time, answered late, overdue.

Links, not attachments: the report lists citizens' comments, which never travel
by e-mail; the links ask for sign-in. Once per unit, period and officer: the
outbox key names all three, and the unique index refuses a second one, however
often the worker restarts.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from survey.data.models import Officer
from survey.data.models import OutboxMessage
from survey.data.models import Role
from survey.data.models import Unit
from survey.domain.periods import LOCAL_TZ
from survey.domain.periods import Period
from survey.domain.periods import period_containing
from survey.extensions import db
from survey.notify.cases import period_counts
from survey.notify.dispatch import base_url

#: Reports are sent from the day after the cut-off for this many days (a worker
#: down for a week still sends them; an officer added mid-month gets no stale one).
SEND_WITHIN_DAYS = 7


def closed_period(unit: Unit, now: datetime) -> Period | None:
    """The month that closed before today (Vietnam time), if it closed recently enough."""
    today = now.astimezone(LOCAL_TZ).date()
    this_month = period_containing(today, "month", unit.report_cutoff_day)
    if (today - this_month.start).days >= SEND_WITHIN_DAYS:
        return None
    return this_month.previous()


def report_key(unit: Unit, period: Period, officer: Officer) -> str:
    return f"report-{unit.code}-{period.code}-o{officer.id}"


def _cases_line(unit: Unit, period: Period, now: datetime) -> str:
    start, end = period.utc_bounds()
    n = period_counts(unit.subtree_ids(), start, end, now)
    return (
        f"Phản ánh cần xử lý trong kỳ: {n['opened']}; trả lời đúng hạn {n['on_time']}, "
        f"trả lời muộn {n['late']}, quá hạn chưa trả lời {n['overdue']}, "
        f"đang trong hạn {n['open']}."
    )


def _message(officer: Officer, unit: Unit, period: Period, cases: str) -> OutboxMessage:
    base = f"{base_url()}/reports/{unit.code}/{period.code}"
    label = period.label("vi")
    what = "so sánh các đơn vị trực thuộc" if unit.children else "kết quả khảo sát"
    body = "\n".join(
        [
            f"Kính gửi {officer.full_name},",
            "",
            f"Báo cáo {label} ({period.range_label()}) của {unit.name}: {what}.",
            cases,
            "",
            f"- Báo cáo (PDF): {base}/report.pdf",
            f"- Bảng tính (Excel): {base}/report.xlsx",
            f"- Biểu đồ: {base}/chart.png",
            f"- Trang tổng hợp: {base_url()}/units/{unit.code}?period={period.code}",
            "",
            "Các đường dẫn cần đăng nhập. Báo cáo có ý kiến của người dân nên không gửi kèm thư.",
            f"Chọn loại thư nhận: {base_url()}/officer/profile",
        ]
    )
    return OutboxMessage(
        key=report_key(unit, period, officer),
        channel="email",
        recipient=officer.email,
        kind="report",
        unit_id=unit.id,
        subject=f"[Khảo sát hài lòng] Báo cáo {label} – {unit.name}",
        body=body + "\n",
        payload={},
    )


def schedule_reports(now: datetime) -> int:
    """Queue the reports due now that are not queued yet; return how many."""
    officers = list(
        db.session.scalars(
            sa.select(Officer)
            .join(Unit, Officer.unit_id == Unit.id)
            .where(
                Officer.active.is_(True),
                Officer.email.is_not(None),
                Officer.wants_reports.is_(True),
                # Interviewers read no unit's data, so no alert or report either.
                Officer.role != Role.INTERVIEWER,
            )
            .options(so.contains_eager(Officer.unit))
            .order_by(Officer.id)
        )
    )
    due = []
    for officer in officers:
        period = closed_period(officer.unit, now)
        if period is not None:
            due.append((report_key(officer.unit, period, officer), officer, period))
    if not due:
        db.session.rollback()
        return 0
    existing = set(
        db.session.scalars(
            sa.select(OutboxMessage.key).where(OutboxMessage.key.in_([k for k, _, _ in due]))
        )
    )
    # The cases line is counted only for reports not queued yet: once a month per unit.
    lines: dict[tuple[int, str], str] = {}
    fresh = []
    for key, officer, period in due:
        if key in existing:
            continue
        unit = officer.unit
        if (unit.id, period.code) not in lines:
            lines[(unit.id, period.code)] = _cases_line(unit, period, now)
        fresh.append(_message(officer, unit, period, lines[(unit.id, period.code)]))
    if not fresh:
        db.session.rollback()
        return 0
    for message in fresh:
        message.next_attempt_at = now
    db.session.add_all(fresh)
    try:
        db.session.commit()
    except sa.exc.IntegrityError:  # another worker queued them a moment ago
        db.session.rollback()
        return 0
    return len(fresh)
