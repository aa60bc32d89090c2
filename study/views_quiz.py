"""测验 page: a member answers an item's quiz and sees their own attempts (no one else's, no ranking)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from org.models import Member
from org.scope import get_scope

from . import quiz as services
from .models import Attempt, Quiz
from .selectors import visible_items


def _get_quiz_for_user(request, item_pk: int) -> Quiz:
    """The quiz of an item the user may study (study.selectors.visible_items); 404 otherwise."""
    item = get_object_or_404(visible_items(request.user), pk=item_pk)
    return get_object_or_404(Quiz.objects.select_related("item"), item=item)


@login_required
@require_http_methods(["GET", "POST"])
def quiz(request, item_pk: int):
    quiz = _get_quiz_for_user(request, item_pk)
    member_id = get_scope(request.user).member_id
    if member_id is None:
        raise PermissionDenied
    member = Member.objects.get(pk=member_id)
    questions = list(quiz.questions.prefetch_related("choices"))
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        now = timezone.now()
        raw = request.POST.get("attempt", "")
        try:
            if raw:
                attempt = get_object_or_404(Attempt, pk=int(raw) if raw.isdigit() else 0, quiz=quiz, member=member)
            else:
                attempt = services.attempt_start(quiz=quiz, member=member, now=now)
            answers = {q.pk: [int(c) for c in request.POST.getlist(f"q{q.pk}") if c.isdigit()] for q in questions}
            answers = {k: v for k, v in answers.items() if v}
            attempt = services.attempt_submit(attempt=attempt, answers=answers, now=now)
        except ValidationError as error:
            errors = error.messages
            status = 400
        else:
            if attempt.passed:
                messages.success(request, _("测验通过：答对 {c} / {t} 题。").format(c=attempt.correct, t=attempt.total))
            else:
                messages.warning(
                    request, _("未通过：答对 {c} / {t} 题，可以再试一次。").format(c=attempt.correct, t=attempt.total)
                )
            return redirect("study:quiz", item_pk=item_pk)
    attempts = list(Attempt.objects.filter(quiz=quiz, member=member, submitted_at__isnull=False)[:20])
    open_attempt = Attempt.objects.filter(quiz=quiz, member=member, submitted_at__isnull=True).first()
    return render(
        request,
        "study/quiz.html",
        {
            "quiz": quiz,
            "item": quiz.item,
            "questions": questions,
            "attempts": attempts,
            "open_attempt": open_attempt,
            "errors": errors,
            "passed": any(a.passed for a in attempts),
        },
        status=status,
    )
