"""The rollup (survey/rollup.py) always equals a full recount, and reports read from it
give the figures a direct count of the stored answers gives."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
import sqlalchemy as sa

from survey.data import rollup
from survey.data.models import Answer
from survey.data.models import Desk
from survey.data.models import SurveyResponse
from survey.data.models import Tally
from survey.data.models import Unit
from survey.data.queries import current_questionnaire
from survey.district.summary import summarise_children
from survey.domain.channels import Channel
from survey.domain.periods import parse_period
from survey.extensions import db
from survey.reports.summary import channel_split
from survey.reports.summary import summarise
from tests.conftest import add_responses

SCALE = ("1", "2", "3", "4", "5", "na")
ELEMENTS = ("access", "procedure", "official", "result", "feedback", "overall")
FIELDS = ("ho_tich", "dat_dai", "chung_thuc", None)
STATUSES = ("new", "in_progress", "answered")
# Around month ends and the 15th, in UTC: local dates (UTC+7) straddle cut-offs.
START = datetime(2025, 1, 10, tzinfo=UTC)


def _random_response(
    rng: random.Random, desks: list[Desk], questionnaire_id: int
) -> SurveyResponse:
    desk = rng.choice(desks)
    at = START + timedelta(days=rng.randrange(0, 120), hours=rng.choice([0, 16, 17, 23]))
    field = rng.choice(FIELDS)
    answers = {q: rng.choice(SCALE) for q in ELEMENTS if rng.random() > 0.05}
    answers["wait"] = rng.choice(["lt15", "15_30", "gt60"])
    if field:
        answers["field"] = field
    if rng.random() < 0.3:
        answers["trouble"] = rng.choice(["yes", "no"])
    reason = rng.choice(["honeypot", "too_fast"]) if rng.random() < 0.15 else None
    return SurveyResponse(
        submission_id=str(uuid.uuid4()),
        unit_id=desk.unit_id,
        desk_id=desk.id,
        questionnaire_id=questionnaire_id,
        submitted_at=at,
        procedure_field=field,
        comment="Góp ý" if rng.random() < 0.25 else None,
        language="vi",
        flag_reason=reason,
        flagged=reason is not None,
        channel=rng.choice(list(Channel)).value,
        answers=[Answer(question_id=q, value=v) for q, v in answers.items()],
    )


def _direct_overall(unit: Unit, period, channel=None) -> tuple[int, int, int]:
    """(responses, satisfied, valid) of the overall question, counted from the answer table
    (only the responses of ``channel`` when given)."""
    start, end = period.utc_bounds()
    scope = (
        SurveyResponse.unit_id.in_(unit.subtree_ids()),
        SurveyResponse.submitted_at >= start,
        SurveyResponse.submitted_at < end,
        SurveyResponse.flagged.is_(False),
        SurveyResponse.channel == channel if channel else sa.true(),
    )
    values = dict(
        db.session.execute(
            sa.select(Answer.value, sa.func.count())
            .join(SurveyResponse, SurveyResponse.id == Answer.response_id)
            .where(*scope, Answer.question_id == "overall")
            .group_by(Answer.value)
        ).all()
    )
    responses = db.session.scalar(sa.select(sa.func.count(SurveyResponse.id)).where(*scope))
    satisfied = values.get("4", 0) + values.get("5", 0)
    return responses, satisfied, sum(n for v, n in values.items() if v != "na")


def _totals_of_split_rows(unit: Unit) -> dict:
    """{(month, question, value): n} summed over the unit's field-and-channel rows."""
    found: dict = {}
    for (month, question, field, _channel, value), n in rollup.stored(unit).items():
        if field != rollup.TOTAL:
            found[(month, question, value)] = found.get((month, question, value), 0) + n
    return found


def _total_rows(unit: Unit) -> dict:
    """{(month, question, value): n} of the unit's total rows (all channels, marked "*")."""
    totals = {key: n for key, n in rollup.stored(unit).items() if key[2] == rollup.TOTAL}
    assert all(channel == rollup.TOTAL for _m, _q, _f, channel, _v in totals), unit.code
    return {(month, question, value): n for (month, question, _f, _v, value), n in totals.items()}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rollup_equals_a_full_recount_after_random_changes(demo_units, seed):
    """Random inserts, flags, reinstatements, comment statuses, deletions, a cut-off
    change and a commune moving district, committed in random batches: after each batch
    every unit's rollup equals a recount, and the reports equal a direct count of the
    answers for the exact dates (the district has a commune with another cut-off day)."""
    app = demo_units
    rng = random.Random(seed)
    with app.app_context():
        questionnaire_id = current_questionnaire().id
        desks = list(db.session.scalars(sa.select(Desk)))
        province = db.session.scalar(sa.select(Unit).where(Unit.code == "HD"))
        other = Unit(code="HD-X", name="Huyện Khác", level="district", parent=province)
        other.report_cutoff_day = 20
        db.session.add(other)
        lai_cach = db.session.scalar(sa.select(Unit).where(Unit.code == "HD-CG-LC"))
        lai_cach.report_cutoff_day = 15
        db.session.commit()
        units = list(db.session.scalars(sa.select(Unit)))
        moving = db.session.scalar(sa.select(Unit).where(Unit.code == "HD-CG-LD"))
        for batch in range(8):
            for _ in range(rng.randrange(5, 40)):
                db.session.add(_random_response(rng, desks, questionnaire_id))
            db.session.flush()
            stored = list(db.session.scalars(sa.select(SurveyResponse)))
            for response in rng.sample(stored, min(len(stored), 12)):
                action = rng.choice(["flag", "reinstate", "status", "delete", "channel", "nothing"])
                if action == "flag":
                    response.flag_reason = response.flag_reason or "too_fast"
                    response.flagged = True
                elif action == "reinstate":
                    response.flagged = False
                elif action == "status" and response.comment is not None:
                    response.feedback_status = rng.choice(STATUSES)
                elif action == "delete":
                    db.session.delete(response)
                elif action == "channel":  # a paper ballot re-keyed as an interview
                    response.channel = rng.choice(list(Channel)).value
            if batch == 4:  # a unit changes its cut-off day mid-way
                lai_cach.report_cutoff_day = 1 if lai_cach.report_cutoff_day == 15 else 15
            if batch == 6:  # a commune moves to another district (a merger)
                moving.parent = other
            if rng.random() < 0.2:
                db.session.rollback()  # an abandoned transaction changes nothing
            else:
                db.session.commit()
            for unit in units:
                assert rollup.differences(unit) == {}, (batch, unit.code)
                assert _totals_of_split_rows(unit) == _total_rows(unit), (batch, unit.code)

        assert db.session.scalar(sa.select(sa.func.sum(Tally.count))) > 0
        for unit in units:
            for code in ("2025-01", "2025-02", "2025-Q1", "2025-04", "2025-H1"):
                period = parse_period(code, unit.report_cutoff_day)
                s = summarise(unit, period)
                assert (s.responses, s.overall.satisfied, s.overall.valid) == _direct_overall(
                    unit, period
                ), (unit.code, code)
                split = channel_split(unit, period)
                assert sum(f.responses for f in split.figures) == s.responses
                for figure in split.figures:  # each channel's figure, read alone
                    alone = summarise(
                        unit, period, trend=False, channels=frozenset({figure.channel})
                    )
                    direct = _direct_overall(unit, period, figure.channel)
                    assert (alone.responses, alone.overall.satisfied, alone.overall.valid) == direct
                    assert (figure.overall.satisfied, figure.overall.valid) == direct[1:]
                if unit.children:  # the comparison of its children, in its own dates
                    for row in summarise_children(unit, period).children:
                        responses, satisfied, valid = _direct_overall(row.unit, period)
                        assert (row.responses, row.rate.satisfied, row.rate.valid) == (
                            responses,
                            satisfied,
                            valid,
                        ), (unit.code, row.unit.code, code)


def test_new_responses_are_counted_in_the_same_transaction(demo_units):
    app = demo_units
    with app.app_context():
        questionnaire_id = current_questionnaire().id
        desks = list(db.session.scalars(sa.select(Desk).where(Desk.code == "LC-01")))
        rng = random.Random(7)
        response = _random_response(rng, desks, questionnaire_id)
        response.flagged, response.flag_reason = False, None
        db.session.add(response)
        db.session.flush()

        def per_unit(*, totals: bool):
            kind = Tally.procedure_field == rollup.TOTAL
            return (
                sa.select(Unit.code, sa.func.sum(Tally.count))
                .join(Unit, Unit.id == Tally.unit_id)
                .where(Tally.question_id == rollup.RESPONSES, kind if totals else ~kind)
                .group_by(Unit.code)
            )

        # Counted once at the commune, and once at each unit above it, in its split
        # row and in its total row.
        once = {"HD-CG-LC": 1, "HD-CG": 1, "HD": 1}
        assert dict(db.session.execute(per_unit(totals=False)).all()) == once
        assert dict(db.session.execute(per_unit(totals=True)).all()) == once
        db.session.rollback()
        assert dict(db.session.execute(per_unit(totals=False)).all()) == {}
        assert dict(db.session.execute(per_unit(totals=True)).all()) == {}


def test_cli_check_finds_a_drifted_count_and_rebuild_repairs_it(demo_units, runner):
    app = demo_units
    add_responses(app, "LC-01", datetime(2025, 3, 3, 3, tzinfo=UTC), {"5": 4, "2": 1})
    ok = runner.invoke(args=["survey", "rollup-check"])
    assert ok.exit_code == 0, ok.output
    assert "matches a full recount" in ok.output
    with app.app_context():
        lai_cach = db.session.scalar(sa.select(Unit.id).where(Unit.code == "HD-CG-LC"))
        db.session.execute(
            sa.update(Tally)
            .where(Tally.unit_id == lai_cach, Tally.question_id == "overall", Tally.value == "5")
            .values(count=Tally.count + 3)
        )
        db.session.commit()
    drifted = runner.invoke(args=["survey", "rollup-check"])
    assert drifted.exit_code == 1
    assert "HD-CG-LC 2025-03 overall='5'" in drifted.output
    assert "rollup 7, recount 4" in drifted.output
    assert "HD-CG 2025-03" not in drifted.output  # the district's own rows are intact
    rebuilt = runner.invoke(args=["survey", "rollup-rebuild", "--unit", "HD-CG"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert runner.invoke(args=["survey", "rollup-check"]).exit_code == 0
    unknown = runner.invoke(args=["survey", "rollup-rebuild", "--unit", "NOPE"])
    assert unknown.exit_code != 0 and "No unit with code 'NOPE'" in unknown.output


def test_upgrading_to_the_rollup_counts_the_responses_already_stored(demo_units):
    """Migration 0005 fills the table from existing responses (frozen copy of the rules)."""
    from flask_migrate import downgrade
    from flask_migrate import upgrade

    app = demo_units
    add_responses(app, "LC-01", datetime(2025, 3, 14, 18, tzinfo=UTC), {"5": 3, "1": 2})
    add_responses(app, "CGI-01", datetime(2025, 3, 31, 18, tzinfo=UTC), {"4": 2}, comment="Chậm")
    with app.app_context():
        lai_cach = db.session.scalar(sa.select(Unit).where(Unit.code == "HD-CG-LC"))
        lai_cach.report_cutoff_day = 15
        db.session.commit()
        flagged = db.session.scalars(sa.select(SurveyResponse).limit(1)).one()
        flagged.flagged, flagged.flag_reason = True, "honeypot"
        db.session.commit()
        before = {u.code: rollup.stored(u) for u in db.session.scalars(sa.select(Unit))}
        assert any(before.values())
        db.session.remove()  # no open transaction may hold locks the migration needs
        downgrade(revision="0004")
        db.session.remove()
        upgrade()
        for unit in db.session.scalars(sa.select(Unit)):
            assert rollup.stored(unit) == before[unit.code], unit.code
            assert rollup.differences(unit) == {}


def test_the_key_ordered_rollup_table_keeps_every_count_both_ways(demo_units):
    """Migration 0006 rebuilds the table WITHOUT ROWID on SQLite (rows in key order)
    and back on downgrade; no count is lost either way, on either database."""
    from flask_migrate import downgrade
    from flask_migrate import upgrade

    app = demo_units
    add_responses(
        app, "LC-01", datetime(2025, 3, 5, 3, tzinfo=UTC), {"5": 3, "2": 1}, comment="Tốt"
    )
    add_responses(app, "CH-01", datetime(2025, 4, 5, 3, tzinfo=UTC), {"4": 2}, field="dat_dai")

    def layout() -> str | None:
        if db.engine.dialect.name != "sqlite":
            return None
        sql = db.session.scalar(sa.text("SELECT sql FROM sqlite_master WHERE name = 'tally'"))
        return "key order" if "WITHOUT ROWID" in sql else "rowid"

    with app.app_context():
        before = {u.code: rollup.stored(u) for u in db.session.scalars(sa.select(Unit))}
        assert sum(sum(c.values()) for c in before.values()) > 0
        assert layout() in ("key order", None)
        db.session.remove()
        downgrade(revision="0005")  # through 0007, which takes the total rows away
        assert layout() in ("rowid", None)
        assert _stored_any_schema() == {
            code: _split_only(counts) for code, counts in before.items() if counts
        }
        db.session.remove()
        upgrade()
        assert layout() in ("key order", None)
        for unit in db.session.scalars(sa.select(Unit)):
            assert rollup.stored(unit) == before[unit.code], unit.code
        # Still written to after the rebuild.
        db.session.remove()
    add_responses(app, "LC-01", datetime(2025, 3, 6, 3, tzinfo=UTC), {"1": 1})
    with app.app_context():
        for unit in db.session.scalars(sa.select(Unit)):
            assert rollup.differences(unit) == {}, unit.code


def test_the_channel_migration_carries_the_counts_over_exactly(demo_units):
    """Migration 0012: a response with a receipt token came by the receipt link, any
    other by the QR code; the rollup's verified rows become receipt rows and the open
    ones QR rows, so the migrated table equals a recount. Going back folds the newer
    channels into the open rows, and no answer is lost either way."""
    from flask_migrate import downgrade
    from flask_migrate import upgrade

    app = demo_units
    add_responses(app, "LC-01", datetime(2025, 3, 5, 3, tzinfo=UTC), {"5": 3, "2": 1})
    add_responses(app, "LC-01", datetime(2025, 3, 6, 3, tzinfo=UTC), {"4": 2}, channel="kiosk")
    add_responses(app, "CH-01", datetime(2025, 4, 5, 3, tzinfo=UTC), {"1": 2}, channel="receipt")
    with app.app_context():
        desk = db.session.scalar(sa.select(Desk).where(Desk.code == "CH-01"))
        for n, response in enumerate(
            db.session.scalars(sa.select(SurveyResponse).where(SurveyResponse.channel == "receipt"))
        ):
            response.receipt_token_id = _token(desk, n).id
        db.session.commit()
        answers = db.session.scalar(sa.select(sa.func.count(Answer.id)))
        receipt_ids = set(
            db.session.scalars(
                sa.select(SurveyResponse.id).where(SurveyResponse.channel == "receipt")
            )
        )
        before = _stored_any_schema()
        db.session.remove()
        downgrade(revision="0011")
        folded = _stored_any_schema()
        # The kiosk's rows are now open (QR) rows; the receipt rows stay verified.
        lai_cach, chi_lang = folded["HD-CG-LC"], folded["HD-CG-CH"]
        assert lai_cach[("2025-03", "overall", "ho_tich", "qr", "4")] == 2
        assert chi_lang[("2025-04", "overall", "ho_tich", "receipt", "1")] == 2
        assert sum(folded["HD"].values()) == sum(before["HD"].values())
        assert db.session.scalar(sa.text("SELECT COUNT(*) FROM answer")) == answers
        db.session.remove()
        upgrade()
        assert db.session.scalar(sa.select(sa.func.count(Answer.id))) == answers
        channels = dict(
            db.session.execute(sa.select(SurveyResponse.id, SurveyResponse.channel)).all()
        )
        assert {i for i, c in channels.items() if c == "receipt"} == receipt_ids
        assert set(channels.values()) == {"qr", "receipt"}
        for unit in db.session.scalars(sa.select(Unit)):
            assert rollup.differences(unit) == {}, unit.code


def _token(desk, n):
    from survey.data.models import ReceiptToken

    token = ReceiptToken(
        code=f"T{n:07d}",
        unit_id=desk.unit_id,
        desk_id=desk.id,
        dossier_hash=f"{n:064d}",
        expires_at=datetime(2030, 1, 1, tzinfo=UTC),
        used_at=datetime(2025, 4, 5, tzinfo=UTC),
    )
    db.session.add(token)
    db.session.flush()
    return token


def _stored_any_schema() -> dict:
    """{unit code: Counter of keys} read with plain SQL, whatever the rollup's schema:
    before migration 0012 the source was a verified flag, read here as the channel it
    became (verified → "receipt", open → "qr", total rows → "*")."""
    columns = {c["name"] for c in sa.inspect(db.engine).get_columns("tally")}
    source = "channel" if "channel" in columns else "verified"
    found: dict = {}
    for code, month, question, field, src, value, n in db.session.execute(
        sa.text(
            f"SELECT unit.code, month, question_id, procedure_field, {source}, value, count "
            "FROM tally JOIN unit ON unit.id = tally.unit_id WHERE count != 0"
        )
    ):
        if source == "verified":
            src = rollup.TOTAL if field == rollup.TOTAL else ("receipt" if src else "qr")
        found.setdefault(code, Counter())[(month, question, field, src, value)] = n
    return found


def _split_only(counts):
    return type(counts)({key: n for key, n in counts.items() if key[2] != rollup.TOTAL})


def test_upgrading_adds_total_rows_equal_to_the_split_rows(demo_units):
    """Migration 0007 adds each count's total row (all fields, both sources) from the
    split rows already stored, and downgrading takes exactly those away."""
    from flask_migrate import downgrade
    from flask_migrate import upgrade

    app = demo_units
    add_responses(app, "LC-01", datetime(2025, 3, 5, 3, tzinfo=UTC), {"5": 3, "2": 1}, comment="Ý")
    add_responses(app, "LC-01", datetime(2025, 3, 6, 3, tzinfo=UTC), {"4": 2}, field="dat_dai")
    add_responses(app, "CH-01", datetime(2025, 4, 5, 3, tzinfo=UTC), {"1": 2}, field="ho_tich")
    with app.app_context():
        before = {u.code: rollup.stored(u) for u in db.session.scalars(sa.select(Unit))}
        lai_cach = before["HD-CG-LC"]
        # Two fields in March at Lai Cách: one total row per answer value.
        assert lai_cach[("2025-03", "overall", rollup.TOTAL, rollup.TOTAL, "5")] == 3
        assert lai_cach[("2025-03", "overall", rollup.TOTAL, rollup.TOTAL, "4")] == 2
        assert lai_cach[("2025-03", rollup.RESPONSES, rollup.TOTAL, rollup.TOTAL, "")] == 6
        db.session.remove()
        downgrade(revision="0006")
        after_downgrade = _stored_any_schema()
        assert after_downgrade == {code: _split_only(c) for code, c in before.items() if c}
        db.session.remove()
        upgrade()
        assert {u.code: rollup.stored(u) for u in db.session.scalars(sa.select(Unit))} == before
        for unit in db.session.scalars(sa.select(Unit)):
            assert rollup.differences(unit) == {}, unit.code


def test_form_posts_count_under_the_tree_as_it_is_when_they_are_counted(
    demo_units, client, form_post
):
    """A form post's response waits for the counting job. If the commune moves to
    another district, or changes its cut-off day, before the job runs, reads show
    it where the commune now is, and the job counts it there."""
    from survey.extensions import db as database

    app = demo_units

    def post_one() -> None:
        assert client.post("/s/LC-01", data=form_post()).status_code == 303

    def all_units_match() -> None:
        with app.app_context():
            for unit in database.session.scalars(sa.select(Unit)):
                assert rollup.differences(unit) == {}, unit.code

    def count_waiting() -> int:
        with app.app_context():
            return rollup.count_waiting()

    post_one()
    assert count_waiting() == 1
    post_one()  # waiting while the commune moves
    with app.app_context():
        province = database.session.scalar(sa.select(Unit).where(Unit.code == "HD"))
        other = Unit(code="HD-XX", name="Huyện Khác", level="district", parent=province)
        database.session.add(other)
        commune = database.session.scalar(sa.select(Unit).where(Unit.code == "HD-CG-LC"))
        commune.parent = other
        database.session.commit()
    all_units_match()
    assert count_waiting() == 1
    all_units_match()
    with app.app_context():
        counts = dict(
            database.session.execute(
                sa.select(Unit.code, sa.func.sum(Tally.count))
                .join(Unit, Unit.id == Tally.unit_id)
                .where(
                    # Counted, or held out as too fast (posted at once): either way, once.
                    Tally.question_id.in_([rollup.RESPONSES, rollup.FLAGGED]),
                    Tally.procedure_field == rollup.TOTAL,
                )
                .group_by(Unit.code)
            ).all()
        )
    # Both posts now count under the new district (the move recounted the first).
    assert counts["HD-XX"] == 2 and counts.get("HD-CG", 0) == 0, counts

    post_one()
    with app.app_context():
        commune = database.session.scalar(sa.select(Unit).where(Unit.code == "HD-CG-LC"))
        commune.report_cutoff_day = 15 if commune.report_cutoff_day != 15 else 20
        database.session.commit()
    all_units_match()
    assert count_waiting() == 1
    post_one()
    all_units_match()
