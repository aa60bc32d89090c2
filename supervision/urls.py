from .views import attestation, evidence, findings, review

app_name = "supervision"

urlpatterns = [
    *evidence.urlpatterns,
    *review.urlpatterns,
    *findings.urlpatterns,
    *attestation.urlpatterns,
]
