"""The ``flask survey`` commands."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

import sqlalchemy as sa

from survey.data.models import Desk
from survey.data.models import SurveyResponse
from survey.data.models import Unit
from survey.extensions import db


def counts(app) -> tuple[int, int, int]:
    with app.app_context():
        return tuple(
            db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Unit, Desk, SurveyResponse)
        )


def test_demo_data_is_idempotent(app, runner):
    first = runner.invoke(args=["survey", "demo-data"])
    assert first.exit_code == 0, first.output
    assert "Synthetic responses added" in first.output
    after_first = counts(app)
    second = runner.invoke(args=["survey", "demo-data"])
    assert second.exit_code == 0, second.output
    assert "none added" in second.output
    assert counts(app) == after_first
    units, desks, responses = after_first
    assert units >= 8 and desks >= 7 and responses > 1000
    with app.app_context():
        lai_cach = db.session.scalar(sa.select(Desk).where(Desk.code == "LC-01")).unit
        assert lai_cach.name == "Thị trấn Lai Cách"
        assert lai_cach.parent.name == "Huyện Cẩm Giàng"
        assert lai_cach.parent.parent.name == "Tỉnh Hải Dương"
        # Realistic rates: between 80% and 99% satisfied overall.
        from survey.data.models import Answer

        overall = db.session.execute(
            sa.select(Answer.value, sa.func.count())
            .where(Answer.question_id == "overall")
            .group_by(Answer.value)
        ).all()
        tally = dict(overall)
        valid = sum(n for v, n in tally.items() if v != "na")
        rate = (tally.get("4", 0) + tally.get("5", 0)) / valid
        assert 0.8 < rate < 0.99


def test_demo_data_is_refused_outside_demo_mode(app, runner):
    app.config["SURVEY_DEMO"] = False
    result = runner.invoke(args=["survey", "demo-data"])
    assert result.exit_code != 0
    assert "refused outside demo mode" in result.output
    assert counts(app) == (0, 0, 0)


def test_add_units_and_desks_in_a_two_tier_tree(app, runner):
    steps = [
        ["add-unit", "BN", "Tỉnh Bắc Ninh", "--level", "province"],
        # Since 1/7/2025 a commune may hang directly under its province.
        ["add-unit", "BN-DT", "Xã Đông Tiến", "--level", "commune", "--parent", "BN"],
        ["add-desk", "dt-01", "Trung tâm Phục vụ hành chính công", "--unit", "BN-DT"],
    ]
    for step in steps:
        result = runner.invoke(args=["survey", *step])
        assert result.exit_code == 0, result.output
    assert "https://khaosat.example.vn/s/DT-01" in result.output
    with app.app_context():
        desk = db.session.scalar(sa.select(Desk).where(Desk.code == "DT-01"))
        assert desk.unit.parent.code == "BN"


def test_cli_errors_are_clear(app, runner):
    cases = [
        (["add-unit", "X", "Xã X", "--level", "commune"], "needs --parent"),
        (["add-unit", "X", "Xã X", "--level", "commune", "--parent", "ZZ"], "No parent unit"),
        (["add-desk", "A B", "Bàn", "--unit", "HD"], "letters, digits and dashes"),
        (["add-desk", "A-1", "Bàn", "--unit", "ZZ"], "No unit with code ZZ"),
    ]
    for args, message in cases:
        result = runner.invoke(args=["survey", *args])
        assert result.exit_code != 0
        assert message in result.output
    assert counts(app) == (0, 0, 0)
    runner.invoke(args=["survey", "add-unit", "HD", "Tỉnh Hải Dương", "--level", "province"])
    again = runner.invoke(
        args=["survey", "add-unit", "hd", "Tỉnh Hải Dương", "--level", "province"]
    )
    assert "exists already" in again.output
    assert counts(app) == (1, 0, 0)


def test_list_desks_prints_form_and_qr_urls(runner, demo_units):
    result = runner.invoke(args=["survey", "list-desks"])
    assert "LC-01\tThị trấn Lai Cách\thttps://khaosat.example.vn/s/LC-01\t" in result.output


def test_the_calendar_is_set_on_a_district_and_followed_below_it(app, runner, officers):
    """One calendar per district: a commune cannot set its own; a district's change
    reaches every commune, is audited, refuses to move reported periods unless asked,
    and the rollup follows it exactly."""
    from survey.data.models import AuditEntry
    from survey.data.models import Unit
    from tests.conftest import add_responses

    commune = runner.invoke(args=["survey", "set-calendar", "HD-CG-LC", "1"])
    assert commune.exit_code != 0 and "Huyện Cẩm Giàng" in commune.output
    assert runner.invoke(args=["survey", "set-calendar", "HD-CG", "29"]).exit_code != 0

    add_responses(officers, "LC-01", datetime(2025, 3, 20, 3, tzinfo=UTC), {"5": 3})
    refused = runner.invoke(args=["survey", "set-calendar", "HD-CG", "1"])
    assert refused.exit_code != 0 and "--recount" in refused.output
    with app.app_context():
        cg = db.session.scalars(sa.select(Unit).where(Unit.code.startswith("HD-CG")))
        assert {u.report_cutoff_day for u in cg} == {15}

    done = runner.invoke(args=["survey", "set-calendar", "HD-CG", "1", "--recount"])
    assert done.exit_code == 0, done.output
    with app.app_context():
        below = db.session.scalars(sa.select(Unit).where(Unit.code.startswith("HD-CG"))).all()
        assert {u.report_cutoff_day for u in below} == {1}
        assert (
            db.session.scalar(
                sa.select(sa.func.count(AuditEntry.id)).where(AuditEntry.action == "calendar")
            )
            == 1
        )
    assert runner.invoke(args=["survey", "rollup-check"]).exit_code == 0
    # 20/03 is in March of the calendar month, in April of the 15th-to-14th one.
    with app.app_context():
        client = app.test_client()
    from tests.conftest import sign_in

    sign_in(client, "camgiang")
    for code in ("HD-CG", "HD-CG-LC"):
        data = client.get(f"/api/v1/units/{code}/summary?period=2025-03").get_json()
        assert data["period"]["start"] == "2025-03-01" and data["responses"] == 3

    added = runner.invoke(
        args=[
            "survey",
            "add-unit",
            "HD-CG-NEW",
            "Xã Mới",
            "--level",
            "commune",
            "--parent",
            "HD-CG",
        ]
    )
    assert added.exit_code == 0, added.output
    with app.app_context():
        new = db.session.scalar(sa.select(Unit).where(Unit.code == "HD-CG-NEW"))
        assert new.report_cutoff_day == 1
