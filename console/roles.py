"""The console's two roles as auth groups: Operator (works the queue, runs jobs) and Viewer (reads)."""

from __future__ import annotations

from django.apps import apps as global_apps
from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from .permissions import (
    MANAGE_API_TOKENS_PERMISSION,
    RESYNC_PERMISSION,
    RUN_JOBS_PERMISSION,
    TEST_CONNECTIONS_PERMISSION,
)

OPERATOR = "Operator"
VIEWER = "Viewer"

# Apps whose every model the two roles may look at.
VIEWED_APPS = ("customers", "console", "jobs", "sftpsync", "netsuite", "shopify")

# app_label.codename granted to operators on top of viewing.
OPERATOR_EXTRA = (
    "customers.change_customer",
    "customers.add_address",
    "customers.change_address",
    "customers.delete_address",
    "customers.add_contact",
    "customers.change_contact",
    "customers.delete_contact",
    "customers.add_customersync",
    "customers.change_customersync",
    "customers.add_partyidentification",
    # The value → NetSuite internal ID mappings both connectors send by (SPEC section 4: settings per connection).
    "netsuite.add_referencemapping",
    "netsuite.change_referencemapping",
    "netsuite.delete_referencemapping",
    RESYNC_PERMISSION,
    RUN_JOBS_PERMISSION,
    TEST_CONNECTIONS_PERMISSION,
    MANAGE_API_TOKENS_PERMISSION,
)


def _view_permissions() -> list[Permission]:
    return list(
        Permission.objects.filter(content_type__app_label__in=VIEWED_APPS, codename__startswith="view_").select_related(
            "content_type"
        )
    )


def _permissions(names: tuple[str, ...]) -> list[Permission]:
    query = Q(pk__in=[])
    for name in names:
        app_label, codename = name.split(".", 1)
        query |= Q(content_type__app_label=app_label, codename=codename)
    return list(Permission.objects.filter(query))


def roles_ensure() -> tuple[Group, Group]:
    """Create or refresh the Operator and Viewer groups; permissions added by hand are kept."""
    views = _view_permissions()
    viewer, _ = Group.objects.get_or_create(name=VIEWER)
    viewer.permissions.add(*views)
    operator, _ = Group.objects.get_or_create(name=OPERATOR)
    operator.permissions.add(*views, *_permissions(OPERATOR_EXTRA))
    return operator, viewer


def roles_ensure_after_migrate(sender, apps=global_apps, **kwargs) -> None:
    # Permissions are created by auth's post_migrate handler for each app; make sure ours exist first.
    from django.contrib.auth.management import create_permissions

    for label in VIEWED_APPS:
        try:
            create_permissions(global_apps.get_app_config(label), verbosity=0, using=kwargs.get("using", "default"))
        except LookupError:
            continue
    roles_ensure()
