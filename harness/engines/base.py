"""The Engine protocol every adapter implements, and the small value types it exchanges.

An adapter knows its engine's image interface, SQL dialect, driver errors and command-line
tools. It never touches Docker itself: the runner and recovery steps run its commands through
the lab, which guards every destructive action.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

from testcontainers.core.container import DockerContainer

from harness.dataset import Fingerprint
from harness.errors import HarnessError
from harness.scenario.model import Dataset

PROBE_TABLE = "drill_probe"
WRITES_TABLE = "drill_writes"


class ProbeFailed(HarnessError):
    """The server answered, but a health check of ``Engine.probe`` failed (e.g. its data
    directory is gone while cached pages still serve reads); detection counts it as down."""


@dataclass(frozen=True)
class Endpoint:
    """Where the harness reaches a server from the host: always 127.0.0.1 and a published port."""

    host: str
    port: int


@dataclass(frozen=True)
class Credentials:
    """The account and database a drill uses."""

    user: str
    password: str
    database: str


@dataclass(frozen=True)
class RecoveryTarget:
    """Where point-in-time recovery stops: exactly one of time (ISO 8601, UTC), lsn, name,
    position (the engine's own log position, as ``Engine.position`` returned it)."""

    time: str | None = None
    lsn: str | None = None
    name: str | None = None
    position: str | None = None

    def describe(self) -> str:
        return next(f"{k} {v}" for k, v in vars(self).items() if v is not None)


@dataclass(frozen=True)
class DumpJob:
    """One logical backup as the backup agent runs it.

    ``password`` and ``database`` differ from the real ones only when a fault has broken the
    job; ``pipefail`` False reproduces the shell pipeline whose failure goes unnoticed.
    """

    source_host: str
    path: str
    password: str
    database: str
    pipefail: bool = True


class Engine(Protocol):
    """What the harness needs from a database engine."""

    name: str
    default_image: str
    local_image: str | None
    port: int
    datadir: str
    datadir_marker: str
    credentials: Credentials

    def container(self, image: str, *, wait: bool = True) -> DockerContainer:
        """A configured, not yet started testcontainers container running the server.

        With ``wait`` False the container has no readiness wait (the caller judges readiness,
        e.g. of a server that first has to replay archived logs).
        """

    def connect(self, endpoint: Endpoint, *, timeout_s: float) -> Any:
        """An autocommit DB-API connection."""

    def is_definite_failure(self, exc: BaseException) -> bool:
        """True when the server rejected the statement (it did not apply), False when unknown."""

    def driver_errors(self) -> tuple[type[BaseException], ...]:
        """Exception types of the driver (connection and statement errors)."""

    def prepare(self, conn: Any) -> None:
        """Create the writer and probe tables."""

    def seed(self, conn: Any, dataset: Dataset) -> None:
        """Load the deterministic dataset with the engine's bulk path."""

    def fingerprints(self, conn: Any, tables: list[str]) -> dict[str, Fingerprint]:
        """Per-table fingerprints computed in SQL (see harness.dataset)."""

    def source_bytes(self, conn: Any, tables: list[str]) -> int:
        """On-disk size of the drill's tables, the yardstick for backup size plausibility."""

    def insert_write(self, conn: Any, seq: int, client_ts: dt.datetime) -> None:
        """Insert one acknowledged-write row (sequence number, client timestamp)."""

    def delete_writes(self, conn: Any, seqs: list[int]) -> int:
        """Delete the writer rows with these sequence numbers; return how many were deleted."""

    def count_rows(self, conn: Any, table: str) -> int:
        """Rows in a table (what an old reader does)."""

    def write_seqs(self, conn: Any) -> set[int]:
        """Every writer sequence number present in the database."""

    def probe(self, conn: Any) -> None:
        """A verified read and write; raises if the server is not healthy."""

    def dump_command(self, job: DumpJob) -> str:
        """Shell pipeline (bash) that writes a gzip-compressed logical backup to job.path."""

    def restore_command(self, *, path: str, target_host: str) -> str:
        """Shell pipeline (bash) that restores job.path into the server at target_host."""

    def tool_env(self) -> dict[str, str]:
        """Environment for the engine's command-line tools (credentials)."""

    # -- depth: archiving, physical backups, point-in-time recovery, replicas -------------
    # PostgreSQL replays archived WAL itself (restore_command) and follows its primary by
    # streaming; MariaDB's restored server is fed archived binlogs by mariadb-binlog, and its
    # replicas follow by GTID. The members below cover both shapes: an engine returns an
    # empty script where it has nothing to do at that point.
    archive_mount: str
    archive_subdir: str
    recovery_log_markers: tuple[str, ...]
    missing_log_marker: str
    time_resolution_s: float
    physical_backup_reads_datadir: bool

    def server_command(self, *, archive: bool) -> list[str]:
        """Command of a primary: replication enabled, log archiving into archive_mount if asked."""

    def after_start_script(self, *, archive: bool) -> str:
        """Shell run as root in a fresh primary (replication access, archive directory)."""

    def base_backup_command(self, *, source_host: str, path: str) -> str:
        """Shell taking a physical backup of source_host into the directory path.

        Runs in the agent, or (physical_backup_reads_datadir) in a helper that also mounts
        the source's data volume at ``datadir``.
        """

    def verify_base_backup_command(self, path: str) -> str:
        """Shell (agent) verifying every file of a physical backup against its manifest."""

    def is_archive_segment(self, name: str) -> bool:
        """True for the file name of an archived log segment (not a partial or other file)."""

    def backup_log_start_script(self, path: str) -> str:
        """Shell (agent) printing the archived segment name a physical backup starts from:
        replaying it needs every archived segment whose name sorts after this one."""

    def clone_replica_script(
        self, *, source_host: str, target: str, apply_delay_s: float, name: str
    ) -> str:
        """Shell (helper) cloning source_host into target as a replica's data directory."""

    def replica_start_script(self, *, source_host: str, apply_delay_s: float, name: str) -> str:
        """Shell (root, in the started replica) that makes it follow source_host; "" if the
        cloned data directory already does."""

    def prepare_restore_script(
        self, *, source: str, target: str, recovery: RecoveryTarget | None, archive: bool
    ) -> str:
        """Shell (helper) copying a physical backup into target, ready to start; with
        ``archive`` the server is set up to replay archived logs (up to ``recovery``) itself
        where the engine does so."""

    def replay_archive_script(
        self,
        *,
        backup_path: str,
        archive_dir: str,
        target_host: str,
        recovery: RecoveryTarget | None,
    ) -> str:
        """Shell (helper, the archive's logs in archive_dir) replaying archived logs after the
        backup into the started server at target_host; "" where the server replays them."""

    def in_recovery(self, conn: Any) -> bool:
        """True while the server is a standby or still replaying logs."""

    def promote(self, conn: Any, *, timeout_s: float) -> None:
        """Promote a standby to a read-write primary (after applying what it received)."""

    def delayed_replay_script(self, target: RecoveryTarget) -> str:
        """Shell (in a delayed standby) that makes it replay up to target itself, where the
        engine does it by a tool; "" where retarget_replica and a restart do it."""

    def retarget_replica(self, conn: Any, target: RecoveryTarget) -> bool:
        """Make a delayed standby stop at target (after delayed_replay_script ran, if any).
        True when a restart is needed for it to replay and promote; False when it has
        already stopped there and been promoted."""

    def position(self, conn: Any) -> str:
        """The primary's current log position: a recovery target (RecoveryTarget.position)."""

    def archive_status(self, conn: Any) -> dict[str, Any]:
        """Log archiving progress, with lag_bytes behind the current position."""

    def replication_status(self, conn: Any) -> dict[str, Any]:
        """Per replica: state and replay lag in bytes (None where the engine cannot tell)."""

    def run_sql(self, conn: Any, statements: list[str]) -> None:
        """Run statements in one transaction."""

    def churn_wal(self, conn: Any, *, rounds: int = 4) -> None:
        """Generate and recycle enough log that old segments are gone from the primary."""
