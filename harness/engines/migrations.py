"""Which cross-version migration methods each engine has (postgres/migration.py,
mariadb/migration.py), and what the old server needs for them from its first start."""

from __future__ import annotations

from harness.engines.mariadb import migration as mariadb_migration
from harness.engines.postgres import migration as postgres_migration

METHODS: dict[str, frozenset[str]] = {
    "postgres": postgres_migration.METHODS,
    "mariadb": mariadb_migration.METHODS,
}

# Whether the old server and its data are still there, untouched, once the new one serves,
# and why: the rollback question of each method.
ROLLBACK: dict[str, tuple[bool, str]] = {
    "pg_upgrade_copy": (
        True,
        "the old cluster's files were copied, not changed: it can start again (writes made "
        "on the new server after the cutover would have to be carried back)",
    ),
    "pg_upgrade_link": (
        False,
        "--link hard-linked the old cluster's files into the new one, which has started and "
        "written to them, and the old pg_control was renamed pg_control.old: the old cluster "
        "is unusable; only a backup taken before the upgrade brings the old version back",
    ),
    "dump_restore": (
        True,
        "the old server was only read (and frozen read-only): unfreezing it rolls back "
        "(writes made on the new server after the cutover would have to be carried back)",
    ),
    "logical_replication": (
        True,
        "the old server was only read: unfreezing it rolls back; a reverse subscription "
        "new -> old would carry the writes made since the cutover",
    ),
    "inplace_upgrade": (
        False,
        "the new server ran on the old data directory and mariadb-upgrade rewrote its system "
        "tables; a major-version downgrade is not supported: only a backup taken before the "
        "upgrade brings the old version back",
    ),
    "replication": (
        True,
        "the old server was only read: unfreezing it rolls back; replication new -> old "
        "would carry the writes made since the cutover",
    ),
}


def migration_methods(engine_name: str) -> frozenset[str]:
    """The methods ``engine_name`` can drill (none for engines without a module here)."""
    return METHODS.get(engine_name, frozenset())


def source_server_args(engine_name: str, method: str) -> list[str]:
    """Settings the old server must start with for ``method`` (e.g. wal_level=logical)."""
    if engine_name == "postgres":
        return postgres_migration.source_server_args(method)
    if engine_name == "mariadb":
        return mariadb_migration.source_server_args(method)
    return []
