"""The servers and stores a scenario asks for: primary, replicas, backup stores and agent.

The primary runs with replication enabled and, when the scenario names a log archive, with
log archiving into a store volume mounted on it (the way many teams mount an archive share).
Its data directory is a named volume of the run, so that a backup tool that reads the files
(mariadb-backup) can mount it beside the running server. Replicas are cloned from the primary
and follow it (PostgreSQL streaming replication, MariaDB GTID replication).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.backups.agent import BackupAgent
from harness.backups.pgbackrest_s3 import s3_repository
from harness.backups.s3store import open_stores
from harness.engines.base import Engine
from harness.engines.collaborators import log_archive_for, pgbackrest_of, replication_of
from harness.engines.migrations import source_server_args
from harness.errors import HarnessError, InfrastructureError, ServerExited
from harness.lab.helpers import run_helper
from harness.lab.lab import Lab
from harness.lab.s3 import S3_IMAGE
from harness.polling import poll_until
from harness.scenario.model import Replica, Scenario, UploadCredentialsExpired
from harness.server.node import Node, provision, wait_running_or_exited

# A preparation script in the agent or the fresh primary (directories, grants, the shipper).
PREPARE_TIMEOUT_S = 30
# Cloning a replica, making it follow, and its reaching standby state: each within this.
REPLICA_TIMEOUT_S = 120
REPLICA_POLL_S = 0.2


@dataclass
class Topology:
    """The run's servers by name, its stores and its backup agent."""

    primary: Node
    replicas: dict[str, Node] = field(default_factory=dict)
    agent: BackupAgent | None = None
    archive_volume: str | None = None
    reachable_mounts: list[str] = field(default_factory=list)
    # The WAL archive is pgBackRest's repository on an S3 store (nothing mounted for it).
    archive_on_s3: bool = False

    @property
    def archiving(self) -> bool:
        """Whether the primary archives its log (into a store volume or an S3 repository)."""
        return self.archive_volume is not None or self.archive_on_s3

    @property
    def nodes(self) -> dict[str, Node]:
        return {self.primary.name: self.primary, **self.replicas}


def build(
    lab: Lab, engine: Engine, scenario: Scenario, *, image: str, s3_image: str | None = None
) -> Topology:
    """Create stores and agent, start the primary (archiving if asked); replicas come later.

    ``s3_image``: the lab's S3 server image (default: moto's, ``recovery-drill/s3:moto``)."""
    volumes = {
        s.name: lab.volume(f"store-{s.name}", role="backup-store")
        for s in scenario.stores
        if s.kind == "volume"
    }
    tmpfs = {s.name: s.size_mb or 0 for s in scenario.stores if s.kind == "tmpfs"}
    archive_store = scenario.topology.wal_archive
    archive_volume = volumes.get(archive_store) if archive_store else None
    kinds = {s.name: s.kind for s in scenario.stores}
    # pgBackRest's repository on an S3 store (validation allows no other log archive there).
    on_s3 = bool(archive_store) and kinds.get(archive_store or "") == "s3"
    archive = (
        log_archive_for(engine, scenario.topology.archive_tool) if archive_volume or on_s3 else None
    )
    mounts = {archive_volume: archive.mount} if archive_volume and archive else {}
    for store in scenario.stores:
        if store.reachable_from_db and store.name in volumes and store.name != archive_store:
            mounts[volumes[store.name]] = f"/mnt/{store.name}"  # a share the DB host sees
    agent = None
    env: dict[str, str] = {}
    tls_mounts: dict[str, str] = {}
    if scenario.stores:
        # S3 stores: the lab's S3 server (or the external endpoint); the agent then runs in the
        # S3 image, which has the engines' clients plus boto3 (rd-s3). A pgBackRest repository
        # there needs TLS (pgBackRest speaks S3 over TLS only): the lab's server serves it.
        s3 = open_stores(
            lab,
            list(scenario.stores),
            image=s3_image,
            enforce_auth=any(isinstance(f, UploadCredentialsExpired) for f in scenario.timeline),
            tls=on_s3,
        )
        if on_s3 and archive_store:
            tool = pgbackrest_of(engine)
            tool.s3 = s3_repository(s3[archive_store])
            tls_mounts = tool.mounts()  # the run's CA (not a share: never a ransomware root)
            env = tool.env()  # the primary's archive_command reads the key pair from here
        agent = BackupAgent(
            lab, image=S3_IMAGE if s3 else image, volumes=volumes, tmpfs_mb=tmpfs, s3=s3
        )
        if archive_store and archive and archive_volume:
            # Ready before the primary's first archive_command runs (any server uid may write).
            folder = f"/stores/{archive_store}/{archive.subdir}"
            agent.run(f"mkdir -p {folder} && chmod 0777 {folder}", timeout_s=PREPARE_TIMEOUT_S)
    primary = provision(
        lab,
        engine,
        image=image,
        name="primary",
        mounts={**mounts, **tls_mounts},
        command=[
            *engine.server_command(),
            *(archive.server_args() if archive else []),
            *(
                source_server_args(engine.name, scenario.migration.method)
                if scenario.migration
                else []
            ),
        ],
        data_volume=lab.volume("data-primary", role="database-data"),
        env=env,
    )
    for script in (engine.after_start_script(), archive.start_script() if archive else None):
        if script is None:
            continue  # nothing to prepare at this point
        result = lab.exec(
            primary.container_id, ["bash", "-c", script], timeout_s=PREPARE_TIMEOUT_S, env=env
        )
        if not result.ok:
            raise InfrastructureError(f"could not prepare the primary: {result.tail()}")
    return Topology(
        primary=primary,
        agent=agent,
        archive_volume=archive_volume,
        reachable_mounts=list(mounts.values()),
        archive_on_s3=on_s3,
    )


def add_replica(
    lab: Lab,
    engine: Engine,
    topology: Topology,
    replica: Replica,
    *,
    image: str,
    connect: Callable[[Node], Any],
    timeout_s: float = REPLICA_TIMEOUT_S,
) -> Node:
    """Clone the primary into a new data volume and start a replica that follows it."""
    replication = replication_of(engine)
    volume = lab.volume(f"data-{replica.name}", role="database-data")
    mounts = {volume: "/target"}
    if replication.clone_reads_datadir:
        assert topology.primary.data_volume is not None
        mounts[topology.primary.data_volume] = engine.datadir
    cloned = run_helper(
        lab,
        image=image,
        name=f"clone-{replica.name}",
        mounts=mounts,
        script=replication.clone_script(
            source_host=topology.primary.name,
            target="/target",
            apply_delay_s=replica.apply_delay_s,
            name=replica.name,
        ),
        env=engine.tool_env(),
        timeout_s=timeout_s,
    )
    if not cloned.ok:
        raise InfrastructureError(
            f"could not clone the primary for {replica.name}: {cloned.tail()}"
        )
    node = provision(
        lab,
        engine,
        image=image,
        name=replica.name,
        data_volume=volume,
        wait=False,
        command=engine.server_command(),
    )
    follow = replication.start_script(
        source_host=topology.primary.name, apply_delay_s=replica.apply_delay_s, name=replica.name
    )
    if follow is not None:
        started = lab.exec(node.container_id, ["bash", "-c", follow], timeout_s=timeout_s)
        if not started.ok:
            raise InfrastructureError(
                f"replica {replica.name} did not start following: {started.tail()}"
            )

    def standing_by() -> bool | None:
        wait_running_or_exited(lab, node)
        conn = connect(node)
        try:
            return True if engine.in_recovery(conn) else None
        finally:
            conn.close()

    poll_until(
        standing_by,
        what=f"replica {replica.name} to start streaming",
        timeout_s=timeout_s,
        interval_s=REPLICA_POLL_S,
        retry_on=(HarnessError, *engine.driver_errors()),
        stop_on=(ServerExited,),
    )
    if replica.synchronous:
        _make_synchronous(engine, topology, replica.name, node, connect, timeout_s)
    topology.replicas[replica.name] = node
    return node


def _make_synchronous(
    engine: Engine,
    topology: Topology,
    name: str,
    node: Node,
    connect: Callable[[Node], Any],
    timeout_s: float,
) -> None:
    """Make the primary wait for replica ``name`` before acknowledging a commit, and wait
    until it does."""
    replication = replication_of(engine)
    primary, replica = connect(topology.primary), connect(node)
    try:
        replication.make_synchronous(primary, replica, name=name)

        def synchronous() -> bool | None:
            return True if replication.is_synchronous(primary, name=name) else None

        poll_until(
            synchronous,
            what=f"replica {name} to become synchronous",
            timeout_s=timeout_s,
            interval_s=REPLICA_POLL_S,
            retry_on=engine.driver_errors(),
        )
    finally:
        primary.close()
        replica.close()
