"""pgBackRest (the Debian package in the PostgreSQL images): WAL archiving through
``archive-push``, full / differential / incremental backups, ``verify``, and restores with
``--type=time|lsn|immediate`` and ``--delta``.

Where it runs, honestly: pgBackRest needs local access to the data directory (or an SSH/TLS
"repository host" set-up this lab does not build), so ``archive-push`` and ``backup`` run as
the postgres user inside the primary's container, and the repository is a store volume
mounted on it at ``/archive`` (the way a team mounts an NFS repository). A restore runs in a
helper that mounts the new data volume and the same store at the same paths; the restored
server then fetches WAL with ``archive-get`` from that store. ``verify`` needs only the
repository, so it runs in the backup agent. Every option is given on the command line (no
pgbackrest.conf): what ran is what the journal shows.

Or the repository is on S3 (``repo1-type=s3``; ``S3Repository``): nothing is mounted but the
run's CA (pgBackRest verifies the endpoint's certificate), and the key pair reaches pgBackRest
only through its environment (``PGBACKREST_REPO1_S3_KEY`` / ``..._KEY_SECRET``: the primary's
and the restored server's container environment, the exec environment elsewhere), never argv.

One class plays two roles: it is the primary's log archive (the ``LogArchive`` protocol, so
the topology, lag monitor and PITR use it like the plain ``cp`` archive) and it builds the
backup, verify, expire and restore commands the pgbackrest backup method runs.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from harness.engines.base import RecoveryTarget
from harness.engines.postgres.archive import SEGMENT_NAME_LENGTH

if TYPE_CHECKING:
    import psycopg

    from harness.engines.postgres import PostgresEngine

STANZA = "drill"
# pgBackRest backup types, and the restore types the drill uses for point-in-time recovery.
BACKUP_TYPES = ("full", "diff", "incr")
# Parallel transfers of verify and restore on an S3 repository (latency-bound, not CPU-bound).
S3_PROCESS_MAX = 4


@dataclass(frozen=True)
class S3Repository:
    """pgBackRest's repository in an S3 bucket (``repo1-type=s3``), as the containers reach it."""

    bucket: str
    endpoint: str  # host name (pgBackRest's repo1-s3-endpoint)
    port: int
    region: str
    path: str  # the repository's path in the bucket: /PREFIX/pgbackrest
    access_key: str = field(repr=False)
    secret_key: str = field(repr=False)
    uri_style: Literal["path", "host"] = "path"
    # A CA file in the containers to verify the endpoint against ('' = the system's CAs).
    ca_file: str = ""
    # Volumes the containers running pgBackRest mount (the run's CA), volume -> path.
    mounts: tuple[tuple[str, str], ...] = ()

    def options(self) -> list[str]:
        """The repository options (no secret among them)."""
        opts = [
            "--repo1-type=s3",
            f"--repo1-path={self.path}",
            f"--repo1-s3-bucket={self.bucket}",
            f"--repo1-s3-endpoint={self.endpoint}",
            f"--repo1-s3-region={self.region}",
            f"--repo1-s3-uri-style={self.uri_style}",
            f"--repo1-storage-port={self.port}",
        ]
        if self.ca_file:
            opts.append(f"--repo1-storage-ca-file={self.ca_file}")
        return opts

    def env(self) -> dict[str, str]:
        """The key pair, as pgBackRest reads it from its environment (secure options)."""
        return {
            "PGBACKREST_REPO1_S3_KEY": self.access_key,
            "PGBACKREST_REPO1_S3_KEY_SECRET": self.secret_key,
        }

    def key_prefix(self) -> str:
        """The repository's key prefix in the bucket (no leading or trailing slash)."""
        return self.path.strip("/")


class PgBackRest:
    """pgBackRest's repository on the WAL-archive store: archiving, backups, verify, restore."""

    mount = "/archive"
    subdir = "pgbackrest"
    target_kinds = frozenset({"time", "position", "lsn", "name"})
    time_resolution_s = 1e-6

    def __init__(self, engine: PostgresEngine, *, stanza: str = STANZA) -> None:
        self.engine = engine
        # The drill's own repositories use one stanza; a team's repository names its own.
        self.stanza = stanza
        # Set when the WAL-archive store is an S3 store (the run's topology decides).
        self.s3: S3Repository | None = None

    def env(self) -> dict[str, str]:
        """Environment a pgBackRest command needs (the S3 key pair; nothing for a volume)."""
        return self.s3.env() if self.s3 else {}

    def mounts(self) -> dict[str, str]:
        """Volumes a container running pgBackRest on an S3 repository mounts (its CA)."""
        return dict(self.s3.mounts) if self.s3 else {}

    # -- options -------------------------------------------------------------------------
    def repo_path(self, mount: str | None = None) -> str:
        """The repository as a container sees it (the store mounted at ``mount``)."""
        return f"{mount or self.mount}/{self.subdir}"

    def options(
        self,
        *,
        repo_mount: str | None = None,
        pg: bool = True,
        console: str = "info",
        connect: bool = False,
    ) -> list[str]:
        """Options every command gets: stanza, repository, data directory, logging."""
        repo = self.s3.options() if self.s3 else [f"--repo1-path={self.repo_path(repo_mount)}"]
        opts = [
            f"--stanza={self.stanza}",
            *repo,
            "--log-level-file=off",
            f"--log-level-console={console}",
        ]
        if pg:
            opts.append(f"--pg1-path={self.engine.datadir}")
        if connect:
            # Over the local socket as the drill's superuser (the image's POSTGRES_USER);
            # only the commands that connect accept these.
            opts += [
                f"--pg1-user={self.engine.credentials.user}",
                f"--pg1-database={self.engine.credentials.database}",
            ]
        return opts

    def command(
        self,
        verb: str,
        *extra: str,
        repo_mount: str | None = None,
        pg: bool = True,
        console: str = "info",
        connect: bool = False,
    ) -> str:
        """A pgbackrest command line (shell words quoted)."""
        opts = self.options(repo_mount=repo_mount, pg=pg, console=console, connect=connect)
        words = ["pgbackrest", *opts, *extra, verb]
        return " ".join(shlex.quote(w) for w in words)

    @staticmethod
    def as_postgres(script: str) -> list[str]:
        """argv running ``script`` as the postgres user (pgBackRest's files belong to it)."""
        return ["su", "postgres", "-s", "/bin/bash", "-c", script]

    # -- LogArchive ----------------------------------------------------------------------
    def server_args(self) -> list[str]:
        """archive_command through pgBackRest's archive-push, a switch at least every second."""
        push = self.command("archive-push", console="warn") + " %p"
        return [
            "-c",
            "archive_mode=on",
            "-c",
            "archive_timeout=1",
            "-c",
            f"archive_command={push}",
        ]

    def start_script(self) -> str:
        """Shell (root, in the running primary): the repository folder and the stanza."""
        repo = shlex.quote(self.repo_path())
        create = self.command("stanza-create", connect=True)
        if self.s3:
            return f"set -e; su postgres -s /bin/bash -c {shlex.quote(create)}"
        return (
            f"set -e; mkdir -p {repo} && chown postgres: {repo} && chmod 0750 {repo}; "
            f"su postgres -s /bin/bash -c {shlex.quote(create)}"
        )

    def is_segment(self, name: str) -> bool:
        """A stored WAL file: ``SEGMENT-sha1[.gz]`` (the segment name, then its checksum)."""
        segment = name.split("-", 1)[0]
        return len(segment) == SEGMENT_NAME_LENGTH and segment.isalnum() and "-" in name

    def replay_script(
        self,
        *,
        backup_path: str,
        archive_dir: str,
        target_host: str,
        recovery: RecoveryTarget | None,
    ) -> None:
        """Nothing: the restored server fetches WAL itself (restore_command = archive-get)."""
        return None

    def position(self, conn: psycopg.Connection[Any]) -> str:
        return self.engine.archive.position(conn)

    def status(self, conn: psycopg.Connection[Any]) -> dict[str, Any]:
        return self.engine.archive.status(conn)

    # -- backups -------------------------------------------------------------------------
    def backup_command(self, backup_type: str) -> str:
        """Shell (postgres, in the primary): one backup of ``backup_type``, fast checkpoint."""
        # Retention is the team's policy, not the drill's: keep every set (no auto-expire).
        return self.command(
            "backup",
            f"--type={backup_type}",
            "--start-fast",
            "--repo1-retention-full=9999999",
            # On S3 small files go into bundles (pgBackRest's advice for object stores): one
            # object per file made a 30 MB cluster's full backup take 66 s on the lab's moto
            # server, bundled 4 s.
            *(["--repo1-bundle"] if self.s3 else []),
            connect=True,
        )

    def info_command(self, *, repo_mount: str | None = None) -> str:
        """Shell: the repository's backups as JSON (``pgbackrest info --output=json``)."""
        return self.command(
            "info", "--output=json", console="warn", repo_mount=repo_mount, pg=False
        )

    def verify_command(self, *, repo_mount: str | None = None) -> str:
        """Shell: pgBackRest's own verify of every backup and WAL file of the repository."""
        # On S3 every object is a request: parallel readers (verify took 181 s, 4 of them 47 s).
        parallel = [f"--process-max={S3_PROCESS_MAX}"] if self.s3 else []
        return self.command(
            "verify", "--verbose", "--output=text", *parallel, repo_mount=repo_mount, pg=False
        )

    def expire_command(self, label: str, *, repo_mount: str | None = None) -> str:
        """Shell: remove one backup set from the repository (``expire --set``)."""
        return self.command("expire", f"--set={label}", repo_mount=repo_mount, pg=False)

    def restore_command(
        self, *, label: str, recovery: RecoveryTarget | None, delta: bool = False
    ) -> str:
        """Shell (postgres, in a helper mounting the data volume at the datadir and the
        repository's store at ``mount``): restore set ``label``, set up to replay WAL from
        the repository up to ``recovery`` (to the end of the archive when None) and promote."""
        extra = [f"--set={label}"]
        if recovery is None:
            extra.append("--type=default")
        elif recovery.immediate:
            extra.append("--type=immediate")
        elif recovery.time is not None:
            extra += ["--type=time", f"--target={recovery.time}", "--target-exclusive"]
        elif recovery.lsn is not None or recovery.position is not None:
            extra += [
                "--type=lsn",
                f"--target={recovery.lsn or recovery.position}",
                "--target-exclusive",
            ]
        elif recovery.name is not None:
            extra += ["--type=name", f"--target={recovery.name}"]
        if recovery is not None:
            extra.append("--target-action=promote")
        if delta:
            extra.append("--delta")
        if self.s3:
            extra.append(f"--process-max={S3_PROCESS_MAX}")
        return self.command("restore", *extra)
