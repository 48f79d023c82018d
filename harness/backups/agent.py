"""The backup agent: a container of its own with the backup stores mounted as volumes.

Backups never live inside the database container (a backup beside the data is a single point
of failure); the agent reaches the servers over the run's network by their aliases.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from testcontainers.core.container import DockerContainer

from harness.backups.s3store import S3Store
from harness.errors import InfrastructureError
from harness.lab.lab import ExecResult, Lab

STORES_ROOT = "/stores"
# Reading a stored file through (its sha256) ends within this.
FACTS_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class FileFacts:
    """What the store says about one file."""

    exists: bool
    size_bytes: int
    sha256: str


class BackupAgent:
    """Runs backup and restore pipelines next to the stores, never next to the data."""

    def __init__(
        self,
        lab: Lab,
        *,
        image: str,
        volumes: dict[str, str],
        tmpfs_mb: dict[str, int],
        s3: dict[str, S3Store] | None = None,
    ) -> None:
        """``volumes`` maps store names to volumes of the run; ``tmpfs_mb`` sizes tmpfs stores;
        ``s3`` holds the S3 stores (reached through the S3 API, nothing mounted)."""
        self.lab = lab
        self.volumes = dict(volumes)
        self.s3 = dict(s3 or {})
        container = DockerContainer(image).with_command(["sleep", "infinity"])
        for store, volume in volumes.items():
            container.with_volume_mapping(volume, f"{STORES_ROOT}/{store}", mode="rw")
        for store, size_mb in tmpfs_mb.items():
            container.with_tmpfs_mount(f"{STORES_ROOT}/{store}", size=f"size={size_mb}m")
        # The lab's S3 server over TLS: the run's CA, for rd-s3 and pgBackRest in the agent.
        tls = {volume: path for st in self.s3.values() for volume, path in st.tls_mounts.items()}
        for volume, path in tls.items():
            container.with_volume_mapping(volume, path, mode="ro")
        self._container = lab.start(container, role="backup-agent", alias="backup-agent")
        self.container_id = self._container.get_wrapped_container().id

    @staticmethod
    def path(store: str, filename: str) -> str:
        return f"{STORES_ROOT}/{store}/{filename}"

    def run(
        self, script: str, *, timeout_s: float, env: dict[str, str] | None = None
    ) -> ExecResult:
        """Run a bash script in the agent."""
        return self.lab.exec(
            self.container_id,
            ["bash", "-c", script],
            timeout_s=timeout_s,
            env=env,
            action="run a backup command in",
        )

    def s3_store(self, path: str) -> S3Store | None:
        """The S3 store an ``s3://`` location belongs to (None for a file path)."""
        if not path.startswith("s3://"):
            return None
        bucket = path[5:].split("/", 1)[0]
        return next((st for st in self.s3.values() if st.bucket == bucket), None)

    def facts(self, path: str) -> FileFacts:
        """Existence, size and sha256 of a stored file, or of an S3 object version."""
        store = self.s3_store(path)
        if store is not None:
            o = store.facts(path)
            return FileFacts(exists=o.exists, size_bytes=o.size_bytes, sha256=o.sha256)
        quoted = shlex.quote(path)
        result = self.run(
            f"if [ -f {quoted} ]; then stat -c %s {quoted}; sha256sum {quoted} | cut -d' ' -f1; "
            "else echo missing; fi",
            timeout_s=FACTS_TIMEOUT_S,
        )
        if not result.ok:
            raise InfrastructureError(
                f"could not inspect {path} in the backup store: {result.tail()}"
            )
        lines = result.stdout.split()
        if not lines or lines[0] == "missing":
            return FileFacts(exists=False, size_bytes=0, sha256="")
        return FileFacts(exists=True, size_bytes=int(lines[0]), sha256=lines[1])
