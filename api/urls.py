from django.urls import path

from . import views

urlpatterns = [
    path("", views.index, name="api"),
    path("cases/", views.cases, name="api_cases"),
    path("cases/<str:number>/", views.case, name="api_case"),
    path("cards/", views.cards, name="api_cards"),
    path("bugs/", views.bugs, name="api_bugs"),
    path("issues/", views.issues, name="api_issues"),
    path("escalations/", views.escalations, name="api_escalations"),
    path("stats/", views.stats, name="api_stats"),
    path("freshness/", views.freshness, name="api_freshness"),
]
