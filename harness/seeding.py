"""Seeding: load the scenario's dataset into the primary and check it against its reference."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.dataset import Fingerprint, reference_fingerprint, table_names
from harness.engines.base import Engine
from harness.errors import InfrastructureError
from harness.scenario.model import Dataset


@dataclass(frozen=True)
class Seeded:
    """The seeded tables' reference fingerprints and the source's size on disk."""

    reference: dict[str, Fingerprint]
    source_bytes: int


def seed(engine: Engine, conn: Any, dataset: Dataset) -> Seeded:
    """Prepare the database, load the dataset, and check every table matches its reference."""
    tables = table_names(dataset.tables)
    engine.prepare(conn)
    engine.seed(conn, dataset.spec())
    seeded = engine.fingerprints(conn, tables)
    source_bytes = engine.source_bytes(conn, tables)
    reference = {
        t: reference_fingerprint(seed=dataset.seed, table_index=i, count=dataset.rows_per_table)
        for i, t in enumerate(tables, start=1)
    }
    if seeded != reference:
        raise InfrastructureError(
            f"seeded data does not match its reference fingerprints: {seeded} != {reference}"
        )
    return Seeded(reference, source_bytes)
