"""System checks for keys that belong to the install (``manage.py check --deploy`` runs them)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from .secrets import fernet


@register(Tags.security, deploy=True)
def install_keys_check(app_configs=None, **kwargs):
    """Fail a deployment on the repository's public SECRET_KEY and on a missing or invalid encryption key."""
    from .settings import DEFAULT_SECRET_KEY

    problems = []
    if settings.SECRET_KEY == DEFAULT_SECRET_KEY:
        problems.append(
            Error(
                "SECRET_KEY is the repository's public key.",
                hint="Set SECRET_KEY to a random value of your own (make run writes one into var/secret_key).",
                id="portal.E001",
            )
        )
    if not settings.PORTAL_ENCRYPTION_KEY.strip():
        problems.append(
            Error(
                "PORTAL_ENCRYPTION_KEY is empty: stored secrets cannot be encrypted or read.",
                hint="Set PORTAL_ENCRYPTION_KEY to a Fernet key (make run writes one into var/encryption_key).",
                id="portal.E002",
            )
        )
    else:
        try:
            fernet()
        except ImproperlyConfigured as exc:
            problems.append(Error(str(exc), id="portal.E003"))
    if not getattr(settings, "BEHIND_PROXY", False) and getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        problems.append(
            Warning(
                "SECURE_PROXY_SSL_HEADER is set but BEHIND_PROXY is not: any client could claim HTTPS.",
                id="portal.W001",
            )
        )
    return problems
