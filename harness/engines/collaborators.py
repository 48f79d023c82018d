"""The optional collaborators an engine may hold (see base.py), and accessors for callers
that need one.

A script member that returns None means the engine has nothing to run at that point (the
server does it by itself); callers check for None, never for an empty string.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from harness.engines.base import RecoveryTarget
from harness.errors import InputError

if TYPE_CHECKING:
    from harness.engines.base import Engine
    from harness.engines.postgres.pgbackrest import PgBackRest

# The kinds of recovery target (RecoveryTarget's fields) an archive may support.
TARGET_KINDS = frozenset({"time", "position", "lsn", "name"})


class MissingCapability(InputError):
    """A drill asked an engine for a collaborator it does not have (validation missed it)."""


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

    def make_synchronous(self, primary: Any, replica: Any, *, name: str) -> None:
        """Make the primary acknowledge a commit only once replica ``name`` has it (on its
        disk or in its relay log), from now on; called on a replica that is streaming."""

    def is_synchronous(self, primary: Any, *, name: str) -> bool:
        """Whether the primary now waits for replica ``name`` before acknowledging."""


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


def pgbackrest_of(engine: Engine) -> PgBackRest:
    """The engine's pgBackRest (MissingCapability for engines without it: it is PostgreSQL's).

    Not part of the Engine protocol: one engine has it, and only drills that name it ask."""
    part: PgBackRest | None = getattr(engine, "pgbackrest", None)
    return _need(part, engine, "pgBackRest")


def log_archive_for(engine: Engine, tool: str) -> LogArchive:
    """The log archive a scenario's topology asks for: the engine's own, or pgBackRest's."""
    return pgbackrest_of(engine) if tool == "pgbackrest" else archive_of(engine)
