"""The Engine protocol every adapter implements, its optional collaborators, and the small
value types they exchange.

An adapter knows its engine's image interface, SQL dialect, driver errors and command-line
tools. It never touches Docker itself: the runner and recovery steps run its commands through
the lab, which guards every destructive action.

The core (``Engine``) is what every engine drills: dumps, crashes and wipes. What not every
engine has is a collaborator the engine holds, or None where it has none (as Patroni's
``Postgresql`` holds its slots and rewind handlers):

* ``engine.physical``: physical backups (``PhysicalBackups``);
* ``engine.archive``: log archiving and point-in-time recovery (``LogArchive``);
* ``engine.replication``: replicas, delayed replicas and promotion (``Replication``).

Whether the collaborator exists *is* the capability (harness.capabilities). A script member
that returns None means the engine has nothing to run at that point.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from testcontainers.core.container import DockerContainer

from harness.dataset import DatasetSpec, Fingerprint
from harness.errors import HarnessError, InputError

PROBE_TABLE = "drill_probe"
WRITES_TABLE = "drill_writes"

# The kinds of recovery target (RecoveryTarget's fields) an archive may support.
TARGET_KINDS = frozenset({"time", "position", "lsn", "name"})


class ProbeFailed(HarnessError):
    """The server answered, but a health check of ``Engine.probe`` failed (e.g. its data
    directory is gone while cached pages still serve reads); detection counts it as down."""


class MissingCapability(InputError):
    """A drill asked an engine for a collaborator it does not have (validation missed it)."""


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
    position (the engine's own log position, as ``LogArchive.position`` returned it)."""

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


class PhysicalBackups(Protocol):
    """Physical backups: taken, verified against a manifest, restored into a data directory."""

    # True when the backup tool copies the source's files: it runs in a helper that mounts
    # the source's data volume at the engine's datadir (else in the agent, over the network).
    reads_datadir: bool

    def backup_command(self, *, source_host: str, path: str) -> str:
        """Shell taking a physical backup of source_host into the directory path."""

    def verify_command(self, path: str) -> str:
        """Shell (agent) verifying every file of a physical backup against its manifest."""

    def log_start_script(self, path: str) -> str:
        """Shell (agent) printing the archived segment name a physical backup starts from:
        replaying it needs every archived segment whose name sorts after this one."""

    def prepare_restore_script(
        self, *, source: str, target: str, recovery: RecoveryTarget | None, archive: bool
    ) -> str:
        """Shell (helper) copying a physical backup into target, ready to start; with
        ``archive`` the server is set up to replay archived logs (up to ``recovery``) itself
        where the engine does so."""


class LogArchive(Protocol):
    """Log archiving into a store mounted on the primary, and point-in-time recovery."""

    mount: str
    subdir: str
    # The recovery target kinds (TARGET_KINDS) point-in-time recovery can stop at.
    target_kinds: frozenset[str]
    # How finely a time target is honoured (binlog events carry whole seconds).
    time_resolution_s: float

    def server_args(self) -> list[str]:
        """Arguments added to a primary's server_command to archive into ``mount``."""

    def start_script(self) -> str | None:
        """Shell (root, in a fresh archiving primary) that starts archiving; None if the
        server archives by itself."""

    def is_segment(self, name: str) -> bool:
        """True for the file name of an archived log segment (not a partial or other file)."""

    def replay_script(
        self,
        *,
        backup_path: str,
        archive_dir: str,
        target_host: str,
        recovery: RecoveryTarget | None,
    ) -> str | None:
        """Shell (helper, the archive's logs in archive_dir) replaying archived logs after the
        backup into the started server at target_host; None where the server replays them."""

    def position(self, conn: Any) -> str:
        """The primary's current log position: a recovery target (RecoveryTarget.position)."""

    def status(self, conn: Any) -> dict[str, Any]:
        """Log archiving progress, with lag_bytes behind the current position."""


class Replication(Protocol):
    """Replicas cloned from the primary that follow it (delayed ones too), and promotion."""

    # True when cloning copies the primary's files (a helper mounts its data volume).
    clone_reads_datadir: bool
    # What a replica logs when the primary no longer has the log it asks for.
    missing_log_marker: str
    # How finely a delayed replica stops at a time target.
    time_resolution_s: float

    def clone_script(
        self, *, source_host: str, target: str, apply_delay_s: float, name: str
    ) -> str:
        """Shell (helper) cloning source_host into target as a replica's data directory."""

    def start_script(self, *, source_host: str, apply_delay_s: float, name: str) -> str | None:
        """Shell (root, in the started replica) that makes it follow source_host; None if the
        cloned data directory already does."""

    def promote(self, conn: Any, *, timeout_s: float) -> None:
        """Promote a standby to a read-write primary (after applying what it received)."""

    def delayed_replay_script(self, target: RecoveryTarget) -> str | None:
        """Shell (in a delayed standby) that makes it replay up to target itself, where the
        engine does it by a tool; None where retarget and a restart do it."""

    def retarget(self, conn: Any, target: RecoveryTarget) -> bool:
        """Make a delayed standby stop at target (after delayed_replay_script ran, if any).
        True when a restart is needed for it to replay and promote; False when it has
        already stopped there and been promoted."""

    def status(self, conn: Any) -> dict[str, Any]:
        """Per replica: state and replay lag in bytes (None where the engine cannot tell)."""

    def churn_log(self, conn: Any, *, rounds: int = 4) -> None:
        """Generate and recycle enough log that old segments are gone from the primary."""


class Engine(Protocol):
    """What the harness needs from every database engine."""

    name: str
    default_image: str
    local_image: str | None
    port: int
    datadir: str
    datadir_marker: str
    credentials: Credentials
    # Lines of the server's log worth keeping as its account of a recovery.
    recovery_log_markers: tuple[str, ...]

    @property
    def physical(self) -> PhysicalBackups | None:
        """Physical backups, or None where the engine has none."""

    @property
    def archive(self) -> LogArchive | None:
        """Log archiving and point-in-time recovery, or None."""

    @property
    def replication(self) -> Replication | None:
        """Replicas and promotion, or None."""

    def container(self, image: str, *, wait: bool = True) -> DockerContainer:
        """A configured, not yet started testcontainers container running the server.

        With ``wait`` False the container has no readiness wait (the caller judges readiness,
        e.g. of a server that first has to replay archived logs).
        """

    def server_command(self) -> list[str]:
        """Command of a server the harness starts (a primary: with replication where the
        engine has it; ``archive.server_args()`` is added when it archives)."""

    def after_start_script(self) -> str | None:
        """Shell run as root in a fresh primary (e.g. replication access); None if nothing."""

    def connect(self, endpoint: Endpoint, *, timeout_s: float) -> Any:
        """An autocommit DB-API connection."""

    def is_definite_failure(self, exc: BaseException) -> bool:
        """True when the server rejected the statement (it did not apply), False when unknown."""

    def driver_errors(self) -> tuple[type[BaseException], ...]:
        """Exception types of the driver (connection and statement errors)."""

    def prepare(self, conn: Any) -> None:
        """Create the writer and probe tables."""

    def seed(self, conn: Any, dataset: DatasetSpec) -> None:
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

    def in_recovery(self, conn: Any) -> bool:
        """True while the server is a standby or still replaying logs."""

    def run_sql(self, conn: Any, statements: list[str]) -> None:
        """Run statements in one transaction."""

    def dump_command(self, job: DumpJob) -> str:
        """Shell pipeline (bash) that writes a gzip-compressed logical backup to job.path."""

    def restore_command(self, *, path: str, target_host: str) -> str:
        """Shell pipeline (bash) that restores job.path into the server at target_host."""

    def tool_env(self) -> dict[str, str]:
        """Environment for the engine's command-line tools (credentials)."""


Part = TypeVar("Part")


def _need(part: Part | None, engine: Engine, what: str) -> Part:
    if part is None:
        raise MissingCapability(f"engine {engine.name} has no {what}")
    return part


def physical_of(engine: Engine) -> PhysicalBackups:
    """The engine's physical backups (MissingCapability if it has none)."""
    return _need(engine.physical, engine, "physical backups")


def archive_of(engine: Engine) -> LogArchive:
    """The engine's log archive (MissingCapability if it has none)."""
    return _need(engine.archive, engine, "log archive")


def replication_of(engine: Engine) -> Replication:
    """The engine's replication (MissingCapability if it has none)."""
    return _need(engine.replication, engine, "replication")
