"""PostgreSQL's side of data fidelity, in SQL: per-table row count and content digest, and the
catalogue of schema objects (harness.measurement.catalogue compares them engine-neutrally).

The digest of a table is the sum of the first 60 bits of md5 over each row's text form
(``t::text``, the record output: NULLs and empty strings differ, every column in order),
computed in one pass on the server. The session is set to UTC, ISO dates, hex bytea and
shortest-exact floats, so the text form of a value never depends on the connection.
"""

from __future__ import annotations

from typing import Any

from harness.engines.base import PROBE_TABLE, WRITES_TABLE
from harness.truth import CatalogueEntry, TableTruth

# The harness's own tables live in the drill's database but are not the team's data.
HARNESS_TABLES = (WRITES_TABLE, PROBE_TABLE)
_SYSTEM = "('pg_catalog', 'information_schema', 'pg_toast')"
_NOT_EXTENSION = "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = {oid} AND d.deptype = 'e')"
_SESSION = (
    "SET statement_timeout = 0",
    "SET TimeZone = 'UTC'",
    "SET DateStyle = 'ISO, YMD'",
    "SET IntervalStyle = 'postgres'",
    "SET bytea_output = 'hex'",
    "SET extra_float_digits = 1",
)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def qualified(name: str) -> str:
    """``schema.table`` as a quoted SQL identifier."""
    schema, _, table = name.partition(".")
    return f"{_quote(schema)}.{_quote(table)}"


def _session(conn: Any) -> None:
    for statement in _SESSION:
        conn.execute(statement)


def user_tables(conn: Any) -> list[str]:
    """Every user table (``schema.name``), the harness's own excluded."""
    rows = conn.execute(
        "SELECT n.nspname || '.' || c.relname FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE c.relkind = 'r' AND n.nspname NOT IN {_SYSTEM} "
        "AND n.nspname NOT LIKE 'pg_temp%%' AND NOT c.relname = ANY(%s) "
        f"AND {_NOT_EXTENSION.format(oid='c.oid')} ORDER BY 1",
        (list(HARNESS_TABLES),),
    ).fetchall()
    return [r[0] for r in rows]


def digest_table(conn: Any, table: str, *, where: str | None = None) -> TableTruth:
    """Row count and order-independent content digest of ``schema.table`` (one pass),
    optionally of the rows matching ``where`` only (an SQL condition over its columns)."""
    _session(conn)
    condition = f" WHERE {where}" if where else ""
    row = conn.execute(
        "SELECT count(*), coalesce(sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint)"
        f", 0)::text FROM {qualified(table)} AS t{condition}"
    ).fetchone()
    return TableTruth(rows=int(row[0]), digest=str(row[1]))


def digests(conn: Any, tables: list[str] | None = None) -> dict[str, TableTruth]:
    """Digest of every user table (or of ``tables``)."""
    names = user_tables(conn) if tables is None else tables
    return {t: digest_table(conn, t) for t in names}


# Each query yields (kind, name, definition) of one kind of schema object.
_CATALOGUE_SQL = {
    "column": f"""
        SELECT n.nspname || '.' || c.relname || '.' || a.attname,
               format_type(a.atttypid, a.atttypmod)
               || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
               || coalesce(' default ' || pg_get_expr(ad.adbin, ad.adrelid), '')
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
        WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
          AND n.nspname NOT IN {_SYSTEM} AND NOT c.relname = ANY(%(own)s)
          AND {_NOT_EXTENSION.format(oid="c.oid")}""",
    "table": f"""
        SELECT n.nspname || '.' || c.relname,
               CASE c.relkind WHEN 'p' THEN 'partitioned ' ELSE '' END || 'table, '
               || (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = c.oid
                   AND a.attnum > 0 AND NOT a.attisdropped) || ' columns'
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN {_SYSTEM}
          AND n.nspname NOT LIKE 'pg_temp%%' AND NOT c.relname = ANY(%(own)s)
          AND {_NOT_EXTENSION.format(oid="c.oid")}""",
    "constraint": f"""
        SELECT n.nspname || '.' || c.relname || '.' || k.conname,
               CASE k.contype WHEN 'p' THEN 'primary key' WHEN 'f' THEN 'foreign key'
                    WHEN 'u' THEN 'unique' WHEN 'c' THEN 'check' WHEN 'x' THEN 'exclusion'
                    ELSE k.contype::text END || ': ' || pg_get_constraintdef(k.oid)
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname NOT IN {_SYSTEM} AND NOT c.relname = ANY(%(own)s)""",
    "index": f"""
        SELECT n.nspname || '.' || i.relname, pg_get_indexdef(i.oid)
        FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_class c ON c.oid = x.indrelid JOIN pg_namespace n ON n.oid = i.relnamespace
        WHERE n.nspname NOT IN {_SYSTEM} AND NOT c.relname = ANY(%(own)s)
          AND {_NOT_EXTENSION.format(oid="c.oid")}""",
    "view": f"""
        SELECT n.nspname || '.' || c.relname, pg_get_viewdef(c.oid)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'v' AND n.nspname NOT IN {_SYSTEM}
          AND {_NOT_EXTENSION.format(oid="c.oid")}""",
    "materialized view": f"""
        SELECT n.nspname || '.' || c.relname, pg_get_viewdef(c.oid)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'm' AND n.nspname NOT IN {_SYSTEM}
          AND {_NOT_EXTENSION.format(oid="c.oid")}""",
    "function": f"""
        SELECT n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid)
               || ')',
               CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END || ' md5 '
               || md5(pg_get_functiondef(p.oid))
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE p.prokind IN ('f', 'p') AND n.nspname NOT IN {_SYSTEM}
          AND {_NOT_EXTENSION.format(oid="p.oid")}""",
    "trigger": f"""
        SELECT n.nspname || '.' || c.relname || '.' || t.tgname,
               pg_get_triggerdef(t.oid)
               || CASE t.tgenabled WHEN 'D' THEN ' (disabled)' ELSE '' END
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE NOT t.tgisinternal AND n.nspname NOT IN {_SYSTEM}""",
    "sequence": f"""
        SELECT s.schemaname || '.' || s.sequencename,
               coalesce(s.last_value::text, 'unused')
        FROM pg_sequences s JOIN pg_namespace n ON n.nspname = s.schemaname
        JOIN pg_class c ON c.relname = s.sequencename AND c.relnamespace = n.oid
        WHERE s.schemaname NOT IN {_SYSTEM} AND s.sequencename <> %(probe_seq)s
          AND {_NOT_EXTENSION.format(oid="c.oid")}""",
    "enum": f"""
        SELECT n.nspname || '.' || t.typname,
               string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder)
        FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
        JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname NOT IN {_SYSTEM} AND {_NOT_EXTENSION.format(oid="t.oid")}
        GROUP BY 1""",
    "domain": f"""
        SELECT n.nspname || '.' || t.typname,
               format_type(t.typbasetype, t.typtypmod)
               || CASE WHEN t.typnotnull THEN ' not null' ELSE '' END
               || coalesce(' ' || (SELECT string_agg(pg_get_constraintdef(k.oid), ' '
                                   ORDER BY k.conname)
                                   FROM pg_constraint k WHERE k.contypid = t.oid), '')
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE t.typtype = 'd' AND n.nspname NOT IN {_SYSTEM}
          AND {_NOT_EXTENSION.format(oid="t.oid")}""",
}


def catalogue(conn: Any) -> list[CatalogueEntry]:
    """Every schema object of the database, the harness's own excluded."""
    _session(conn)
    params = {"own": list(HARNESS_TABLES), "probe_seq": f"{PROBE_TABLE}_id_seq"}
    entries: list[CatalogueEntry] = []
    for kind, sql in _CATALOGUE_SQL.items():
        for name, definition in conn.execute(sql, params).fetchall():
            entries.append(CatalogueEntry(kind, str(name), str(definition)))
    return entries


def database_bytes(conn: Any) -> int:
    """On-disk size of the user tables (with indexes and TOAST), the harness's own excluded."""
    row = conn.execute(
        "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN {_SYSTEM} "
        "AND NOT c.relname = ANY(%s)",
        (list(HARNESS_TABLES),),
    ).fetchone()
    return int(row[0]) if row else 0
