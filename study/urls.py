from django.urls import path

from . import views_assignments, views_groups, views_quiz

app_name = "study"

urlpatterns: list = [
    path("items/<int:item_pk>/assign/", views_assignments.assignment_create, name="assignment_create"),
    path("assignments/<int:pk>/", views_assignments.assignment_detail, name="assignment_detail"),
    path("assignments/<int:pk>/mine/", views_assignments.assignment_todo, name="assignment_todo"),
    path("items/<int:item_pk>/quiz/", views_quiz.quiz, name="quiz"),
    path("group/", views_groups.group_home, name="group_home"),
    path("group/<int:pk>/", views_groups.group, name="group"),
    path("group/posts/<int:pk>/hide/", views_groups.post_hide, name="post_hide"),
    path("group/photos/<int:pk>/", views_groups.post_photo, name="post_photo"),
]
