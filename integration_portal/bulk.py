"""Set-at-a-time SQL for bulk paths: rows written at executemany/COPY speed, one query per batch.

The ORM builds a model instance and compiles every value per row, which is what makes a million rows slow;
these helpers take plain tuples of database-ready values (datetimes through ``db_datetime``) and the models'
own table and column names, so the schema still has one source of truth. Used by seeding, the file feeds
and the NetSuite pull and push.

A database error raised through a raw driver cursor (psycopg's COPY) is turned into Django's own exception
(``django.db.IntegrityError`` for a unique violation), as the ORM's cursors do, so callers handle one kind.
"""

# Table and column names in the SQL below come from the models' _meta, never from input; values are parameters.
# ruff: noqa: S608

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.db.models import Model
from django.utils import timezone
from django.utils.dateparse import parse_datetime

# SQLite builds compiled before 3.32 allow 999 parameters per statement; stay below for IN lists.
IN_CHUNK = 900


def table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def column(model: type[Model], field: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(field).column)


def db_datetime(value: datetime) -> Any:
    """Return a datetime as the database driver wants it in a raw query."""
    return connection.ops.adapt_datetimefield_value(value)


def chunks(values: Sequence[Any], size: int = IN_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def in_values(values: Sequence[Any]) -> tuple[str, list[Any]]:
    """Return the inside of ``IN (...)`` for ``values`` (all ints or all text) and its parameters.

    PostgreSQL gets one typed array parameter (``SELECT unnest(%s::text[])``): one statement planned once,
    however many values; a literal list of 900 values cost it 0.2 s a statement to parse and plan, which made
    a million-row import take minutes. Other databases get a literal list (Django binds client-side, hence
    the explicit array type).
    """
    if connection.vendor == "postgresql":
        array_type = "bigint[]" if all(isinstance(v, int) for v in values) else "text[]"
        return f"SELECT unnest(%s::{array_type})", [list(values)]
    return ", ".join(["%s"] * len(values)), list(values)


def select_in(sql: str, values: Iterable[Any], params_before: Sequence[Any] = ()) -> list[tuple]:
    """Run ``sql`` (with one ``{into}`` placeholder for the IN list) for all the values.

    On SQLite the values go in chunks below its parameter limit; on PostgreSQL in one array (see in_values).
    """
    values = list(values)
    out: list[tuple] = []
    if not values:
        return out
    parts = [values] if connection.vendor == "postgresql" else list(chunks(values))
    with connection.cursor() as cursor:
        for part in parts:
            inside, params = in_values(part)
            cursor.execute(sql.format(into=inside), [*params_before, *params])
            out.extend(cursor.fetchall())
    return out


def model_columns(model: type[Model], given: Sequence[str]) -> tuple[list[str], tuple]:
    """Return every concrete column of model (the key only when given) and a row of defaults for those not given."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key or f.attname in given]
    names = [f.attname for f in fields]
    unknown = set(given) - set(names)
    if unknown:
        raise ValueError(f"{model.__name__} has no columns {sorted(unknown)}")
    per_row = [f.attname for f in fields if f.attname not in given and f.has_default() and callable(f.default)]
    if per_row:
        # A callable default (a fresh customer ID, a dict) would be computed once and shared by every row.
        raise ValueError(f"Give {model.__name__} values for {per_row}: their defaults are computed per row.")
    template = tuple(f.get_default() if f.attname not in given else None for f in fields)
    return names, template


class RowInserter:
    """Insert plain rows into a model's table: COPY on PostgreSQL, executemany elsewhere."""

    def __init__(self, model: type[Model], given: Sequence[str]):
        self.model = model
        self.names, self.template = model_columns(model, given)
        # One generated tuple expression per row (given values and defaults in column order) is several
        # times faster than copying a template and assigning into it, which shows at a million rows.
        given_at = {n: i for i, n in enumerate(given)}
        parts = [f"r[{given_at[n]}]" if n in given_at else f"d[{i}]" for i, n in enumerate(self.names)]
        self._build = eval(f"lambda r: ({', '.join(parts)},)", {"d": self.template})  # noqa: S307 (built from indexes)
        columns = ", ".join(connection.ops.quote_name(model._meta.get_field(n).column) for n in self.names)
        self.copy_sql = f"COPY {table(model)} ({columns}) FROM STDIN"
        self.insert_sql = f"INSERT INTO {table(model)} ({columns}) VALUES ({', '.join(['%s'] * len(self.names))})"

    def _full(self, rows: Iterable[Sequence[Any]]) -> Iterator[tuple]:
        return map(self._build, rows)

    def insert(self, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # The raw psycopg cursor bypasses Django's error wrapping: restore it, so a UniqueViolation
                # raised by COPY reaches callers as django.db.IntegrityError.
                with connection.wrap_database_errors, cursor.cursor.copy(self.copy_sql) as copy:
                    for row in self._full(rows):
                        copy.write_row(row)
            else:
                cursor.executemany(self.insert_sql, list(self._full(rows)))


def reserve_ids(model: type[Model], count: int) -> list[int]:
    """Take ``count`` primary keys for rows the caller inserts with explicit IDs (no read-back query needed).

    PostgreSQL hands them out from the table's sequence. On SQLite the caller holds the write lock (every
    transaction here is IMMEDIATE), so no other connection can take IDs until it commits.
    """
    if count <= 0:
        return []
    pk = model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [model._meta.db_table, pk, count],
            )
            return [row[0] for row in cursor.fetchall()]
        if connection.vendor != "sqlite" or not connection.in_atomic_block:
            raise RuntimeError("reserve_ids needs PostgreSQL, or SQLite inside a transaction.")
        cursor.execute(f"SELECT MAX({connection.ops.quote_name(pk)}) FROM {table(model)}")
        top = cursor.fetchone()[0] or 0
        # AUTOINCREMENT never reuses the IDs of deleted rows; sqlite_sequence remembers the highest one.
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [model._meta.db_table])
        seq = cursor.fetchone()
        start = max(top, seq[0] if seq else 0) + 1
    return list(range(start, start + count))


def execute_many(sql: str, rows: Sequence[Sequence[Any]]) -> None:
    if rows:
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)


def execute(sql: str, params: Sequence[Any] = ()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def db_value(model: type[Model], field_name: str, value: Any) -> Any:
    """Convert one value as the ORM would for ``field_name``; use it once for constants such as now()."""
    return model._meta.get_field(field_name).get_db_prep_save(value, connection)


def insert_rows(
    model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]], *, on_conflict_ignore: bool = False
) -> None:
    """Insert ``rows`` (tuples in ``columns`` order, FKs by attname such as customer_id); others get defaults."""
    inserter = RowInserter(model, columns)
    if not on_conflict_ignore:
        inserter.insert(list(rows))
        return
    execute_many(inserter.insert_sql + " ON CONFLICT DO NOTHING", list(map(inserter._build, rows)))


def upsert_rows(
    model: type[Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    unique: Sequence[str],
    update: Sequence[str],
) -> None:
    """Insert ``rows`` or, where a row with the same ``unique`` columns exists, set its ``update`` columns."""
    inserter = RowInserter(model, columns)
    conflict = ", ".join(column(model, name) for name in unique)
    sets = ", ".join(f"{column(model, name)} = excluded.{column(model, name)}" for name in update)
    execute_many(
        f"{inserter.insert_sql} ON CONFLICT ({conflict}) DO UPDATE SET {sets}", list(map(inserter._build, rows))
    )


def update_rows(model: type[Model], columns: Sequence[str], rows: list[tuple]) -> None:
    """Set ``columns`` on rows given as (pk, *values): on PostgreSQL one UPDATE … FROM (VALUES …) per few
    thousand rows, elsewhere one prepared UPDATE run with executemany."""
    if not rows:
        return
    qn = connection.ops.quote_name
    fields = [model._meta.get_field(c) for c in columns]
    pk = qn(model._meta.pk.column)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            names = ", ".join(["pk", *(f"v{n}" for n in range(len(fields)))])
            assign = ", ".join(f"{qn(f.column)} = v.v{n}::{f.db_type(connection)}" for n, f in enumerate(fields))
            placeholders = "(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"
            per_statement = max(1, 30_000 // (len(fields) + 1))
            for start in range(0, len(rows), per_statement):
                chunk = rows[start : start + per_statement]
                sql = (
                    f"UPDATE {table(model)} SET {assign} FROM (VALUES {', '.join([placeholders] * len(chunk))}) "
                    f"AS v({names}) WHERE {table(model)}.{pk} = v.pk::bigint"
                )
                cursor.execute(sql, [value for row in chunk for value in row])
        else:
            assign = ", ".join(f"{qn(f.column)} = %s" for f in fields)
            cursor.executemany(f"UPDATE {table(model)} SET {assign} WHERE {pk} = %s", [(*r[1:], r[0]) for r in rows])


def update_objects(objs: Sequence[Model], fields: Sequence[str]) -> None:
    """Save ``fields`` of saved model instances, as ``QuerySet.bulk_update`` does, through ``update_rows``.

    Django's bulk_update compiles a CASE WHEN per row and field (resolving an expression for each value): 4.5 ms
    for each of 200 inbox entries; this converts each value once, as the ORM would (``get_db_prep_save``). Plain
    values only: an expression (``F(...)``) is refused, as are unsaved instances and primary-key fields.
    """
    if not objs:
        return
    model = type(objs[0])
    concrete = [model._meta.get_field(name) for name in fields]
    if any(f.primary_key for f in concrete):
        raise ValueError("update_objects() cannot be used with primary key fields.")
    rows: dict[Any, tuple] = {}
    for obj in objs:
        if obj.pk is None:
            raise ValueError("All update_objects() objects must have a primary key set.")
        # As bulk_update does: a related object saved since it was assigned gives its primary key now.
        obj._prepare_related_fields_for_save(operation_name="update_objects", fields=concrete)
        values = [getattr(obj, f.attname) for f in concrete]
        if any(hasattr(v, "resolve_expression") for v in values):
            raise ValueError("update_objects() takes plain values; use QuerySet.bulk_update for expressions.")
        # One row per record; the first instance given wins, as in bulk_update's CASE.
        prepared = (f.get_db_prep_save(v, connection) for f, v in zip(concrete, values, strict=True))
        rows.setdefault(obj.pk, (obj.pk, *prepared))
    update_rows(model, fields, list(rows.values()))


def max_query_params() -> int:
    """Return how many parameters one statement may take (Django's SQLite figure is the old default, 999)."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return connection.features.max_query_params or 65_535


def aware(value: Any) -> datetime | None:
    """Read a datetime column fetched by raw SQL (SQLite gives naive UTC, or text) as an aware datetime."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value
