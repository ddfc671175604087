"""Secrets at rest: a model field encrypted with Fernet (cryptography) and a write-only admin form.

Keys come from ``PORTAL_ENCRYPTION_KEY`` (comma-separated Fernet keys, newest first, so a key can be
rotated with MultiFernet). Without it, a key is derived from SECRET_KEY so the embedded default works.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django import forms
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

SECRET_KEPT_HELP = "Stored encrypted and never shown again. Leave blank to keep the current value."  # noqa: S105 (help text, not a secret)


@lru_cache(maxsize=4)
def _fernet(keys: str, secret_key: str) -> MultiFernet:
    if keys.strip():
        try:
            return MultiFernet([Fernet(k.strip().encode()) for k in keys.split(",") if k.strip()])
        except ValueError as exc:
            raise ImproperlyConfigured(
                "PORTAL_ENCRYPTION_KEY is not a valid Fernet key; generate one with "
                "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
            ) from exc
    derived = base64.urlsafe_b64encode(hashlib.sha256(b"portal-secrets:" + secret_key.encode()).digest())
    return MultiFernet([Fernet(derived)])


def fernet() -> MultiFernet:
    return _fernet(settings.PORTAL_ENCRYPTION_KEY, settings.SECRET_KEY)


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted: PORTAL_ENCRYPTION_KEY (or SECRET_KEY) changed. Restore the "
            "old key, or list it after the new one in PORTAL_ENCRYPTION_KEY, or enter the secret again."
        ) from exc


class EncryptedTextField(models.TextField):
    """A text field stored as a Fernet token; Python code sees the plain value."""

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt(value)

    def formfield(self, **kwargs):
        kwargs.setdefault("widget", forms.PasswordInput(render_value=False))
        kwargs.setdefault("help_text", SECRET_KEPT_HELP)
        return super().formfield(**kwargs)


class WriteOnlySecretsForm(forms.ModelForm):
    """A model form whose EncryptedTextFields are never rendered and keep their value when left blank."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.secret_field_names():
            field = self.fields[name]
            field.required = False
            field.widget = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
            stored = bool(self.instance.pk and getattr(self.instance, name))
            field.help_text = SECRET_KEPT_HELP if stored else "Stored encrypted and never shown again."
            self.initial[name] = ""

    def secret_field_names(self) -> list[str]:
        return [
            f.name
            for f in self._meta.model._meta.get_fields()
            if isinstance(f, EncryptedTextField) and f.name in self.fields
        ]

    def clean(self):
        cleaned = super().clean()
        for name in self.secret_field_names():
            if not cleaned.get(name) and self.instance.pk:
                cleaned[name] = getattr(type(self.instance).objects.get(pk=self.instance.pk), name)
        return cleaned
