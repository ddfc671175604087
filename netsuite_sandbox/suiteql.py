"""A small SuiteQL for the customer and contact tables: a fixed grammar turned into parameterised sqlite SQL.

Accepted (keywords and column names case-insensitive)::

    SELECT * | col [, col ...]
    FROM customer | contact [alias]
    [WHERE cond [AND cond ...]]
    [ORDER BY col [ASC | DESC] [, col [ASC | DESC] ...]]

    cond  := col op value | col IS [NOT] NULL | col IN (value [, value ...])
    op    := = | != | <> | > | >= | < | <=
    value := 123 | 'text' (a quote doubled inside) | TO_TIMESTAMP('YYYY-MM-DD HH:MM:SS', 'YYYY-MM-DD HH24:MI:SS')
             | TO_DATE('YYYY-MM-DD', 'YYYY-MM-DD') | an ISO 8601 string for a date column ('2024-03-05T10:15:30Z')

Columns: id, entityid, externalid, isperson, firstname, lastname, companyname, email, phone, subsidiary,
parent, terms, pricelevel, salesrep, entitystatus, isinactive, datecreated, lastmodifieddate,
custentity_hc_shopify_customer_id; of contact: id, entityid, externalid, firstname, lastname, email, phone, title,
company, subsidiary, isinactive, datecreated, lastmodifieddate. Assumed: these are the contact record's fields as
the REST record and the Records Catalog name them, lower-cased as SuiteQL's customer columns are; the SuiteQL pages
at hand do not list the contact table's columns, and the sandbox knows no others (an unknown one is refused, as
NetSuite refuses a field a table lacks). A column may be qualified by the table alias (`c.id`).

Examples::

    SELECT id, externalid, lastmodifieddate FROM customer WHERE id > 1000 ORDER BY id
    SELECT * FROM customer WHERE lastmodifieddate >= TO_TIMESTAMP('2024-03-05 10:15:30', 'YYYY-MM-DD HH24:MI:SS')
        AND subsidiary = 2 AND isinactive = 'F' ORDER BY id ASC
    SELECT id FROM customer WHERE externalid = 'C10042'
    SELECT id, externalid, datecreated FROM contact WHERE externalid IN ('K1', 'K2')

Results as NetSuite gives them: every value a string, booleans 'T'/'F', NULL columns left out of the item,
each item with `"links": []`. Times are in the account's time zone (the sandbox's `time_zone`, UTC unless set),
as are TO_TIMESTAMP/TO_DATE literals and ISO literals without an offset. `lastmodifieddate` and `datecreated`
come back as 'YYYY-MM-DD HH:MM:SS' (a sandbox simplification: NetSuite formats dates by user preference), the
same form TO_TIMESTAMP takes, so a watermark read from one page can be put straight into the next query. NetSuite keeps
lastmodifieddate to the second, so incremental pulls should filter with `>=` and drop what they already have.
Without ORDER BY, rows come in internal ID order. OR, joins, functions in the select list and other tables are
refused with a 400, as an unparseable query is in NetSuite.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from .errors import NetSuiteError
from .store import BOOL_COLUMNS, COLUMNS, DATETIME_COLUMNS, INT_COLUMNS, TIMESTAMP_FORMAT, to_stored

CONTACT_COLUMNS: tuple[str, ...] = (
    "id", "entityid", "externalid", "firstname", "lastname", "email", "phone", "title", "company", "subsidiary",
    "isinactive", "datecreated", "lastmodifieddate",
)  # fmt: skip
TABLES: dict[str, tuple[str, ...]] = {"customer": COLUMNS, "contact": CONTACT_COLUMNS}
# Read as numbers, as the customer table's INT_COLUMNS are.
TABLE_INT_COLUMNS = INT_COLUMNS | {"company"}

_TOKEN_RE = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>>=|<=|<>|!=|=|>|<)"
    r"|(?P<ident>[A-Za-z_][A-Za-z0-9_.]*)|(?P<punct>[(),*]))"
)
_OPS = {"=": "=", "!=": "!=", "<>": "!=", ">": ">", ">=": ">=", "<": "<", "<=": "<="}
_TIMESTAMP_FORMATS = {"YYYY-MM-DD HH24:MI:SS": "%Y-%m-%d %H:%M:%S", "YYYY-MM-DD": "%Y-%m-%d"}


class SuiteQLError(NetSuiteError):
    """A query the sandbox's SuiteQL cannot run."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            400,
            "INVALID_PARAMETER",
            f"Invalid search query. Detailed unprocessed description follows. {detail}",
        )


@dataclass
class Query:
    """A parsed query: selected columns, and the WHERE and ORDER BY parts as sqlite SQL with parameters."""

    columns: list[str]
    table: str = "customer"
    conditions: list[tuple[str, str]] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)
    order_by: str = "id ASC"

    def where(self, *, for_page: bool) -> str:
        """Return the WHERE clause; for a page in id order, other columns' indexes are kept out of the plan."""
        if not self.conditions:
            return ""
        # Walking the primary key from `id > N` and stopping after `limit` rows beats sorting every row an
        # index on another column finds (sqlite picks the latter for `subsidiary IN (...)` and dates).
        by_id = for_page and self.order_by.split()[0] == "id"
        parts = [template.format(c=f"+{col}" if by_id and col != "id" else col) for col, template in self.conditions]
        return " WHERE " + " AND ".join(parts)

    def select_sql(self, limit: int, offset: int) -> tuple[str, list[Any]]:
        """Return the SQL and parameters of one page."""
        cols = ", ".join(self.columns)
        sql = f"SELECT {cols} FROM {self.table}{self.where(for_page=True)} ORDER BY {self.order_by} LIMIT ? OFFSET ?"  # noqa: S608
        return sql, [*self.params, limit, offset]

    def count_sql(self) -> tuple[str, list[Any]]:
        """Return the SQL and parameters counting every matching row."""
        return f"SELECT COUNT(*) FROM {self.table}{self.where(for_page=False)}", list(self.params)  # noqa: S608


def _tokens(text: str) -> list[tuple[str, str]]:
    """Split a query into (kind, text) tokens."""
    out, pos, text = [], 0, text.strip().rstrip(";")
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            raise SuiteQLError(f"Syntax error near '{text[pos : pos + 20]}'.")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


class _Parser:
    """Recursive-descent parser over the token list."""

    def __init__(self, text: str, tz: tzinfo) -> None:
        self.tz = tz
        self.toks = _tokens(text)
        self.i = 0
        self.alias: str | None = None
        self.table = "customer"

    def peek(self) -> tuple[str, str]:
        return self.toks[self.i] if self.i < len(self.toks) else ("end", "")

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok[0] == "end":
            raise SuiteQLError("Unexpected end of query.")
        self.i += 1
        return tok

    def keyword(self, word: str) -> bool:
        kind, text = self.peek()
        if kind == "ident" and text.upper() == word:
            self.i += 1
            return True
        return False

    def expect(self, word: str) -> None:
        if not self.keyword(word):
            raise SuiteQLError(f"Expected {word} near '{self.peek()[1]}'.")

    def column(self, text: str) -> str:
        name = text.lower()
        if "." in name:
            prefix, _, name = name.partition(".")
            if prefix != (self.alias or self.table):
                raise SuiteQLError(f"Unknown table alias '{prefix}'.")
        if name not in TABLES[self.table]:
            raise SuiteQLError(f"Search error occurred: Field '{name}' for record '{self.table}' was not found.")
        return name

    def parse(self) -> Query:
        self.expect("SELECT")
        raw_cols: list[str] = []
        if self.peek() == ("punct", "*"):
            self.take()
        else:
            while True:
                kind, text = self.take()
                if kind != "ident":
                    raise SuiteQLError(f"Expected a column name near '{text}'.")
                raw_cols.append(text)
                if self.peek() != ("punct", ","):
                    break
                self.take()
        self.expect("FROM")
        kind, table = self.take()
        if kind != "ident" or table.lower() not in TABLES:
            raise SuiteQLError(f"Record '{table}' was not found. The sandbox knows only 'customer' and 'contact'.")
        self.table = table.lower()
        kind, text = self.peek()
        if kind == "ident" and text.upper() not in ("WHERE", "ORDER"):
            self.alias = text.lower()
            self.take()
        columns = [self.column(c) for c in raw_cols] if raw_cols else list(TABLES[self.table])
        query = Query(columns=columns, table=self.table)
        if self.keyword("WHERE"):
            while True:
                query.conditions.append(self.condition(query.params))
                if self.keyword("AND"):
                    continue
                if self.keyword("OR"):
                    raise SuiteQLError("OR is not supported by the sandbox.")
                break
        if self.keyword("ORDER"):
            self.expect("BY")
            parts = []
            while True:
                kind, text = self.take()
                if kind != "ident":
                    raise SuiteQLError(f"Expected a column name near '{text}'.")
                col = self.column(text)
                direction = "ASC"
                if self.keyword("DESC"):
                    direction = "DESC"
                else:
                    self.keyword("ASC")
                parts.append(f"{col} {direction}")
                if self.peek() != ("punct", ","):
                    break
                self.take()
            query.order_by = ", ".join(parts)
        if self.peek()[0] != "end":
            raise SuiteQLError(f"Syntax error near '{self.peek()[1]}'.")
        return query

    def condition(self, params: list[Any]) -> tuple[str, str]:
        kind, text = self.take()
        if kind != "ident":
            raise SuiteQLError(f"Expected a column name near '{text}'.")
        col = self.column(text)
        if self.keyword("IS"):
            negate = self.keyword("NOT")
            self.expect("NULL")
            return col, f"{{c}} IS {'NOT ' if negate else ''}NULL"
        if self.keyword("IN"):
            if self.take() != ("punct", "("):
                raise SuiteQLError("Expected '(' after IN.")
            values = [self.value(col)]
            while self.peek() == ("punct", ","):
                self.take()
                values.append(self.value(col))
            if self.take() != ("punct", ")"):
                raise SuiteQLError("Expected ')' closing IN.")
            params.extend(values)
            return col, f"{{c}} IN ({', '.join('?' for _ in values)})"
        kind, op = self.take()
        if kind != "op":
            raise SuiteQLError(f"Expected a comparison after '{col}', found '{op}'.")
        params.append(self.value(col))
        return col, f"{{c}} {_OPS[op]} ?"

    def value(self, col: str) -> Any:
        kind, text = self.take()
        if kind == "ident" and text.upper() in ("TO_TIMESTAMP", "TO_DATE"):
            if col not in DATETIME_COLUMNS:
                raise SuiteQLError(f"{text.upper()} compared with '{col}', which is not a date.")
            if self.take() != ("punct", "("):
                raise SuiteQLError(f"Expected '(' after {text}.")
            literal = self.string()
            fmt = "YYYY-MM-DD"
            if self.peek() == ("punct", ","):
                self.take()
                fmt = self.string()
            if self.take() != ("punct", ")"):
                raise SuiteQLError(f"Expected ')' closing {text}.")
            if fmt.upper() not in _TIMESTAMP_FORMATS:
                raise SuiteQLError(f"Unsupported date format '{fmt}'. Use 'YYYY-MM-DD HH24:MI:SS' or 'YYYY-MM-DD'.")
            try:
                when = datetime.strptime(literal, _TIMESTAMP_FORMATS[fmt.upper()]).replace(tzinfo=self.tz)
            except ValueError:
                raise SuiteQLError(f"'{literal}' does not match the format '{fmt}'.") from None
            return to_stored(when)
        if kind == "str":
            literal = text[1:-1].replace("''", "'")
            if col in DATETIME_COLUMNS:
                try:
                    when = datetime.fromisoformat(literal.replace("Z", "+00:00"))
                except ValueError:
                    raise SuiteQLError(f"'{literal}' is not a date; use TO_TIMESTAMP or ISO 8601.") from None
                return to_stored(when if when.tzinfo else when.replace(tzinfo=self.tz))
            if col in TABLE_INT_COLUMNS:
                if not literal.lstrip("-").isdigit():
                    raise SuiteQLError(f"'{literal}' is not a number for '{col}'.")
                return int(literal)
            if col in BOOL_COLUMNS and literal.upper() not in ("T", "F"):
                raise SuiteQLError(f"'{col}' takes 'T' or 'F'.")
            return literal.upper() if col in BOOL_COLUMNS else literal
        if kind == "num":
            if col in TABLE_INT_COLUMNS:
                if "." in text:
                    raise SuiteQLError(f"'{text}' is not a whole number for '{col}'.")
                return int(text)
            if col in DATETIME_COLUMNS or col in BOOL_COLUMNS:
                raise SuiteQLError(f"'{text}' cannot be compared with '{col}'.")
            return text
        raise SuiteQLError(f"Expected a value near '{text}'.")

    def string(self) -> str:
        kind, text = self.take()
        if kind != "str":
            raise SuiteQLError(f"Expected a string near '{text}'.")
        return text[1:-1].replace("''", "'")


def parse(text: str, tz: tzinfo = UTC) -> Query:
    """Parse a SuiteQL query over customers, or raise SuiteQLError."""
    if not isinstance(text, str) or not text.strip():
        raise SuiteQLError("The query is empty.")
    return _Parser(text, tz).parse()


def render_items(rows: Iterable[Sequence[Any]], columns: list[str], tz: tzinfo = UTC) -> list[dict]:
    """Render result rows as NetSuite does: strings only, NULLs left out, an empty links list on each.

    Oracle's "Executing SuiteQL Queries Through REST Web Services" (section_157909186990) gives the request and
    paging but no page states how NULL columns come back; the sandbox leaves them out of the item (an item has only
    the columns with a value), so a client must read every column as optional.
    """
    convert_dates = tz is not UTC
    items = []
    for row in rows:
        item: dict[str, Any] = {"links": []}
        for col, value in zip(columns, row, strict=True):
            if value is None or value == "":
                continue
            if convert_dates and col in DATETIME_COLUMNS:
                when = datetime.strptime(value, TIMESTAMP_FORMAT).replace(tzinfo=UTC)
                value = when.astimezone(tz).strftime(TIMESTAMP_FORMAT)
            item[col] = value if type(value) is str else str(value)
        items.append(item)
    return items
