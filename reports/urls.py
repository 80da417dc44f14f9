from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/", views.accounts, name="accounts"),
    path("accounts/<path:account>/", views.account, name="account"),
    path("engineers/", views.engineers, name="engineers"),
    path("engineers/<path:name>/", views.engineer, name="engineer"),
    path("updates/", views.updates, name="updates"),
    path("weekly/", views.weekly, name="weekly"),
]
