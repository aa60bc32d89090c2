from .views import members

app_name = "assessment"

urlpatterns = [*members.urlpatterns]
