"""Template filters of the console: a job run's state, coloured as everywhere else."""

from django import template

from console.runs import state_html

register = template.Library()


@register.filter
def run_state(run):
    """The run's state as of now, as a coloured label: {{ run|run_state }}."""
    return state_html(run) if run is not None else ""


@register.filter
def thousands(number):
    """A count with thousands separated, as 1,000,000."""
    return f"{number:,}" if isinstance(number, int) else number
