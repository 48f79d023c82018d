"""Engine adapters: one package or module per engine behind the Engine protocol (base.py).

The registry maps a scenario's engine name to its adapter; modules are imported lazily, and
the adapters import their drivers only when they first reach a server, so that validating a
scenario never needs a database driver. What each engine can drill beyond dumps follows from
the collaborators it holds (harness.capabilities).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from harness.engines.versions import VERSIONS, split_ref, versioned_refs

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
    """Every engine name a scenario may use: bare names and ``NAME@MAJOR`` (versions.py)."""
    return sorted([*REGISTRY, *versioned_refs()])


def get_engine(name: str) -> Engine:
    """A fresh adapter for engine ``name`` (KeyError if unknown: validate scenarios first).

    ``NAME@MAJOR`` gives the same adapter with that version's images; its ``name`` stays the
    bare engine name (SQL dialect, capabilities), its ``ref`` carries the version.
    """
    base, major = split_ref(name)
    module_name, _, class_name = REGISTRY[base].partition(":")
    module = importlib.import_module(module_name)
    adapter = getattr(module, class_name)()
    adapter.ref = name
    adapter.version = major
    if major is not None:
        version = VERSIONS[base][major]
        adapter.default_image = version.default_image
        adapter.local_image = version.local_image
    engine: Engine = adapter
    return engine
