"""Least privilege: a Viewer looks and never changes anything, on every URL and every admin action there is.

The URLs come from walking the resolver (every ModelAdmin's ``get_urls`` included) and the actions from every
registered ModelAdmin, so a URL or an action added later is checked without anyone adding it here.
"""

from __future__ import annotations

import fnmatch

import pytest
from django.contrib import messages
from django.contrib.messages import get_messages
from django.test import Client, RequestFactory
from django.urls import reverse

from .urlwalk import concrete_path, db_changes, db_snapshot, populate, registered_admins, url_cases

pytestmark = pytest.mark.django_db

# Views a Viewer may POST to and get a page back (200), because they change nothing a Viewer may not change.
VIEWER_SAFE_POSTS = {
    "admin:login": "logging in is how anyone starts; django-axes throttles it",
    "admin:logout": "ends the Viewer's own session",
    "admin:password_change": "a user may change their own password (the form checks the old one)",
    "admin:password_change_done": "a page that says the password changed",
    "admin:index": "the dashboard renders whatever the method; it writes nothing",
    "admin:app_list": "an app's model list renders whatever the method",
    "admin:jsi18n": "the admin's JavaScript catalogue",
    "admin:*_changelist": "a list; its actions are checked one by one below, list_editable needs change permission",
    "admin:*_history": "an object's history renders whatever the method",
    "admin:customers_customer_export": "an export only reads; Viewers may (IMPORT_EXPORT_EXPORT_PERMISSION_CODE)",
    "admin:view_on_site": "redirects to an object's own page elsewhere (404 when it has none); writes nothing",
    "": "the admin's catch-all answers 404 for unknown admin URLs",
}
# Views where a Viewer changes rows of their own only, and the tables those are in.
VIEWER_OWN_ROWS = {
    "admin:console_alerts": (
        "each user chooses their own failure emails: their own subscription, nobody else's",
        {"console_alertsubscription", "console_alertsubscription_connectors"},
    ),
}
# Admin actions a Viewer may run.
VIEWER_SAFE_ACTIONS = {
    "export_admin_action": "exports the selected rows to a spreadsheet: reads only, and Viewers may export",
}
REFUSED = {302, 401, 403, 405}


def _safe(name: str, allowed: dict[str, str]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) if pattern else name == "" for pattern in allowed)


@pytest.fixture
def portal(make_customer, netsuite_system, netsuite_sandbox, tmp_path, registered_job):
    return populate(
        make_customer=make_customer,
        netsuite_system=netsuite_system,
        netsuite_sandbox=netsuite_sandbox,
        tmp_path=tmp_path,
    )


@pytest.fixture
def registered_job(db):
    from jobs.registry import JOBS

    return next(iter(JOBS))


def _payload(portal, job: str) -> dict[str, str]:
    """What the portal's own forms post, so that a view missing its permission check would act on it."""
    return {
        "job": job,
        "run_now": "1",
        "resync_system": str(portal.system.pk),
        "resync": str(portal.failure.pk),
        "ids": portal.customer.customer_id,
        "external_system": str(portal.system.pk),
        "post": "yes",
        "next": "/admin/",
    }


def _acted(response) -> list[str]:
    """Messages that say something was done (or tried and failed), as opposed to refused."""
    return [str(m) for m in get_messages(response.wsgi_request) if m.level in (messages.SUCCESS, messages.ERROR)]


def test_every_url_refuses_a_viewer_anything_that_changes_state(portal, viewer, netsuite_sandbox, registered_job):
    cases = url_cases()
    assert len(cases) > 100, "the walk found too few URLs: is the admin included?"
    netsuite_sandbox.reset_stats()
    client = Client(raise_request_exception=True)
    before = db_snapshot()
    checked = []
    for case in cases:
        path = concrete_path(case, portal.values)
        client.force_login(viewer)
        response = client.get(path)
        assert response.status_code < 500, f"GET {case}: {response.status_code}"
        assert db_changes(before, db_snapshot()) == [], f"GET {path} ({case}) changed the database"

        client.force_login(viewer)
        response = client.post(path, _payload(portal, registered_job))
        changed = db_changes(before, db_snapshot())
        if case.name in VIEWER_OWN_ROWS:
            own = VIEWER_OWN_ROWS[case.name][1]
            assert set(changed) <= own, f"POST {path} ({case}) by a Viewer changed {changed}"
            assert response.status_code in (200, 302), f"POST {path} ({case}) by a Viewer: {response.status_code}"
            before = db_snapshot()
            checked.append(case.name)
            continue
        assert changed == [], f"POST {path} ({case}) by a Viewer changed {changed}"
        assert _acted(response) == [], f"POST {path} ({case}) by a Viewer acted: {_acted(response)}"
        if not _safe(case.name, VIEWER_SAFE_POSTS):
            assert response.status_code in REFUSED, f"POST {path} ({case}) by a Viewer: {response.status_code}"
        checked.append(case.name)
    assert netsuite_sandbox.stats["total_requests"] == 0, "a Viewer's request reached NetSuite"
    for name in (
        "admin:netsuite_netsuiteconnection_test",
        "admin:sftpsync_sftpconnection_test",
        "netsuite:customer_ensure",
    ):
        assert name in checked


def test_every_admin_action_is_refused_to_a_viewer(portal, viewer, netsuite_sandbox):
    from django.contrib.auth.models import User

    superuser = User.objects.get(username="root")
    factory = RequestFactory()
    netsuite_sandbox.reset_stats()
    client = Client(raise_request_exception=True)
    before = db_snapshot()
    checked = 0
    for model, model_admin in registered_admins():
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        as_root, as_viewer = factory.get(changelist), factory.get(changelist)
        as_root.user, as_viewer.user = superuser, viewer
        # A list the Viewer may not open offers nothing (the POST below is refused with 403 all the same).
        offered = model_admin.get_actions(as_viewer) if model_admin.has_view_or_change_permission(as_viewer) else {}
        pks = [str(pk) for pk in model._default_manager.values_list("pk", flat=True)]
        for name in model_admin.get_actions(as_root):
            checked += 1
            if name in VIEWER_SAFE_ACTIONS:
                continue
            assert name not in offered, f"{opts.label}: the action {name} is offered to a Viewer"
            client.force_login(viewer)
            data = {"action": name, "_selected_action": pks, "index": "0", "select_across": "0", "post": "yes"}
            response = client.post(changelist, data)
            # A list with no action for the Viewer ignores the POST and shows itself (200); else "No action selected".
            assert response.status_code in {200, *REFUSED}, f"{opts.label} action {name}: {response.status_code}"
            assert _acted(response) == [], f"{opts.label} action {name} acted for a Viewer: {_acted(response)}"
            changed = db_changes(before, db_snapshot())
            assert changed == [], f"{opts.label} action {name} by a Viewer changed {changed}"
    assert checked >= 10
    assert netsuite_sandbox.stats["total_requests"] == 0


def test_an_operator_may_test_connections(portal, operator_client, netsuite_sandbox):
    """The other side of the check above: the same POSTs do act for the role that holds the permission."""
    from netsuite.models import NetSuiteConnection
    from sftpsync.models import SftpConnection

    connection = NetSuiteConnection.objects.get()
    response = operator_client.post(reverse("admin:netsuite_netsuiteconnection_test", args=[connection.pk]))
    assert response.status_code == 302
    assert any("Connected to NetSuite" in m for m in _acted(response))
    sftp = SftpConnection.objects.get()
    response = operator_client.post(reverse("admin:sftpsync_sftpconnection_test", args=[sftp.pk]))
    assert response.status_code == 302
    sftp.refresh_from_db()
    assert sftp.last_tested_at is not None
    page = operator_client.get(reverse("admin:netsuite_netsuiteconnection_change", args=[connection.pk]))
    assert "Test connection" in page.content.decode()


def test_a_viewer_sees_no_test_connection_button(portal, viewer_client):
    from netsuite.models import NetSuiteConnection
    from sftpsync.models import SftpConnection

    for url in (
        reverse("admin:netsuite_netsuiteconnection_change", args=[NetSuiteConnection.objects.get().pk]),
        reverse("admin:sftpsync_sftpconnection_change", args=[SftpConnection.objects.get().pk]),
    ):
        page = viewer_client.get(url)
        assert page.status_code == 200
        assert "Test connection" not in page.content.decode()
