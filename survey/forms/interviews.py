"""Forms of the district's interviewers page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms import StringField
from wtforms.validators import InputRequired
from wtforms.validators import Length

from survey.forms.response import clean_text


def _lower(value):
    return value.strip().lower() if isinstance(value, str) else value


class InterviewerForm(FlaskForm):
    """A new interviewer's account; the use case checks the username and password."""

    username = StringField(
        _l("Username"),
        filters=[_lower],
        validators=[InputRequired(message=_l("Please enter a username.")), Length(max=64)],
    )
    full_name = StringField(
        _l("Full name"),
        filters=[clean_text],
        validators=[
            InputRequired(message=_l("Please enter the interviewer's full name.")),
            Length(max=200, message=_l("At most %(max)d characters.")),
        ],
    )
    password = PasswordField(
        _l("Password (give it to the interviewer)"),
        validators=[InputRequired(message=_l("Please enter a password.")), Length(max=200)],
    )


class AssignmentForm(FlaskForm):
    """One commune of the district, from one date to another (dd/mm/yyyy)."""

    # A list of the district's communes on the page; checked by the use case,
    # which says why another unit's code is refused (and the CLI shares it).
    commune = StringField(
        _l("Commune"),
        validators=[InputRequired(message=_l("Please choose a commune.")), Length(max=32)],
    )
    starts_on = StringField(
        _l("From (dd/mm/yyyy)"),
        validators=[InputRequired(message=_l("Please enter the first day.")), Length(max=20)],
    )
    ends_on = StringField(
        _l("To (dd/mm/yyyy)"),
        validators=[InputRequired(message=_l("Please enter the last day.")), Length(max=20)],
    )
