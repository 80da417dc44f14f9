from django.urls import path

from . import views

urlpatterns = [
    path("", views.table, name="cases"),
    path("export.csv", views.export_csv, name="cases_export_csv"),
    path("export.xlsx", views.export_xlsx, name="cases_export_xlsx"),
    path("<str:number>/row/", views.row, name="case_row"),
]
