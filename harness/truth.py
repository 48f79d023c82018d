"""Value types of a database's source truth: each table's row count and content digest, and
each schema object's definition. The engines compute them in SQL (engines/*/catalogue.py);
harness.measurement.catalogue compares two of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TableTruth:
    """Row count and order-independent content digest of one table (as the engine's SQL
    computes them: comparable between two servers of the same engine only)."""

    rows: int
    digest: str


@dataclass(frozen=True)
class CatalogueEntry:
    """One schema object: its kind ("table", "column", "constraint", "index", "view",
    "materialized view", "function", "procedure", "trigger", "sequence", "enum", "domain",
    "event"), its qualified name and a definition that changes when the object does (for a
    sequence: its current value)."""

    kind: str
    name: str
    definition: str

    @property
    def key(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass(frozen=True)
class Truth:
    """A database's tables and schema objects at one moment, and how long taking it took."""

    database: str
    tables: dict[str, TableTruth]
    objects: list[CatalogueEntry] = field(default_factory=list)
    took_s: float = 0.0

    def object_map(self) -> dict[str, CatalogueEntry]:
        return {e.key: e for e in self.objects}
