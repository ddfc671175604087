"""Pulling customers from NetSuite: ``query`` (the SuiteQL), ``run`` (watermark, resumable keyset pages),
``match`` (a page's rows to local customers in one query), ``apply`` (create, update and link, a few statements
a page), ``report`` (what a pull came to)."""

from .query import CUSTOMER_PULL_FIELDS, PULL_COLUMNS, PULL_OVERLAP, PULL_PAGE_SIZE, pull_query, suiteql_timestamp
from .report import PullReport
from .run import customers_pull

__all__ = [
    "CUSTOMER_PULL_FIELDS",
    "PULL_COLUMNS",
    "PULL_OVERLAP",
    "PULL_PAGE_SIZE",
    "PullReport",
    "customers_pull",
    "pull_query",
    "suiteql_timestamp",
]
