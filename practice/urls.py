from django.urls import path

from . import views
from .views_projects import urlpatterns as project_urls

app_name = "practice"

urlpatterns = [
    path("meetings/<int:pk>/theme-day/", views.theme_day, name="theme_day"),
    path("activities/<int:pk>/delete/", views.activity_delete, name="activity_delete"),
    path("hazards/<int:pk>/edit/", views.hazard_edit, name="hazard_edit"),
    path("hazards/", views.hazard_overview, name="hazard_overview"),
    path("branches/<int:pk>/pioneers/", views.pioneer_posts, name="pioneer_posts"),
    path("pioneers/<int:pk>/end/", views.pioneer_post_end, name="pioneer_post_end"),
]
urlpatterns += project_urls
