from django.contrib import admin, messages

from .auth import new_key
from .models import ApiToken


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
