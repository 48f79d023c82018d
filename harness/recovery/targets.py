"""Recovery targets: where a point-in-time recovery or a delayed replica's replay stops."""

from __future__ import annotations

import datetime as dt
import math

from harness.engines.base import RecoveryTarget
from harness.errors import InfrastructureError
from harness.scenario.model import PitrTarget


def recovery_target(
    target: PitrTarget,
    *,
    incident_wall: float,
    resolution_s: float = 1e-6,
    fault_position: tuple[str, float] | None = None,
) -> tuple[RecoveryTarget, float | None]:
    """The engine-level target and, for time targets, its wall time (epoch seconds).

    A time target is rounded down to the engine's resolution (MariaDB's binlog stamps whole
    seconds): recovery then loses up to that much more, which the RPO counts, but never
    replays past the target. The landing is judged against the rounded time.

    A fault-position target is the primary's log position read just before the incident
    (``fault_position``: the position and the wall time it was read), judged against that time.
    """
    if target.fault_position:
        if fault_position is None:
            raise InfrastructureError("the primary's log position before the fault was not read")
        position, read_wall = fault_position
        return RecoveryTarget(position=position), read_wall
    if target.immediate:
        return RecoveryTarget(immediate=True), None
    if target.before_fault:
        wall = incident_wall + target.offset_s
    elif target.time is not None:
        parsed = dt.datetime.fromisoformat(target.time)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        wall = parsed.timestamp() + target.offset_s
    else:
        return RecoveryTarget(lsn=target.lsn, name=target.name), None
    if resolution_s >= 1e-3:
        wall = math.floor(wall / resolution_s) * resolution_s
    iso = dt.datetime.fromtimestamp(wall, dt.UTC).isoformat(sep=" ")
    return RecoveryTarget(time=iso), wall
