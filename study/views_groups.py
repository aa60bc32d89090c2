"""学习交流群 pages: the branch's stream with the post form, hiding a post, a post's photo."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from org.forms import attach_service_errors
from org.models import Member, Organization
from org.scope import get_scope
from supervision.models import evidence_storage

from . import groups as services
from .forms_study import HideForm, PostForm
from .models import GroupPost, GroupPostPhoto, StudyItem


def _get_branch_for_user(request, pk: int) -> Organization:
    """The branch if the user may read its group; 404 otherwise (another branch's members included)."""
    branch = get_object_or_404(Organization.objects.branches(), pk=pk)
    if not request.user.has_perm("study.view_group", branch):
        raise Http404
    return branch


@login_required
def group_home(request):
    """My branch's group."""
    branch_id = get_scope(request.user).home_branch_id
    if branch_id is None:
        raise Http404
    url = reverse("study:group", args=[branch_id])
    item = request.GET.get("item", "")
    return redirect(f"{url}?item={item}#post-form" if item.isdigit() else url)


@login_required
@require_http_methods(["GET", "POST"])
def group(request, pk: int):
    branch = _get_branch_for_user(request, pk)
    can_post = request.user.has_perm("study.post_in_group", branch)
    form = PostForm(request.POST or None, initial={"form_token": uuid.uuid4().hex, "item": request.GET.get("item")})
    if request.method == "POST":
        if not can_post:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            item = None
            if data["item"]:
                item = StudyItem.objects.filter(pk=data["item"]).first()
            try:
                services.post_create(
                    branch=branch,
                    author=Member.objects.get(pk=get_scope(request.user).member_id),
                    text=data["text"],
                    item=item,
                    photos=request.FILES.getlist("photos"),
                    token=data["form_token"],
                    now=timezone.now(),
                )
            except ValidationError as error:
                attach_service_errors(form, error)
            else:
                messages.success(request, _("学习心得已发表。"))
                return redirect("study:group", pk=branch.pk)
    page = services.stream(branch, raw_page=request.GET.get("page"))
    return render(
        request,
        "study/group.html",
        {
            "branch": branch,
            "page": page,
            "form": form if can_post else None,
            "can_hide": request.user.has_perm("study.hide_post", branch),
            "hide_form": HideForm(),
        },
        status=400 if form.errors else 200,
    )


def _get_post_for_user(request, pk: int, perm: str) -> GroupPost:
    post = get_object_or_404(GroupPost.objects.select_related("branch"), pk=pk)
    if not request.user.has_perm("study.view_group", post.branch):
        raise Http404
    if not request.user.has_perm(perm, post.branch):
        raise PermissionDenied
    return post


@login_required
@require_POST
def post_hide(request, pk: int):
    post = _get_post_for_user(request, pk, "study.hide_post")
    form = HideForm(request.POST)
    if form.is_valid():
        try:
            services.post_hide(post=post, user=request.user, reason=form.cleaned_data["reason"], now=timezone.now())
        except ValidationError as error:
            messages.error(request, "；".join(error.messages))
        else:
            messages.success(request, _("已隐藏这条学习心得。"))
    else:
        messages.error(request, _("请填写隐藏原因。"))
    return redirect("study:group", pk=post.branch_id)


@login_required
def post_photo(request, pk: int):
    """A post's photo, to those who may read its branch's group (never a public URL)."""
    photo = get_object_or_404(GroupPostPhoto.objects.select_related("post__branch"), pk=pk)
    post = photo.post
    if not request.user.has_perm("study.view_group", post.branch):
        raise Http404
    if post.is_hidden and not request.user.has_perm("study.hide_post", post.branch):
        raise Http404
    # The original keeps its EXIF (GPS): only the worker's clean copy is ever served.
    if photo.status != GroupPostPhoto.Status.READY or not photo.display:
        raise Http404
    try:
        fh = evidence_storage().open(photo.display, "rb")
    except FileNotFoundError as missing:
        raise Http404 from missing
    response = FileResponse(fh, content_type=photo.display_type or "image/jpeg")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=300"
    return response
