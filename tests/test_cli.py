"""The ``flask survey`` commands."""

from __future__ import annotations

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
