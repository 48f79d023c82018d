"""Engine adapters: one package or module per engine behind the Engine protocol (base.py).

The registry maps a scenario's engine name to its adapter; modules are imported lazily, and
the adapters import their drivers only when they first reach a server, so that validating a
scenario never needs a database driver. What each engine can drill beyond dumps follows from
the collaborators it holds (harness.capabilities).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.engines.base import Engine

REGISTRY: dict[str, str] = {
    "postgres": "harness.engines.postgres:PostgresEngine",
    "mariadb": "harness.engines.mariadb:MariaDBEngine",
    # MySQL 8: the MariaDB core, its dialect and tool differences in a Flavor.
    "mysql": "harness.engines.mariadb.mysql:MySQLEngine",
    "sqlserver": "harness.engines.sqlserver:SqlServerEngine",
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
