"""Every audit entry is committed with the change it records: both or neither.

The database itself is made to refuse audit entries (a trigger, on SQLite and
on PostgreSQL); a use case that committed its change before (or apart from)
its audit entry would leave the change stored without the record of it.
"""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from survey.data.models import ApiKey
from survey.data.models import AuditEntry
from survey.data.models import DossierVolume
from survey.data.models import ReportSettings
from survey.data.models import Target
from survey.data.models import Unit
from survey.extensions import db
from survey.integrity.tokens import issue_api_key
from tests.conftest import csrf_of
from tests.conftest import sign_in

REFUSE_AUDIT = {
    "sqlite": [
        "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_entry "
        "BEGIN SELECT RAISE(ABORT, 'audit log refused'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'audit log refused'; END $$",
        "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_entry "
        "FOR EACH ROW EXECUTE FUNCTION refuse_audit()",
    ],
}


def refuse_audit(app) -> None:
    with app.app_context():
        for statement in REFUSE_AUDIT[db.engine.dialect.name]:
            db.session.execute(sa.text(statement))
        db.session.commit()


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def district_client(officers, client):
    officers.config["PROPAGATE_EXCEPTIONS"] = False  # the 500 a user would see
    sign_in(client, "camgiang")
    return client


def _post_volume_form(client):
    token = csrf_of(client, "/units/HD-CG/volumes?month=2025-03")
    return client.post(
        "/units/HD-CG/volumes?month=2025-03",
        data={"csrf_token": token, "month": "2025-03", "v_HD-CG-LC": "120"},
    )


def _import_volumes(client):
    token = csrf_of(client, "/units/HD-CG/volumes")
    data = b"unit_code,month,dossiers\nHD-CG-LC,2025-03,120\nHD-CG-CH,2025-03,90\n"
    return client.post(
        "/units/HD-CG/volumes/import",
        data={"csrf_token": token, "file": (io.BytesIO(data), "volumes.csv")},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize("send", [_post_volume_form, _import_volumes], ids=["form", "import"])
def test_volumes_are_saved_with_their_audit_entry(officers, district_client, send):
    assert send(district_client).status_code == 303
    assert count(officers, DossierVolume) >= 1
    with officers.app_context():
        actions = db.session.scalars(sa.select(AuditEntry.action)).all()
    assert "volumes" in actions


@pytest.mark.parametrize("send", [_post_volume_form, _import_volumes], ids=["form", "import"])
def test_volumes_without_their_audit_entry_are_not_saved(officers, district_client, send):
    refuse_audit(officers)
    assert send(district_client).status_code == 500
    assert count(officers, DossierVolume) == 0


def _api_key(app) -> str:
    with app.app_context():
        unit = db.session.scalar(sa.select(Unit).where(Unit.code == "HD-CG"))
        return issue_api_key(unit, "one-stop software")


def test_api_volumes_without_their_audit_entry_are_not_saved(officers):
    key = _api_key(officers)
    officers.config["PROPAGATE_EXCEPTIONS"] = False
    refuse_audit(officers)
    reply = officers.test_client().post(
        "/api/v1/volumes",
        json={"rows": [{"unit_code": "HD-CG-LC", "month": "2025-03", "dossiers": 420}]},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert reply.status_code == 500
    assert count(officers, DossierVolume) == 0


def test_api_volumes_are_saved_with_their_audit_entry(officers):
    key = _api_key(officers)
    before = count(officers, AuditEntry)
    reply = officers.test_client().post(
        "/api/v1/volumes",
        json={"rows": [{"unit_code": "HD-CG-LC", "month": "2025-03", "dossiers": 420}]},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert reply.status_code == 200
    assert count(officers, DossierVolume) == 1
    assert count(officers, AuditEntry) == before + 1


def test_cli_api_key_is_created_with_its_audit_entry(officers):
    runner = officers.test_cli_runner()
    result = runner.invoke(args=["survey", "create-api-key", "HD-CG", "--label", "một cửa"])
    assert result.exit_code == 0, result.output
    assert count(officers, ApiKey) == 1
    with officers.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "api_key"))
    assert entry is not None and "một cửa" in entry.detail


def test_cli_api_key_without_its_audit_entry_is_not_created(officers):
    refuse_audit(officers)
    result = officers.test_cli_runner().invoke(args=["survey", "create-api-key", "HD-CG"])
    assert result.exit_code != 0
    assert count(officers, ApiKey) == 0


def test_target_without_its_audit_entry_is_not_set(officers, district_client):
    refuse_audit(officers)
    token = csrf_of(district_client, "/units/HD-CG-LC/targets")
    reply = district_client.post(
        "/units/HD-CG-LC/targets",
        data={"csrf_token": token, "year": "2026", "procedure_field": "", "percent": "95"},
    )
    assert reply.status_code == 500
    assert count(officers, Target) == 0


def _post_report_settings(client):
    token = csrf_of(client, "/units/HD-CG/report-settings")
    return client.post(
        "/units/HD-CG/report-settings",
        data={
            "csrf_token": token,
            "issuing_body": "UBND huyện Cẩm Giàng",
            "number_symbol": "BC-UBND",
            "place": "Cẩm Giàng",
            "signer_title": "CHỦ TỊCH",
        },
    )


def test_report_settings_are_saved_with_their_audit_entry(officers, district_client):
    assert _post_report_settings(district_client).status_code == 303
    assert count(officers, ReportSettings) == 1
    with officers.app_context():
        actions = db.session.scalars(sa.select(AuditEntry.action)).all()
    assert actions.count("report_settings") == 1


def test_report_settings_without_their_audit_entry_are_not_saved(officers, district_client):
    refuse_audit(officers)
    assert _post_report_settings(district_client).status_code == 500
    assert count(officers, ReportSettings) == 0
