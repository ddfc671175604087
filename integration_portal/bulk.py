"""Insert many rows fast: one prepared INSERT and executemany, without the ORM's per-value compilation.

For bulk paths only (seeding, million-row feeds). Rows must hold database-ready values: strings, numbers,
booleans, None, and datetimes already passed through ``db_value``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connections, models


def db_value(model: type[models.Model], field_name: str, value: Any, *, using: str = "default") -> Any:
    """Convert one value as the ORM would for ``field_name``; use it once for constants such as now()."""
    field = model._meta.get_field(field_name)
    return field.get_db_prep_save(value, connections[using])


def insert_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    using: str = "default",
    on_conflict_ignore: bool = False,
) -> None:
    """Insert ``rows`` (tuples in ``columns`` order; FK columns by attname, e.g. customer_id)."""
    connection = connections[using]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    by_attname = {f.attname: f.column for f in model._meta.concrete_fields}
    names = ", ".join(quote(by_attname[c]) for c in columns)
    placeholders = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {table} ({names}) VALUES ({placeholders})"  # noqa: S608 (names are quoted model metadata)
    if on_conflict_ignore:
        sql += " ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
