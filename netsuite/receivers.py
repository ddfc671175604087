"""Event-driven push: a saved change to a customer, address or contact queues a push after commit.

Changes made in one transaction are pushed together, once, after it commits (nothing is sent for a
transaction that rolls back). Bulk writes (``bulk_create``, ``update()``) send no signals and queue nothing.
"""

from __future__ import annotations

import threading

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from customers.models import Address, Contact, Customer

_local = threading.local()


class _Batch:
    def __init__(self) -> None:
        self.pks: set[int] = set()
        self.done = False

    def flush(self) -> None:
        # Every save in the transaction registers this; the first call after commit sends them all.
        if self.done:
            return
        self.done = True
        if getattr(_local, "batch", None) is self:
            _local.batch = None
        from .services import customers_enqueue_push

        customers_enqueue_push(customer_pks=self.pks)


def customer_changed(customer_pk: int | None) -> None:
    """Remember that the customer changed; queue its push once the transaction commits."""
    if not customer_pk:
        return
    batch = getattr(_local, "batch", None)
    pending = transaction.get_connection().run_on_commit
    # A batch whose transaction rolled back is no longer awaiting a commit: start afresh.
    if batch is None or batch.done or not any(func == batch.flush for _sids, func, _robust in pending):
        batch = _local.batch = _Batch()
    batch.pks.add(customer_pk)
    transaction.on_commit(batch.flush)


def customers_changed_listener(*, customer_pks) -> None:
    """Dispatch listener: customers changed by a bulk write are pushed once the transaction commits."""
    for pk in customer_pks:
        customer_changed(pk)


def _on_customer_saved(sender, instance: Customer, raw: bool = False, **kwargs) -> None:
    if not raw:
        customer_changed(instance.pk)


def _on_part_changed(sender, instance, raw: bool = False, **kwargs) -> None:
    if not raw:
        customer_changed(instance.customer_id)


def connect() -> None:
    from customers.dispatch import register_change_listener

    register_change_listener("netsuite", customers_changed_listener)
    post_save.connect(_on_customer_saved, sender=Customer, dispatch_uid="netsuite.customer_saved")
    for model in (Address, Contact):
        post_save.connect(_on_part_changed, sender=model, dispatch_uid=f"netsuite.{model.__name__}_saved")
        post_delete.connect(_on_part_changed, sender=model, dispatch_uid=f"netsuite.{model.__name__}_deleted")
