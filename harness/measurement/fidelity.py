"""Data fidelity after an incident: each seeded table's state, the damage, and what was lost."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from harness.dataset import Fingerprint
from harness.engines.base import Engine
from harness.measurement.measure import (
    Landing,
    RpoResult,
    RtoResult,
    WriteRecord,
    measure_landing,
    measure_rpo,
    measure_rto,
)


@dataclass(frozen=True)
class Measured:
    """What the measuring found: lost writes, the phases of the outage, the PITR landing and
    each seeded table's state on the recovered server (None where it cannot be read)."""

    rpo: RpoResult
    rto: RtoResult | None
    landing: Landing | None
    recovered_fps: dict[str, Fingerprint | None]


@dataclass(frozen=True)
class DataLoss:
    """Seeded rows missing after recovery and the tables that do not match the reference."""

    seed_rows_lost: int | None
    tables_damaged: list[str] | None


def table_states(engine: Engine, conn: Any, tables: list[str]) -> dict[str, Fingerprint | None]:
    """Each table's fingerprint now, None where it cannot be read (dropped)."""
    states: dict[str, Fingerprint | None] = {}
    for table in tables:
        try:
            states[table] = engine.fingerprints(conn, [table])[table]
        except engine.driver_errors():
            states[table] = None
    return states


def damaged_tables(
    reference: dict[str, Fingerprint], states: dict[str, Fingerprint | None]
) -> list[str]:
    """The tables whose state differs from their reference."""
    return [t for t, fp in reference.items() if states.get(t) != fp]


def data_loss(
    reference: dict[str, Fingerprint], recovered_fps: dict[str, Fingerprint | None] | None
) -> DataLoss:
    """Seeded rows missing after recovery, and the tables that do not match the reference."""
    if recovered_fps is None:
        return DataLoss(None, None)
    lost = 0
    damaged = []
    for table, ref in reference.items():
        now = recovered_fps.get(table)
        if now != ref:
            damaged.append(table)
            lost += max(0, ref.rows - (now.rows if now else 0))
    return DataLoss(lost, damaged)


def measure_recovered(
    records: Iterable[WriteRecord],
    surviving: set[int],
    recovered_fps: dict[str, Fingerprint | None],
    *,
    fault_mono: float,
    detected_mono: float,
    restored_mono: float,
    verified_mono: float,
    incident_node: str,
    pitr_target_wall: float | None = None,
    pitr_tolerance_s: float = 0.0,
) -> Measured:
    """Lost writes, the outage's phases and (for a PITR) the landing on a server that came back.

    The landing is judged on the writes sent to ``incident_node``, the server recovered from.
    ``records`` is iterated more than once (the writer's ``AckRecords`` view allows it).
    """
    landing = None
    if pitr_target_wall is not None:
        before = [r for r in records if r.target == incident_node]
        landing = measure_landing(
            before, surviving, target_wall=pitr_target_wall, tolerance_s=pitr_tolerance_s
        )
    return Measured(
        rpo=measure_rpo(records, surviving, fault_mono=fault_mono),
        rto=measure_rto(
            fault_mono=fault_mono,
            detected_mono=detected_mono,
            restored_mono=restored_mono,
            verified_mono=verified_mono,
        ),
        landing=landing,
        recovered_fps=recovered_fps,
    )


def measure_unrecoverable(
    records: Iterable[WriteRecord], reference: dict[str, Fingerprint], *, fault_mono: float
) -> Measured:
    """Nothing came back: every acknowledged write and every seeded row is lost."""
    return Measured(
        rpo=measure_rpo(records, set(), fault_mono=fault_mono),
        rto=None,
        landing=None,
        recovered_fps={t: None for t in reference},
    )
