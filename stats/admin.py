from django.contrib import admin

from .models import DailyStats


@admin.register(DailyStats)
class DailyStatsAdmin(admin.ModelAdmin):
    list_display = ["date", "scope", "computed_at"]
    list_filter = ["scope"]
    search_fields = ["scope"]
    date_hierarchy = "date"
