"""Forms of the paper ballots' pages (survey/paper): printing a batch, entering a
ballot (its answers are read by ``domain/ballots.read_answers``, one field per
question), and the district's decision on two readings that differ."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import HiddenField
from wtforms import IntegerField
from wtforms import RadioField
from wtforms import StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import NumberRange
from wtforms.validators import Optional

from survey.forms.officer import LocalSelectField
from survey.forms.response import clean_text


class LocalIntegerField(IntegerField):
    """A whole number, with the service's own message when it is not one."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(_l("Please enter a whole number, for example 50.")) from exc


class PrintForm(FlaskForm):
    desk = LocalSelectField(_l("Desk"), coerce=str)
    count = LocalIntegerField(
        _l("Number of ballots"),
        validators=[InputRequired(message=_l("Please enter how many ballots to print."))],
    )
    layout = RadioField(
        _l("Paper"),
        choices=[
            SelectChoice("a4x2", _l("A4, two A5 ballots per sheet (cut in the middle)")),
            SelectChoice("a5", _l("A5, one ballot per page")),
        ],
        default="a4x2",
        validators=[InputRequired(message=_l("Please choose the paper."))],
    )
    recheck_all = BooleanField(_l("A second officer re-keys every ballot of this batch"))

    def set_limits(self, desks: list[tuple[str, str]], max_count: int) -> None:
        self.desk.choices = [SelectChoice(value, label) for value, label in desks]
        self.count.validators = [
            *self.count.validators,
            NumberRange(
                min=1,
                max=max_count,
                message=_l("Print between %(min)s and %(max)s ballots at once."),
            ),
        ]


class EntryForm(FlaskForm):
    """The CSRF token, the serial and the comment; the answers are ``a_<question id>``."""

    serial = StringField(_l("Ballot number"), validators=[Optional(), Length(max=200)])
    comment = StringField(
        _l("Comment written on the ballot (if any)"),
        filters=[clean_text],
        validators=[Optional(), Length(max=2000)],
    )


class DecisionForm(FlaskForm):
    reading = HiddenField(validators=[AnyOf(["first", "second"])])
