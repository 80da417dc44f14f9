from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from .auth import new_key
from .models import ApiToken, default_expiry
from .services import revoke_tokens


@admin.action(description="Revoke every API token of the selected users", permissions=["change"])
def revoke_users_tokens(modeladmin, request, users) -> None:
    count = revoke_tokens(users=list(users), by=f"{request.user.get_username()} (admin)")
    modeladmin.message_user(request, f"{count} API token(s) revoked.", messages.SUCCESS)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Adding a token makes its key, shows it once and keeps only its SHA-256 and first characters."""

    list_display = ["name", "user", "prefix", "status", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_select_related = ["user"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "user__username"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    raw_id_fields = ["user"]
    actions = ["revoke", "revoke_all_of_their_users"]

    def get_queryset(self, request):
        # Only a superuser sees, and makes, other people's tokens: a key acts as its user.
        tokens = super().get_queryset(request)
        return tokens if request.user.is_superuser else tokens.filter(user=request.user)

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        return readonly if request.user.is_superuser else [*readonly, "user"]

    def get_fields(self, request, obj=None):
        # A new token has nothing to show yet but whom and what it is for, and when it ends.
        if obj is None:
            return ["user", "name", "expires_at"]
        return ["user", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]

    @admin.display(description="status")
    def status(self, token: ApiToken) -> str:
        return token.status

    @admin.action(description="Revoke the selected tokens", permissions=["change"])
    def revoke(self, request, tokens) -> None:
        count = tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"{count} API token(s) revoked.", messages.SUCCESS)

    @admin.action(description="Revoke every token of the selected tokens' users", permissions=["change"])
    def revoke_all_of_their_users(self, request, tokens) -> None:
        users = get_user_model().objects.filter(pk__in=tokens.values("user"))
        revoke_users_tokens(self, request, users)

    def save_model(self, request, obj, form, change) -> None:
        obj.expires_at = obj.expires_at or default_expiry()
        if change:
            super().save_model(request, obj, form, change)
            return
        if not request.user.is_superuser:
            obj.user = request.user
        key, obj.key_hash, obj.prefix = new_key()
        super().save_model(request, obj, form, change)
        obj.new_key = key

    def response_add(self, request, obj, post_url_continue=None):
        """The new key, in this response only: the usual redirect would carry it to the next page in the messages
        cookie, signed but readable by anyone who sees the cookie."""
        key = getattr(obj, "new_key", None)
        if key is None:
            return super().response_add(request, obj, post_url_continue)
        # Shown by the page below, in this same response: a message read in the response it was added in is
        # never stored, in a cookie or anywhere.
        self.message_user(
            request,
            f"The key of “{obj.name}” is {key} — copy it now: it is not stored and will not be shown again. "
            f"Send it as the header Authorization: Bearer {key}",
            messages.SUCCESS,
        )
        context = {**self.admin_site.each_context(request), "opts": self.opts, "token": obj,
                   "title": f"The key of “{obj.name}”"}  # fmt: skip
        response = TemplateResponse(request, "admin/api/apitoken/key.html", context)
        add_never_cache_headers(response)
        return response


# Revoking a person's tokens starts from the person: the action on the user list too (the core's user admin; this
# app adds to it, the core does not know of tokens).
_user_admin = admin.site.get_model_admin(get_user_model())
_user_admin.actions = [*(_user_admin.actions or []), revoke_users_tokens]
