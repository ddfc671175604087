"""Login throttling (django-axes) as the login page explains it: how long a lockout lasts, and whom to ask."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.template.response import TemplateResponse
from django.utils import timezone


def cool_off() -> timedelta:
    from axes.helpers import get_cool_off

    return get_cool_off() or timedelta(0)


def _minutes(delta: timedelta) -> str:
    minutes = max(1, round(delta.total_seconds() / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def login_policy() -> str:
    """The throttling rule in one sentence, for the login page."""
    return (
        f"After {settings.AXES_FAILURE_LIMIT} wrong passwords, signing in as that user from this computer is locked "
        f"for {_minutes(cool_off())}."
    )


def _locked_until(request, username: str):
    from axes.helpers import get_client_ip_address
    from axes.models import AccessAttempt

    attempt = (
        AccessAttempt.objects.filter(username=username, ip_address=get_client_ip_address(request))
        .order_by("-attempt_time")
        .first()
    )
    started = attempt.attempt_time if attempt is not None else timezone.now()
    return started + cool_off()


def lockout_response(request, original_response=None, credentials=None):
    """The login page again, saying the sign-in is locked, until when, and whom to ask (AXES_LOCKOUT_CALLABLE)."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    until = timezone.localtime(_locked_until(request, username))
    lockout = (
        f"Too many wrong passwords: signing in as {username or 'this user'} from this computer is locked for "
        f"{_minutes(cool_off())}, until {until:%H:%M} ({until:%Z}). Wait until then, or ask "
        f"{settings.PORTAL_SUPPORT_CONTACT} to unlock it sooner (django-axes: manage.py axes_reset_username)."
    )
    site = admin.site
    context = {
        **site.each_context(request),
        "title": "Log in",
        "subtitle": None,
        "app_path": request.get_full_path(),
        "form": AdminAuthenticationForm(request, initial={"username": username}),
        "username": request.user.get_username(),
        "next": request.POST.get("next") or request.GET.get("next", ""),
        "site_name": request.get_host(),
        "lockout": lockout,
        "login_policy": login_policy(),
    }
    return TemplateResponse(request, "admin/login.html", context, status=settings.AXES_HTTP_RESPONSE_CODE).render()


def client_ip(request) -> str:
    """The client's address: the proxy's word for it only when one is configured (BEHIND_PROXY)."""
    if getattr(settings, "BEHIND_PROXY", False):
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if forwarded:
            # The proxy appends the address it saw: the last entry is the one nobody else could forge.
            return forwarded[-1]
    return request.META.get("REMOTE_ADDR", "")
