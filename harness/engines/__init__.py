"""Engine adapters: one module per engine behind the Engine protocol (base.py).

The registry maps a scenario's engine name to its adapter; modules are imported lazily so
that validating a scenario never needs a database driver.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.engines.base import Engine

REGISTRY: dict[str, str] = {
    "postgres": "harness.engines.postgres:PostgresEngine",
    "mariadb": "harness.engines.mariadb:MariaDBEngine",
    # MySQL 8: the same module as MariaDB, its dialect and tool differences in a Flavor.
    "mysql": "harness.engines.mariadb:MySQLEngine",
    "sqlserver": "harness.engines.sqlserver:SqlServerEngine",
}


# What each engine can drill beyond logical dumps, crashes and wipes. A scenario that needs a
# capability its engine lacks is rejected when it is validated (exit 2), not half-way through.
# MariaDB's log archive is its binlog, its physical backups come from mariadb-backup and its
# replicas follow by GTID; a PostgreSQL LSN or a named restore point has no MariaDB meaning.
# MySQL 8 shares the MariaDB module but not these paths (no mariadb-backup; unverifiable here).
CAPABILITIES: dict[str, frozenset[str]] = {
    "postgres": frozenset(
        {"physical_backup", "wal_archive", "replicas", "pitr", "lsn_target", "restore_point"}
    ),
    "mariadb": frozenset({"physical_backup", "wal_archive", "replicas", "pitr"}),
    "mysql": frozenset(),
    "sqlserver": frozenset(),
}


def engine_names() -> list[str]:
    """Every engine name a scenario may use."""
    return sorted(REGISTRY)


def get_engine(name: str) -> Engine:
    """A fresh adapter for engine ``name`` (KeyError if unknown: validate scenarios first)."""
    module_name, _, class_name = REGISTRY[name].partition(":")
    module = importlib.import_module(module_name)
    engine: Engine = getattr(module, class_name)()
    return engine
