"""The console's own admin pages: the dashboard, Selective Customer Export and Jobs."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, JsonResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse

from customers.models import ExternalSystem
from customers.selectors import SyncBucket
from integration_portal.formats import local_datetime
from jobs.models import JobRun
from jobs.registry import JOBS

from .admin import redirect_back
from .alerts import DIGEST_JOB, alert_subscription_for, alert_subscription_save
from .permissions import can_resync, can_run_jobs
from .runs import run_fields_html
from .selectors import (
    CHART_DAYS,
    COUNT_JOB,
    chart_bars,
    counts_stale,
    dashboard_counts,
    dashboard_warnings,
    frequency_label,
    job_states,
    job_states_by_key,
    latest_attempts,
    runs_by_id,
)
from .services import customers_export_selected, ids_parse, job_run_now, job_set_frequency

MAX_SELECTIVE_IDS = 200


def dashboard_context(request) -> dict:
    """What the dashboard (the admin's front page) shows; a fixed number of queries, none of them a count."""
    systems = list(ExternalSystem.objects.filter(is_active=True).order_by("name"))
    counts = dashboard_counts(systems=systems)
    jobs = job_states()
    return {
        "counts": counts,
        "buckets": SyncBucket.choices,
        "counts_stale": counts_stale(counts=counts, jobs=jobs),
        "count_job": COUNT_JOB,
        "chart_days": CHART_DAYS,
        "bars": chart_bars(counts.days) if counts else [],
        "jobs": jobs,
        "warnings": dashboard_warnings(systems=systems, jobs=jobs, counts=counts),
        "attempts": latest_attempts(),
        "can_resync": can_resync(request.user),
        "can_run_jobs": can_run_jobs(request.user),
    }


class SelectiveExportForm(forms.Form):
    ids = forms.CharField(
        label="Customer IDs",
        widget=forms.Textarea(attrs={"rows": 6, "cols": 60, "placeholder": "C0000042, 8812\nC0000043"}),
        help_text="Portal customer IDs or NetSuite internal IDs, separated by spaces, commas or lines.",
    )
    external_system = forms.ModelChoiceField(
        label="Connector",
        queryset=ExternalSystem.objects.connectors().filter(is_active=True).order_by("name"),
        empty_label=None,
    )

    def clean_ids(self):
        ids = ids_parse(self.cleaned_data["ids"])
        if not ids:
            raise forms.ValidationError("Enter at least one customer ID.")
        if len(ids) > MAX_SELECTIVE_IDS:
            raise forms.ValidationError(
                f"{len(ids)} IDs given; send at most {MAX_SELECTIVE_IDS} at a time, or let the scheduled run do it."
            )
        return ids


def selective_export_view(request, admin_site):
    """Selective Customer Export: attempt the given customers now and show each result."""
    can_send = can_resync(request.user)
    attempts = None
    if request.method == "POST":
        if not can_send:
            raise PermissionDenied
        form = SelectiveExportForm(request.POST)
        if form.is_valid():
            system = form.cleaned_data["external_system"]
            ids = form.cleaned_data["ids"]
            attempts = customers_export_selected(ids=ids, external_system=system, user=request.user)
            ok = sum(a.ok for a in attempts)
            level = messages.SUCCESS if ok == len(attempts) else messages.WARNING
            messages.add_message(
                request, level, f"{ok} of {len(attempts)} customer(s) sent to {system.name}; see each result below."
            )
    else:
        form = SelectiveExportForm()
    single_connector = form.fields["external_system"].queryset.count() == 1
    context = {
        **admin_site.each_context(request),
        "title": "Selective Customer Export",
        "form": form,
        "attempts": attempts,
        "can_send": can_send,
        "single_connector": single_connector,
    }
    return TemplateResponse(request, "admin/console/selective_export.html", context)


def jobs_view(request, admin_site):
    """Jobs: next run, last run, frequency and Run now for each registered job."""
    can_run = can_run_jobs(request.user)
    if request.method == "POST":
        if not can_run:
            raise PermissionDenied
        key = request.POST.get("job", "")
        try:
            if "run_now" in request.POST:
                run = job_run_now(key=key, user=request.user)
                if key == COUNT_JOB:
                    messages.success(
                        request, "The dashboard is queued to be recounted now: reload it in a few seconds."
                    )
                else:
                    messages.success(
                        request,
                        f"{JOBS[key].title} is queued to run now (queued at {local_datetime(run.queued_at)}); "
                        "it shows as running below once the job cluster starts it.",
                    )
            elif "frequency" in request.POST:
                minutes = int(request.POST.get("frequency") or 0)
                schedule = job_set_frequency(key=key, minutes=minutes)
                messages.success(
                    request,
                    f"{JOBS[key].title} now runs {frequency_label(minutes).lower()}; next run at "
                    f"{local_datetime(schedule.next_run)}.",
                )
        except KeyError:
            messages.error(request, f"There is no job called {key!r}: reload the page and try again.")
        except ValueError as exc:
            messages.error(request, str(exc))
        return redirect_back(request, reverse("admin:console_jobs"))
    states = job_states()
    context = {
        **admin_site.each_context(request),
        "title": "Jobs",
        "jobs": states,
        "can_run_jobs": can_run,
        "any_active": any(s.active for s in states),
        "poll_url": reverse("admin:console_jobs_progress"),
    }
    return TemplateResponse(request, "admin/console/jobs.html", context)


def jobs_progress_view(request, admin_site):
    """What the Jobs page and the run list show of runs, as JSON, for them to refresh without a reload.

    ``jobs``: each job's status cells as HTML (next run, last run, now); ``runs``: the runs named in ``?runs=``
    (a run list's page), each field as HTML; ``newest_run``: the newest run's ID, so a list can say that more
    started; ``active``: how many runs are queued or running.
    """
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    states = job_states()
    ids = [int(i) for i in request.GET.get("runs", "").split(",") if i.isdigit()]
    newest = JobRun.objects.order_by("-id").values_list("id", flat=True).first()
    return JsonResponse(
        {
            "jobs": {
                state.spec.key: render_to_string("admin/console/_job_status_cells.html", {"j": state})
                for state in states
            },
            "runs": {str(run.pk): run_fields_html(run) for run in runs_by_id(ids=ids)} if ids else {},
            "newest_run": newest,
            "active": sum(len(state.active) for state in states),
        }
    )


class AlertSubscriptionForm(forms.Form):
    is_active = forms.BooleanField(label="Email me a digest of new failures", required=False)
    connectors = forms.ModelMultipleChoiceField(
        queryset=ExternalSystem.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every connector.",
    )


def alerts_view(request, admin_site):
    """Email alerts: each user chooses for themselves whether, and for which connectors, new failures are mailed."""
    subscription = alert_subscription_for(user=request.user)
    if request.method == "POST":
        form = AlertSubscriptionForm(request.POST)
        if form.is_valid():
            alert_subscription_save(
                user=request.user,
                is_active=form.cleaned_data["is_active"],
                connectors=list(form.cleaned_data["connectors"]),
            )
            messages.success(
                request,
                "Saved: new failures are emailed to you in a digest."
                if form.cleaned_data["is_active"]
                else "Saved: no failure emails are sent to you.",
            )
            return redirect_back(request, reverse("admin:console_alerts"))
    else:
        initial = {"is_active": True, "connectors": []}
        if subscription is not None:
            initial = {"is_active": subscription.is_active, "connectors": list(subscription.connectors.all())}
        form = AlertSubscriptionForm(initial=initial)
    context = {
        **admin_site.each_context(request),
        "title": "Email alerts",
        "form": form,
        "subscription": subscription,
        "has_email": bool(request.user.email),
        "digest_job": job_states_by_key().get(DIGEST_JOB),
    }
    return TemplateResponse(request, "admin/console/alerts.html", context)
