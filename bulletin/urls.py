from django.urls import path

from . import views

app_name = "bulletin"

urlpatterns = [
    path("", views.announcement_list, name="announcement_list"),
    path("<int:pk>/", views.announcement_detail, name="announcement_detail"),
    path("inbox/", views.inbox, name="inbox"),
]
