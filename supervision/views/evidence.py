"""Placeholder until the evidence pages land."""

urlpatterns = []
