from django.contrib import admin
from django.urls import include, path

from . import health, metrics, signins, views
from .saml import views as saml

# The apps' pages by their string names: the core imports no domain app.
urlpatterns = [
    path("", include("reports.urls")),
    path("refresh/", views.refresh, name="refresh"),
    path("refresh/<int:pk>/", views.refresh_status, name="refresh_status"),
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
    path("", include("compat.urls")),  # last: the old dashboard's URLs never shadow a page of T5G's
]
