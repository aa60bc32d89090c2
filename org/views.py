from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import selectors
from .duties import PostDutiesForm, post_duties_save
from .forms import LoginForm
from .models import AuditEvent, Member, Organization, PostDuty
from .roster_views import roster_export, roster_import, roster_import_confirm, roster_template  # noqa: F401


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["failure_limit"] = settings.AXES_FAILURE_LIMIT
        ctx["cooloff_minutes"] = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
        return ctx


@require_GET
@never_cache
def healthz(request):
    """Liveness for the load balancer: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


def _get_branch_for_user(request, pk: int) -> Organization:
    branch = get_object_or_404(Organization.objects.branches().select_related("parent"), pk=pk)
    if not request.user.has_perm("org.view_branch", branch):
        raise PermissionDenied
    return branch


@login_required
def branch_list(request):
    if not request.user.has_perm("org.view_all_branches"):
        raise PermissionDenied
    branches = selectors.branch_overview(request.user, on=timezone.localdate())
    return render(request, "org/branch_list.html", {"branches": branches})


@login_required
def branch_detail(request, pk: int):
    branch = _get_branch_for_user(request, pk)
    today = timezone.localdate()
    can_see_roster = request.user.has_perm("org.view_branch_roster", branch)
    ctx = {"branch": branch, "can_see_roster": can_see_roster, "today": today}
    ctx.update(selectors.branch_detail(branch, on=today))
    if not can_see_roster:
        # Members see who their branch's committee and groups are, not each other's details.
        ctx["members"] = []
    return render(request, "org/branch_detail.html", ctx)


@login_required
def member_detail(request, pk: int):
    member = Member.objects.filter(pk=pk).prefetch_related("memberships__organization", "posts__organization").first()
    if member is None:
        raise Http404
    if not request.user.has_perm("org.view_member", member):
        raise PermissionDenied
    return render(request, "org/member_detail.html", {"member": member, "today": timezone.localdate()})


AUDIT_PAGE_SIZE = 30


@login_required
@require_GET
def audit_log(request):
    """Downloads of full-ID rosters and of evidence, newest first: read-only, for the 督导组."""
    if not request.user.has_perm("org.view_audit_log"):
        raise PermissionDenied
    action = request.GET.get("action", "")
    events = AuditEvent.objects.all()
    if action in AuditEvent.Action.values:
        events = events.filter(action=action)
    else:
        action = ""
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "org/audit_log.html", {"page": page, "action": action, "actions": AuditEvent.Action.choices})


@login_required
def branch_duties(request, pk: int):
    """The 书记 writes each committee post's duties (支委分工); shown on the branch page."""
    branch = _get_branch_for_user(request, pk)
    if not request.user.has_perm("org.edit_post_duties", branch):
        raise PermissionDenied
    current = {d.role: d.duties for d in PostDuty.objects.filter(organization=branch)}
    form = PostDutiesForm(request.POST or None, initial=current)
    if request.method == "POST" and form.is_valid():
        post_duties_save(branch=branch, duties=form.cleaned_data, user=request.user, now=timezone.now())
        messages.success(request, "支委分工已保存。")
        return redirect("org:branch_detail", pk=branch.pk)
    return render(request, "org/branch_duties.html", {"branch": branch, "form": form})
