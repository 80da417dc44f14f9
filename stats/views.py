"""The stats page: the team's latest metrics, each linked to the cases behind it, the daily history,
the breakdowns and the relief / resolution times (drawn by stats.charts).
"""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET

from t5g.cache import cached

from . import selectors
from .charts import HISTORY_DAYS, breakdowns, count_rows, duration_sections, history, history_chart


class RangeForm(forms.Form):
    """The history's date range; both ends included, either may be left out."""

    bad_date = "Enter the date as YYYY-MM-DD, e.g. 2025-01-31."
    start = forms.DateField(required=False, input_formats=["%Y-%m-%d"], error_messages={"invalid": bad_date})
    end = forms.DateField(required=False, input_formats=["%Y-%m-%d"], error_messages={"invalid": bad_date})

    def clean(self) -> dict:
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError("The start date is after the end date.")
        return data


def date_range(form: RangeForm, *, days: int = HISTORY_DAYS) -> tuple[date, date]:
    """The form's range, or the last `days` days for what it leaves out or gets wrong."""
    today = timezone.now().date()
    data = form.cleaned_data if form.is_valid() else {}
    end = data.get("end") or today
    start = data.get("start") or end - timedelta(days=days)
    return start, end


def _stats_content(start: date, end: date) -> str:
    latest = selectors.latest_stats(scope="all")
    metrics = latest.metrics if latest else {}
    rows = history(scope="all", start=start, end=end)
    return render_to_string(
        "stats/stats_content.html",
        {
            "latest": latest,
            "counts": count_rows(metrics),
            "breakdowns": breakdowns(metrics),
            "history_chart": history_chart(rows),
            "history_days": len(rows),
            "durations": duration_sections(metrics, prefix="stats"),
            "start": start,
            "end": end,
        },
    )


@require_GET
def stats(request: HttpRequest) -> HttpResponse:
    form = RangeForm(request.GET)
    start, end = date_range(form)
    content, degraded = cached(
        f"stats:{start.isoformat()}:{end.isoformat()}", feeds=("stats",), build=lambda: _stats_content(start, end)
    )
    status = 400 if form.errors else 200
    return render(
        request,
        "stats/stats.html",
        {"form": form, "content": content, "degraded": degraded, "start": start, "end": end},
        status=status,
    )
