"""How the console shows a job run: its state as a coloured label, its rows, and the HTML a list refreshes with."""

from __future__ import annotations

from django.utils.html import format_html

from integration_portal.formats import local_datetime
from jobs.models import JobRun
from jobs.registry import JOBS

_STATE_CLASS = {
    JobRun.Status.DONE: "console-ok",
    JobRun.Status.QUEUED: "console-muted",
    JobRun.Status.RUNNING: "console-running",
}


def state_html(run: JobRun) -> str:
    """The run's state as of now (a killed run reads Interrupted), coloured as the dashboard colours it."""
    state = run.state
    return format_html(
        '<span class="console-state console-state-{} {}">{}</span>',
        state,
        _STATE_CLASS.get(state, "console-failed"),
        JobRun.Status(state).label,
    )


def job_title(run: JobRun) -> str:
    spec = JOBS.get(run.job)
    return spec.title if spec else run.job


# The run list's fields that change while a run goes on, and how each is shown.
RUN_FIELDS = {
    "state": state_html,
    "rows": lambda run: run.rows_text if run.has_rows else "—",
    "finished": lambda run: local_datetime(run.finished_at) or "—",
    "message": lambda run: run.state_message,
}


def run_fields_html(run: JobRun) -> dict[str, str]:
    """Each changing field of the run as the run list shows it (the refresh's JSON)."""
    return {name: str(format_html("{}", render(run))) for name, render in RUN_FIELDS.items()}


def run_field_cell(run: JobRun, name: str) -> str:
    """A run list cell that the page's refresh can update in place."""
    return format_html('<span data-run="{}" data-field="{}">{}</span>', run.pk, name, RUN_FIELDS[name](run))
