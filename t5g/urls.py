from django.contrib import admin
from django.urls import include, path

from cases import reports
from stats import views as stats_views

from . import health, metrics, saml, views

urlpatterns = [
    path("", views.home, name="home"),
    path("refresh/", views.refresh, name="refresh"),
    path("refresh/<int:pk>/", views.refresh_status, name="refresh_status"),
    path("cases/", include("cases.urls")),
    path("accounts/<path:account>/", reports.account, name="account"),
    path("engineers/<path:name>/", reports.engineer, name="engineer"),
    path("updates/", reports.updates, name="updates"),
    path("weekly/", reports.weekly, name="weekly"),
    path("stats/", stats_views.stats, name="stats"),
    path("api/", include("t5g.api")),
    path("saml2/", include("t5g.saml")),
    path("login/", saml.local_login, name="login"),
    path("logout/", saml.logout, name="logout"),
    path("admin/login/", saml.admin_login),  # before admin/: the admin signs in like every page
    path("admin/", admin.site.urls),
    path("health/", health.health, name="health"),
    path("health/ready/", health.ready, name="health_ready"),
    path("metrics", metrics.metrics, name="metrics"),
]
