"""Walk every URL the portal serves and every admin action, with a database holding a row of each admin's model.

The least-privilege and bad-input tests use this, so a URL, an admin or an action added later is covered by them
without anyone remembering to add it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.apps import apps
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils import timezone

# Tables that a request may write without anyone's permission: the session of the user who logs in or out, and
# django-axes' record of login attempts.
UNWATCHED_TABLES = {"django_session", "axes_accessattempt", "axes_accesslog", "axes_accessfailurelog"}

_CONVERTER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
_REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>[^)]*)\)")


@dataclass(frozen=True)
class UrlCase:
    """One URL pattern: its route with placeholders, its name, and the admin model it belongs to, if any."""

    route: str
    name: str
    params: tuple[str, ...]
    model: type | None = None
    choices: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    def __str__(self) -> str:
        return f"{self.name or '(unnamed)'} /{self.route}"


def _pattern_text(pattern) -> tuple[str, dict[str, str]]:
    """Return the route of a pattern with ``<name>`` placeholders, and a value for regex groups with alternatives."""
    if isinstance(pattern, RoutePattern):
        return str(pattern._route), {}
    assert isinstance(pattern, RegexPattern), pattern
    regex, choices = pattern._regex, {}
    for match in _REGEX_GROUP.finditer(regex):
        body = match["body"]
        choices[match["name"]] = body.split("|")[0] if "|" in body else ""
    text = _REGEX_GROUP.sub(lambda m: f"<{m['name']}>", regex)
    return text.lstrip("^").rstrip("$"), choices


def _admin_model(route: str) -> type | None:
    parts = route.split("/")
    if len(parts) >= 3 and parts[0] == "admin":
        try:
            return apps.get_model(parts[1], parts[2])
        except (LookupError, ValueError):
            return None
    return None


def url_cases() -> list[UrlCase]:
    """Every URL pattern of the root URLconf (admin ``get_urls`` of every ModelAdmin included), one case each."""
    cases: dict[tuple[str, str], UrlCase] = {}

    def walk(patterns, prefix: str, namespace: str, choices: dict[str, str]) -> Iterator[None]:
        for entry in patterns:
            text, more = _pattern_text(entry.pattern)
            route = prefix + text
            if isinstance(entry, URLResolver):
                ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                yield from walk(entry.url_patterns, route, ns, {**choices, **more})
            else:
                assert isinstance(entry, URLPattern)
                name = f"{namespace}{entry.name}" if entry.name else ""
                params = tuple(m["name"] for m in _CONVERTER.finditer(route))
                cases[(route, name)] = UrlCase(route, name, params, _admin_model(route), {**choices, **more})
                yield None

    list(walk(get_resolver().url_patterns, "", "", {}))
    return sorted(cases.values(), key=lambda c: c.route)


def concrete_path(case: UrlCase, values: dict[str, str]) -> str:
    """Fill a case's placeholders: the object of its admin's model, else a value for the parameter's name."""

    def fill(match: re.Match) -> str:
        name = match["name"]
        if case.choices.get(name):
            return case.choices[name]
        if name in ("object_id", "pk") and case.model is not None:
            obj = case.model._default_manager.order_by("pk").first()
            return str(obj.pk) if obj is not None else "0"
        return values.get(name, "1")

    path = _CONVERTER.sub(fill, case.route)
    # Regex leftovers (the admin's catch-all ".*") become a plain path.
    path = path.replace(".*", "nowhere/")
    return "/" + path


def db_snapshot() -> dict[str, list[tuple]]:
    """Every row of every table the portal's models own (sessions and login attempts aside), for comparing."""
    snapshot = {}
    for model in apps.get_models(include_auto_created=True):
        opts = model._meta
        if opts.proxy or not opts.managed or opts.db_table in UNWATCHED_TABLES:
            continue
        # A login (the walk logs the Viewer in again after a logout) stamps last_login: not an effect of the URL.
        columns = [f.attname for f in opts.concrete_fields if f.name != "last_login"]
        snapshot[opts.db_table] = list(model._base_manager.order_by("pk").values_list(*columns))
    return snapshot


def db_changes(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> list[str]:
    """Name the tables whose rows differ between two snapshots."""
    return sorted(table for table in before.keys() | after.keys() if before.get(table) != after.get(table))


def registered_admins() -> list[tuple[type, admin.ModelAdmin]]:
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


@dataclass
class Portal:
    """The rows the walk's fixture made, and values for URL parameters that name them."""

    values: dict[str, str]
    customer: object
    system: object
    failure: object


def populate(*, make_customer, netsuite_system, netsuite_sandbox, tmp_path: Path) -> Portal:
    """At least one row of every model an admin lists, so every change page and action has something to act on."""
    from django.contrib.auth.models import Group, User
    from django_q.models import OrmQ, Schedule, Task

    from console.models import DashboardSnapshot
    from console.roles import roles_ensure
    from customers.models import NETSUITE_CUSTOMER_ID, Contact, PartyIdentification, SyncFailure, SyncLog
    from customers.services import attempt_record, customer_attempt
    from jobs.models import JobRun
    from jobs.registry import schedules_ensure
    from netsuite.models import ApiToken
    from sftpsync.models import Feed, FeedFile, SftpConnection
    from tests.conftest import sandbox_connection

    roles_ensure()
    connection = sandbox_connection(netsuite_system, netsuite_sandbox)
    ApiToken.objects.create(
        name="OMS",
        connection=connection,
        key_hash="0" * 64,
        prefix="abcdefgh",
        expires_at=timezone.now() + timedelta(days=30),
    )
    company = make_customer(party_type="company", company_name="Contoso", segment="b2b")
    customer = make_customer(parent=company, segment="b2b")
    Contact.objects.create(customer=company, first_name="Bo", email="bo@example.com")
    PartyIdentification.objects.create(customer=company, type=NETSUITE_CUSTOMER_ID, value="8812")
    attempt_record(
        customer_attempt(
            customer, netsuite_system, ok=False, trigger=SyncLog.Trigger.SCHEDULED, operation="rest upsert",
            code="MISSING_PRICE_LEVEL", message="Missing price level",
        )
    )  # fmt: skip
    failure = SyncFailure.objects.get(customer=customer)
    root = tmp_path / "sftp-root"
    root.mkdir()
    sftp = SftpConnection.objects.create(name="files", transport="local", username="demo", local_root=str(root))
    files_system = type(netsuite_system).objects.create(code="files", name="Files", transport="file")
    feed = Feed.objects.create(external_system=files_system, kind=Feed.Kind.EXPORT, sftp_connection=sftp)
    FeedFile.objects.create(feed=feed, file_name="x.csv", remote_path="/x.csv", direction="out")
    JobRun.objects.create(job="push_customers", external_system=netsuite_system)
    DashboardSnapshot.objects.create(counted_at=timezone.now())
    schedules_ensure()
    assert Schedule.objects.exists()
    Task.objects.create(
        id="a" * 32, name="t", func="math.floor", started=timezone.now(), stopped=timezone.now(), success=True
    )
    Task.objects.create(
        id="b" * 32, name="f", func="math.floor", started=timezone.now(), stopped=timezone.now(), success=False
    )
    OrmQ.objects.create(key="portal", payload="x", lock=None)
    from shopify.models import InboxEvent, ShopifyConnection, ShopifyRecord, WebhookSubscription

    # A shop nobody can reach (port 9, discard): a view that forgot its check would fail loudly, not quietly.
    shop = ShopifyConnection.objects.create(
        shop_domain="walk.myshopify.com", api_url="http://127.0.0.1:9/admin/api", access_token="shpat_walk"
    )
    WebhookSubscription.objects.create(connection=shop, topic="customers/update", shopify_id="1", uri="http://x/")
    InboxEvent.objects.create(
        connection=shop, event_id="e1", topic="customers/update", body="{", status=InboxEvent.Status.UNREADABLE
    )
    ShopifyRecord.objects.create(connection=shop, kind=ShopifyRecord.Kind.CUSTOMER, shopify_id="1", customer=customer)
    superuser = User.objects.create_superuser("root", password="pw-for-tests-only")
    values = {
        "customer_pk": str(customer.pk),
        "customer_id": customer.customer_id,
        "content_type_id": str(ContentType.objects.get_for_model(type(customer)).pk),
        "app_label": "customers",
        "id": str(superuser.pk),
        "url": "nowhere/",
    }
    assert Group.objects.exists()
    return Portal(values=values, customer=customer, system=netsuite_system, failure=failure)
