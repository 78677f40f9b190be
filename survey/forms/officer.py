"""Forms of the officers' pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import DecimalField
from wtforms import HiddenField
from wtforms import PasswordField
from wtforms import SelectField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import NumberRange
from wtforms.validators import Optional
from wtforms.validators import ValidationError

from survey.domain.feedback import FeedbackStatus
from survey.forms.response import clean_text


class FiniteDecimalField(DecimalField):
    """A decimal number that is a number: "nan", "inf" and "1e999999" are refused.

    Decimal reads them, and comparing a NaN with the allowed range raised
    InvalidOperation (a 500) instead of a message.
    """

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and (not self.data.is_finite() or abs(self.data.adjusted()) > 20):
            self.data = None
            raise ValueError(_l("Please enter a number."))


class LocalDecimalField(FiniteDecimalField):
    """A number typed with either a decimal comma (Vietnamese) or a point.

    A value that is not a number gets the service's own message: WTForms'
    ("Not a valid decimal value.") has no Vietnamese translation.
    """

    def process_formdata(self, valuelist):
        if valuelist:
            valuelist = [v.replace(",", ".").strip() for v in valuelist]
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(_l("Please enter a number, for example 90 or 92,5.")) from exc


class LocalSelectField(SelectField):
    """A list whose "not one of the choices" message is the service's own, in Vietnamese."""

    def pre_validate(self, form):
        try:
            super().pre_validate(form)
        except ValueError as exc:
            raise ValidationError(_l("Please choose one of the options in the list.")) from exc


class LoginForm(FlaskForm):
    username = StringField(
        _l("Username"),
        filters=[lambda v: v.strip().lower() if v else v],
        validators=[InputRequired(message=_l("Please enter your username.")), Length(max=64)],
    )
    password = PasswordField(
        _l("Password"),
        validators=[InputRequired(message=_l("Please enter your password.")), Length(max=200)],
    )
    next = HiddenField()


class EmptyForm(FlaskForm):
    """A CSRF-protected form with no fields, for buttons such as sign-out."""


#: How far a comment's handling has gone, with the label shown for it.
FEEDBACK_STATUSES = [
    (FeedbackStatus.NEW.value, _l("New")),
    (FeedbackStatus.IN_PROGRESS.value, _l("In progress")),
    (FeedbackStatus.ANSWERED.value, _l("Answered")),
]


class FeedbackForm(FlaskForm):
    status = LocalSelectField(
        _l("Status"),
        choices=[SelectChoice(value, label) for value, label in FEEDBACK_STATUSES],
        validators=[InputRequired()],
    )
    reply = TextAreaField(
        _l("Reply or action taken"),
        filters=[clean_text],
        validators=[Optional(), Length(max=4000, message=_l("At most %(max)d characters."))],
    )


class TargetForm(FlaskForm):
    year = LocalDecimalField(
        _l("Year"),
        places=0,
        validators=[
            InputRequired(message=_l("Please enter the year.")),
            NumberRange(
                min=2000, max=2100, message=_l("The year must be between %(min)s and %(max)s.")
            ),
        ],
    )
    procedure_field = LocalSelectField(_l("Field"), validators=[Optional()])
    percent = LocalDecimalField(
        _l("Target (%)"),
        places=1,
        validators=[
            InputRequired(message=_l("Please enter the target in percent.")),
            NumberRange(
                min=1, max=100, message=_l("The target must be between %(min)s%% and %(max)s%%.")
            ),
        ],
    )


class ProfileForm(FlaskForm):
    """An officer's e-mail address, what they want to receive and their quiet hours.

    The address and the times are checked by the use case
    (``officers/accounts.update_contact``), which says which field is wrong.
    """

    email = StringField(_l("E-mail address"), validators=[Length(max=254)])
    wants_alerts = BooleanField(_l("Alerts: harassment reports and runs of negative ratings"))
    wants_comments = BooleanField(_l("Comments from citizens who agreed to be contacted"))
    wants_reports = BooleanField(_l("Monthly reports"))
    quiet_start = StringField(_l("No e-mail from (HH:MM)"), validators=[Length(max=5)])
    quiet_end = StringField(_l("until (HH:MM)"), validators=[Length(max=5)])


class AppealForm(FlaskForm):
    reason = TextAreaField(
        _l("Why the rating is unfair"),
        filters=[clean_text],
        validators=[
            # After clean_text: a reason of spaces only is no reason.
            DataRequired(message=_l("Please give the reason for the appeal.")),
            Length(max=1000),
        ],
    )


class AppealDecisionForm(FlaskForm):
    action = HiddenField(validators=[AnyOf(["uphold", "reject"])])


def _stripped(value):
    return value.strip() if isinstance(value, str) else value


class ReportSettingsForm(FlaskForm):
    """How the unit's report is issued as an administrative document (Nghị định 30/2020)."""

    parent_body = StringField(
        _l("Parent body (cơ quan chủ quản)"),
        filters=[_stripped],
        validators=[Optional(), Length(max=200, message=_l("At most %(max)d characters."))],
    )
    issuing_body = StringField(
        _l("Issuing body"),
        filters=[_stripped],
        validators=[
            InputRequired(message=_l("Please enter the issuing body.")),
            Length(max=200, message=_l("At most %(max)d characters.")),
        ],
    )
    number_symbol = StringField(
        _l("Number symbol (after “Số: …/”)"),
        filters=[_stripped],
        validators=[
            InputRequired(message=_l("Please enter the number symbol, e.g. BC-UBND.")),
            Length(max=60, message=_l("At most %(max)d characters.")),
        ],
    )
    place = StringField(
        _l("Place (before the date)"),
        filters=[_stripped],
        validators=[
            InputRequired(message=_l("Please enter the place.")),
            Length(max=100, message=_l("At most %(max)d characters.")),
        ],
    )
    signer_title = TextAreaField(
        _l("Signer's title (one line each)"),
        filters=[_stripped],
        validators=[
            InputRequired(message=_l("Please enter the signer's title.")),
            Length(max=200, message=_l("At most %(max)d characters.")),
        ],
    )
    signer_name = StringField(
        _l("Signer's name"),
        filters=[_stripped],
        validators=[Optional(), Length(max=200, message=_l("At most %(max)d characters."))],
    )
    recipients = TextAreaField(
        _l("Recipients (“Nơi nhận”, one a line)"),
        filters=[_stripped],
        validators=[Optional(), Length(max=2000, message=_l("At most %(max)d characters."))],
    )
