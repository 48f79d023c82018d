"""MariaDB major-version migrations (10.11 -> 11.8): in-place upgrade (the new server on the
old data directory, then mariadb-upgrade), dump and restore, replication old -> new with a
cutover.

Scripts run in server containers as root over the local socket; the root password is the
image's own variable, expanded there (``root_client``), never in argv or the journal. The
newer client reads the older server, without TLS (the older server has no certificate).
"""

from __future__ import annotations

import shlex
from typing import Any

METHODS = frozenset({"dump_restore", "inplace_upgrade", "replication"})
# 11.x clients verify the server's certificate by default; 10.11 from Debian serves none.
NO_TLS = "--skip-ssl"


def source_server_args(method: str) -> list[str]:
    return []  # every server already writes a row-format binlog with GTIDs


# The replica's state worth reporting when it does not catch up.
STATUS_LINES = "grep -E 'Slave_(IO|SQL)_Running:|Last_(IO|SQL)_Error:|Gtid_IO_Pos' || true"


def freeze_sql(user: str) -> str:
    """Stop writes on the old server: read_only, which binds an account only without the
    READ_ONLY ADMIN privilege (the application account has ALL), so that privilege is revoked
    and the account's sessions are killed (global privileges are read at connect)."""
    account = f"'{user}'@'%'"
    return (
        f"REVOKE READ_ONLY ADMIN ON *.* FROM {account}; SET GLOBAL read_only = ON; "
        f"KILL CONNECTION USER {account}"
    )


def unfreeze_sql(user: str) -> str:
    return f"SET GLOBAL read_only = OFF; GRANT READ_ONLY ADMIN ON *.* TO '{user}'@'%'"


def slow_shutdown_sql() -> str:
    """Before an in-place major upgrade: a full purge and change-buffer merge at shutdown."""
    return "SET GLOBAL innodb_fast_shutdown = 0"


def _remote(root_client: str, host: str) -> str:
    """The root client/dump tool aimed at ``host`` instead of the local socket."""
    return f"{root_client} {NO_TLS} -h {shlex.quote(host)}"


def object_flags(skip: tuple[str, ...] = ()) -> str:
    """mariadb-dump's flags for the schema objects beside the tables: routines and events are
    left out unless asked for (its defaults), triggers are in unless skipped."""
    return " ".join(
        [
            "--skip-triggers" if "triggers" in skip else "--triggers",
            *(["--routines"] if "routines" not in skip else []),
            *(["--events"] if "events" not in skip else []),
        ]
    )


def dump_restore_script(
    root_client: str, *, database: str, source_host: str, skip: tuple[str, ...] = ()
) -> str:
    """In the new server's container: mariadb-dump of the old server into the local one
    (without the kinds of objects in ``skip``)."""
    dump = root_client.replace("mariadb -uroot", "mariadb-dump -uroot", 1)
    return (
        "set -eo pipefail; "
        f"{_remote(dump, source_host)} --single-transaction {object_flags(skip)} "
        f"--databases {shlex.quote(database)} | {root_client}"
    )


def replica_seed_script(
    root_client: str, *, database: str, source_host: str, skip: tuple[str, ...] = ()
) -> str:
    """In the new server's container: a consistent dump with its GTID position (routines,
    triggers and events included unless in ``skip``), loaded, then replication from the old
    server from that position."""
    dump = root_client.replace("mariadb -uroot", "mariadb-dump -uroot", 1)
    host = "'" + source_host.replace("'", "") + "'"
    return (
        "set -eo pipefail; "
        f"{_remote(dump, source_host)} --single-transaction --master-data=1 --gtid "
        f"{object_flags(skip)} "
        f"--databases {shlex.quote(database)} | {root_client}; "
        f'{root_client} -e "CHANGE MASTER TO MASTER_HOST={host}, MASTER_PORT=3306, '
        "MASTER_USER='root', MASTER_PASSWORD='${MARIADB_ROOT_PASSWORD}', "
        'MASTER_USE_GTID=slave_pos, MASTER_SSL=0; START SLAVE"'
    )


def stop_following_sql() -> list[str]:
    return ["STOP SLAVE", "RESET SLAVE ALL"]


def upgrade_script(root_client: str) -> str:
    """In the new server's container, on the old data directory: upgrade the system tables."""
    upgrade = root_client.replace("mariadb -uroot", "mariadb-upgrade -uroot", 1)
    return f"set -o pipefail; {upgrade} 2>&1 | tail -n 3"


def server_version(conn: Any) -> str:
    with conn.cursor() as cur:
        cur.execute("SELECT VERSION()")
        row = cur.fetchone()
    return str(row[0]).split("-")[0] if row else "?"
