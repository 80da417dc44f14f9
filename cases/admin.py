from django.contrib import admin

from .models import Case, CaseComment, Detail


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
