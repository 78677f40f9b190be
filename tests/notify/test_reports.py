"""Monthly reports sent by themselves: the day after each unit's cut-off, once per
unit, period and officer, however often the worker runs or restarts."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

import sqlalchemy as sa

from survey.data.models import OutboxMessage
from survey.extensions import db
from survey.notify import worker
from survey.notify.reports import schedule_reports


def _at(day: int, month: int = 12, hour: int = 1) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)  # 08:00 in Vietnam


def test_each_unit_gets_its_closed_month_once_the_day_after_its_cut_off(mail_app, smtp):
    with mail_app.app_context():
        # The province counts its months from the 15th to the 14th (one calendar for
        # the district and its communes): "Tháng 12/2026" is 15/11–14/12.
        assert schedule_reports(_at(1)) == 0  # November closed on 14/11: long sent
        assert schedule_reports(_at(14)) == 0  # December's month is not over yet
        assert schedule_reports(_at(15)) == 2  # the district and Lai Cách, the day after
        assert schedule_reports(_at(15, hour=5)) == 0  # the same day again: nothing new
        assert schedule_reports(_at(16)) == 0
        rows = {m.recipient: m for m in db.session.scalars(sa.select(OutboxMessage))}
        assert rows["noivu@camgiang.gov.vn"].key.startswith("report-HD-CG-2026-12-o")
        assert rows["laicach@camgiang.gov.vn"].key.startswith("report-HD-CG-LC-2026-12-o")
        report = worker.send_due(now=_at(16))
    assert report.sent == 2
    by_rcpt = {m["To"]: m for m in smtp.inbox.messages}
    district = by_rcpt["noivu@camgiang.gov.vn"]
    assert district["Subject"] == "[Khảo sát hài lòng] Báo cáo Tháng 12/2026 – Huyện Cẩm Giàng"
    text = district.get_content()
    assert "https://khaosat.example.vn/reports/HD-CG/2026-12/report.pdf" in text
    assert "https://khaosat.example.vn/reports/HD-CG/2026-12/report.xlsx" in text
    assert "https://khaosat.example.vn/reports/HD-CG/2026-12/chart.png" in text
    commune = by_rcpt["laicach@camgiang.gov.vn"].get_content()
    assert "15/11/2026" in commune and "14/12/2026" in commune


def test_a_worker_down_for_days_catches_up_but_not_weeks_later(mail_app):
    with mail_app.app_context():
        assert schedule_reports(_at(20)) == 2  # the district and Lai Cách, five days late
    with mail_app.app_context():
        db.session.execute(sa.delete(OutboxMessage))
        db.session.commit()
        assert schedule_reports(_at(23)) == 0  # too late: the officers have moved on


def test_officers_who_do_not_want_reports_get_none(mail_app, client):
    from tests.conftest import csrf_of
    from tests.conftest import sign_in

    sign_in(client, "camgiang")
    reply = client.post(
        "/officer/profile",
        data={
            "csrf_token": csrf_of(client, "/officer/profile"),
            "email": "noivu@camgiang.gov.vn",
            "wants_alerts": "y",
        },
    )
    assert reply.status_code == 303
    with mail_app.app_context():
        assert schedule_reports(_at(1)) == 0


def test_the_report_message_counts_the_periods_cases(mail_app, smtp):
    from survey.notify.cases import open_cases
    from tests.conftest import add_responses

    # Tuesday 10/11/2026 (month 15/10–14/11): due at the end of Friday 13/11, still
    # unanswered when the month's reports go out on 15/11.
    add_responses(mail_app, "LC-02", _at(10, month=11), {"1": 1}, comment="Chờ lâu.")
    with mail_app.app_context():
        assert open_cases(_at(10, month=11)) == 1
        assert schedule_reports(_at(15, month=11)) == 2
        worker.send_due(now=_at(15, month=11))
    assert len(smtp.inbox.messages) == 2
    for msg in smtp.inbox.messages:
        assert (
            "Phản ánh cần xử lý trong kỳ: 1; trả lời đúng hạn 0, trả lời muộn 0, "
            "quá hạn chưa trả lời 1, đang trong hạn 0." in msg.get_content()
        )
        assert "Chờ lâu" not in msg.get_content()
