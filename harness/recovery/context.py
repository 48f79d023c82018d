"""What recovery steps share: the context they work in and the records they leave."""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.backups.agent import BackupAgent
from harness.backups.catalog import BackupRecord, Catalog
from harness.clock import iso_utc
from harness.engines.base import Engine, RecoveryTarget
from harness.errors import HarnessError, ServerExited
from harness.lab.lab import Lab
from harness.polling import poll_until
from harness.record import RecoveryStepEntry
from harness.scenario.model import Backup
from harness.server.health import probe
from harness.server.node import Node, wait_running_or_exited

log = logging.getLogger(__name__)


class StepOutcome(enum.Enum):
    """How one attempt of a recovery step ended (the journal keeps the value)."""

    OK = "ok"
    FAILED = "failed"
    REJECTED = "rejected"  # a backup that failed verification, so not restored


@dataclass
class StepRecord:
    """One recorded attempt of a recovery step."""

    step: str
    outcome: StepOutcome
    started_wall: float
    duration_s: float
    detail: str
    backup: str | None = None
    started_mono: float = 0.0
    log_lines: list[str] = field(default_factory=list)

    def entry(self) -> RecoveryStepEntry:
        """This attempt as the drill record holds it."""
        return RecoveryStepEntry(
            step=self.step,
            outcome=self.outcome.value,
            started_at=iso_utc(self.started_wall),
            duration_s=round(self.duration_s, 4),
            backup=self.backup,
            detail=self.detail,
            server_log=tuple(self.log_lines),
        )


@dataclass
class Landing:
    """Where a point-in-time recovery was aimed, and what the server said it reached."""

    target: RecoveryTarget
    target_wall: float | None
    tolerance_s: float
    server_log: list[str]


@dataclass
class Recovered:
    """A server that passed its verified read and write."""

    node: Node
    restored_mono: float
    verified_mono: float
    restored_from: BackupRecord | None = None
    landing: Landing | None = None
    step: str = ""
    # The recovery's own account where a tool, not the server, replayed the logs.
    log_lines: list[str] = field(default_factory=list)
    # The restore phase split (seconds, None where the path has no such part): the backup's
    # checksum re-check before it, the fresh server's start, the restore tool's own run.
    backup_check_s: float | None = None
    server_start_s: float | None = None
    tool_s: float | None = None


@dataclass(frozen=True)
class NotRecovered:
    """A step (or a whole procedure) that gave no verified server, and why."""

    why: str


# What a recovery step, and run_recovery, come to.
StepResult = Recovered | NotRecovered


@dataclass
class RecoveryContext:
    """What recovery steps work with; ``records`` collects every attempt."""

    lab: Lab
    engine: Engine
    image: str
    agent: BackupAgent | None
    catalog: Catalog
    failed: Node
    probe_interval_s: float
    announce: Callable[[str], None]
    nodes: dict[str, Node] = field(default_factory=dict)
    incident_wall: float = 0.0
    # The primary's log position read just before the incident, and when (fault_position).
    fault_position: tuple[str, float] | None = None
    archive_volume: str | None = None
    connect: Callable[[Node], Any] | None = None
    records: list[StepRecord] = field(default_factory=list)
    # The scenario's backup jobs by name (a command backup's restore command lives there).
    backups: dict[str, Backup] = field(default_factory=dict)
    _restores: int = 0

    def scenario_backup(self, name: str) -> Backup | None:
        return self.backups.get(name)

    def next_name(self) -> str:
        self._restores += 1
        return f"restored-{self._restores}"

    def record(
        self,
        step: str,
        outcome: StepOutcome,
        started: float,
        started_wall: float,
        detail: str,
        backup: str | None = None,
        log_lines: list[str] | None = None,
    ) -> None:
        self.records.append(
            StepRecord(
                step,
                outcome,
                started_wall,
                time.monotonic() - started,
                detail,
                backup,
                started,
                list(log_lines or []),
            )
        )
        log.info(
            "recovery %s%s: %s (%s)", step, f" [{backup}]" if backup else "", outcome.value, detail
        )

    def wait_verified(self, node: Node, *, timeout_s: float) -> float:
        """Poll until a verified read and write succeeds on ``node``; return that moment."""

        def healthy() -> float:
            probe(self.lab, self.engine, node)
            return time.monotonic()

        return poll_until(
            healthy,
            what=f"a verified read and write on {node.name}",
            timeout_s=timeout_s,
            interval_s=self.probe_interval_s,
            retry_on=(HarnessError, *self.engine.driver_errors()),
        )

    def wait_promoted(self, node: Node, *, timeout_s: float) -> float:
        """Wait until ``node`` has finished recovery and accepts writes; return that moment.

        Fails at once (ServerExited) if the server's container stops, e.g. a recovery target
        it cannot reach.
        """
        assert self.connect is not None
        connect = self.connect

        def promoted() -> float | None:
            wait_running_or_exited(self.lab, node)
            conn = connect(node)
            try:
                return None if self.engine.in_recovery(conn) else time.monotonic()
            finally:
                conn.close()

        return poll_until(
            promoted,
            what=f"{node.name} to finish recovery",
            timeout_s=timeout_s,
            interval_s=self.probe_interval_s,
            retry_on=(HarnessError, *self.engine.driver_errors()),
            stop_on=(ServerExited,),
        )

    def recovery_log(self, node: Node) -> list[str]:
        """The server's own account of its recovery (where it stopped, what it replayed)."""
        lines = self.lab.logs(node.container_id, lines=400).splitlines()
        markers = self.engine.recovery_log_markers
        return [line.strip()[-240:] for line in lines if any(m in line for m in markers)][-12:]
