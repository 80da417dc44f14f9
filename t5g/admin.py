from django.contrib import admin

from .models import Profile, SyncRun


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = [
        "source",
        "trigger",
        "started_at",
        "duration",
        "outcome",
        "fetched",
        "created",
        "updated",
        "unchanged",
        "rejected",
    ]
    list_filter = ["source", "trigger", "outcome", "full"]
    search_fields = ["error", "task_id"]
    date_hierarchy = "started_at"
    readonly_fields = [f.name for f in SyncRun._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "groups", "updated_at"]
    search_fields = ["user__username", "user__email"]
    list_select_related = ["user"]
    readonly_fields = ["saml_attributes", "groups", "updated_at"]
