"""Physical backups, verified file by file against a manifest.

PostgreSQL: pg_basebackup, run by the agent over a replication connection, with its own
manifest checked by pg_verifybackup. MariaDB: mariadb-backup reads the data directory, so it
runs in a helper that mounts the primary's data volume beside the store (as a backup sidecar
does), and writes a sha256 manifest of every file it copied.
"""

from __future__ import annotations

import shlex
import time

from harness.backups.agent import STORES_ROOT, BackupAgent
from harness.backups.catalog import BackupRecord
from harness.engines.base import Engine
from harness.engines.collaborators import physical_of
from harness.errors import InfrastructureError, InputError
from harness.lab.helpers import helper
from harness.lab.lab import ExecResult
from harness.scenario.model import Backup

MANIFEST = "backup_manifest"
# Taking, inspecting (du and sha256 of the manifest) and verifying a base backup.
BACKUP_TIMEOUT_S = 900
INSPECT_TIMEOUT_S = 300
VERIFY_TIMEOUT_S = 900


def take_physical_backup(
    agent: BackupAgent,
    engine: Engine,
    backup: Backup,
    *,
    source_host: str,
    source_bytes: int,
    last_acked_seq: int,
    source_volume: str | None = None,
    image: str = "",
    timeout_s: float = BACKUP_TIMEOUT_S,
) -> BackupRecord:
    """Take a base backup into a directory of the store and catalogue it."""
    path = BackupAgent.path(backup.store, backup.name)
    physical = physical_of(engine)
    command = physical.backup_command(source_host=source_host, path=path)
    if physical.reads_datadir:
        store_volume = agent.volumes.get(backup.store)
        if store_volume is None or source_volume is None:
            raise InputError(
                f"backup {backup.name}: {engine.name} physical backups read the data directory "
                f"and need a volume store (store {backup.store} is not one)"
            )
        mounts = {source_volume: engine.datadir, store_volume: f"{STORES_ROOT}/{backup.store}"}
        with helper(agent.lab, image=image, name=f"backup-{backup.name}", mounts=mounts) as cid:
            started_wall, started = time.time(), time.monotonic()
            result: ExecResult = agent.lab.exec(
                cid, ["bash", "-c", command], timeout_s=timeout_s, env=engine.tool_env()
            )
            ended_wall, ended = time.time(), time.monotonic()
    else:
        started_wall, started = time.time(), time.monotonic()
        result = agent.run(command, timeout_s=timeout_s, env=engine.tool_env())
        ended_wall, ended = time.time(), time.monotonic()
    size, manifest_sha = directory_facts(agent, path)
    return BackupRecord(
        name=backup.name,
        method=backup.method,
        store=backup.store,
        path=path,
        started_wall=started_wall,
        ended_wall=ended_wall,
        started_mono=started,
        ended_mono=ended,
        exit_code=result.exit_code,
        size_bytes=size,
        sha256=manifest_sha,
        source_bytes=source_bytes,
        min_size_ratio=backup.min_size_ratio,
        last_acked_seq=last_acked_seq,
        log_tail=result.tail(),
    )


def directory_facts(agent: BackupAgent, path: str) -> tuple[int, str]:
    """Total size of a backup directory and the sha256 of its manifest (0, '' if missing)."""
    quoted = shlex.quote(path)
    result = agent.run(
        f"if [ -f {quoted}/{MANIFEST} ]; then du -sb {quoted} | cut -f1; "
        f"sha256sum {quoted}/{MANIFEST} | cut -d' ' -f1; else echo missing; fi",
        timeout_s=INSPECT_TIMEOUT_S,
    )
    if not result.ok:
        raise InfrastructureError(f"could not inspect {path}: {result.tail()}")
    words = result.stdout.split()
    if not words or words[0] == "missing":
        return 0, ""
    return int(words[0]), words[1]


def verify_files(agent: BackupAgent, engine: Engine, path: str) -> str:
    """Empty when every file matches the manifest; otherwise the verifier's complaint."""
    result = agent.run(physical_of(engine).verify_command(path), timeout_s=VERIFY_TIMEOUT_S)
    return "" if result.ok else verifier_complaint(result)


def verifier_complaint(result: ExecResult, *, limit: int = 400) -> str:
    """What a failed verifier said, from stdout and stderr: `sha256sum -c` names each file
    that FAILED on stdout and only counts them on stderr; pg_verifybackup uses stderr."""
    text = "; ".join(result.lines())
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text or f"verifier exited {result.exit_code}"
