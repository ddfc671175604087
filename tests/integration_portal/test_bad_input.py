"""Bad input gets a clear 4xx, never a 500: every changelist filter of every admin, and every API parameter.

The filter parameters come from each admin's own filters (``expected_parameters``), plus search, ordering, page
and date drill-down, so a filter added later is fed the same values. Runs on SQLite and, with DATABASE_URL, on
PostgreSQL (where a NUL byte in a query is an error of its own).
"""

from __future__ import annotations

import pytest
from django.contrib.admin.views.main import ORDER_VAR, PAGE_VAR, SEARCH_VAR
from django.test import Client, RequestFactory
from django.urls import reverse

from netsuite.models import ApiToken, hash_token

from .urlwalk import populate, registered_admins

pytestmark = pytest.mark.django_db

BAD_VALUES = {
    "nul": "\x00",
    "nul inside": "C1\x00x",
    "huge": "9" * 20_000,
    "huge text": "x" * 20_000,
    "huge number": "9" * 40,
    "negative": "-1",
    "not a number": "abc",
    "float": "1.5e308",
    "date": "2026-13-45",
    "list": "1,2,abc",
    "quotes": "'\"%_\\",
    "unicode": "\u202e\ufffd",
}
TOKEN = "orders-token-bad-input-0123456789"


@pytest.fixture
def portal(make_customer, netsuite_system, netsuite_sandbox, tmp_path):
    return populate(
        make_customer=make_customer,
        netsuite_system=netsuite_system,
        netsuite_sandbox=netsuite_sandbox,
        tmp_path=tmp_path,
    )


def filter_parameters(model_admin, request) -> set[str]:
    """Every query parameter the admin's changelist reads."""
    changelist = model_admin.get_changelist_instance(request)
    params = {SEARCH_VAR, ORDER_VAR, PAGE_VAR}
    for spec in changelist.filter_specs:
        params.update(spec.expected_parameters())
    if model_admin.date_hierarchy:
        field = model_admin.date_hierarchy
        params.update(f"{field}__{part}" for part in ("year", "month", "day"))
    return params


def _ok(response) -> bool:
    """A page, or a clear refusal; never a server error, never Django's silent redirect to ?e=1."""
    if response.status_code >= 500:
        return False
    return not (response.status_code == 302 and response["Location"].endswith("?e=1"))


def test_every_changelist_filter_answers_bad_values_with_a_page_or_a_400(portal):
    from django.contrib.auth.models import User

    superuser = User.objects.get(username="root")
    client = Client()
    client.force_login(superuser)
    checked = 0
    for model, model_admin in registered_admins():
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        request = RequestFactory().get(url)
        request.user = superuser
        for param in sorted(filter_parameters(model_admin, request)):
            for label, value in BAD_VALUES.items():
                response = client.get(url, {param: value})
                assert _ok(response), f"{opts.label} ?{param}=<{label}>: {response.status_code}"
                if response.status_code == 400 and "\x00" not in value:
                    assert "This list cannot be filtered that way" in response.content.decode()
                checked += 1
    assert checked > 500


def test_connector_filter_with_a_bad_value_is_a_400_that_says_so(portal, admin_client):
    response = admin_client.get(reverse("admin:customers_customer_changelist"), {"connector": "abc"})
    assert response.status_code == 400
    text = response.content.decode()
    assert "connector" in text and "abc" in text and "Show the list without filters" in text
    # Django's own invalid lookups (a number field given letters) say the same instead of redirecting to ?e=1.
    response = admin_client.get(reverse("admin:customers_customersync_changelist"), {"external_system__id__exact": "x"})
    assert response.status_code == 400


def test_nul_bytes_are_a_clear_400_on_every_page(portal, admin_client):
    response = admin_client.get(reverse("admin:customers_customer_changelist"), {"q": "a\x00b"})
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()


def test_every_api_parameter_answers_bad_values_with_a_4xx(portal):
    from netsuite.models import NetSuiteConnection

    connection = NetSuiteConnection.objects.get()
    ApiToken.objects.create(name="OMS", connection=connection, key_hash=hash_token(TOKEN), prefix=TOKEN[:8])
    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
    good_id = portal.customer.customer_id
    for label, value in BAD_VALUES.items():
        for method, action in (("get", "presence"), ("post", "ensure")):
            call = getattr(client, method)
            for response in (
                call(f"/api/netsuite/customers/{good_id}/{action}?connection={_quoted(value)}", **auth),
                call(f"/api/netsuite/customers/{_quoted(value)}/{action}", **auth),
                call(f"/api/netsuite/customers/{good_id}/{action}", HTTP_AUTHORIZATION=f"Bearer {value}"),
            ):
                assert 400 <= response.status_code < 500, f"{action} <{label}>: {response.status_code}"
                assert response.json()["error"]


def _quoted(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")
