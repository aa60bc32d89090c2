"""The meetings app's views, one module per area, each with its own ``urlpatterns``."""
