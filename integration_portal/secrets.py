"""Secrets at rest: a model field encrypted with Fernet (cryptography) and a write-only admin form.

Keys come from ``PORTAL_ENCRYPTION_KEY`` (comma-separated Fernet keys, newest first, so a key can be rotated with
MultiFernet and ``manage.py rotate_secrets``); ``make run`` writes one into ``var/`` on first run. The key is never
derived from ``SECRET_KEY``. A stored secret that no configured key can decrypt does not break the pages that load
it: it reads as an ``UnreadableSecret`` (the stored token, kept as it is), the connection pages say which secret to
enter again, and nothing can use it until it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django import forms
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from .log_redaction import redact_value

SECRET_KEPT_HELP = "Stored encrypted and never shown again. Leave blank to keep the current value."  # noqa: S105 (help text, not a secret)
SECRET_UNREADABLE_HELP = "The stored value cannot be decrypted with the current encryption key: enter it again."  # noqa: S105
GENERATE_KEY = "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
NO_KEY = (
    "No encryption key for stored secrets: set PORTAL_ENCRYPTION_KEY (generate one with "
    f"{GENERATE_KEY}), or start the portal once with `make run`, which writes one into var/encryption_key."
)


class SecretUnreadable(ImproperlyConfigured):
    """A stored secret cannot be decrypted with the configured keys."""


class Ciphertext(str):
    """A Fernet token as stored: an EncryptedTextField writes it back as it is, never encrypting it twice."""


class UnreadableSecret(Ciphertext):
    """A stored secret no configured key decrypts: kept as it is until someone enters it again."""


@lru_cache(maxsize=4)
def _fernet(keys: str) -> MultiFernet:
    parts = [k.strip() for k in keys.split(",") if k.strip()]
    if not parts:
        raise ImproperlyConfigured(NO_KEY)
    try:
        return MultiFernet([Fernet(k.encode()) for k in parts])
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"PORTAL_ENCRYPTION_KEY is not a valid Fernet key; generate one with {GENERATE_KEY}"
        ) from exc


def fernet() -> MultiFernet:
    """All configured keys: encrypts with the newest, decrypts with any."""
    return _fernet(settings.PORTAL_ENCRYPTION_KEY)


def newest_fernet() -> Fernet:
    """The key new secrets are encrypted with (the first of PORTAL_ENCRYPTION_KEY)."""
    return fernet()._fernets[0]


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable(
            "A stored secret cannot be decrypted: PORTAL_ENCRYPTION_KEY changed. Restore the old key, or list it "
            "after the new one in PORTAL_ENCRYPTION_KEY, or enter the secret again."
        ) from exc


class EncryptedTextField(models.TextField):
    """A text field stored as a Fernet token; Python code sees the plain value (or an UnreadableSecret)."""

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        try:
            plain = decrypt(value)
        except ImproperlyConfigured:
            # A wrong, rotated-away or missing key: the page still loads and says which secret to enter again.
            return UnreadableSecret(value)
        redact_value(plain)
        return plain

    def get_prep_value(self, value):
        if isinstance(value, Ciphertext):
            return str(value)
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        redact_value(value)
        return encrypt(value)

    def formfield(self, **kwargs):
        kwargs.setdefault("widget", forms.PasswordInput(render_value=False))
        kwargs.setdefault("help_text", SECRET_KEPT_HELP)
        return super().formfield(**kwargs)


def encrypted_fields(model) -> list[EncryptedTextField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]


def unreadable_secrets(obj) -> list[str]:
    """Name the secrets of ``obj`` that cannot be decrypted with the configured keys (verbose names)."""
    fields = encrypted_fields(type(obj))
    return [str(f.verbose_name) for f in fields if isinstance(getattr(obj, f.attname), UnreadableSecret)]


def secrets_unreadable_message(obj) -> str:
    """Say which secrets of ``obj`` must be entered again and how, or return ''."""
    names = unreadable_secrets(obj)
    if not names:
        return ""
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return (
        f"The stored {listed} of {obj} cannot be decrypted with the current encryption key "
        "(PORTAL_ENCRYPTION_KEY changed, or the key it was saved with is gone). Enter "
        f"{'it' if len(names) == 1 else 'them'} again on the connection's page and save, or put the old key back "
        "after the new one in PORTAL_ENCRYPTION_KEY. Nothing is sent with this connection until then."
    )


def secrets_require_readable(obj) -> None:
    """Raise SecretUnreadable, saying what to do, if a secret of ``obj`` cannot be decrypted."""
    message = secrets_unreadable_message(obj)
    if message:
        raise SecretUnreadable(message)


class WriteOnlySecretsForm(forms.ModelForm):
    """A model form whose EncryptedTextFields are never rendered and keep their value when left blank.

    A secret that cannot be decrypted (the key changed) is kept as stored when left blank, and replaced when a
    new value is entered.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.secret_field_names():
            field = self.fields[name]
            field.required = False
            field.widget = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
            stored = getattr(self.instance, name) if self.instance.pk else ""
            if isinstance(stored, UnreadableSecret):
                field.help_text = SECRET_UNREADABLE_HELP
            else:
                field.help_text = SECRET_KEPT_HELP if stored else "Stored encrypted and never shown again."
            self.initial[name] = ""

    def secret_field_names(self) -> list[str]:
        return [f.name for f in encrypted_fields(self._meta.model) if f.name in self.fields]

    def clean(self):
        cleaned = super().clean()
        for name in self.secret_field_names():
            if not cleaned.get(name) and self.instance.pk:
                cleaned[name] = getattr(type(self.instance).objects.get(pk=self.instance.pk), name)
        return cleaned


@dataclass
class RotationReport:
    """What ``secrets_rotate`` did: secrets re-encrypted, already under the newest key, and unreadable."""

    rotated: int = 0
    current: int = 0
    unreadable: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.rotated} secret(s) re-encrypted with the newest key, {self.current} already were, "
            f"{len(self.unreadable)} unreadable."
        )


def secrets_rotate() -> RotationReport:
    """Re-encrypt every stored secret with the newest key (MultiFernet.rotate); idempotent.

    Secrets already under the newest key are left alone, so a second run changes nothing. A secret no configured key
    can read is left as it is and named in the report.
    """
    from django.apps import apps
    from django.db import transaction
    from django.db.models import TextField
    from django.db.models.functions import Cast

    keys, newest = fernet(), newest_fernet()
    report = RotationReport()
    for model in apps.get_models():
        fields = encrypted_fields(model)
        if not fields or model._meta.proxy:
            continue
        for f in fields:
            # The stored token, not the decrypted value: cast to a plain text column skips from_db_value.
            rows = (
                model._base_manager.exclude(**{f.attname: ""})
                .exclude(**{f"{f.attname}__isnull": True})
                .annotate(_stored=Cast(f.attname, TextField()))
                .values_list("pk", "_stored")
            )
            for pk, stored in rows.iterator():
                token = stored.encode()
                try:
                    newest.decrypt(token)
                    report.current += 1
                    continue
                except InvalidToken:
                    pass
                try:
                    rotated = keys.rotate(token).decode()
                except InvalidToken:
                    report.unreadable.append(f"{model._meta.verbose_name} #{pk} ({f.verbose_name})")
                    continue
                with transaction.atomic():
                    model._base_manager.filter(pk=pk, **{f.attname: Ciphertext(stored)}).update(
                        **{f.attname: Ciphertext(rotated)}
                    )
                report.rotated += 1
    return report


class UnreadableSecretsAdminMixin:
    """A ModelAdmin mixin for connections: their list and page say which secrets must be entered again.

    With a wrong or rotated-away key the pages still open (no 500); the change form accepts new values.
    """

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET":
            for obj in self.model._default_manager.all():
                self._warn_unreadable(request, obj)
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            obj = self.get_object(request, object_id)
            if obj is not None:
                self._warn_unreadable(request, obj)
        return super().change_view(request, object_id, form_url, extra_context)

    def _warn_unreadable(self, request, obj) -> None:
        from django.contrib import messages

        message = secrets_unreadable_message(obj)
        if message:
            self.message_user(request, message, messages.ERROR)
