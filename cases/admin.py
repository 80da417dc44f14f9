from django.contrib import admin

from t5g.cache import bump

from .models import Case, CaseComment, Detail, SlaPartner


class DetailInline(admin.StackedInline):
    model = Detail
    extra = 0


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "severity",
        "account",
        "summary",
        "status",
        "product",
        "owner",
        "created_at",
        "upstream_updated_at",
    ]
    list_filter = ["severity", "status", "product"]
    search_fields = ["number", "account", "summary", "owner"]
    date_hierarchy = "created_at"
    inlines = [DetailInline]


@admin.register(Detail)
class DetailAdmin(admin.ModelAdmin):
    list_display = ["case", "crit_sit", "group_name", "relief_at", "resolved_at", "synced_at"]
    list_filter = ["crit_sit"]
    search_fields = ["case__number", "group_name"]
    list_select_related = ["case"]
    date_hierarchy = "synced_at"


@admin.register(CaseComment)
class CaseCommentAdmin(admin.ModelAdmin):
    list_display = ["id", "case", "author", "public", "created_at"]
    list_filter = ["public"]
    search_fields = ["case__number", "author", "body"]
    list_select_related = ["case"]
    date_hierarchy = "created_at"
    raw_id_fields = ["case"]


@admin.register(SlaPartner)
class SlaPartnerAdmin(admin.ModelAdmin):
    list_display = ["account", "urgent_days", "high_days", "normal_days", "low_days"]
    list_editable = ["urgent_days", "high_days", "normal_days", "low_days"]
    search_fields = ["account"]

    # The cases table is cached until a sync bumps it: an SLA edit must show at once too.
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        bump("cases")

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        bump("cases")

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        bump("cases")
