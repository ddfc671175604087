"""The shop's data: customers and B2B companies with their locations and contacts, in memory, thread-safe.

Objects are dicts in the GraphQL Admin API's field names (camelCase) with Python datetimes; ``webhooks.py``
turns them into the REST shapes webhooks carry. Every change goes through a method that stamps ``updatedAt`` and
reports ``(topic, object)`` to the listener (the webhook deliverer).

IDs: Shopify's are large integers, never reused. The sandbox starts from the current time in milliseconds so
that a restarted sandbox never hands out an ID the portal already holds.

``updatedAt`` has one-second precision, as Shopify's timestamps do ("2021-12-31T19:00:00-05:00"). What Shopify
does with two changes of one object in the same second is not documented; the sandbox (an assumption) moves the
second one to the next second, so an object's ``updatedAt`` always increases and tests are deterministic.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

Listener = Callable[[str, dict], None]

FIRST_NAMES = ["Ada", "Alan", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "Radia", "Hedy"]
LAST_NAMES = ["Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie", "Allen"]
COMPANY_WORDS = ["Northwind", "Contoso", "Fabrikam", "Tailspin", "Wingtip", "Alpine", "Summit", "Harbor"]
COMPANY_KINDS = ["Outfitters", "Supply", "Trading", "Boutique", "Goods", "Wholesale"]
CITIES = [
    ("Springfield", "Illinois", "IL", "62701"),
    ("Austin", "Texas", "TX", "73301"),
    ("Portland", "Oregon", "OR", "97201"),
    ("Brooklyn", "New York", "NY", "11201"),
    ("Denver", "Colorado", "CO", "80202"),
    ("Madison", "Wisconsin", "WI", "53703"),
]
STREETS = ["Main", "Oak", "Pine", "Maple", "Cedar", "Elm", "Lake", "Hill"]


def now_second() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class Store:
    """Customers, companies, locations and contacts of one shop."""

    def __init__(self, *, seed: int | None = None) -> None:
        self.lock = threading.RLock()
        self.random = random.Random(seed)
        self._ids = itertools.count(int(time.time() * 1000))
        self.listeners: list[Listener] = []
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.customers: dict[int, dict] = {}
            self.companies: dict[int, dict] = {}
            self.locations: dict[int, dict] = {}
            self.contacts: dict[int, dict] = {}

    def next_id(self) -> int:
        with self.lock:
            return next(self._ids)

    # -- changes ----------------------------------------------------------------------------------

    def _emit(self, topic: str, obj: dict) -> None:
        for listener in list(self.listeners):
            listener(topic, obj)

    def _stamp(self, obj: dict) -> None:
        stamp = now_second()
        previous = obj.get("updatedAt")
        if previous is not None and stamp <= previous:
            stamp = previous + timedelta(seconds=1)
        obj["updatedAt"] = stamp
        obj.setdefault("createdAt", stamp)

    def _address(self, raw: dict | None) -> dict | None:
        if raw is None:
            return None
        address = {
            "id": raw.get("id") or self.next_id(),
            "address1": raw.get("address1"),
            "address2": raw.get("address2"),
            "city": raw.get("city"),
            "province": raw.get("province"),
            "provinceCode": raw.get("provinceCode") or raw.get("zoneCode"),
            "zip": raw.get("zip"),
            "country": raw.get("country", "United States"),
            "countryCodeV2": raw.get("countryCodeV2") or raw.get("countryCode") or "US",
            "company": raw.get("company"),
            "firstName": raw.get("firstName"),
            "lastName": raw.get("lastName"),
            "phone": raw.get("phone"),
        }
        return address

    def create_customer(self, *, emit: bool = True, **fields: Any) -> dict:
        """Create a customer: firstName, lastName, email, phone, state (ENABLED…), addresses [{address1, city…}]."""
        with self.lock:
            customer = {
                "id": self.next_id(),
                "firstName": fields.get("firstName"),
                "lastName": fields.get("lastName"),
                "email": fields.get("email"),
                "phone": fields.get("phone"),
                "state": fields.get("state", "DISABLED"),
                "note": fields.get("note"),
                "addresses": [self._address(a) for a in fields.get("addresses", [])],
            }
            customer["defaultAddressId"] = customer["addresses"][0]["id"] if customer["addresses"] else None
            self._stamp(customer)
            self.customers[customer["id"]] = customer
        if emit:
            self._emit("customers/create", customer)
        return customer

    def update_customer(self, customer_id: int, **fields: Any) -> dict:
        """Change a customer's fields (addresses replace the list); emits customers/update."""
        with self.lock:
            customer = self.customers[int(customer_id)]
            for key, value in fields.items():
                if key == "addresses":
                    customer["addresses"] = [self._address(a) for a in value]
                    customer["defaultAddressId"] = customer["addresses"][0]["id"] if customer["addresses"] else None
                else:
                    customer[key] = value
            self._stamp(customer)
        self._emit("customers/update", customer)
        return customer

    def set_customer_state(self, customer_id: int, state: str) -> dict:
        """Enable or disable a customer's account (customers/enable or customers/disable, then customers/update)."""
        with self.lock:
            customer = self.customers[int(customer_id)]
            customer["state"] = state
            self._stamp(customer)
        self._emit("customers/enable" if state == "ENABLED" else "customers/disable", customer)
        self._emit("customers/update", customer)
        return customer

    def delete_customer(self, customer_id: int) -> dict:
        with self.lock:
            customer = self.customers.pop(int(customer_id))
        self._emit("customers/delete", customer)
        return customer

    def create_company(
        self, *, name: str, external_id: str | None = None, locations: list[dict] = (), contacts: list[dict] = ()
    ) -> dict:
        """Create a company, then its locations ({name, phone, billingAddress, shippingAddress}) and its contacts
        ({customerId} or customer fields to create one), each with its own webhook, in the order Shopify's admin
        would create them."""
        with self.lock:
            company = {
                "id": self.next_id(),
                "name": name,
                "externalId": external_id,
                "note": None,
                "mainContactId": None,
            }
            self._stamp(company)
            company["customerSince"] = company["createdAt"]
            self.companies[company["id"]] = company
        self._emit("companies/create", company)
        for location in locations:
            self.create_location(company["id"], **location)
        for n, contact in enumerate(contacts):
            customer_id = contact.get("customerId")
            if customer_id is None:
                customer_id = self.create_customer(**contact)["id"]
            self.create_contact(
                company["id"], customer_id=customer_id, title=contact.get("title", "Buyer"), main=n == 0
            )
        return company

    def update_company(self, company_id: int, **fields: Any) -> dict:
        with self.lock:
            company = self.companies[int(company_id)]
            company.update(fields)
            self._stamp(company)
        self._emit("companies/update", company)
        return company

    def delete_company(self, company_id: int) -> dict:
        with self.lock:
            company = self.companies.pop(int(company_id))
        self._emit("companies/delete", company)
        return company

    def create_location(self, company_id: int, **fields: Any) -> dict:
        with self.lock:
            location = {
                "id": self.next_id(),
                "companyId": int(company_id),
                "name": fields.get("name"),
                "externalId": fields.get("externalId"),
                "phone": fields.get("phone"),
                "billingAddress": self._address(fields.get("billingAddress")),
                "shippingAddress": self._address(fields.get("shippingAddress") or fields.get("billingAddress")),
            }
            self._stamp(location)
            self.locations[location["id"]] = location
        self._emit("company_locations/create", location)
        return location

    def update_location(self, location_id: int, **fields: Any) -> dict:
        with self.lock:
            location = self.locations[int(location_id)]
            for key, value in fields.items():
                location[key] = self._address(value) if key.endswith("Address") else value
            self._stamp(location)
        self._emit("company_locations/update", location)
        return location

    def create_contact(self, company_id: int, *, customer_id: int, title: str = "Buyer", main: bool = False) -> dict:
        with self.lock:
            contact = {
                "id": self.next_id(),
                "companyId": int(company_id),
                "customerId": int(customer_id),
                "title": title,
                "locale": "en",
                "isMainContact": main,
            }
            self._stamp(contact)
            self.contacts[contact["id"]] = contact
            if main:
                self.companies[int(company_id)]["mainContactId"] = contact["id"]
        self._emit("company_contacts/create", contact)
        return contact

    def delete_contact(self, contact_id: int) -> dict:
        with self.lock:
            contact = self.contacts.pop(int(contact_id))
        self._emit("company_contacts/delete", contact)
        return contact

    # -- reads ------------------------------------------------------------------------------------

    def company_locations(self, company_id: int) -> list[dict]:
        return [loc for loc in self.locations.values() if loc["companyId"] == company_id]

    def company_contacts(self, company_id: int) -> list[dict]:
        return [c for c in self.contacts.values() if c["companyId"] == company_id]

    def snapshot(self, kind: str) -> list[dict]:
        """The objects of a kind, oldest ID first (a stable order for paging)."""
        with self.lock:
            return [getattr(self, kind)[k] for k in sorted(getattr(self, kind))]

    # -- generated data ---------------------------------------------------------------------------

    def fake_person(self) -> dict:
        r = self.random
        first, last = r.choice(FIRST_NAMES), r.choice(LAST_NAMES)
        city, province, code, zip_code = r.choice(CITIES)
        n = self.next_id() % 100000
        return {
            "firstName": first,
            "lastName": last,
            "email": f"{first}.{last}.{n}@example.com".lower(),
            "phone": f"+1555{n:07d}",
            "state": r.choice(["ENABLED", "ENABLED", "INVITED", "DISABLED"]),
            "addresses": [
                {
                    "address1": f"{r.randint(1, 999)} {r.choice(STREETS)} St",
                    "city": city,
                    "province": province,
                    "provinceCode": code,
                    "zip": zip_code,
                    "countryCodeV2": "US",
                }
            ],
        }

    def fake_company_address(self) -> dict:
        r = self.random
        city, province, code, zip_code = r.choice(CITIES)
        return {
            "address1": f"{r.randint(1, 999)} {r.choice(STREETS)} Ave",
            "city": city,
            "province": province,
            "zoneCode": code,
            "zip": zip_code,
            "countryCode": "US",
        }

    def fake_company(self, *, locations: int = 2, contacts: int = 3) -> dict:
        r = self.random
        name = f"{r.choice(COMPANY_WORDS)} {r.choice(COMPANY_KINDS)} {self.next_id() % 1000}"
        branches = []
        for _ in range(locations):
            address = self.fake_company_address()
            branches.append(
                {
                    "name": f"{address['city']} branch",
                    "phone": "+15550100",
                    "billingAddress": address,
                    "shippingAddress": address,
                }
            )
        return {"name": name, "locations": branches, "contacts": [self.fake_person() for _ in range(contacts)]}

    def seed_customers(self, count: int, *, updated_at: datetime | None = None) -> tuple[int, int]:
        """Add ``count`` generated customers without webhooks (a shop's existing data); return first and last ID."""
        stamp = (updated_at or now_second()).replace(microsecond=0)
        first = last = 0
        with self.lock:
            for _ in range(count):
                person = self.fake_person()
                customer = {
                    "id": self.next_id(),
                    **{k: person[k] for k in ("firstName", "lastName", "email", "phone", "state")},
                    "note": None,
                    "addresses": [self._address(a) for a in person["addresses"]],
                    "createdAt": stamp,
                    "updatedAt": stamp,
                }
                customer["defaultAddressId"] = customer["addresses"][0]["id"]
                self.customers[customer["id"]] = customer
                first = first or customer["id"]
                last = customer["id"]
        return first, last

    def iter_customers(self) -> Iterator[dict]:
        yield from self.snapshot("customers")
