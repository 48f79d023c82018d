"""MariaDB physical backups: mariadb-backup from a helper that mounts the primary's data
volume, with a sha256 manifest of every file, checked by ``sha256sum -c``."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from harness.engines.base import RecoveryTarget
from harness.engines.mariadb.container import PORT

if TYPE_CHECKING:
    from harness.engines.mariadb import MariaDBEngine

MANIFEST = "backup_manifest"
# What mariadb-backup records about the binlog position its copy is consistent with. MariaDB
# 11 names it mariadb_backup_binlog_info; the copy gets the old name too, so that every reader
# (replica set-up, binlog replay, verification) works with both versions.
BINLOG_INFO = "xtrabackup_binlog_info"
BINLOG_INFO_11 = "mariadb_backup_binlog_info"


class MariaDBPhysical:
    """mariadb-backup copies: they read the source's data directory."""

    reads_datadir = True

    def __init__(self, engine: MariaDBEngine) -> None:
        self.engine = engine

    def copy_command(self, *, source_host: str, path: str) -> str:
        """mariadb-backup of the server at source_host (its data directory mounted at datadir)."""
        e = self.engine
        return (
            f"mariadb-backup --backup --host={shlex.quote(source_host)} --port={PORT} "
            f'--user={shlex.quote(e.credentials.user)} --password="$MYSQL_PWD" '
            f"--datadir={e.datadir} --target-dir={shlex.quote(path)} 2>&1 | tail -n 4"
            f" && {{ cd {shlex.quote(path)} && {{ test ! -s {BINLOG_INFO_11} || "
            f"test -e {BINLOG_INFO} || cp {BINLOG_INFO_11} {BINLOG_INFO}; }}; }}"
        )

    def backup_command(self, *, source_host: str, path: str) -> str:
        quoted = shlex.quote(path)
        return (
            f"set -o pipefail; {self.copy_command(source_host=source_host, path=path)} && "
            f"cd {quoted} && find . -type f ! -name {MANIFEST} -print0 | sort -z "
            f"| xargs -0 sha256sum > {MANIFEST}"
        )

    def verify_command(self, path: str) -> str:
        quoted = shlex.quote(path)
        return (
            f"cd {quoted} && test -s {MANIFEST} && test -s {BINLOG_INFO} "
            f"&& sha256sum --quiet --strict -c {MANIFEST}"
        )

    def log_start_script(self, path: str) -> str:
        """The binlog holding the backup's consistent position."""
        return f"cut -f1 {shlex.quote(path)}/{BINLOG_INFO}"

    def prepare_restore_script(
        self, *, source: str, target: str, recovery: RecoveryTarget | None, archive: bool
    ) -> str:
        """Copy the backup and apply its redo log (mariadb-backup --prepare); the binlogs are
        replayed after the server starts (archive.replay_script)."""
        return (
            f"set -e -o pipefail; cp -a {shlex.quote(source)}/. {target}/; "
            f"mariadb-backup --prepare --target-dir={target} 2>&1 | tail -n 2; "
            f"rm -f {target}/{MANIFEST}; chown -R mysql:mysql {target}"
        )
