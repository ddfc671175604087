"""Django system checks of the file exchange: a paramiko it was not tested with is an error, not a surprise."""

from __future__ import annotations

from typing import Any

from django.core import checks

from .transport import paramiko_problem


def paramiko_check(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    """Report an installed paramiko the pipelined SFTP transfers were not tested with."""
    problem = paramiko_problem()
    return [checks.Error(problem, id="sftpsync.E001")] if problem else []
