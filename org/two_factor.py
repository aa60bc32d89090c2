"""A second factor (TOTP, django-otp) for staff and the superuser; required for the admin when
``DJANGO_ADMIN_2FA=true``.

Enrolment: the setup page makes an unconfirmed TOTP device, shows its QR code (an SVG served
by the app itself: mines run on intranets) and its secret as text for apps that cannot scan,
and confirms it with the first code the app shows. The verify page asks for a code once per
session. ``AdminSecondFactorMiddleware`` sends an unverified session from ``/admin/`` to
verify (or to enrol, when the login has no device yet).
"""

from __future__ import annotations

import base64
import io

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

DEVICE_NAME = "身份验证器"


def may_use_second_factor(user) -> bool:
    return user.is_authenticated and (user.is_staff or user.is_superuser)


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-pk").first()


def _pending_device(user, *, create: bool) -> TOTPDevice | None:
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None and create:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def secret_text(device: TOTPDevice) -> str:
    """The key as the base32 text authenticator apps accept, in groups of four."""
    text = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


class TokenForm(forms.Form):
    token = forms.CharField(
        label="验证码",
        min_length=6,
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
        help_text="身份验证器应用中显示的 6 位数字。",
    )

    def clean_token(self):
        token = self.cleaned_data["token"].replace(" ", "")
        if not token.isdigit():
            raise forms.ValidationError(_("验证码应为数字。"))
        return token


def _require_staff(request) -> None:
    if not may_use_second_factor(request.user):
        raise PermissionDenied


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("home")


@login_required
@never_cache
def two_factor_setup(request):
    """Enrol an authenticator app: QR code and secret, then the first code confirms it."""
    _require_staff(request)
    device = _pending_device(request.user, create=True)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            # One authenticator at a time: the new one replaces any earlier one.
            TOTPDevice.objects.filter(user=request.user).exclude(pk=device.pk).delete()
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            messages.success(request, _("两步验证已开启：以后进入系统配置时需输入身份验证器中的验证码。"))
            return redirect(_next_url(request))
        form.add_error("token", _("验证码不正确或已过期，请输入应用中当前显示的验证码。"))
    ctx = {
        "form": form,
        "secret": secret_text(device),
        "enabled": confirmed_device(request.user) is not None,
        "next": _next_url(request),
    }
    return render(request, "registration/two_factor_setup.html", ctx)


@login_required
@never_cache
def two_factor_qr(request):
    """The QR code of the device being enrolled, as SVG (never cached, never for anyone else)."""
    _require_staff(request)
    device = _pending_device(request.user, create=False)
    if device is None:
        raise PermissionDenied
    out = io.BytesIO()
    segno.make(device.config_url, error="m").save(out, kind="svg", scale=5, border=2)
    return HttpResponse(out.getvalue(), content_type="image/svg+xml")


@login_required
@never_cache
def two_factor_verify(request):
    """Ask for a code once per session."""
    _require_staff(request)
    device = confirmed_device(request.user)
    if device is None:
        return redirect(f"{reverse('two_factor_setup')}?next={_next_url(request)}")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            otp_login(request, device)
            return redirect(_next_url(request))
        form.add_error("token", _("验证码不正确或已过期，请输入应用中当前显示的验证码。"))
    return render(request, "registration/two_factor_verify.html", {"form": form, "next": _next_url(request)})


class AdminSecondFactorMiddleware:
    """With ``DJANGO_ADMIN_2FA=true`` the admin needs a session verified with a second factor."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.ADMIN_2FA and request.path.startswith(reverse("admin:index")):
            user = request.user
            if user.is_authenticated and not user.is_verified():
                if not may_use_second_factor(user):
                    raise PermissionDenied
                target = "two_factor_verify" if confirmed_device(user) else "two_factor_setup"
                return redirect(f"{reverse(target)}?next={request.get_full_path()}")
        return self.get_response(request)
