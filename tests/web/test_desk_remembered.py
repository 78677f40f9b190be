"""A form post takes its desk from the worker's memory, and its write checks the
desk is still active in its unit: a desk retired, switched off or moved since is
looked up again, and nothing is stored against what it no longer is."""

from __future__ import annotations

import sqlalchemy as sa

from survey.data.models import Desk
from survey.data.models import SurveyResponse
from survey.data.models import Unit
from survey.extensions import db
from tests.conftest import statements_during


def _responses_at(app, desk_code: str) -> list[tuple[int, int]]:
    """(unit id, desk id) of each response stored for the desk."""
    with app.app_context():
        return db.session.execute(
            sa.select(SurveyResponse.unit_id, SurveyResponse.desk_id)
            .join(Desk, Desk.id == SurveyResponse.desk_id)
            .where(Desk.code == desk_code)
        ).all()


def _desk_queries(app, send) -> list[str]:
    """The statements reading the desk table while ``send()`` runs."""
    return [s for s in statements_during(app, send) if "FROM desk" in s]


def test_a_remembered_desk_costs_no_query_and_its_post_is_stored(app, client, form_post):
    assert client.post("/s/LC-01", data=form_post()).status_code == 303
    data = form_post()
    statuses = []
    lookups = _desk_queries(app, lambda: statuses.append(client.post("/s/LC-01", data=data)))
    assert statuses[0].status_code == 303
    # Only the insert's own check reads the desk: no lookup before it (on PostgreSQL
    # the insert is a WITH that stores the answers too).
    assert [s for s in lookups if "INSERT INTO response" not in s] == []
    assert len(_responses_at(app, "LC-01")) == 2


def test_a_desk_retired_after_it_was_remembered_forwards_the_post(app, client, runner, form_post):
    assert client.post("/s/LC-02", data=form_post("LC-02")).status_code == 303
    add = runner.invoke(args=["survey", "add-desk", "LC-03", "Bàn 3", "--unit", "HD-CG-LC"])
    assert add.exit_code == 0, add.output
    data = form_post("LC-02")  # a form opened before the desk was retired
    retire = runner.invoke(args=["survey", "retire-desk", "LC-02", "--replaced-by", "LC-03"])
    assert retire.exit_code == 0, retire.output

    post = client.post("/s/LC-02", data=data)
    assert post.status_code == 307 and post.headers["Location"] == "/s/LC-03"
    assert len(_responses_at(app, "LC-02")) == 1  # only the post before the change
    # The phone follows the forward: stored once, at the replacement.
    assert client.post("/s/LC-03", data=data).status_code == 303
    assert len(_responses_at(app, "LC-03")) == 1


def test_a_desk_switched_off_after_it_was_remembered_stores_nothing(app, client, form_post):
    assert client.post("/s/TT-02", data=form_post("TT-02")).status_code == 303
    data = form_post("TT-02")
    with app.app_context():
        db.session.scalar(sa.select(Desk).where(Desk.code == "TT-02")).active = False
        db.session.commit()
    reply = client.post("/s/TT-02", data=data)
    assert reply.status_code == 410
    assert "Mã này không còn được sử dụng" in reply.get_data(as_text=True)
    assert len(_responses_at(app, "TT-02")) == 1


def test_a_desk_moved_after_it_was_remembered_counts_for_its_new_unit(app, client, form_post):
    assert client.post("/s/TT-01", data=form_post("TT-01")).status_code == 303
    data = form_post("TT-01")
    with app.app_context():
        lai_cach = db.session.scalar(sa.select(Unit.id).where(Unit.code == "HD-CG-LC"))
        desk = db.session.scalar(sa.select(Desk).where(Desk.code == "TT-01"))
        old_unit = desk.unit_id
        desk.unit_id = lai_cach
        db.session.commit()
    assert client.post("/s/TT-01", data=data).status_code == 303
    assert sorted(unit for unit, _ in _responses_at(app, "TT-01")) == sorted([old_unit, lai_cach])


def test_a_refused_post_to_a_remembered_desk_shows_its_commune(app, client, runner, form_post):
    """The remembered desk is shared by the worker's requests and kept out of their
    sessions: a page shown for a post still names the desk's commune, and no post
    leaves the shared desk attached to a session (where another request's session
    could not take it)."""
    from survey.data.queries import find_desk_remembered
    from tests.web.test_tokens import mint

    result = runner.invoke(args=["survey", "create-api-key", "HD-CG-LC", "--label", "Một cửa"])
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    foreign = mint(client, key, dossier_number="F-1").get_json()["token"]
    assert client.post("/s/CA-01", data=form_post("CA-01")).status_code == 303

    missing = client.post("/s/CA-01", data=form_post("CA-01", q_access=None))
    assert missing.status_code == 422
    assert "Xã Cao An" in missing.get_data(as_text=True)
    other_office = client.post("/s/CA-01", data=form_post("CA-01", receipt=foreign))
    assert other_office.status_code == 409
    assert "do cơ quan khác cấp, không phải Xã Cao An" in other_office.get_data(as_text=True)
    assert client.post("/s/CA-01", data=form_post("CA-01")).status_code == 303

    with app.test_request_context():
        kept = find_desk_remembered("CA-01")
        assert sa.inspect(kept).detached and kept.code == "CA-01"
    assert len(_responses_at(app, "CA-01")) == 2
