from django.contrib import admin

from .models import Card, CardComment, TeamMember


@admin.register(Card)
class CardAdmin(admin.ModelAdmin):
    list_display = [
        "key",
        "case",
        "status",
        "jira_status",
        "assignee",
        "priority",
        "severity",
        "escalated",
        "active",
        "upstream_updated_at",
    ]
    list_filter = ["status", "priority", "severity", "escalated", "potential_escalation", "active"]
    search_fields = ["key", "case__number", "summary", "assignee"]
    list_select_related = ["case"]
    date_hierarchy = "created_at"
    raw_id_fields = ["case"]


@admin.register(CardComment)
class CardCommentAdmin(admin.ModelAdmin):
    list_display = ["id", "card", "author", "created_at"]
    search_fields = ["card__key", "author", "body"]
    list_select_related = ["card"]
    date_hierarchy = "created_at"
    raw_id_fields = ["card"]


@admin.register(TeamMember)
class TeamMemberAdmin(admin.ModelAdmin):
    list_display = ["name", "jira_user", "email", "slack_id", "active", "notify_on_case"]
    list_filter = ["active", "notify_on_case"]
    list_editable = ["active"]
    search_fields = ["name", "jira_user", "email", "accounts"]
