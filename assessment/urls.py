from .views import members, runs

app_name = "assessment"

urlpatterns = [*members.urlpatterns, *runs.urlpatterns]
