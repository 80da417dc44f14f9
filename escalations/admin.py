from django.contrib import admin
from django.db import models

from .models import Escalation


@admin.register(Escalation)
class EscalationAdmin(admin.ModelAdmin):
    list_display = ["case", "type", "source", "escalated_at", "link"]
    list_filter = ["type"]
    search_fields = ["case__number", "case__account", "reason", "source"]
    list_select_related = ["case"]
    date_hierarchy = "escalated_at"
    raw_id_fields = ["case"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
