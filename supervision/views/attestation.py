"""The speaker's page: confirm or dispute one's recorded points of a submitted record (phone first).

Reached from the message sent after submission and from 我的待办. Only the speaker sees
their own speeches (``supervision.attest_speech``); anyone else gets 404, so nothing of the
record leaks. The 督导组 reads the answers on the review page.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from org.forms import error_messages
from org.scope import get_scope

from ..models import SpeechAttestation
from ..services import attestation as services

ATTEST = "supervision.attest_speech"


def _attestations_of(request, meeting_pk: int) -> list[SpeechAttestation]:
    """The signed-in member's speeches of the meeting that were asked (one query); 404 when none."""
    member_id = get_scope(request.user).member_id
    rows = (
        list(
            SpeechAttestation.objects.filter(meeting_id=meeting_pk, member_id=member_id)
            .select_related("meeting__branch", "speech__agenda_item")
            .order_by("speech__agenda_item__order", "speech__order", "pk")
        )
        if member_id
        else []
    )
    if not rows:
        raise Http404
    return rows


def _get_attestation_for_user(request, pk: int) -> SpeechAttestation:
    attestation = SpeechAttestation.objects.select_related("meeting").filter(pk=pk).first()
    if attestation is None or not request.user.has_perm(ATTEST, attestation):
        raise Http404
    return attestation


@login_required
def attest_meeting(request, meeting_pk: int):
    rows = _attestations_of(request, meeting_pk)
    now = timezone.now()
    return render(
        request,
        "supervision/attest_meeting.html",
        {"meeting": rows[0].meeting, "rows": rows, "now": now, "open": [r for r in rows if r.due_at > now]},
    )


@login_required
@require_POST
def attest_answer(request, pk: int):
    attestation = _get_attestation_for_user(request, pk)
    decision = request.POST.get("decision")
    if decision not in ("confirm", "dispute"):
        messages.error(request, _("请选择“确认”或“有异议”。"))
    else:
        try:
            services.attestation_answer(
                attestation=attestation,
                confirm=decision == "confirm",
                comment=request.POST.get("comment", ""),
                member_id=get_scope(request.user).member_id,
                now=timezone.now(),
            )
        except ValidationError as error:
            error_messages(request, error)
        else:
            messages.success(request, _("已答复：{status}。").format(status=attestation.get_status_display()))
    return redirect(f"{services.attestation_url(attestation.meeting_id)}#attest-{attestation.pk}")


urlpatterns = [
    path("attest/<int:meeting_pk>/", attest_meeting, name="attest_meeting"),
    path("attest/speech/<int:pk>/", attest_answer, name="attest_answer"),
]
