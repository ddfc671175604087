"""Storage of the sandbox: one sqlite3 database (a file in the data dir, or in memory), guarded by a lock."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

# The subsidiaries, terms and price levels the sandbox account has; writes referring to others are refused.
SUBSIDIARIES: dict[int, str] = {1: "Parent Company", 2: "Honeycomb Mfg.", 3: "Honeycomb Holdings UK"}
TERMS: dict[int, str] = {
    1: "Net 15",
    2: "Net 30",
    3: "Net 60",
    4: "Due on receipt",
    5: "1% 10 Net 30",
    6: "2% 10 Net 30",
    7: "Net 45",
    8: "Net 90",
}
PRICE_LEVELS: dict[int, str] = {
    1: "Base Price",
    2: "Corporate Discount Price",
    3: "Employee Price",
    4: "MSRP",
    5: "Online Price",
}
# Lead sources (campaigns) by internal ID, and customer statuses by name as the CSV import references them
# (custimport_customer_hc maps LEADSOURCE by internal ID and ENTITYSTATUS by name). The IDs are the sandbox
# account's own: every account numbers its campaigns differently.
LEAD_SOURCES: dict[int, str] = {7: "Shopify", 8: "Web", 9: "Trade Show", -6: "Other"}
ENTITY_STATUSES: dict[int, str] = {
    13: "CUSTOMER-Closed Won",
    15: "CUSTOMER-Renewal",
    16: "CUSTOMER-Lost Customer",
    6: "LEAD-Unqualified",
    7: "LEAD-Qualified",
}

# Every column SuiteQL can select, in the order `SELECT *` returns them.
COLUMNS: tuple[str, ...] = (
    "id",
    "entityid",
    "externalid",
    "isperson",
    "firstname",
    "lastname",
    "companyname",
    "email",
    "phone",
    "subsidiary",
    "parent",
    "terms",
    "pricelevel",
    "salesrep",
    "entitystatus",
    "isinactive",
    "datecreated",
    "lastmodifieddate",
    "custentity_hc_shopify_customer_id",
)
INT_COLUMNS = frozenset({"id", "subsidiary", "parent", "terms", "pricelevel", "salesrep"})
BOOL_COLUMNS = frozenset({"isperson", "isinactive"})
DATETIME_COLUMNS = frozenset({"datecreated", "lastmodifieddate"})

SCHEMA = """
CREATE TABLE IF NOT EXISTS customer (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    entityid TEXT,
    externalid TEXT UNIQUE,
    isperson TEXT NOT NULL DEFAULT 'F',
    firstname TEXT,
    lastname TEXT,
    companyname TEXT,
    email TEXT,
    phone TEXT,
    subsidiary INTEGER NOT NULL,
    parent INTEGER,
    terms INTEGER,
    pricelevel INTEGER,
    salesrep INTEGER,
    entitystatus TEXT,
    isinactive TEXT NOT NULL DEFAULT 'F',
    datecreated TEXT NOT NULL,
    lastmodifieddate TEXT NOT NULL,
    custentity_hc_shopify_customer_id TEXT,
    addressbook TEXT NOT NULL DEFAULT '[]',
    extra TEXT NOT NULL DEFAULT '{}',
    source TEXT NOT NULL DEFAULT 'rest'
);
CREATE INDEX IF NOT EXISTS customer_lastmodified ON customer (lastmodifieddate);
CREATE INDEX IF NOT EXISTS customer_subsidiary_id ON customer (subsidiary, id);
CREATE INDEX IF NOT EXISTS customer_email ON customer (email);
CREATE INDEX IF NOT EXISTS customer_shopify ON customer (custentity_hc_shopify_customer_id);
CREATE TABLE IF NOT EXISTS script_state (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS contact (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    entityid TEXT,
    externalid TEXT UNIQUE,
    firstname TEXT,
    lastname TEXT,
    email TEXT,
    phone TEXT,
    title TEXT,
    company INTEGER,
    subsidiary INTEGER NOT NULL,
    isinactive TEXT NOT NULL DEFAULT 'F',
    datecreated TEXT NOT NULL,
    lastmodifieddate TEXT NOT NULL,
    extra TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS contact_company ON contact (company);
-- Vendors, employees and partners exist here only as holders of external IDs (the entity group shares them).
CREATE TABLE IF NOT EXISTS other_entity (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    externalid TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS sequence (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS csv_import_job (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    mapping TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    status TEXT NOT NULL,
    file BLOB NOT NULL,
    rows_total INTEGER NOT NULL DEFAULT 0,
    rows_added INTEGER NOT NULL DEFAULT 0,
    rows_failed INTEGER NOT NULL DEFAULT 0,
    message TEXT NOT NULL DEFAULT '',
    results TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS file_cabinet (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    folder TEXT NOT NULL,
    name TEXT NOT NULL,
    contents BLOB NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (folder, name)
);
"""
# Columns added after the first data dirs were made: added to an older database when it is opened.
# custentity_hc_customer_id and custentity_hc_shop_cust_id are HotWax's custom entity fields (src/Objects/Customer);
# celigo_shopify_id stands for the Shopify ID Celigo's Shopify connector keeps on its own record
# (custrecord_celigo_shpf_scim_shpfid), which the historical saved search reads.
ADDED_COLUMNS: dict[str, str] = {
    "custentity_hc_customer_id": "TEXT",
    "custentity_hc_shop_cust_id": "TEXT",
    "celigo_shopify_id": "TEXT",
    "leadsource": "INTEGER",
    "taxable": "TEXT",
    "defaultorderpriority": "REAL",
}

# Record types of the entity group: an external ID is unique across all of them (SPEC section 3).
ENTITY_TYPES = ("customer", "contact", "vendor", "employee", "partner")

# Tables whose rows are entities: one sequence of internal IDs for all of them (``_take_entity_ids``).
ENTITY_TABLES = ("customer", "contact", "other_entity")

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"


def utc_now() -> datetime:
    """Return the current UTC time to the second, NetSuite's precision for lastModifiedDate."""
    return datetime.now(UTC).replace(microsecond=0)


def to_stored(value: datetime) -> str:
    """Format an aware datetime as stored (UTC, 'YYYY-MM-DD HH:MM:SS', which sorts as text)."""
    return value.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def stored_to_iso(value: str) -> str:
    """Turn a stored timestamp into the ISO 8601 form the REST API answers with."""
    return value.replace(" ", "T") + "Z"


class Store:
    """Customers and script state in sqlite3; every access holds one lock, so it is safe across threads."""

    def __init__(self, path: str | Path | None = None, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.path = str(path) if path else ":memory:"
        self.clock = clock
        self.lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        if self.path != ":memory:":
            # WAL lets `run-script` in another process work on the file while `serve` runs.
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        have = {r[1] for r in self._db.execute("PRAGMA table_info(customer)")}
        for column, kind in ADDED_COLUMNS.items():
            if column not in have:
                self._db.execute(f"ALTER TABLE customer ADD COLUMN {column} {kind}")

    def close(self) -> None:
        """Close the database."""
        with self.lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and run the block in one transaction."""
        with self.lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def execute(self, sql: str, params: Iterable = ()) -> list[sqlite3.Row]:
        """Run one statement under the lock and return all rows."""
        with self.lock:
            return self._db.execute(sql, tuple(params)).fetchall()

    def reset(self) -> None:
        """Delete every record and script state, and restart internal IDs at 1."""
        with self.transaction() as db:
            tables = (
                "customer",
                "contact",
                "other_entity",
                "script_state",
                "sequence",
                "csv_import_job",
                "file_cabinet",
            )
            for table in tables:
                db.execute(f"DELETE FROM {table}")  # noqa: S608 (fixed names)
            db.execute("DELETE FROM sqlite_sequence")

    def next_value(self, name: str) -> int:
        """Return the next number of a named sequence (address book line IDs), starting at 1."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO sequence (name, value) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET value = value + 1",
                (name,),
            )
            return int(db.execute("SELECT value FROM sequence WHERE name = ?", (name,)).fetchone()[0])

    # -- the entity group ------------------------------------------------------------------------

    def entity_with_external_id(self, external_id: str) -> tuple[str, int] | None:
        """Return (record type, internal ID) of the entity holding this external ID, whatever its type."""
        rows = self.execute(
            "SELECT 'customer', id FROM customer WHERE externalid = ? UNION ALL "
            "SELECT 'contact', id FROM contact WHERE externalid = ? UNION ALL "
            "SELECT type, id FROM other_entity WHERE externalid = ?",
            (external_id, external_id, external_id),
        )
        return (rows[0][0], int(rows[0][1])) if rows else None

    def add_other_entity(self, record_type: str, external_id: str) -> int:
        """Create a vendor, employee or partner that holds an external ID; return its internal ID."""
        if record_type not in ENTITY_TYPES[2:]:
            raise ValueError(f"record_type is one of {', '.join(ENTITY_TYPES[2:])}.")
        with self.transaction() as db:
            entity_id = _take_entity_ids(db)
            db.execute(
                "INSERT INTO other_entity (id, type, externalid) VALUES (?, ?, ?)",
                (entity_id, record_type, external_id),
            )
            return entity_id

    # -- contacts --------------------------------------------------------------------------------

    def get_contact(self, contact_id: int) -> dict | None:
        """Return one contact row as a dict, or None."""
        rows = self.execute("SELECT * FROM contact WHERE id = ?", (contact_id,))
        return _row(rows[0]) if rows else None

    def get_contact_by_external_id(self, external_id: str) -> dict | None:
        """Return the contact with this external ID, or None."""
        rows = self.execute("SELECT * FROM contact WHERE externalid = ?", (external_id,))
        return _row(rows[0]) if rows else None

    def insert_contact(self, values: dict) -> int:
        """Insert a contact, stamping dates; return its internal ID."""
        now = to_stored(self.clock())
        values = _encode({**values, "datecreated": now, "lastmodifieddate": now})
        cols, marks = ", ".join(values), ", ".join("?" for _ in values)
        with self.transaction() as db:
            entity_id = _take_entity_ids(db)
            db.execute(f"INSERT INTO contact (id, {cols}) VALUES (?, {marks})", (entity_id, *values.values()))  # noqa: S608
            return entity_id

    def update_contact(self, contact_id: int, values: dict) -> None:
        """Update a contact's columns and stamp lastmodifieddate."""
        values = _encode({**values, "lastmodifieddate": to_stored(self.clock())})
        sets = ", ".join(f"{col} = ?" for col in values)
        self.execute(f"UPDATE contact SET {sets} WHERE id = ?", (*values.values(), contact_id))  # noqa: S608

    def contacts_of(self, company_id: int) -> list[dict]:
        """Return the contacts of a company, by internal ID."""
        return [_row(r) for r in self.execute("SELECT * FROM contact WHERE company = ? ORDER BY id", (company_id,))]

    # -- customers -------------------------------------------------------------------------------

    def get(self, customer_id: int) -> dict | None:
        """Return one customer row as a dict, or None."""
        rows = self.execute("SELECT * FROM customer WHERE id = ?", (customer_id,))
        return _row(rows[0]) if rows else None

    def get_by_external_id(self, external_id: str) -> dict | None:
        """Return the customer with this external ID, or None."""
        rows = self.execute("SELECT * FROM customer WHERE externalid = ?", (external_id,))
        return _row(rows[0]) if rows else None

    def insert(self, values: dict, *, source: str = "rest") -> int:
        """Insert a customer, stamping dates and assigning an entity ID when none is given; return its ID."""
        now = to_stored(self.clock())
        values = {**values, "datecreated": now, "lastmodifieddate": now, "source": source}
        values = _encode(values)
        cols = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        with self.transaction() as db:
            cur = db.execute(f"INSERT INTO customer ({cols}) VALUES ({marks})", tuple(values.values()))  # noqa: S608
            new_id = int(cur.lastrowid)
            if not values.get("entityid"):
                db.execute("UPDATE customer SET entityid = ? WHERE id = ?", (f"CUST{new_id}", new_id))
        return new_id

    def update(self, customer_id: int, values: dict) -> None:
        """Update a customer's columns and stamp lastmodifieddate."""
        values = _encode({**values, "lastmodifieddate": to_stored(self.clock())})
        sets = ", ".join(f"{col} = ?" for col in values)
        with self.lock:
            self._db.execute(f"UPDATE customer SET {sets} WHERE id = ?", (*values.values(), customer_id))  # noqa: S608

    def set_last_modified(self, customer_id: int, when: datetime) -> None:
        """Set a customer's lastmodifieddate, for tests of incremental pulls."""
        self.execute("UPDATE customer SET lastmodifieddate = ? WHERE id = ?", (to_stored(when), customer_id))

    def find(self, *, external_id: str | None = None, email: str | None = None) -> list[dict]:
        """Return customers matching every given criterion (email case-insensitively), by ID."""
        where, params = [], []
        if external_id is not None:
            where.append("externalid = ?")
            params.append(external_id)
        if email is not None:
            where.append("lower(email) = lower(?)")
            params.append(email)
        clause = " WHERE " + " AND ".join(where) if where else ""
        sql = f"SELECT * FROM customer{clause} ORDER BY id"  # noqa: S608 (fixed clauses, values bound)
        return [_row(r) for r in self.execute(sql, params)]

    def count(self) -> int:
        """Return how many customers there are."""
        return int(self.execute("SELECT COUNT(*) FROM customer")[0][0])

    def count_contacts(self) -> int:
        """Return how many contacts there are."""
        return int(self.execute("SELECT COUNT(*) FROM contact")[0][0])

    def duplicates(self) -> dict[str, dict[str, int]]:
        """Return emails and names held by more than one customer, with their counts."""
        by_email = self.execute(
            "SELECT lower(email) AS k, COUNT(*) AS n FROM customer WHERE email IS NOT NULL AND email != '' "
            "GROUP BY lower(email) HAVING n > 1"
        )
        by_name = self.execute(
            "SELECT coalesce(companyname, firstname || ' ' || lastname) AS k, COUNT(*) AS n FROM customer "
            "GROUP BY k HAVING k IS NOT NULL AND n > 1"
        )
        return {"email": {r["k"]: r["n"] for r in by_email}, "name": {r["k"]: r["n"] for r in by_name}}

    def seed(
        self,
        count: int,
        *,
        subsidiary: int = 1,
        historical: bool = False,
        start: datetime | None = None,
        step_seconds: float = 1.0,
        external_id_prefix: str | None = None,
    ) -> tuple[int, int]:
        """Insert `count` generated customers in bulk and return the first and last new IDs.

        Historical customers carry a Shopify customer ID (in the REST field and in Celigo's record, as customers
        Celigo's Shopify connector brought in) and no external ID, as customers that reached NetSuite before the
        portal existed; `external_id_prefix` gives each an external ID instead.
        """
        if count <= 0:
            return (0, 0)
        start = start or (self.clock() - timedelta(seconds=step_seconds * count))
        with self.transaction() as db:
            base = _take_entity_ids(db, count) - 1

            def rows() -> Iterator[tuple]:
                for n in range(1, count + 1):
                    cid = base + n
                    when = to_stored(start + timedelta(seconds=step_seconds * n))
                    person = n % 4 != 0
                    yield (
                        cid,
                        f"CUST{cid}",
                        f"{external_id_prefix}{cid}" if external_id_prefix else None,
                        "T" if person else "F",
                        f"First{cid}" if person else None,
                        f"Last{cid}" if person else None,
                        None if person else f"Company {cid}",
                        f"customer{cid}@example.com",
                        f"+1 555 {cid % 10_000_000:07d}",
                        subsidiary,
                        when,
                        when,
                        str(7_000_000_000_000 + cid) if historical else None,
                        str(7_000_000_000_000 + cid) if historical else None,
                        "seed",
                    )

            db.executemany(
                "INSERT INTO customer (id, entityid, externalid, isperson, firstname, lastname, companyname, email, "
                "phone, subsidiary, datecreated, lastmodifieddate, custentity_hc_shopify_customer_id, "
                "celigo_shopify_id, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows(),
            )
        return (base + 1, base + count)

    # -- script state ----------------------------------------------------------------------------

    def get_state(self, name: str, default: str = "") -> str:
        """Return a saved script state value."""
        rows = self.execute("SELECT value FROM script_state WHERE name = ?", (name,))
        return rows[0][0] if rows else default

    def set_state(self, name: str, value: str) -> None:
        """Save a script state value."""
        self.execute("INSERT OR REPLACE INTO script_state (name, value) VALUES (?, ?)", (name, value))


def _take_entity_ids(db: sqlite3.Connection, count: int = 1) -> int:
    """Reserve ``count`` internal IDs of the entity group and return the first.

    Assumed (Oracle's pages show one ``entity`` table for customers, contacts, vendors ... but say nothing of how
    IDs are numbered): they share one sequence, so a contact's internal ID is never a customer's and a contact's ID
    given as a company names no customer. Customers inserted one by one take theirs from AUTOINCREMENT, which stays
    above every ID reserved here, as each reservation moves every entity table's sequence.
    """
    names = ", ".join(f"'{t}'" for t in ENTITY_TABLES)
    used = db.execute(f"SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name IN ({names})").fetchone()[0]  # noqa: S608
    # AUTOINCREMENT keeps each table's sequence at or above every ID the table ever held.
    first = int(used) + 1
    last = first + count - 1
    for table in ENTITY_TABLES:
        if not db.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = ?", (last, table)).rowcount:
            db.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, last))
    return first


def _encode(values: dict) -> dict:
    """Serialise the JSON columns for storage."""
    out = dict(values)
    if "addressbook" in out:
        out["addressbook"] = json.dumps(out["addressbook"])
    if "extra" in out:
        out["extra"] = json.dumps(out["extra"])
    return out


def _row(row: sqlite3.Row) -> dict:
    """Turn a stored row into a dict with the JSON columns decoded."""
    out = dict(row)
    if "addressbook" in out:
        out["addressbook"] = json.loads(out.get("addressbook") or "[]")
    out["extra"] = json.loads(out.get("extra") or "{}")
    return out
