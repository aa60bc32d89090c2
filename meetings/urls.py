from .views import checkin, compliance, ledger, meetings, mine, places

app_name = "meetings"

urlpatterns = [
    *meetings.urlpatterns,
    *compliance.urlpatterns,
    *checkin.urlpatterns,
    *ledger.urlpatterns,
    *mine.urlpatterns,
    *places.urlpatterns,
]
