from django.urls import path  # noqa: F401

from .views_projects import urlpatterns as project_urls

app_name = "practice"

urlpatterns: list = []
urlpatterns += project_urls
