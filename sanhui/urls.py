from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static as static_url
from django.urls import include, path
from django.views.generic import RedirectView

from org import two_factor
from org import views as org_views

from . import views, views_dashboard

admin.site.site_header = "三会一课管理系统"
admin.site.site_title = "三会一课"
admin.site.index_title = "系统配置"


class FaviconView(RedirectView):
    """Browsers and bookmarks ask for /favicon.ico whatever the page links to: send them to the static file.

    Resolved per request, not at import: the hashed name exists only once ``collectstatic`` has run.
    """

    permanent = False

    def get_redirect_url(self, *args, **kwargs):
        return static_url("img/favicon.ico")


urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", org_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(template_name="registration/password_change.html"),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="registration/password_change_done.html"),
        name="password_change_done",
    ),
    path("accounts/2fa/", two_factor.two_factor_setup, name="two_factor_setup"),
    path("accounts/2fa/qr.svg", two_factor.two_factor_qr, name="two_factor_qr"),
    path("accounts/2fa/verify/", two_factor.two_factor_verify, name="two_factor_verify"),
    path("healthz", org_views.healthz, name="healthz"),
    path("favicon.ico", FaviconView.as_view(), name="favicon"),
    path("org/", include("org.urls")),
    path("bulletin/", include("bulletin.urls")),
    path("meetings/", include("meetings.urls")),
    path("supervision/", include("supervision.urls")),
    path("tasks/", include("tasks.urls")),
    path("tasks/", include("tasks.follow_views")),
    path("assessment/", include("assessment.urls")),
    path("todo/", include("tasks.urls_todo")),
    path("appraisal/", include("appraisal.urls")),
    path("study/", include("study.urls")),
    path("practice/", include("practice.urls")),
    path("dashboard/", views_dashboard.dashboard, name="dashboard"),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
