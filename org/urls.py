from django.urls import path

from . import views

app_name = "org"

urlpatterns = [
    path("branches/", views.branch_list, name="branch_list"),
    path("branches/<int:pk>/", views.branch_detail, name="branch_detail"),
    path("branches/<int:pk>/duties/", views.branch_duties, name="branch_duties"),
    path("members/<int:pk>/", views.member_detail, name="member_detail"),
    path("roster/template.xlsx", views.roster_template, name="roster_template"),
    path("roster/import/", views.roster_import, name="roster_import"),
    path("roster/import/<str:token>/", views.roster_import_confirm, name="roster_import_confirm"),
    path("roster/export.xlsx", views.roster_export, name="roster_export"),
    path("audit/", views.audit_log, name="audit_log"),
]
