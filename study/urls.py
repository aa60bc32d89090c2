from django.urls import path

from . import media_views, views, views_records

app_name = "study"

urlpatterns = [
    path("", views.library, name="library"),
    path("manage/", views.manage, name="manage"),
    path("new/", views.item_create, name="item_create"),
    path("<int:pk>/", views.item_detail, name="item_detail"),
    path("<int:pk>/edit/", views.item_edit, name="item_edit"),
    path("<int:pk>/submit/", views.item_submit, name="item_submit"),
    path("<int:pk>/review/", views.item_review, name="item_review"),
    path("<int:pk>/withdraw/", views.item_withdraw, name="item_withdraw"),
    path("<int:pk>/reopen/", views.item_reopen, name="item_reopen"),
    path("from-meeting/<int:meeting_pk>/", views.publish_recording, name="publish_recording"),
    *views_records.urlpatterns,
    *media_views.urlpatterns,
]
