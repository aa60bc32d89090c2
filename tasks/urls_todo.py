from django.urls import path

from . import views_todo

app_name = "todo"

urlpatterns = [
    path("", views_todo.index, name="index"),
]
