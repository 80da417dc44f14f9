from django.contrib import admin
from django.urls import include, path

from . import health, live, metrics, signins, views, webhooks
from .saml import views as saml

# The apps' pages by their string names: the core imports no domain app.
urlpatterns = [
    path("", include("reports.urls")),
    path("refresh/", views.refresh, name="refresh"),
    path("refresh/<int:pk>/", views.refresh_status, name="refresh_status"),
    path("changes/", live.changes, name="changes"),
    path("cases/", include("cases.urls")),
    path("stats/", include("stats.urls")),
    path("api/", include("api.urls")),
    path("saml2/", include("t5g.saml.urls")),
    path("login/", signins.local_login, name="login"),
    path("logout/", saml.logout, name="logout"),
    path("admin/login/", saml.admin_login),  # before admin/: the admin signs in like every page
    path("admin/", admin.site.urls),
    path("health/", health.health, name="health"),
    path("health/ready/", health.ready, name="health_ready"),
    path("metrics", metrics.metrics, name="metrics"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("hooks/jira/", webhooks.jira, name="jira_webhook"),
    path("", include("compat.urls")),  # last: the old dashboard's URLs never shadow a page of T5G's
]

# T5G's own error pages (and JSON under /api/): t5g/errors.py.
handler400 = "t5g.errors.bad_request"
handler403 = "t5g.errors.permission_denied"
handler404 = "t5g.errors.page_not_found"
handler500 = "t5g.errors.server_error"
