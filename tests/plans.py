"""Query plans read from the database itself (EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL), so that a test
fails on a slow plan rather than an operator meeting it."""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet


def plan(statement: str, params: list | tuple) -> str:
    """The plan of one statement, as text naming the indexes it uses."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Small test tables would be read whole; without that option the planner shows which index it takes.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + statement, params)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + statement, params)
        return "\n".join(" ".join(str(v) for v in row) for row in cursor.fetchall())


def queryset_plan(queryset: QuerySet) -> str:
    statement, params = queryset.query.sql_with_params()
    return plan(statement, params)


def analyze(*models) -> None:
    """Take statistics of the models' tables, as PostgreSQL's autovacuum does soon after a load (and the benchmarks
    do on SQLite). Only those tables: PostgreSQL keeps a table's row count from ANALYZE even when the test's
    transaction rolls back, and an empty table counted as such would mislead the planner in the tests after."""
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
