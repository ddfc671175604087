"""The SuiteQL of a pull: the columns it reads, and the query of the rows changed since a watermark, by id."""

# SuiteQL is built from numbers and fixed column names only.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

# Re-read this much before the last pull's start, for clock differences between the portal and NetSuite.
PULL_OVERLAP = timedelta(minutes=2)
PULL_PAGE_SIZE = 1000

PULL_COLUMNS = (
    "id",
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
    "isinactive",
    "lastmodifieddate",
    "custentity_hc_shopify_customer_id",
)
CUSTOMER_PULL_FIELDS = (
    "party_type",
    "first_name",
    "last_name",
    "company_name",
    "email",
    "phone",
    "is_active",
    "payment_term",
    "price_level",
    "sales_rep",
    "subsidiary",
)


def suiteql_timestamp(value: datetime, tz: ZoneInfo) -> str:
    return "TO_TIMESTAMP('{}', 'YYYY-MM-DD HH24:MI:SS')".format(value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"))


def pull_query(*, since: datetime | None, subsidiary_ids: Sequence[int], tz: ZoneInfo) -> Callable[[int | None], str]:
    """Return the SuiteQL builder of a pull: rows changed since ``since``, in the subsidiaries, after an id."""

    def build(after_id: int | None) -> str:
        where = []
        if since is not None:
            where.append(f"lastmodifieddate >= {suiteql_timestamp(since, tz)}")
        if subsidiary_ids:
            where.append(f"subsidiary IN ({', '.join(str(int(s)) for s in subsidiary_ids)})")
        if after_id is not None:
            where.append(f"id > {int(after_id)}")
        sql = f"SELECT {', '.join(PULL_COLUMNS)} FROM customer"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return sql + " ORDER BY id"

    return build
