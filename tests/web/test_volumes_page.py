"""The volumes page: what is stored always shown, unit codes beside names, a template
to fill in that imports back as it is."""

from __future__ import annotations

import csv
import io
import re

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from survey.data.models import DossierVolume
from survey.extensions import db
from tests.conftest import csrf_of
from tests.conftest import sign_in
from tests.web.test_district import DOSSIERS
from tests.web.test_district import set_volumes


@pytest.fixture
def district(officers, client):
    sign_in(client, "camgiang")
    return officers


def _stored(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-stored="([^"]+)">([^<]*)<', html))


def test_codes_and_stored_values_are_shown(client, district):
    set_volumes(district, "2025-03")
    html = client.get("/units/HD-CG/volumes?month=2025-03").get_data(as_text=True)
    assert "<code>HD-CG-LC</code>" in html
    assert _stored(html) == {code: str(n) for code, n in DOSSIERS.items()}
    # The file input is labelled (axe: a form field needs a label).
    assert '<label for="volume-file">' in html and 'id="volume-file"' in html


def test_stored_values_stay_after_a_failed_import(client, district):
    set_volumes(district, "2025-03")
    token = csrf_of(client, "/units/HD-CG/volumes?month=2025-03")
    bad = b"unit_code,month,dossiers\nHD-XX,2025-03,10\n"
    reply = client.post(
        "/units/HD-CG/volumes/import",
        data={"csrf_token": token, "month": "2025-03", "file": (io.BytesIO(bad), "x.csv")},
        content_type="multipart/form-data",
    )
    assert reply.status_code == 422
    html = reply.get_data(as_text=True)
    assert "HD-XX" in html
    assert "Tháng 3/2025" in html  # the month the officer was looking at
    assert _stored(html) == {code: str(n) for code, n in DOSSIERS.items()}
    assert 'value="300"' in html  # the boxes hold the stored values too


def test_stored_values_stay_after_a_refused_save(client, district):
    set_volumes(district, "2025-03")
    token = csrf_of(client, "/units/HD-CG/volumes?month=2025-03")
    reply = client.post(
        "/units/HD-CG/volumes?month=2025-03",
        data={"csrf_token": token, "month": "2025-03", "v_HD-CG-LC": "oops"},
    )
    assert reply.status_code == 422
    html = reply.get_data(as_text=True)
    assert _stored(html)["HD-CG-LC"] == "300"
    assert 'value="oops"' in html  # what was typed, to correct


def _volumes(app) -> dict[str, int]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(DossierVolume.unit_id, DossierVolume.month, DossierVolume.dossiers)
        ).all()
    return {(u, m): n for u, m, n in rows}


def test_csv_template_lists_the_communes_and_imports_back(app, client, district):
    reply = client.get("/units/HD-CG/volumes/template.csv?month=T4/2025")
    assert reply.status_code == 200
    assert reply.headers["Content-Disposition"].endswith('volumes-HD-CG-2025-04.csv"')
    text = reply.data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["unit_code", "unit_name", "month", "dossiers"]
    assert {r[0] for r in rows[1:]} == set(DOSSIERS)
    assert {r[2] for r in rows[1:]} == {"2025-04"}
    # Fill two communes, leave the rest blank, import it back.
    filled = [rows[0]] + [
        r[:3] + ["500" if r[0] in ("HD-CG-LC", "HD-CG-CH") else ""] for r in rows[1:]
    ]
    out = io.StringIO()
    csv.writer(out).writerows(filled)
    token = csrf_of(client, "/units/HD-CG/volumes")
    imported = client.post(
        "/units/HD-CG/volumes/import",
        data={
            "csrf_token": token,
            "month": "2025-04",
            "file": (io.BytesIO(out.getvalue().encode()), "filled.csv"),
        },
        content_type="multipart/form-data",
    )
    assert imported.status_code == 303
    assert imported.headers["Location"].endswith("month=2025-04")
    assert sorted(_volumes(app).values()) == [500, 500]


def test_xlsx_template_has_stored_values_and_text_months(app, client, district):
    set_volumes(district, "2025-03")
    reply = client.get("/units/HD-CG/volumes/template.xlsx?month=2025-03")
    sheet = load_workbook(io.BytesIO(reply.data)).active
    assert [c.value for c in sheet[1]] == ["unit_code", "unit_name", "month", "dossiers"]
    assert sheet.freeze_panes == "A2"
    values = {row[0]: row[3] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert values == DOSSIERS
    assert sheet["C2"].value == "2025-03" and sheet["C2"].number_format == "@"


def test_import_accepts_months_as_people_type_them(app, client, district):
    data = b"unit_code,month,dossiers\nHD-CG-LC,T3/2025,120\nHD-CG-CH,3/2025,90\n"
    token = csrf_of(client, "/units/HD-CG/volumes")
    reply = client.post(
        "/units/HD-CG/volumes/import",
        data={"csrf_token": token, "file": (io.BytesIO(data), "x.csv")},
        content_type="multipart/form-data",
    )
    assert reply.status_code == 303
    assert {m for (_, m) in _volumes(app)} == {"2025-03"}
