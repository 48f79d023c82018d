"""MariaDB's (and MySQL 8's) side of data fidelity, in SQL: per-table row count and content
digest, and the catalogue of schema objects of the drill's database
(harness.measurement.catalogue compares them engine-neutrally).

The digest of a table is the sum of the first 60 bits of md5 over each row's text form, one
pass on the server. The text form of a row joins its columns in order, each NULL as ``\\N``,
strings, blobs and json as the hex of their stored bytes (any character set), other values as
the server prints them with the session in UTC (the harness's connections are).
"""

from __future__ import annotations

from typing import Any

from harness.engines.base import PROBE_TABLE, WRITES_TABLE
from harness.truth import CatalogueEntry, TableTruth

HARNESS_TABLES = (WRITES_TABLE, PROBE_TABLE, "drill_probe_ddl")
_HEX_TYPES = frozenset({
    "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "json", "binary",
    "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "enum", "set",
    "geometry", "point", "linestring", "polygon",
})  # fmt: skip


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _fetch(conn: Any, sql: str, args: tuple[Any, ...] | None = None) -> list[tuple[Any, ...]]:
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return list(cur.fetchall())


def _database(conn: Any) -> str:
    return str(_fetch(conn, "SELECT DATABASE()")[0][0])


def user_tables(conn: Any) -> list[str]:
    """Every base table of the connection's database, the harness's own excluded."""
    rows = _fetch(
        conn,
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
        "AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
    )
    return [r[0] for r in rows if r[0] not in HARNESS_TABLES]


def _column_text(name: str, data_type: str) -> str:
    col = _quote(name)
    value = f"HEX({col})" if data_type.lower() in _HEX_TYPES else f"CAST({col} AS CHAR)"
    return f"IF({col} IS NULL, '\\\\N', {value})"


def digest_table(conn: Any, table: str, *, where: str | None = None) -> TableTruth:
    """Row count and order-independent content digest of ``table`` (one pass), optionally
    of the rows matching ``where`` only (an SQL condition over its columns)."""
    columns = _fetch(
        conn,
        "SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION",
        (table,),
    )
    text = ", ".join(_column_text(str(n), str(t)) for n, t in columns)
    condition = f" WHERE {where}" if where else ""
    sql = (
        "SELECT COUNT(*), CAST(COALESCE(SUM(CAST(CONV(SUBSTR(MD5(CONCAT_WS('|', "
        f"{text})), 1, 15), 16, 10) AS UNSIGNED)), 0) AS CHAR) FROM {_quote(table)}{condition}"
    )
    row = _fetch(conn, sql)[0]
    return TableTruth(rows=int(row[0]), digest=str(row[1]))


def digests(conn: Any, tables: list[str] | None = None) -> dict[str, TableTruth]:
    """Digest of every user table (or of ``tables``)."""
    names = user_tables(conn) if tables is None else tables
    return {t: digest_table(conn, t) for t in names}


_OWN = "(" + ", ".join(f"'{t}'" for t in HARNESS_TABLES) + ")"
# Each query yields (kind, name, definition) rows of the connection's database.
_CATALOGUE_SQL = (
    f"""SELECT 'table', TABLE_NAME, CONCAT(ENGINE, ' table')
        FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()
        AND TABLE_TYPE = 'BASE TABLE' AND TABLE_NAME NOT IN {_OWN}""",
    f"""SELECT 'column', CONCAT(TABLE_NAME, '.', COLUMN_NAME),
        CONCAT(COLUMN_TYPE, IF(IS_NULLABLE = 'NO', ' not null', ''),
               IFNULL(CONCAT(' default ', COLUMN_DEFAULT), ''),
               IF(EXTRA = '', '', CONCAT(' ', EXTRA)),
               IFNULL(CONCAT(' collate ', COLLATION_NAME), ''))
        FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
        AND TABLE_NAME NOT IN {_OWN} AND TABLE_NAME IN (
            SELECT t.TABLE_NAME FROM information_schema.TABLES t
            WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE')""",
    f"""SELECT 'constraint', CONCAT(c.TABLE_NAME, '.', c.CONSTRAINT_NAME),
        CONCAT(LOWER(c.CONSTRAINT_TYPE), ': ', IFNULL((
            SELECT GROUP_CONCAT(CONCAT(k.COLUMN_NAME,
                   IFNULL(CONCAT(' -> ', k.REFERENCED_TABLE_NAME, '.',
                                 k.REFERENCED_COLUMN_NAME), ''))
                   ORDER BY k.ORDINAL_POSITION SEPARATOR ', ')
            FROM information_schema.KEY_COLUMN_USAGE k
            WHERE k.CONSTRAINT_SCHEMA = c.CONSTRAINT_SCHEMA
              AND k.TABLE_NAME = c.TABLE_NAME AND k.CONSTRAINT_NAME = c.CONSTRAINT_NAME),
            IFNULL((SELECT h.CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS h
                    WHERE h.CONSTRAINT_SCHEMA = c.CONSTRAINT_SCHEMA
                      AND h.TABLE_NAME = c.TABLE_NAME
                      AND h.CONSTRAINT_NAME = c.CONSTRAINT_NAME LIMIT 1), '')))
        FROM information_schema.TABLE_CONSTRAINTS c WHERE c.CONSTRAINT_SCHEMA = DATABASE()
        AND c.TABLE_NAME NOT IN {_OWN}""",
    f"""SELECT 'index', CONCAT(TABLE_NAME, '.', INDEX_NAME),
        CONCAT(IF(MAX(NON_UNIQUE) = 0, 'unique ', ''), MAX(INDEX_TYPE), ' (',
               GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX SEPARATOR ', '), ')')
        FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()
        AND TABLE_NAME NOT IN {_OWN} GROUP BY TABLE_NAME, INDEX_NAME""",
    """SELECT 'view', TABLE_NAME, MD5(VIEW_DEFINITION)
        FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()""",
    """SELECT LOWER(ROUTINE_TYPE), ROUTINE_NAME,
        CONCAT(IFNULL(DTD_IDENTIFIER, ''), ' md5 ', MD5(IFNULL(ROUTINE_DEFINITION, '')))
        FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()""",
    """SELECT 'trigger', CONCAT(EVENT_OBJECT_TABLE, '.', TRIGGER_NAME),
        CONCAT(ACTION_TIMING, ' ', EVENT_MANIPULATION, ' md5 ', MD5(ACTION_STATEMENT))
        FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()""",
    """SELECT 'event', EVENT_NAME,
        CONCAT(EVENT_TYPE, ' ', IFNULL(INTERVAL_VALUE, ''), ' ', IFNULL(INTERVAL_FIELD, ''),
               ' ', STATUS, ' md5 ', MD5(EVENT_DEFINITION))
        FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()""",
    f"""SELECT 'auto_increment', TABLE_NAME, CAST(AUTO_INCREMENT AS CHAR)
        FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()
        AND TABLE_TYPE = 'BASE TABLE' AND AUTO_INCREMENT IS NOT NULL
        AND TABLE_NAME NOT IN {_OWN}""",
)


def catalogue(conn: Any) -> list[CatalogueEntry]:
    """Every schema object of the connection's database, the harness's own excluded."""
    entries: list[CatalogueEntry] = []
    for sql in _CATALOGUE_SQL:
        for kind, name, definition in _fetch(conn, sql):
            entries.append(CatalogueEntry(str(kind), str(name), str(definition)))
    # Sequences (MariaDB 10.3+): their next value, read one by one.
    names = _fetch(
        conn,
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
        "AND TABLE_TYPE = 'SEQUENCE'",
    )
    for (name,) in names:
        row = _fetch(conn, f"SELECT next_not_cached_value FROM {_quote(str(name))}")[0]
        entries.append(CatalogueEntry("sequence", str(name), str(row[0])))
    return entries


def database_bytes(conn: Any) -> int:
    """Data and index size of the database's tables, the harness's own excluded."""
    row = _fetch(
        conn,
        "SELECT COALESCE(SUM(DATA_LENGTH + INDEX_LENGTH), 0) FROM information_schema.TABLES "
        f"WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME NOT IN {_OWN}",
    )
    return int(row[0][0])
