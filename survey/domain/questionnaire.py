"""The questionnaire as data: loading, reading and checking answers.

A questionnaire is a JSON document (``survey/questionnaires/v<N>.json``) copied
into the database when first used. Responses point at the stored version, so
changing the questions later never changes how an old response is read.

This module is pure Python: no Flask, no database.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from dataclasses import field
from importlib import resources
from typing import Any

LANGUAGES = ("vi", "en")
QUESTION_TYPES = ("scale", "choice", "text")
# Question ids and answer values are stored as they are (answer and rollup columns of
# 40 and 20 characters), and the rollup reserves ids starting with "~" and the
# field value "*" for its own rows (survey/rollup.py): lower-case words cannot clash.
QUESTION_ID = re.compile(r"[a-z][a-z0-9_]{0,39}")
ANSWER_VALUE = re.compile(r"[a-z0-9_]{1,20}")


class QuestionnaireError(ValueError):
    """A questionnaire definition is malformed."""


@dataclass(frozen=True)
class Option:
    value: str
    label: dict[str, str]


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    text: dict[str, str]
    required: bool
    options: tuple[Option, ...] = ()
    no_opinion: Option | None = None
    element: str | None = None
    role: str | None = None
    max_length: int | None = None
    prompt: dict[str, str] | None = None

    def values(self) -> tuple[str, ...]:
        """Every value a valid answer may take, the no-opinion value included."""
        extra = (self.no_opinion.value,) if self.no_opinion else ()
        return tuple(o.value for o in self.options) + extra


@dataclass(frozen=True)
class Questionnaire:
    version: int
    title: dict[str, str]
    intro: dict[str, str]
    questions: tuple[Question, ...]
    elements: dict[str, dict[str, str]]
    satisfied_values: frozenset[str] = field(default_factory=frozenset)
    definition: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def question(self, question_id: str) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(question_id)

    def by_role(self, role: str) -> Question | None:
        return next((q for q in self.questions if q.role == role), None)

    @property
    def answer_questions(self) -> tuple[Question, ...]:
        """Questions whose answers are stored as coded values (not free text)."""
        return tuple(q for q in self.questions if q.type != "text")

    @property
    def comment_question(self) -> Question | None:
        return next((q for q in self.questions if q.type == "text"), None)

    @property
    def scale_questions(self) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if q.type == "scale")


def _option(raw: dict, where: str) -> Option:
    try:
        value = str(raw["value"])
        label = {lang: raw[lang] for lang in LANGUAGES}
    except KeyError as exc:
        raise QuestionnaireError(f"{where}: option {raw!r} lacks {exc.args[0]!r}") from None
    if not ANSWER_VALUE.fullmatch(value):
        raise QuestionnaireError(
            f"{where}: option value ({value!r}) must be 1 to 20 of a-z, 0-9 and _"
        )
    return Option(value=value, label=label)


def parse(definition: dict[str, Any]) -> Questionnaire:
    """Check a questionnaire definition and return it as a :class:`Questionnaire`.

    :raise QuestionnaireError: naming the first problem found.
    """
    version = definition.get("version")
    if not isinstance(version, int) or version < 1:
        raise QuestionnaireError(f"version ({version!r}) must be a positive integer")
    scales = definition.get("scales", {})
    elements = definition.get("elements", {})
    satisfied: set[str] = set()
    questions = []
    seen = set()
    for raw in definition.get("questions", []):
        qid = raw.get("id")
        if not qid or qid in seen:
            raise QuestionnaireError(f"question id ({qid!r}) is missing or repeated")
        if not isinstance(qid, str) or not QUESTION_ID.fullmatch(qid):
            raise QuestionnaireError(
                f"question id ({qid!r}) must start with a-z and have at most 40 of a-z, 0-9, _"
            )
        seen.add(qid)
        qtype = raw.get("type")
        if qtype not in QUESTION_TYPES:
            raise QuestionnaireError(
                f"question {qid!r}: type ({qtype!r}) must be one of {QUESTION_TYPES}"
            )
        text = raw.get("text", {})
        if set(LANGUAGES) - set(text):
            raise QuestionnaireError(f"question {qid!r}: text needs {LANGUAGES}")
        options: tuple[Option, ...] = ()
        no_opinion = None
        prompt = None
        if qtype == "scale":
            scale = scales.get(raw.get("scale"))
            if scale is None:
                raise QuestionnaireError(f"question {qid!r}: unknown scale {raw.get('scale')!r}")
            options = tuple(_option(o, qid) for o in scale["options"])
            if scale.get("no_opinion"):
                no_opinion = _option(scale["no_opinion"], qid)
            satisfied.update(str(v) for v in scale.get("satisfied", ()))
            prompt = scale.get("prompt")
        elif qtype == "choice":
            options = tuple(_option(o, qid) for o in raw.get("options", ()))
            if not options:
                raise QuestionnaireError(f"question {qid!r}: a choice needs options")
        element = raw.get("element")
        if element is not None and element not in elements:
            raise QuestionnaireError(f"question {qid!r}: unknown element {element!r}")
        questions.append(
            Question(
                id=qid,
                type=qtype,
                text=dict(text),
                required=bool(raw.get("required", False)),
                options=options,
                no_opinion=no_opinion,
                element=element,
                role=raw.get("role"),
                max_length=raw.get("max_length"),
                prompt=prompt,
            )
        )
    if not questions:
        raise QuestionnaireError("a questionnaire needs at least one question")
    return Questionnaire(
        version=version,
        title=dict(definition.get("title", {})),
        intro=dict(definition.get("intro", {})),
        questions=tuple(questions),
        elements={k: dict(v) for k, v in elements.items()},
        satisfied_values=frozenset(satisfied),
        definition=definition,
    )


@functools.cache
def bundled_definitions() -> dict[int, dict[str, Any]]:
    """The questionnaire definitions shipped with the package, by version.

    Read once per process (the files ship with the code); do not modify the result.
    """
    found = {}
    folder = resources.files("survey") / "questionnaires"
    for entry in folder.iterdir():
        if entry.name.startswith("v") and entry.name.endswith(".json"):
            definition = json.loads(entry.read_text(encoding="utf-8"))
            found[int(definition["version"])] = definition
    return found


def latest_bundled() -> dict[str, Any]:
    """The newest shipped questionnaire definition: the one new forms use."""
    definitions = bundled_definitions()
    return definitions[max(definitions)]
