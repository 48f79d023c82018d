"""PostgreSQL major-version migrations (15 -> 17): pg_upgrade, dump and restore, logical
replication with a cutover.

Scripts run in containers of the *new* version (``recovery-drill/postgres:17-trixie`` carries
PostgreSQL 15's binaries from bookworm for pg_upgrade, in /usr/lib/postgresql/15/bin), the
newer pg_dump reading the older server, as PostgreSQL's documentation advises. Passwords come
from the containers' own environment (``$POSTGRES_PASSWORD``), never from argv or the journal.
"""

from __future__ import annotations

import shlex
from typing import Any

from harness.engines.base import Credentials

METHODS = frozenset({"pg_upgrade_copy", "pg_upgrade_link", "dump_restore", "logical_replication"})
PUBLICATION = "rd_migration"
OLD_BINDIR = "/usr/lib/postgresql/{major}/bin"
# pg_upgrade --link: the new cluster must be on the old one's file system (hard links), so it
# is created inside the old data volume, in this subdirectory.
LINK_SUBDIR = "pg_upgraded"
# The subscription's password file on the new server (named in its conninfo: the server's
# HOME is not the postgres account's home in these images).
PASSFILE = "/var/lib/postgresql/.pgpass"


def source_server_args(method: str) -> list[str]:
    """Extra settings of the old server: logical decoding for logical replication."""
    if method == "logical_replication":
        return ["-c", "wal_level=logical", "-c", "max_replication_slots=10"]
    return []


def freeze_statements() -> list[str]:
    """Stop writes on the old server: every new transaction is read-only (superuser needed)."""
    return [
        "ALTER SYSTEM SET default_transaction_read_only = on",
        "SELECT pg_reload_conf()",
    ]


def unfreeze_statements() -> list[str]:
    return ["ALTER SYSTEM RESET default_transaction_read_only", "SELECT pg_reload_conf()"]


def _env_password() -> str:
    return 'export PGPASSWORD="$POSTGRES_PASSWORD"; '


# What ``migration.skip`` leaves out of a copy, as pg_restore --list names the entries.
SKIP_ENTRIES = {"triggers": ("TRIGGER",), "routines": ("FUNCTION", "PROCEDURE")}
DUMP_FILE = "/tmp/rd-migration.dump"


def _filtered_copy(c: Credentials, *, source_host: str, skip: tuple[str, ...], schema: bool) -> str:
    """pg_dump to a file, pg_restore --list without the skipped kinds, pg_restore -L: what a
    copy that forgot its triggers or routines (a hand-edited restore list) does."""
    user, db = shlex.quote(c.user), shlex.quote(c.database)
    kinds = "|".join(k for s in skip for k in SKIP_ENTRIES.get(s, ()))
    return (
        "set -eo pipefail; "
        + _env_password()
        + f"pg_dump -h {shlex.quote(source_host)} -U {user} -d {db} --format=custom "
        + ("--schema-only " if schema else "")
        + f"-f {DUMP_FILE}; "
        f"pg_restore -l {DUMP_FILE} | grep -v -E '^[0-9]+; [0-9]+ [0-9]+ ({kinds}) ' "
        f"> {DUMP_FILE}.list || true; "
        f"pg_restore -h 127.0.0.1 -U {user} -d {db} --exit-on-error --no-owner "
        f"-L {DUMP_FILE}.list {DUMP_FILE}; rm -f {DUMP_FILE} {DUMP_FILE}.list"
    )


def dump_restore_script(c: Credentials, *, source_host: str, skip: tuple[str, ...] = ()) -> str:
    """In the new server's container: its pg_dump reads the old server, pg_restore loads it
    (without the kinds of objects in ``skip``)."""
    if skip:
        return _filtered_copy(c, source_host=source_host, skip=skip, schema=False)
    user, db = shlex.quote(c.user), shlex.quote(c.database)
    return (
        "set -eo pipefail; "
        + _env_password()
        + f"pg_dump -h {shlex.quote(source_host)} -U {user} -d {db} --format=custom "
        f"| pg_restore -h 127.0.0.1 -U {user} -d {db} --exit-on-error --no-owner"
    )


def schema_copy_script(c: Credentials, *, source_host: str, skip: tuple[str, ...] = ()) -> str:
    """In the new server's container: the schema only (logical replication copies rows),
    without the kinds of objects in ``skip``."""
    if skip:
        return _filtered_copy(c, source_host=source_host, skip=skip, schema=True)
    user, db = shlex.quote(c.user), shlex.quote(c.database)
    return (
        "set -eo pipefail; "
        + _env_password()
        + f"pg_dump -h {shlex.quote(source_host)} -U {user} -d {db} --schema-only "
        f"| psql -q -h 127.0.0.1 -U {user} -d {db} -v ON_ERROR_STOP=1 >/dev/null"
    )


def pgpass_script(c: Credentials, *, source_host: str) -> str:
    """In the new server's container: the subscription's password in the server account's
    ~/.pgpass (expanded there), so that no SQL text carries it."""
    line = f"{source_host}:5432:*:{c.user}:"
    return (
        f'printf "%s%s\\n" {shlex.quote(line)} "$POSTGRES_PASSWORD" > {PASSFILE}'
        f" && chown postgres: {PASSFILE} && chmod 0600 {PASSFILE}"
    )


def publish_statements() -> list[str]:
    return [f"CREATE PUBLICATION {PUBLICATION} FOR ALL TABLES"]


def subscribe_statement(c: Credentials, *, source_host: str) -> str:
    conninfo = f"host={source_host} port=5432 dbname={c.database} user={c.user} passfile={PASSFILE}"
    return f"CREATE SUBSCRIPTION {PUBLICATION} CONNECTION '{conninfo}' PUBLICATION {PUBLICATION}"


def initial_sync_done(conn: Any) -> bool:
    """Every table of the subscription is synchronised (state ready)."""
    row = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE srsubstate <> 'r') FROM pg_subscription_rel"
    ).fetchone()
    return bool(row and row[0] > 0 and row[1] == 0)


def drop_subscription_statements() -> list[str]:
    """On the new server: detach from the old one (its slot is dropped there separately)."""
    return [
        f"ALTER SUBSCRIPTION {PUBLICATION} DISABLE",
        f"ALTER SUBSCRIPTION {PUBLICATION} SET (slot_name = NONE)",
        f"DROP SUBSCRIPTION {PUBLICATION}",
    ]


def drop_slot_statements() -> list[str]:
    """On the (frozen) old server: drop the subscription's slot so it retains no WAL."""
    return [
        "SET default_transaction_read_only = off",
        f"SELECT pg_drop_replication_slot('{PUBLICATION}') FROM pg_replication_slots "
        f"WHERE slot_name = '{PUBLICATION}'",
    ]


def setval_statement(name: str, value: int) -> str:
    return f"SELECT setval('{name}', {int(value)}, true)"


def server_version(conn: Any) -> str:
    row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]).split()[0] if row else "?"


def upgrade_script(
    c: Credentials, *, old_major: str, new_major: str, new_dir: str, link: bool, initdb_args: str
) -> str:
    """In a helper of the new image, as root: initdb the new cluster like the old one, then
    pg_upgrade the stopped old cluster (/var/lib/postgresql/data) into it."""
    old_bin = OLD_BINDIR.format(major=old_major)
    as_pg = "setpriv --reuid=postgres --regid=postgres --init-groups"
    user = shlex.quote(c.user)
    mode = "--link" if link else "--copy"
    return (
        "set -euo pipefail; cd /tmp; "
        + _env_password()
        + f'pwfile=$(mktemp); printf "%s" "$POSTGRES_PASSWORD" > "$pwfile"; '
        'chmod 0644 "$pwfile"; '
        f"mkdir -p {new_dir} && chown postgres:postgres {new_dir} && chmod 0700 {new_dir}; "
        f'{as_pg} initdb -D {new_dir} -U {user} --pwfile="$pwfile" {initdb_args} '
        "--auth-local=trust --auth-host=scram-sha-256 >/dev/null; "
        'rm -f "$pwfile"; '
        f"cp /var/lib/postgresql/data/pg_hba.conf {new_dir}/pg_hba.conf; "
        f"chown postgres:postgres {new_dir}/pg_hba.conf; "
        f"{as_pg} pg_upgrade -b {old_bin} -B {OLD_BINDIR.format(major=new_major)} "
        f"-d /var/lib/postgresql/data -D {new_dir} -U {user} {mode} "
        "| tail -n 4"
    )


def reprint_view(conn: Any, definition: str) -> str:
    """A view's query as *this* server prints it (pg_get_viewdef), from the text another
    version printed: two majors print the same query differently (PostgreSQL 17 keeps
    ``x AT TIME ZONE 'UTC'``, 15 prints ``timezone('UTC'::text, x)``). Rolled back; nothing
    stays on the server."""
    import psycopg

    query = definition.strip().rstrip(";")
    reprinted = ""
    with conn.transaction():
        conn.execute(f"CREATE TEMP VIEW rd_reprint AS {query}".encode())
        row = conn.execute("SELECT pg_get_viewdef('rd_reprint'::regclass)").fetchone()
        reprinted = str(row[0]) if row else ""
        raise psycopg.Rollback()
    return reprinted
