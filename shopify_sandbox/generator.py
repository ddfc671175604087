"""The demo's shop keeps changing: new customers, updates, and now and then a B2B company with its parts."""

from __future__ import annotations

import threading

from .store import Store


class ChangeGenerator:
    """Make one change every ``every`` seconds in a thread: 55% a new customer, 35% an update, 10% a company."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, every: float) -> None:
        self.stop()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, args=(every,), daemon=True, name="shopify-changes")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def step(self) -> str:
        """Make one change; return what it was."""
        r = self.store.random
        roll = r.random()
        customers = list(self.store.customers)
        if roll < 0.10:
            company = self.store.create_company(
                **self.store.fake_company(locations=r.randint(1, 3), contacts=r.randint(1, 3))
            )
            return f"company {company['id']}"
        if roll < 0.45 and customers:
            customer_id = r.choice(customers)
            person = self.store.fake_person()
            self.store.update_customer(customer_id, phone=person["phone"], addresses=person["addresses"])
            return f"update {customer_id}"
        return f"customer {self.store.create_customer(**self.store.fake_person())['id']}"

    def _loop(self, every: float) -> None:
        while not self._stop.wait(every):
            self.step()
