"""The citizen's response form, built from a questionnaire definition."""

from __future__ import annotations

import re
import unicodedata

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import HiddenField
from wtforms import RadioField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import Optional
from wtforms.validators import Regexp
from wtforms.validators import ValidationError

from survey.domain.questionnaire import Question
from survey.domain.questionnaire import Questionnaire
from survey.domain.text import strip_invisible
from survey.web.i18n import pick

FIELD_PREFIX = "q_"
UUID_RE = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z"
# Control characters other than newline and tab: PostgreSQL refuses NUL, and
# none of them belongs in a comment shown to officers or exported to Excel.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: str | None) -> str | None:
    """Normalise free text: NFC, control, direction and zero-width characters dropped,
    trimmed; empty → None."""
    if value is None:
        return None
    value = strip_invisible(_CONTROL.sub("", unicodedata.normalize("NFC", value))).strip()
    return value or None


class ResponseFormBase(FlaskForm):
    """Fields every questionnaire version has; the questions are added per version.

    The hidden fields have an empty label: they are never shown, and a field without
    one makes WTForms translate a label made from its name on every post (loading
    its message catalogue from disk once per request).
    """

    submission_id = HiddenField(
        "",
        validators=[
            InputRequired(message=_l("The form is incomplete. Please open it again.")),
            Regexp(UUID_RE, message=_l("The form is incomplete. Please open it again.")),
        ],
    )
    questionnaire_version = HiddenField(
        "", validators=[InputRequired(message=_l("The form is incomplete. Please open it again."))]
    )
    # Signed time the form was served (survey.integrity.guard.issue_stamp): the fill time.
    issued = HiddenField("")
    # The one-time receipt code the form was opened with, if it was valid.
    receipt = HiddenField("")
    contact = StringField(
        _l("Phone or email, if you want a reply (optional)"),
        filters=[clean_text],
        validators=[
            Optional(),
            Length(max=200, message=_l("Contact details must be at most %(max)d characters.")),
        ],
    )
    contact_consent = BooleanField(
        _l("I agree that the office uses this contact only to reply to my feedback.")
    )

    def validate_contact(self, field):
        if field.data and not self.contact_consent.data:
            raise ValidationError(
                _l("Please tick the consent box, or leave the contact details empty.")
            )

    def question_fields(self):
        return [f for f in self if f.name.startswith(FIELD_PREFIX)]


def _lazy(texts: dict[str, str]) -> LazyString:
    """The text in the language of the request that renders it, not of the one that
    built the form class (classes are shared by every request of a process)."""
    return LazyString(pick, texts)


def _answer_field(question: Question):
    options = list(question.options)
    if question.no_opinion:
        options.append(question.no_opinion)
    choices = [SelectChoice(o.value, _lazy(o.label)) for o in options]
    validators = [
        AnyOf(
            [o.value for o in options],
            message=_l("Please choose one of the answers shown."),
        )
    ]
    if question.required:
        validators.insert(0, InputRequired(message=_l("Please answer this question.")))
    else:
        validators.insert(0, Optional())
    return RadioField(
        _lazy(question.text), choices=choices, validators=validators, validate_choice=False
    )


def _comment_field(question: Question):
    limit = question.max_length or 2000
    return TextAreaField(
        _lazy(question.text),
        filters=[clean_text],
        validators=[
            Optional(),
            Length(
                max=limit,
                message=_l("Your comment is too long: at most %(max)d characters."),
            ),
        ],
    )


#: Form classes by questionnaire version, with the definition they were built from.
_CLASSES: dict[int, tuple[Questionnaire, type[ResponseFormBase]]] = {}


def response_form_class(questionnaire: Questionnaire) -> type[ResponseFormBase]:
    """The form class of one questionnaire version, built once per process.

    Building it costs more than validating a post; its labels are lazy, so one
    class serves every language.
    """
    built = _CLASSES.get(questionnaire.version)
    if built is None or (built[0] is not questionnaire and built[0] != questionnaire):
        fields = {}
        for question in questionnaire.questions:
            if question.type == "text":
                fields[FIELD_PREFIX + question.id] = _comment_field(question)
            else:
                fields[FIELD_PREFIX + question.id] = _answer_field(question)
        cls = type(f"ResponseFormV{questionnaire.version}", (ResponseFormBase,), fields)
        built = _CLASSES[questionnaire.version] = (questionnaire, cls)
    return built[1]
