"""Distinct values of an indexed column in time that does not grow with the table (a "loose index scan")."""

from django.db import connection
from django.db.models import Model


def distinct_indexed_values(model: type[Model], field: str, *, limit: int = 50) -> list[str]:
    """Return up to ``limit`` distinct non-empty values of ``field`` in order, one index probe per value.

    SELECT DISTINCT reads every row (PostgreSQL has no skip scan before 18); this walks the column's
    index with MIN(field) > previous value, which both PostgreSQL and SQLite answer from the index.
    """
    table = connection.ops.quote_name(model._meta.db_table)
    column = connection.ops.quote_name(model._meta.get_field(field).column)
    sql = f"""
        WITH RECURSIVE walk(value, n) AS (
            SELECT (SELECT MIN({column}) FROM {table} WHERE {column} > ''), 1
            UNION ALL
            SELECT (SELECT MIN({column}) FROM {table} WHERE {column} > walk.value), walk.n + 1
            FROM walk WHERE walk.value IS NOT NULL AND walk.n < %s
        )
        SELECT value FROM walk WHERE value IS NOT NULL
    """  # noqa: S608 — table and column names come from the model, quoted by the backend
    with connection.cursor() as cursor:
        cursor.execute(sql, [limit])
        return [row[0] for row in cursor.fetchall()]
