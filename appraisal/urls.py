from django.urls import path

from . import views

app_name = "appraisal"

urlpatterns = [
    path("", views.round_list, name="round_list"),
    path("year/open/", views.year_open, name="year_open"),
    path("meeting/<int:meeting_pk>/start/", views.round_start, name="round_start"),
    path("round/<int:pk>/", views.round_detail, name="round_detail"),
    path("round/<int:pk>/<str:action>/do/", views.round_action, name="round_action"),
    path("round/<int:pk>/codes/", views.round_codes, name="round_codes"),
    path("round/<int:pk>/opinion/", views.round_opinion, name="round_opinion"),
    path("round/<int:pk>/tallies/", views.round_tallies, name="round_tallies"),
    path("round/<int:pk>/export.xlsx", views.round_export, name="round_export"),
    path("round/<int:pk>/confirm/", views.round_confirm, name="round_confirm"),
    path("round/<int:pk>/vote/", views.vote, name="vote"),
    path("mine/", views.my_appraisal, name="my_appraisal"),
    path("mine/<int:pk>/summary/", views.summary_edit, name="summary_edit"),
    path("mine/<int:pk>/result/", views.my_result, name="my_result"),
    path("v/", views.masses_entry, name="masses_entry"),
]
