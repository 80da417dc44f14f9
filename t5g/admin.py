from datetime import UTC, datetime

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Exists, F, OuterRef, Subquery
from django.utils.html import format_html

from . import admin_beat, notify  # noqa: F401 - admin_beat registers the schedules' admin
from .models import FailingRecord, Notification, Profile, Refresh, SyncRun, UpstreamWrite
from .sync import hooks, registry

# The admin's branding (templates/admin/base_site.html adds T5G's favicon and colours).
admin.site.site_header = "T5G admin"
admin.site.site_title = "T5G admin"
admin.site.index_title = "Settings, schedules and records"
admin.site.site_url = "/"


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
        "job", "started_by", "started_at", "seconds", "result",
        "fetched", "created", "updated", "unchanged", "rejected",
    ]  # fmt: skip
    list_filter = [JobFilter, "trigger", "outcome", "full"]
    search_fields = ["error", "task_id"]
    date_hierarchy = "started_at"
    readonly_fields = [f.name for f in SyncRun._meta.fields]

    def get_queryset(self, request):
        # A run of a refresh shares the refresh's task id: who asked for it (none: the automatic first refresh).
        refresh = Refresh.objects.filter(task_id=OuterRef("task_id")).exclude(task_id="")
        return (
            super()
            .get_queryset(request)
            .annotate(in_refresh=Exists(refresh), refresh_by=Subquery(refresh.values("requested_by__username")[:1]))
        )

    def has_add_permission(self, request) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        # Whether JIRA's webhooks arrive (t5g/sync/hooks.py): their re-reads are the runs of the webhook jobs.
        last = hooks.last_received("jira")
        if last:
            last = {**last, "at": datetime.fromtimestamp(last["at"], UTC)}
        context = {"last_webhook": last, "webhooks_on": bool(settings.JIRA_WEBHOOK_SECRET), **(extra_context or {})}
        return super().changelist_view(request, extra_context=context)

    @admin.display(description="job", ordering="source")
    def job(self, run: SyncRun) -> str:
        return registry.label_of(run.source)

    @admin.display(description="started by", ordering="trigger")
    def started_by(self, run: SyncRun) -> str:
        if getattr(run, "in_refresh", False):
            return f"refresh by {run.refresh_by}" if run.refresh_by else "first refresh (automatic)"
        return {"schedule": "schedule", "manual": "manual (Run now or a command)"}.get(run.trigger, run.trigger)

    @admin.display(description="duration", ordering=F("finished_at") - F("started_at"))
    def seconds(self, run: SyncRun) -> str:
        return f"{run.duration.total_seconds():.1f} s" if run.duration is not None else "—"

    @admin.display(description="outcome", ordering="outcome")
    def result(self, run: SyncRun) -> str:
        if run.outcome in (SyncRun.Outcome.FAILED, SyncRun.Outcome.RETRY):
            return format_html('<span class="t5g-outcome failed">{}</span>', run.get_outcome_display())
        return run.get_outcome_display()


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    # The subject stays editable: binding an account to an IdP identity by hand (README: Signing in) is setting it.
    fields = ["saml_subject", "groups", "saml_attributes", "membership_ended_at", "updated_at"]
    readonly_fields = ["saml_attributes", "groups", "membership_ended_at", "updated_at"]


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


@admin.register(FailingRecord)
class FailingRecordAdmin(admin.ModelAdmin):
    """The records jobs cannot read (t5g/sync/failures.py); a job removes a row when it reads the record again."""

    list_display = ["source", "key", "since", "last_failed_at", "failures", "reason"]
    list_filter = [JobFilter]
    search_fields = ["key", "reason"]
    readonly_fields = [f.name for f in FailingRecord._meta.fields]

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
