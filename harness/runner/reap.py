"""Reaping killed runs: remove what they left in the lab and mark their journals ``killed``.

The lab's reaper decides which runs are dead and removes their resources; this module, above the
report layer, turns each dead run's journal (found by its label) from ``started`` into
``killed`` (atomically, in the run folder) and hands the record to ``record`` for the history.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docker

from harness.errors import InputError
from harness.lab.owner import Liveness
from harness.lab.reaper import FoundRun, Reaping, reap
from harness.measurement.verdict import Verdict
from harness.record import DrillRecord, DrillStatus
from harness.report.journal import read_journal, write_journal


@dataclass(frozen=True)
class ReapedRun:
    """A reaped run, its journal marked ``killed`` (None when there was none to mark), a note."""

    found: FoundRun
    killed: DrillRecord | None
    note: str


def mark_killed(path: Path) -> DrillRecord | None:
    """Turn a journal left at ``started`` into ``killed``; None when it is not at ``started``."""
    record = read_journal(path)
    if record.status is not DrillStatus.STARTED:
        return None
    error = f"killed while {record.action or 'starting'} (its process is gone)"
    killed = dataclasses.replace(
        record,
        status=DrillStatus.KILLED,
        verdict=Verdict.ERROR.value,
        error=error,
        reasons=(*record.reasons, error),
    )
    write_journal(path, killed)
    return killed


def reap_killed(
    client: docker.DockerClient,
    *,
    run_id: str | None = None,
    force: bool = False,
    record: Callable[[DrillRecord], None] | None = None,
) -> tuple[Reaping, list[ReapedRun]]:
    """Reap dead runs (or the run named); mark and ``record`` each dead run's journal."""
    reaping = reap(client, run_id=run_id, force=force)
    runs = []
    for found in reaping.reaped:
        killed, note = _mark(found)
        if killed is not None and record is not None:
            record(killed)
        runs.append(ReapedRun(found, killed, note))
    return reaping, runs


def _mark(found: FoundRun) -> tuple[DrillRecord | None, str]:
    if found.liveness is not Liveness.DEAD:
        return None, "its owner was not known dead: its journal is left as it is"
    if found.journal is None:
        return None, "its resources name no journal"
    if not found.journal.is_file():
        return None, f"no journal at {found.journal} (moved or removed)"
    try:
        killed = mark_killed(found.journal)
    except (InputError, OSError) as exc:
        return None, f"its journal could not be marked: {exc}"
    if killed is None:
        return None, f"its journal {found.journal} had already ended"
    return killed, f"journal {found.journal} marked killed ({killed.error})"
