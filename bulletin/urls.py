from django.urls import path

from . import export_views, views

app_name = "bulletin"

urlpatterns = [
    path("", views.announcement_list, name="announcement_list"),
    path("new/", views.announcement_create, name="announcement_create"),
    path("<int:pk>/", views.announcement_detail, name="announcement_detail"),
    path("<int:pk>/edit/", views.announcement_edit, name="announcement_edit"),
    path("<int:pk>/receipts/", views.announcement_receipts, name="announcement_receipts"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read-all/", views.inbox_read_all, name="inbox_read_all"),
    path("inbox/<int:pk>/", views.inbox_open, name="inbox_open"),
    path("status/", views.system_status, name="system_status"),
    path("exports/new/<str:kind>/", export_views.export_start, name="export_start"),
    path("exports/<int:pk>/", export_views.export_job, name="export_job"),
    path("exports/<int:pk>/status/", export_views.export_job_status, name="export_job_status"),
    path("exports/<int:pk>/download/", export_views.export_download, name="export_download"),
]
