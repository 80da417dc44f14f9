from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from .models import Profile, SyncRun, UpstreamWrite


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = [
        "source", "trigger", "started_at", "duration", "outcome",
        "fetched", "created", "updated", "unchanged", "rejected",
    ]  # fmt: skip
    list_filter = ["source", "trigger", "outcome", "full"]
    search_fields = ["error", "task_id"]
    date_hierarchy = "started_at"
    readonly_fields = [f.name for f in SyncRun._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    readonly_fields = ["saml_attributes", "groups", "updated_at"]


admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class T5GUserAdmin(UserAdmin):
    inlines = [ProfileInline]


@admin.register(UpstreamWrite)
class UpstreamWriteAdmin(admin.ModelAdmin):
    list_display = ["at", "upstream", "action", "target", "method", "outcome", "status_code", "duration_ms", "run"]
    list_filter = ["upstream", "outcome", "action"]
    search_fields = ["target", "url", "error", "action"]
    date_hierarchy = "at"
    list_select_related = ["run"]
    readonly_fields = [f.name for f in UpstreamWrite._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
