"""``method: command``: the team's own backup and restore scripts, drilled as they are.

The harness does not know the tool (a cron script, WAL-G, Barman, mysqldump-to-S3); it runs the
backup command in the backup agent (or in a helper of the image the scenario names, on the
run's network, with the store's volume mounted), records exit code, output and duration, and
then checks what the store holds where the command was told to write. Environment given to
both commands (credentials only in the environment, masked in anything they print):

    DB_HOST DB_PORT DB_USER DB_NAME            the server to back up (restore: the fresh one)
    MYSQL_PWD / PGPASSWORD                     the database password (the engine's variable)
    BACKUP_NAME                                the backup job's name
    BACKUP_PATH                                volume store: the file to write / read
    BACKUP_OBJECT S3_ENDPOINT_URL S3_BUCKET S3_PREFIX AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
    AWS_DEFAULT_REGION                         S3 store: the object to write / read
    BACKUP_VERSION_ID                          restore on a versioned store: the version to read
"""

from __future__ import annotations

import time

from harness.backups.agent import STORES_ROOT, BackupAgent
from harness.backups.catalog import BackupRecord
from harness.backups.s3store import parse_url
from harness.engines.base import Engine
from harness.lab.execution import ExecResult
from harness.lab.helpers import helper
from harness.scenario.model import Backup

COMMAND_TIMEOUT_S = 900.0


def command_env(agent: BackupAgent, engine: Engine, backup: Backup, *, host: str) -> dict[str, str]:
    """The environment the team's command gets (see the module docstring)."""
    env = {
        **engine.tool_env(),
        "DB_HOST": host,
        "DB_PORT": str(engine.port),
        "DB_USER": engine.credentials.user,
        "DB_NAME": engine.credentials.database,
        "BACKUP_NAME": backup.name,
    }
    store = agent.s3.get(backup.store)
    if store is not None:
        env |= {**store.env(), "BACKUP_OBJECT": store.key(f"{backup.name}.backup")}
    else:
        env["BACKUP_PATH"] = BackupAgent.path(backup.store, f"{backup.name}.backup")
    return env


def location(agent: BackupAgent, backup: Backup) -> str:
    """Where the command was told to write: an ``s3://`` URL or a path in the agent."""
    store = agent.s3.get(backup.store)
    if store is None:
        return BackupAgent.path(backup.store, f"{backup.name}.backup")
    key = store.key(f"{backup.name}.backup")
    return store.url(key, store.latest_version(key))


def run_command(
    agent: BackupAgent, backup: Backup, script: str, env: dict[str, str], *, what: str
) -> ExecResult:
    """Run ``script`` in the agent, or in a helper of ``backup.image`` with the store mounted."""
    if not backup.image:
        return agent.run(script, timeout_s=COMMAND_TIMEOUT_S, env=env)
    volume = agent.volumes.get(backup.store)
    mounts = {volume: f"{STORES_ROOT}/{backup.store}"} if volume else {}
    if backup.store in agent.s3:
        mounts |= agent.s3[backup.store].tls_mounts  # the run's CA (AWS_CA_BUNDLE)
    with helper(agent.lab, image=backup.image, name=f"{what}-{backup.name}", mounts=mounts) as cid:
        return agent.lab.exec(
            cid,
            ["bash", "-c", script],
            timeout_s=COMMAND_TIMEOUT_S,
            env=env,
            action="run the team's command in",
        )


def take_command_backup(
    agent: BackupAgent,
    engine: Engine,
    backup: Backup,
    *,
    source_host: str,
    source_bytes: int,
    last_acked_seq: int,
) -> BackupRecord:
    """Run the team's backup command and catalogue what the store then holds."""
    assert backup.backup_command is not None
    env = command_env(agent, engine, backup, host=source_host)
    started_wall, started = time.time(), time.monotonic()
    result = run_command(agent, backup, backup.backup_command, env, what="backup")
    ended_wall, ended = time.time(), time.monotonic()
    path = location(agent, backup)
    facts = agent.facts(path)
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
        size_bytes=facts.size_bytes,
        # The command says nothing of its own: the store's checksum right after the job is the
        # reference later checks compare with.
        sha256=facts.sha256,
        source_bytes=source_bytes,
        min_size_ratio=backup.min_size_ratio,
        last_acked_seq=last_acked_seq,
        # The team's command: its output, stdout then stderr (both masked), last 600 chars.
        log_tail="\n".join(result.lines())[-600:],
    )


def restore_env(
    agent: BackupAgent, engine: Engine, backup: Backup, path: str, *, target: str
) -> dict[str, str]:
    """The restore command's environment: the fresh server, and the backup's exact location."""
    env = command_env(agent, engine, backup, host=target)
    if path.startswith("s3://"):
        key, version = parse_url(path)
        env["BACKUP_OBJECT"] = key
        if version:
            env["BACKUP_VERSION_ID"] = version
    else:
        env["BACKUP_PATH"] = path
    return env
