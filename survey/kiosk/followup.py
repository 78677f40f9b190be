"""The one more question a kiosk asks after a low overall rating.

Read from the questionnaire's ``low_rating_follow_up`` entry (choices with their
Vietnamese and English labels, and a short free text). A version stored before
the entry was shipped takes it from the bundled file of the same version.
"""

from __future__ import annotations

from dataclasses import dataclass

from survey.domain.questionnaire import ANSWER_VALUE
from survey.domain.questionnaire import QUESTION_ID
from survey.domain.questionnaire import Option
from survey.domain.questionnaire import Questionnaire
from survey.domain.questionnaire import bundled_definitions


@dataclass(frozen=True)
class FollowUp:
    id: str
    after: str  # the question whose answer asks it (the overall question)
    values: frozenset[str]  # the answers of ``after`` that ask it (the poor ones)
    text: dict[str, str]
    options: tuple[Option, ...]
    free_text: dict[str, str]
    max_length: int

    def asks_after(self, answers: dict[str, str]) -> bool:
        return answers.get(self.after) in self.values

    def option_values(self) -> frozenset[str]:
        return frozenset(o.value for o in self.options)


def follow_up_of(definition: Questionnaire) -> FollowUp | None:
    """The follow-up question of a questionnaire version, or None if it has none."""
    raw = definition.definition.get("low_rating_follow_up")
    if raw is None:
        raw = bundled_definitions().get(definition.version, {}).get("low_rating_follow_up")
    if raw is None:
        return None
    return parse_follow_up(raw, definition)


def parse_follow_up(raw: dict, definition: Questionnaire) -> FollowUp:
    """Check the entry against the questionnaire it belongs to.

    :raise ValueError: naming the problem (a malformed entry would otherwise
        store answers no report can read).
    """
    qid = raw.get("id", "")
    if not QUESTION_ID.fullmatch(qid) or any(q.id == qid for q in definition.questions):
        raise ValueError(f"follow-up id {qid!r} is not a free question id")
    after = definition.question(raw["after"])
    values = frozenset(str(v) for v in raw["values"])
    if not values <= set(after.values()):
        raise ValueError(f"follow-up values {sorted(values)} are not answers of {after.id!r}")
    options = []
    for option in raw["options"]:
        if not ANSWER_VALUE.fullmatch(str(option["value"])):
            raise ValueError(f"follow-up option {option['value']!r} is not a valid value")
        options.append(Option(str(option["value"]), {"vi": option["vi"], "en": option["en"]}))
    return FollowUp(
        id=qid,
        after=after.id,
        values=values,
        text=dict(raw["text"]),
        options=tuple(options),
        free_text=dict(raw["free_text"]),
        max_length=int(raw.get("max_length", 500)),
    )
