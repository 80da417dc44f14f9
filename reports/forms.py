"""The window of the updates and the weekly report: ?days=N; the updates' card layout: ?scope=."""

from django import forms

from .selectors import SCOPES

DEFAULT_DAYS = 7
MAX_DAYS = 90


class DaysForm(forms.Form):
    bad_days = f"Enter a whole number of days from 1 to {MAX_DAYS}."
    days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_DAYS,
        error_messages={"invalid": bad_days, "min_value": bad_days, "max_value": bad_days},
    )


class UpdatesForm(DaysForm):
    scope = forms.ChoiceField(
        choices=[(s, s) for s in SCOPES],
        required=False,
        error_messages={"invalid_choice": f"Choose one of {', '.join(SCOPES)}."},
    )
