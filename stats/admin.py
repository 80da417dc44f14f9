"""Daily stats in the admin, and their export to CSV / XLSX (django-import-export) for a date range.

The export reads the changelist's filters: filter by scope and dates, then *Export*.
"""

from __future__ import annotations

from base64 import b64encode
from datetime import date
from hashlib import sha256

from django.contrib import admin, messages
from import_export import resources, widgets
from import_export.admin import ExportMixin
from import_export.fields import Field
from import_export.formats.base_formats import CSV, XLSX

from cases.models import Severity

from .models import DailyStats


class MetricField(Field):
    """A column read from the metrics JSON by a path of keys; missing (an older day, a severity with
    no case) is empty, not an error."""

    def __init__(self, *path: str):
        # Numbers stay numbers in XLSX; CSV writes them as text. The column is named after the attribute.
        super().__init__(widget=widgets.NumberWidget(), readonly=True)
        self.path = path

    def get_value(self, obj: DailyStats):
        value = obj.metrics
        for key in self.path:
            if not isinstance(value, dict) or key not in value:
                return None
            value = value[key]
        return value


class DailyStatsResource(resources.ModelResource):
    """One row per day and scope, the main metrics flattened into columns."""

    open_cases = MetricField("open_cases")
    high_prio = MetricField("high_prio")
    prio_list = MetricField("escalated")
    crit_sit = MetricField("crit_sit")
    total_escalations = MetricField("total_escalations")
    opened_today = MetricField("opened_today")
    opened_week = MetricField("opened_week")
    closed_today = MetricField("closed_today")
    closed_week = MetricField("closed_week")
    no_updates = MetricField("no_updates")
    no_bugs = MetricField("no_bugs")
    unique_bugs = MetricField("unique_bugs")
    bugs_no_target = MetricField("bugs_no_target")
    # Days to relief / resolution per severity: the median and how many cases it is over.
    relief_median_urgent = MetricField("relief_days", Severity.URGENT.label, "median")
    relief_median_high = MetricField("relief_days", Severity.HIGH.label, "median")
    relief_median_normal = MetricField("relief_days", Severity.NORMAL.label, "median")
    relief_median_low = MetricField("relief_days", Severity.LOW.label, "median")
    relief_count = Field(readonly=True)  # dehydrate_relief_count
    resolution_median_urgent = MetricField("resolution_days", Severity.URGENT.label, "median")
    resolution_median_high = MetricField("resolution_days", Severity.HIGH.label, "median")
    resolution_median_normal = MetricField("resolution_days", Severity.NORMAL.label, "median")
    resolution_median_low = MetricField("resolution_days", Severity.LOW.label, "median")
    resolution_count = Field(readonly=True)  # dehydrate_resolution_count

    class Meta:
        model = DailyStats
        # Everything but these: the metrics come as the columns declared above.
        exclude = ["id", "metrics"]
        export_order = ["date", "scope"]

    def dehydrate_relief_count(self, obj: DailyStats) -> int:
        return sum(s.get("count", 0) for s in (obj.metrics.get("relief_days") or {}).values())

    def dehydrate_resolution_count(self, obj: DailyStats) -> int:
        return sum(s.get("count", 0) for s in (obj.metrics.get("resolution_days") or {}).values())


class DateRangeFilter(admin.FieldListFilter):
    """From and to dates (both included), typed in: exports cover any range, not just the presets."""

    template = "stats/admin/date_range_filter.html"

    def __init__(self, field, request, params, model, model_admin, field_path):
        self.since = f"{field_path}__gte"
        self.until = f"{field_path}__lte"
        super().__init__(field, request, params, model, model_admin, field_path)
        self.title = f"{field.verbose_name} range"

    def expected_parameters(self) -> list[str]:
        return [self.since, self.until]

    def _value(self, name: str) -> str:
        value = self.used_parameters.get(name)
        value = value[-1] if isinstance(value, list) else value
        return (value or "").strip()

    def queryset(self, request, queryset):
        lookups = {}
        for name in (self.since, self.until):
            if raw := self._value(name):
                try:
                    lookups[name] = date.fromisoformat(raw)
                except ValueError:
                    # Not IncorrectLookupParameters: the admin would answer with its misleading "Database error".
                    label = "From" if name == self.since else "To"
                    messages.error(request, f"{label}: “{raw}” is not a date; enter it as YYYY-MM-DD, e.g. 2025-01-31.")
        return queryset.filter(**lookups)

    def choices(self, changelist):
        # One "choice": what the template's form needs to keep the other filters while it submits.
        keep = [(k, v) for k, v in changelist.params.items() if k not in (self.since, self.until)]
        yield {
            "since_name": self.since,
            "until_name": self.until,
            "since": self._value(self.since),
            "until": self._value(self.until),
            "keep": keep,
            "clear_url": changelist.get_query_string(remove=[self.since, self.until]),
            "selected": bool(self._value(self.since) or self._value(self.until)),
        }


# django-import-export's "Select all" on the export form is an inline handler, which script-src 'self' blocks
# (Chromium refuses it as the page is parsed, so no script of ours can take it out): the export page allows that
# one handler by its hash. Test: tests/browser/test_screen.py.
SELECT_ALL_HANDLER = "onSelectToggleChange(event)"
SELECT_ALL_CSP = {
    "script-src": ["'unsafe-hashes'", f"'sha256-{b64encode(sha256(SELECT_ALL_HANDLER.encode()).digest()).decode()}'"]
}


@admin.register(DailyStats)
class DailyStatsAdmin(ExportMixin, admin.ModelAdmin):
    list_display = ["date", "scope", "computed_at"]
    list_filter = [("date", DateRangeFilter), "scope"]
    search_fields = ["scope"]
    date_hierarchy = "date"
    resource_classes = [DailyStatsResource]
    export_formats = [CSV, XLSX]

    def export_action(self, request):
        response = super().export_action(request)
        response._csp_update = SELECT_ALL_CSP  # django-csp adds it to this response's policy
        return response
