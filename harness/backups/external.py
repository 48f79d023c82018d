"""Backups made outside the tool (a team's pg_dump, mariadb-dump, cron script): how to load
one into a scratch server, whatever the format the engine's own tool wrote, and the engine-
neutral verified read and write of a database the harness did not seed.

PostgreSQL: a custom-format dump (``PGDMP``), a directory-format one (``toc.dat``), either
gzip-compressed or not, goes to pg_restore; anything else is taken as plain SQL for psql with
ON_ERROR_STOP. MariaDB: SQL, gzip-compressed or not, for the mariadb client (it stops at the
first failing statement). Every pipeline fails on the first error (pipefail).
"""

from __future__ import annotations

import gzip
import re
import shlex
from pathlib import Path
from typing import Any

from harness.engines.base import Engine
from harness.errors import InputError

# The table the write half of the probe creates and drops again.
PROBE_TABLE = "recovery_drill_restore_probe"
SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "mysql", "performance_schema", "sys")


def restore_script(engine: Engine, *, path: str, target_host: str) -> str:
    """Shell (in the backup agent) loading the dump at ``path`` into ``target_host``."""
    src, host = shlex.quote(path), shlex.quote(target_host)
    db = shlex.quote(engine.credentials.database)
    if engine.name == "postgres":
        return (
            "set -o pipefail; "
            f"if [ -d {src} ]; then exec pg_restore --no-owner --exit-on-error -Fd "
            f"-h {host} -d {db} {src}; fi; "
            f"if gzip -t {src} 2>/dev/null; then cat_=(gunzip -c {src}); "
            f"else cat_=(cat {src}); fi; "
            'magic=$("${cat_[@]}" | head -c5); '
            'if [ "$magic" = PGDMP ]; then "${cat_[@]}" | pg_restore --no-owner --exit-on-error '
            f"-h {host} -d {db}; "
            f'else "${{cat_[@]}}" | psql -X -q -v ON_ERROR_STOP=1 -h {host} -d {db} >/dev/null; fi'
        )
    if engine.name == "mariadb":
        # The engine's own restore takes gzip; plain SQL is compressed on the way.
        gz = engine.restore_command(path="/dev/stdin", target_host=target_host)
        return (
            f"set -o pipefail; if gzip -t {src} 2>/dev/null; then cat {src}; "
            f"else gzip -1 -c {src}; fi | bash -c {shlex.quote(gz)}"
        )
    raise InputError(f"restore-test does not know {engine.name}'s dump formats yet")


def user_tables(conn: Any) -> list[tuple[str, str]]:
    """(schema, table) of every base table outside the system schemas."""
    marks = ", ".join(f"'{s}'" for s in SYSTEM_SCHEMAS)
    cur = conn.cursor()
    cur.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        f"WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ({marks}) "
        "ORDER BY table_schema, table_name"
    )
    rows = [(str(r[0]), str(r[1])) for r in cur.fetchall()]
    cur.close()
    return rows


def verified_read_write(conn: Any) -> str:
    """Read every user table's first row and write, read back and drop a probe table; the
    evidence. ValueError when the database holds no table at all."""
    tables = user_tables(conn)
    if not tables:
        raise ValueError("the restored database holds no table")
    cur = conn.cursor()
    for schema, table in tables:
        cur.execute(f"SELECT 1 FROM {_ident(conn, schema)}.{_ident(conn, table)} LIMIT 1")
        cur.fetchall()
    cur.execute(f"CREATE TABLE {PROBE_TABLE} (id INTEGER PRIMARY KEY)")
    cur.execute(f"INSERT INTO {PROBE_TABLE} (id) VALUES (1)")
    cur.execute(f"SELECT id FROM {PROBE_TABLE} WHERE id = 1")
    read = cur.fetchall()
    cur.execute(f"DROP TABLE {PROBE_TABLE}")
    cur.close()
    if len(read) != 1:
        raise ValueError("the probe row written was not read back")
    return f"read {len(tables)} tables, wrote and read back a probe row"


def _ident(conn: Any, name: str) -> str:
    """A quoted identifier in the connection's dialect (MariaDB: backquotes)."""
    quote = "`" if type(conn).__module__.startswith(("pymysql", "mariadb", "MySQLdb")) else '"'
    return quote + name.replace(quote, quote * 2) + quote


def _pg_custom_dbname(head: bytes) -> str | None:
    """The database a pg_dump custom-format archive was dumped from, read from its header:
    ``PGDMP``, version (3 bytes), int size, offset size, format, then (1.15+: the compression
    method byte | older: an int), seven time ints, and the database name as a string (an int
    length: a sign byte then ``int size`` little-endian bytes)."""
    if not head.startswith(b"PGDMP") or len(head) < 11:
        return None
    vmaj, vmin = head[5], head[6]
    int_size = head[8]
    pos = 11  # after the format byte
    if not 1 <= int_size <= 8:
        return None

    def read_int() -> int | None:
        nonlocal pos
        if pos + 1 + int_size > len(head):
            return None
        sign, raw = head[pos], head[pos + 1 : pos + 1 + int_size]
        pos += 1 + int_size
        value = int.from_bytes(raw, "little")
        return -value if sign else value

    if (vmaj, vmin) >= (1, 15):
        pos += 1  # compression method
    elif read_int() is None:  # compression level
        return None
    for _ in range(7):  # sec, min, hour, mday, mon, year, isdst
        if read_int() is None:
            return None
    length = read_int()
    if length is None or not 0 < length <= 255 or pos + length > len(head):
        return None
    return head[pos : pos + length].decode("utf-8", errors="replace")


def sniff_source_database(path: Path) -> str | None:
    """The database a dump says it was taken of, where its format records it: a pg_dump
    custom archive's header, a directory archive's toc.dat, mysqldump/mariadb-dump's
    ``-- Host: ... Database: NAME`` line, psql's ``\\connect NAME`` of a ``--create`` dump.
    None when the file does not say (pass --database)."""
    file = path / "toc.dat" if path.is_dir() else path
    if not file.is_file():
        return None
    with file.open("rb") as fh:
        magic = fh.read(2)
        fh.seek(0)
        raw = gzip.GzipFile(fileobj=fh) if magic == b"\x1f\x8b" else fh
        try:
            head = raw.read(64 * 1024)
        except (OSError, EOFError):
            return None
    if head.startswith(b"PGDMP"):
        return _pg_custom_dbname(head)
    text = head.decode("utf-8", errors="replace")
    found = re.search(r"^-- Host: .*?Database: (\S+)\s*$", text, re.MULTILINE)
    if found:
        return found.group(1)
    found = re.search(
        r"^\\(?:connect|c) (?:-reuse-previous=on \"dbname='([^']+)'\"|\"([^\"]+)\"|(\w+))",
        text,
        re.MULTILINE,
    )
    return next((g for g in found.groups() if g), None) if found else None
