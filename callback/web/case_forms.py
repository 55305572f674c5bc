"""Forms of the supervisor workspace, and the translated messages for what the services refuse.

The fields carry no rules of their own: the services (callback.cases, callback.intake.ledgers) check the input
once, and `show_refusal` puts their verdict on the form in the user's language.
"""

from typing import Protocol

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.fields.core import Field

from callback.cases import NOTE_MAX
from callback.intake.ledgers import NOTE_MAX as LEDGER_NOTE_MAX


class TransitionForm(FlaskForm):
    to = HiddenField()
    note = TextAreaField(_l("Note"), render_kw={"rows": 2, "maxlength": NOTE_MAX})
    requirements = TextAreaField(
        _l("Rectification requirements"), render_kw={"rows": 3, "maxlength": NOTE_MAX}
    )
    deadline = StringField(_l("Rectification deadline"), render_kw={"type": "date"})


class AssignForm(FlaskForm):
    assignee_id = StringField(_l("Assignee"))


class PenaltyForm(FlaskForm):
    person = StringField(_l("Person"), render_kw={"maxlength": 50, "autocomplete": "off"})
    amount_yuan = StringField(_l("Amount (yuan)"), render_kw={"inputmode": "decimal", "autocomplete": "off"})
    reason = TextAreaField(_l("Reason"), render_kw={"rows": 2, "maxlength": NOTE_MAX})


class ReferralForm(FlaskForm):
    note = TextAreaField(
        _l("Note for discipline inspection"), id="referral-note", render_kw={"rows": 2, "maxlength": NOTE_MAX}
    )


class OpenCaseForm(FlaskForm):
    order_no = StringField(_l("Work order number"), render_kw={"maxlength": 32, "autocomplete": "off"})
    category = StringField(_l("Category"))
    description = TextAreaField(_l("What was found"), render_kw={"rows": 4, "maxlength": 2000})


class LedgerForm(FlaskForm):
    order_no = StringField(_l("Work order number"), render_kw={"maxlength": 32, "autocomplete": "off"})
    ledger = StringField(_l("Ledger"))
    note = TextAreaField(_l("Note"), render_kw={"rows": 2, "maxlength": LEDGER_NOTE_MAX})


class Refusal(Protocol):
    """What CaseError and LedgerError have in common."""

    status: int
    code: str
    message: str
    details: list[dict[str, str]]


def _field_message(field: str, service_message: str) -> str:
    """Say in the user's language what is wrong with one field."""
    if service_message == "is required":
        return _("This field is required.")
    messages = {
        "amount_yuan": _("Enter an amount in yuan above 0 with at most 2 decimals."),
        "deadline": _("Enter a date (YYYY-MM-DD) that is not in the past."),
        "order_no": _("No work order has this number."),
        "category": _("Choose a category."),
        "ledger": _("Choose a ledger."),
        "assignee_id": _("Choose a supervisor or an administrator."),
        "to": _("Choose one of the moves offered."),
    }
    if field in messages:
        return messages[field]
    if "characters" in service_message:
        return _("This text is too long.")
    return service_message


def _general_message(refusal: Refusal) -> str:
    """Say in the user's language why the whole action was refused."""
    messages = {
        "letter_not_issued": _("Penalties are recorded once the supervision letter has been issued."),
        "invalid_transition": _("The case cannot make this move from its current state."),
        "case_already_open": _("A case of this order and category is still open."),
        "already_referred": _("This case has already been referred to discipline inspection."),
        "ledger_unchanged": _("The order is already there."),
        "not_found": _("Nothing was found at this address."),
    }
    return messages.get(refusal.code, _("Please correct the marked fields."))


def show_refusal(form: FlaskForm, refusal: Refusal) -> str:
    """Put a service's refusal on the form's fields; return the message for the whole form."""
    for detail in refusal.details:
        field: Field | None = getattr(form, detail.get("field", ""), None)
        message = _field_message(detail.get("field", ""), detail.get("message", ""))
        if isinstance(field, Field):
            field.errors = [*field.errors, message]
    return _general_message(refusal)
