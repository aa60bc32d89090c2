from django.urls import path

from . import media_views, views, views_assignments, views_groups, views_quiz, views_records

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
    # 学习任务, 测验, 学习交流群
    path("items/<int:item_pk>/assign/", views_assignments.assignment_create, name="assignment_create"),
    path("assignments/", views_assignments.assignment_list, name="assignment_list"),
    path("assignments/<int:pk>/", views_assignments.assignment_detail, name="assignment_detail"),
    path("assignments/<int:pk>/mine/", views_assignments.assignment_todo, name="assignment_todo"),
    path("items/<int:item_pk>/quiz/", views_quiz.quiz, name="quiz"),
    path("group/", views_groups.group_home, name="group_home"),
    path("group/<int:pk>/", views_groups.group, name="group"),
    path("group/posts/<int:pk>/hide/", views_groups.post_hide, name="post_hide"),
    path("group/photos/<int:pk>/", views_groups.post_photo, name="post_photo"),
    *views_records.urlpatterns,
    *media_views.urlpatterns,
]
