"""The questionnaire is data, and versions never change how old responses read."""

from __future__ import annotations

import copy

import pytest
import sqlalchemy as sa

from survey.data.models import SurveyResponse
from survey.domain import questionnaire as qn
from survey.extensions import db
from tests.conftest import REQUIRED_FIELDS_VI


def test_bundled_questionnaire_has_the_sipas_shape():
    definition = qn.parse(qn.latest_bundled())
    elements = [q.element for q in definition.scale_questions if q.element]
    assert elements == ["access", "procedure", "official", "result", "feedback"]
    assert definition.by_role("overall").type == "scale"
    field = definition.by_role("procedure_field")
    assert {o.label["vi"] for o in field.options} >= set(REQUIRED_FIELDS_VI)
    scale = definition.question("overall")
    assert [o.label["vi"] for o in scale.options] == [
        "Rất không hài lòng",
        "Không hài lòng",
        "Bình thường",
        "Hài lòng",
        "Rất hài lòng",
    ]
    assert definition.satisfied_values == {"4", "5"}
    assert scale.no_opinion.value == "na"
    assert {"wait", "visits", "trouble", "comment"} <= {q.id for q in definition.questions}


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.update(version=0), "version \\(0\\)"),
        (lambda d: d["questions"].append(dict(d["questions"][1])), "missing or repeated"),
        (lambda d: d["questions"][1].update(type="slider"), "type \\('slider'\\)"),
        (lambda d: d["questions"][1].update(scale="nope"), "unknown scale 'nope'"),
        (lambda d: d["questions"][1].update(element="nope"), "unknown element 'nope'"),
        (lambda d: d["questions"][0].update(options=[]), "a choice needs options"),
        # The rollup's own rows: "~responses" and the all-fields value "*".
        (lambda d: d["questions"][1].update(id="~responses"), "question id \\('~responses'\\)"),
        (lambda d: d["questions"][1].update(id="Access"), "question id \\('Access'\\)"),
        (lambda d: d["questions"][1].update(id="a" * 41), "at most 40"),
        (
            lambda d: d["questions"][0]["options"].append({"value": "*", "vi": "*", "en": "*"}),
            "option value \\('\\*'\\)",
        ),
        (
            lambda d: d["questions"][0]["options"][0].update(value="x" * 21),
            "must be 1 to 20",
        ),
    ],
)
def test_malformed_definitions_are_refused(change, message):
    definition = copy.deepcopy(qn.latest_bundled())
    change(definition)
    with pytest.raises(qn.QuestionnaireError, match=message):
        qn.parse(definition)


def test_new_version_leaves_old_responses_readable(app, client, form_post, monkeypatch):
    old = client.post("/s/LC-01", data=form_post())
    assert old.status_code == 303

    v2 = copy.deepcopy(qn.latest_bundled())
    v2["version"] = 2
    v2["questions"] = [q for q in v2["questions"] if q["id"] != "wait"]
    v2["questions"][1]["text"]["vi"] = "Câu hỏi mới về tiếp cận dịch vụ"
    monkeypatch.setattr("survey.data.queries.latest_bundled", lambda: v2)

    # A form opened before the change is re-shown on the new version (409), answers kept.
    stale = form_post()
    stale["questionnaire_version"] = "1"
    reply = client.post("/s/LC-01", data=stale)
    assert reply.status_code == 409
    html = reply.get_data(as_text=True)
    assert "Phiếu khảo sát vừa được cập nhật" in html
    assert "Câu hỏi mới về tiếp cận dịch vụ" in html
    assert 'name="q_access" value="4" checked' in html

    assert client.post("/s/LC-01", data=form_post()).status_code == 303
    with app.app_context():
        responses = db.session.scalars(sa.select(SurveyResponse).order_by(SurveyResponse.id)).all()
        assert [r.questionnaire.version for r in responses] == [1, 2]
        first, second = responses
        assert "wait" in first.answer_map() and "wait" not in second.answer_map()
        text = first.questionnaire.parsed().question("access").text["vi"]
        assert text == "Nơi tiếp đón, ghế ngồi chờ, chỉ dẫn tại Bộ phận Một cửa"
