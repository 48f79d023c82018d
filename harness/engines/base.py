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

Their protocols are in collaborators.py. Whether the collaborator exists *is* the capability
(harness.capabilities).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from testcontainers.core.container import DockerContainer

from harness.dataset import DatasetSpec, Fingerprint, SeedPlan
from harness.errors import HarnessError

if TYPE_CHECKING:
    from harness.engines.collaborators import LogArchive, PhysicalBackups, Replication

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
    position (the engine's own log position, as ``LogArchive.position`` returned it)."""

    time: str | None = None
    lsn: str | None = None
    name: str | None = None
    position: str | None = None
    # Stop as soon as the restored backup is consistent (pgBackRest --type=immediate).
    immediate: bool | None = None

    def describe(self) -> str:
        return next(f"{k} {v}" for k, v in vars(self).items() if v is not None)


@dataclass(frozen=True)
class DumpJob:
    """One logical backup as the backup agent runs it.

    ``password`` and ``database`` differ from the real ones only when a fault has broken the
    job; ``pipefail`` False reproduces the shell pipeline whose failure goes unnoticed. The
    password reaches the job through its environment (``Engine.tool_env``), never its argv.
    """

    source_host: str
    path: str
    password: str
    database: str
    pipefail: bool = True


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
    # The table the probe reads (seeded table 1; the probe table for a team's own database).
    probe_read_table: str

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

    def seed_plan(self, dataset: DatasetSpec, *, parts: int) -> SeedPlan | None:
        """The load as SQL the harness runs in parallel (each table's rows in up to ``parts``
        id ranges, see harness.seeding), or None where only ``seed`` loads."""

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
        """Shell pipeline (bash) that writes a gzip-compressed logical backup to job.path; run
        with ``tool_env(password=job.password)``, it holds no password itself."""

    def restore_command(self, *, path: str, target_host: str) -> str:
        """Shell pipeline (bash) that restores job.path into the server at target_host."""

    def tool_env(self, *, password: str | None = None) -> dict[str, str]:
        """Environment for the engine's command-line tools: the credentials (``password``
        instead of the real one for a broken job). Credentials go to commands this way only,
        never in their argv (harness.secrets masks these values in command errors)."""
