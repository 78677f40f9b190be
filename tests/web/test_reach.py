"""Response rates: dossiers handled against ratings per channel, receipt links issued
against used, per unit and period (``/units/<unit>/reach``)."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

import sqlalchemy as sa

from survey.data.models import Desk
from survey.data.models import DossierVolume
from survey.data.models import ReceiptToken
from survey.data.models import Unit
from survey.extensions import db
from tests.conftest import add_responses
from tests.conftest import sign_in

IN_MARCH = datetime(2025, 3, 5, 3, 0, tzinfo=UTC)  # "2025-03" on the 15th calendar


def _volume(app, code: str, month: str, dossiers: int) -> None:
    with app.app_context():
        unit = db.session.scalar(sa.select(Unit).where(Unit.code == code))
        db.session.add(DossierVolume(unit_id=unit.id, month=month, dossiers=dossiers))
        db.session.commit()


def _tokens(app, desk_code: str, issued: int, used: int) -> None:
    with app.app_context():
        desk = db.session.scalar(sa.select(Desk).where(Desk.code == desk_code))
        for n in range(issued):
            db.session.add(
                ReceiptToken(
                    code=f"{desk_code[:2]}{n:06d}",
                    unit_id=desk.unit_id,
                    desk_id=desk.id,
                    dossier_hash=f"{n:064d}",
                    created_at=IN_MARCH,
                    expires_at=datetime(2025, 4, 30, tzinfo=UTC),
                    used_at=IN_MARCH if n < used else None,
                )
            )
        db.session.commit()


def test_a_commune_sees_ratings_per_dossier_and_links_answered(client, officers):
    add_responses(officers, "LC-01", IN_MARCH, {"5": 30, "2": 10})
    add_responses(officers, "LC-01", IN_MARCH, {"5": 10}, channel="kiosk")
    _volume(officers, "HD-CG-LC", "2025-03", 200)
    _tokens(officers, "LC-01", issued=8, used=3)
    sign_in(client, "laicach")
    html = client.get("/units/HD-CG-LC/reach?period=2025-03").get_data(as_text=True)
    row = html.split('id="reach-HD-CG-LC"')[1].split("</tr>")[0]
    assert ">200<" in row and ">50<" in row
    assert "25,0%" in row  # 50 ratings for 200 dossiers
    assert "Mã QR tại quầy: 40 (20,0%)" in row and "Máy tính bảng tại quầy: 10 (5,0%)" in row
    links = html.split('id="sent-HD-CG-LC-receipt"')[1].split("</tr>")[0]
    assert ">8<" in links and ">3<" in links and "37,5%" in links


def test_a_month_without_its_count_gives_no_rate(client, officers):
    add_responses(officers, "LC-01", IN_MARCH, {"5": 5})
    _volume(officers, "HD-CG-LC", "2025-01", 100)  # January only, in a quarter
    sign_in(client, "laicach")
    html = client.get("/units/HD-CG-LC/reach?period=2025-Q1").get_data(as_text=True)
    row = html.split('id="reach-HD-CG-LC"')[1].split("</tr>")[0]
    assert "thiếu:" in row and "02/2025" in row and "03/2025" in row
    assert "%" not in row.split("</td>")[3]  # no ratings-per-dossier figure


def test_a_district_sees_each_commune(client, officers):
    add_responses(officers, "LC-01", IN_MARCH, {"5": 4})
    add_responses(officers, "CH-01", IN_MARCH, {"4": 6}, channel="paper")
    sign_in(client, "camgiang")
    html = client.get("/units/HD-CG/reach?period=2025-03").get_data(as_text=True)
    assert 'id="reach-HD-CG"' in html and 'id="reach-HD-CG-LC"' in html
    assert "Phiếu giấy: 6" in html.split('id="reach-HD-CG-CH"')[1].split("</tr>")[0]
    assert "chưa nhập" in html


def test_a_commune_officer_cannot_read_the_district(client, officers):
    sign_in(client, "laicach")
    assert client.get("/units/HD-CG/reach?period=2025-03").status_code == 404
