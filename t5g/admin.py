from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from . import admin_beat, notify  # noqa: F401 - admin_beat registers the schedules' admin
from .api import new_key
from .models import ApiToken, Notification, Profile, SyncRun, UpstreamWrite
from .sync import registry


class JobFilter(admin.SimpleListFilter):
    title = "job"
    parameter_name = "source"

    def lookups(self, request, model_admin):
        return [(job.name, job.label) for job in registry.jobs()]

    def queryset(self, request, queryset):
        return queryset.filter(source=self.value()) if self.value() else queryset


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = [
        "job", "trigger", "started_at", "duration", "outcome",
        "fetched", "created", "updated", "unchanged", "rejected",
    ]  # fmt: skip
    list_filter = [JobFilter, "trigger", "outcome", "full"]
    search_fields = ["error", "task_id"]
    date_hierarchy = "started_at"
    readonly_fields = [f.name for f in SyncRun._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="job", ordering="source")
    def job(self, run: SyncRun) -> str:
        return registry.label_of(run.source)


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


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "to", "subject", "status", "attempts", "sent_at"]
    list_filter = ["status", "kind"]
    search_fields = ["to", "subject", "body", "last_error"]
    date_hierarchy = "created_at"
    # A record of what was sent: editing it would rewrite history. "Send again" retries a failed one.
    readonly_fields = [f.name for f in Notification._meta.fields]
    actions = ["send_again"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Send the selected failed notifications again")
    def send_again(self, request, queryset) -> None:
        failed = queryset.filter(status=Notification.Status.FAILED)
        count = notify.send_again(ids=list(failed.values_list("pk", flat=True)))
        self.message_user(request, f"{count} notification(s) queued again.")


# --- API tokens (the read-only JSON API, t5g/api.py) ----------------------------------------


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Adding a token makes its key, shows it once and keeps only its SHA-256 and first characters."""

    list_display = ["name", "user", "prefix", "created_at", "last_used_at"]
    list_select_related = ["user"]
    search_fields = ["name", "prefix", "user__username"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    raw_id_fields = ["user"]

    def get_queryset(self, request):
        # Only a superuser sees, and makes, other people's tokens: a key acts as its user.
        tokens = super().get_queryset(request)
        return tokens if request.user.is_superuser else tokens.filter(user=request.user)

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        return readonly if request.user.is_superuser else [*readonly, "user"]

    def get_fields(self, request, obj=None):
        # A new token has nothing to show yet but whom and what it is for.
        return ["user", "name"] if obj is None else ["user", "name", "prefix", "created_at", "last_used_at"]

    def save_model(self, request, obj, form, change) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        if not request.user.is_superuser:
            obj.user = request.user
        key, obj.key_hash, obj.prefix = new_key()
        super().save_model(request, obj, form, change)
        self.message_user(
            request,
            f"The key of “{obj.name}” is {key} — copy it now: it is not stored and will not be shown again. "
            f"Send it as the header Authorization: Bearer {key}",
            messages.SUCCESS,
        )
