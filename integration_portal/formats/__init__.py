"""Date formats by language (FORMAT_MODULE_PATH), and the one helper Python code formats a time with."""

from __future__ import annotations

from datetime import datetime

from django.utils import formats, timezone


def local_datetime(value: datetime | None) -> str:
    """Format a time as the console shows every time: local, "2026-11-30 14:05" (templates: |date:"DATETIME_FORMAT")."""
    if value is None:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return formats.date_format(value, "DATETIME_FORMAT")
