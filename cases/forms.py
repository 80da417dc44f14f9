"""The cases table's query string, validated: CaseQueryForm(request.GET).query() is a CaseQuery."""

from __future__ import annotations

from django import forms

from cards.models import InternalStatus

from .models import Severity
from .query import (
    DEFAULT_DAYS,
    DEFAULT_PER,
    DEFAULT_SORT,
    MAX_DAYS,
    MAX_PER,
    MAX_SORTS,
    NO_CARD,
    PRIO_VALUES,
    RANK,
    SORTS,
    TELCO_LEVELS,
    UNMAPPED,
    VIEWS,
    YES_NO,
    CaseQuery,
    join_sorts,
    sort_column,
)

# Free-text values (accounts, products, ...) longer than this are no real value: refused, not matched.
MAX_VALUE_LENGTH = 255
# A query string repeating one filter more often than this is refused rather than turned into a huge IN ().
MAX_VALUES = 200
BAD_DAYS = f"a whole number of days from 1 to {MAX_DAYS}."


class MultipleTextField(forms.Field):
    """A repeatable parameter with free-text values (?account=A&account=B)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[str]:
        values = [v.strip() for v in (value or []) if isinstance(v, str) and v.strip()]
        if len(values) > MAX_VALUES:
            raise forms.ValidationError(f"at most {MAX_VALUES} values, got {len(values)}.")
        if too_long := [v for v in values if len(v) > MAX_VALUE_LENGTH]:
            raise forms.ValidationError(f"a value longer than {MAX_VALUE_LENGTH} characters: {too_long[0][:40]}…")
        return values


class SortField(forms.Field):
    """sort=: columns, comma-separated or repeated (?sort=-severity,days or ?sort=-severity&sort=days), primary
    first, each "-" in front for descending; aliases resolved, a column named twice counts once (the first)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> str:
        keys = [k.strip() for v in (value or []) if isinstance(v, str) for k in v.split(",") if k.strip()]
        if unknown := [k for k in keys if sort_column(k)[0] not in SORTS]:
            raise forms.ValidationError(f"no column named {unknown[0][:40]!r}.")
        columns: dict[str, bool] = {}
        for key in keys:
            column, descending = sort_column(key)
            columns.setdefault(column, descending)
        if len(columns) > MAX_SORTS:
            raise forms.ValidationError(f"at most {MAX_SORTS} columns, got {len(columns)}.")
        return join_sorts(list(columns.items()))


def _choices(values) -> list[tuple[str, str]]:
    return [(str(v), str(v)) for v in values]


class CaseQueryForm(forms.Form):
    """Parses the table's query string. Invalid parameters are left out of query() and named by messages()."""

    view = forms.ChoiceField(choices=_choices(VIEWS), required=False)
    days = forms.IntegerField(
        label="commented in the last days",
        min_value=1,
        max_value=MAX_DAYS,
        required=False,
        error_messages={"invalid": BAD_DAYS, "min_value": BAD_DAYS, "max_value": BAD_DAYS},
    )
    q = forms.CharField(label="search", max_length=200, required=False)
    severity = forms.TypedMultipleChoiceField(
        choices=[(str(v), label) for v, label in Severity.choices], coerce=int, required=False
    )
    prio = forms.MultipleChoiceField(label="prio-list", choices=_choices(PRIO_VALUES), required=False)
    critsit = forms.ChoiceField(label="crit sit", choices=_choices(YES_NO), required=False)
    product = MultipleTextField(required=False)
    account = MultipleTextField(required=False)
    status = forms.MultipleChoiceField(
        label="internal status", choices=_choices([*InternalStatus.values, UNMAPPED, NO_CARD]), required=False
    )
    case_status = MultipleTextField(label="case status", required=False)
    assignee = MultipleTextField(required=False)
    escalated = forms.ChoiceField(choices=_choices(YES_NO), required=False)
    closed_not_done = forms.ChoiceField(label="case closed but card not done", choices=_choices("01"), required=False)
    # Typed as ISO dates (the templates' inputs are text: Chromium's date inputs show mm/dd/yyyy in en-US).
    bad_date = {"invalid": "enter the date as YYYY-MM-DD, e.g. 2025-01-31."}
    opened_after = forms.DateField(
        label="opened after", required=False, input_formats=["%Y-%m-%d"], error_messages=bad_date
    )
    opened_before = forms.DateField(
        label="opened before", required=False, input_formats=["%Y-%m-%d"], error_messages=bad_date
    )
    telco = forms.TypedMultipleChoiceField(
        label="Telco priority", choices=[(str(n), f"P{n}") for n in TELCO_LEVELS], coerce=int, required=False
    )
    daily_telco = forms.ChoiceField(label="on the Daily Telco list", choices=_choices(YES_NO), required=False)
    sort = SortField(required=False)
    page = forms.IntegerField(min_value=1, required=False)
    per = forms.IntegerField(label="rows per page", min_value=1, max_value=MAX_PER, required=False)

    def clean(self):
        data = super().clean()
        after, before = data.get("opened_after"), data.get("opened_before")
        if after and before and after > before:
            self.add_error("opened_before", "must not be before “opened after”.")
        return data

    def query(self) -> CaseQuery:
        """The query the valid parameters describe (an invalid one counts as absent)."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        data = {name: value for name, value in self.cleaned_data.items() if name not in self.errors}
        return CaseQuery(
            view=data.get("view") or "open",
            days=data.get("days") or DEFAULT_DAYS,
            q=data.get("q") or "",
            severity=tuple(data.get("severity") or ()),
            prio=tuple(data.get("prio") or ()),
            critsit=data.get("critsit") or "",
            product=tuple(data.get("product") or ()),
            account=tuple(data.get("account") or ()),
            status=tuple(data.get("status") or ()),
            case_status=tuple(data.get("case_status") or ()),
            assignee=tuple(data.get("assignee") or ()),
            escalated=data.get("escalated") or "",
            closed_not_done=data.get("closed_not_done") == "1",
            opened_after=data.get("opened_after"),
            opened_before=data.get("opened_before"),
            telco=tuple(data.get("telco") or ()),
            daily_telco=data.get("daily_telco") or "",
            sort=data.get("sort") or (RANK if data.get("q") else DEFAULT_SORT),
            page=data.get("page") or 1,
            per=data.get("per") or DEFAULT_PER,
        )

    def messages(self) -> list[str]:
        """One line per invalid parameter, naming it as the URL does."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        out = []
        for name, errors in self.errors.items():
            label = name if name != "__all__" else "query"
            for error in errors:
                out.append(f"“{label}”: {error} This filter is ignored.")
        return out
