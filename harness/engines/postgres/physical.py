"""PostgreSQL physical backups: pg_basebackup with a SHA-256 manifest, pg_verifybackup."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from harness.engines.base import RecoveryTarget
from harness.engines.postgres.archive import conf_lines, recovery_settings

if TYPE_CHECKING:
    from harness.engines.postgres import PostgresEngine


class PostgresPhysical:
    """Base backups streamed over a replication connection (no data volume needed)."""

    reads_datadir = False

    def __init__(self, engine: PostgresEngine) -> None:
        self.engine = engine

    def backup_command(self, *, source_host: str, path: str) -> str:
        return (
            f"set -o pipefail; pg_basebackup -h {shlex.quote(source_host)} "
            f"-D {shlex.quote(path)} -Fp -X stream --checkpoint=fast "
            "--manifest-checksums=SHA256 --no-password"
        )

    def verify_command(self, path: str) -> str:
        return f"pg_verifybackup --quiet {shlex.quote(path)}"

    def log_start_script(self, path: str) -> str:
        """The last WAL segment the backup carries in its own pg_wal."""
        return f"ls {shlex.quote(path)}/pg_wal | grep -E '^[0-9A-F]{{24}}$' | sort | tail -1"

    def prepare_restore_script(
        self, *, source: str, target: str, recovery: RecoveryTarget | None, archive: bool
    ) -> str:
        """Shell (root, in a helper container): copy a physical backup and set it to recover.

        The server replays archived WAL itself (restore_command); without an archive the
        copy fails, and recovery ends at the end of the backup's own WAL.
        """
        # Values quoted for the config file, then the whole text for the shell.
        conf = conf_lines(recovery_settings(self.engine.archive, recovery))
        to = shlex.quote(target)
        return (
            f"set -e; cp -a {shlex.quote(source)}/. {to}/; rm -f {to}/postmaster.pid; "
            f"printf '%s\\n' {shlex.quote(conf)} >> {to}/postgresql.auto.conf; "
            f"touch {to}/recovery.signal; chown -R postgres: {to}; chmod 700 {to}"
        )
