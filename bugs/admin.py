from django.contrib import admin

from .models import Bug, Issue


@admin.register(Bug)
class BugAdmin(admin.ModelAdmin):
    list_display = ["id", "summary", "status", "severity", "target_release", "assignee", "upstream_updated_at"]
    list_filter = ["status", "severity", "target_release"]
    search_fields = ["=id", "summary", "assignee", "internal_whiteboard", "cases__number"]
    date_hierarchy = "upstream_updated_at"
    raw_id_fields = ["cases"]


@admin.register(Issue)
class IssueAdmin(admin.ModelAdmin):
    list_display = [
        "key", "summary", "status", "priority", "severity", "telco_priority", "issue_type", "assignee",
        "upstream_updated_at",
    ]  # fmt: skip
    list_filter = ["status", "priority", "telco_priority", "issue_type"]
    search_fields = ["key", "summary", "assignee", "private_keywords", "internal_whiteboard", "cases__number"]
    date_hierarchy = "upstream_updated_at"
    raw_id_fields = ["cases"]
