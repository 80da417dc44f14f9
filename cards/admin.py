from django.contrib import admin

from .models import Card, CardComment, CardIntent, StatusMapping, TeamMember
from .services import apply_status_mapping


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
    list_display = ["name", "jira_user", "email", "slack_id", "patterns", "active", "notify_on_case"]
    list_filter = ["active", "notify_on_case"]
    list_editable = ["active"]
    search_fields = ["name", "jira_user", "email", "accounts"]

    @admin.display(description="account patterns")
    def patterns(self, obj: TeamMember) -> str:
        return ", ".join(obj.account_list)


@admin.register(StatusMapping)
class StatusMappingAdmin(admin.ModelAdmin):
    """JIRA status -> internal status. Cards follow an edit at once, not at their next change in JIRA."""

    list_display = ["jira_status", "internal_status"]
    list_editable = ["internal_status"]
    search_fields = ["jira_status"]

    def save_model(self, request, obj, form, change):
        old = StatusMapping.objects.filter(pk=obj.pk).values_list("jira_status", flat=True).first() if change else None
        super().save_model(request, obj, form, change)
        for jira_status in {obj.jira_status, old} - {None}:
            apply_status_mapping(jira_status)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        apply_status_mapping(obj.jira_status)

    def delete_queryset(self, request, queryset):
        statuses = list(queryset.values_list("jira_status", flat=True))
        super().delete_queryset(request, queryset)
        for jira_status in statuses:
            apply_status_mapping(jira_status)


@admin.register(CardIntent)
class CardIntentAdmin(admin.ModelAdmin):
    list_display = ["case", "state", "key", "attempts", "updated_at", "error"]
    list_filter = ["state"]
    search_fields = ["case__number", "key", "error"]
    date_hierarchy = "updated_at"
    raw_id_fields = ["case", "run"]
