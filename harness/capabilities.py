"""What each engine can drill beyond logical dumps, crashes and wipes, derived from the
collaborators its adapter holds.

A scenario that needs a capability its engine lacks is rejected when it is validated (exit 2),
not half-way through. MariaDB's log archive is its binlog, its physical backups come from
mariadb-backup and its replicas follow by GTID; a PostgreSQL LSN or a named restore point has
no MariaDB meaning, so its archive does not support those targets. MySQL 8 and SQL Server hold
no collaborators. Neither harness.scenario nor harness.engines imports the other: this module
joins them.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from harness.engines import engine_names, get_engine
from harness.engines.base import Engine

__all__ = ["CAPABILITIES", "capabilities_of", "engine_names"]

# Recovery target kinds (RecoveryTarget's fields) that are capabilities of their own.
_TARGET_CAPABILITIES = {"lsn": "lsn_target", "name": "restore_point"}


def capabilities_of(engine: Engine) -> frozenset[str]:
    """The capabilities ``engine``'s collaborators provide."""
    found: set[str] = set()
    if engine.physical is not None:
        found.add("physical_backup")
    if engine.archive is not None:
        found |= {"wal_archive", "pitr"}
        found |= {
            c for kind, c in _TARGET_CAPABILITIES.items() if kind in engine.archive.target_kinds
        }
    if engine.replication is not None:
        found.add("replicas")
    if callable(getattr(engine, "parallel_restore_command", None)):
        found.add("parallel_logical")
    if getattr(engine, "pgbackrest", None) is not None:
        found.add("pgbackrest")
    return frozenset(found)


CAPABILITIES: Mapping[str, frozenset[str]] = MappingProxyType(
    # Per engine, not per version: every version of an engine holds the same collaborators.
    {name: capabilities_of(get_engine(name)) for name in engine_names() if "@" not in name}
)
