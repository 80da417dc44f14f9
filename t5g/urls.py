from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from cases import reports
from stats import views as stats_views

from . import views

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
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]
