"""A database server of the run: its scenario name, its container, and how to reach it."""

from __future__ import annotations

from dataclasses import dataclass, field

from testcontainers.core.container import DockerContainer

from harness.engines.base import Endpoint, Engine
from harness.errors import ServerExited
from harness.lab.lab import Lab


@dataclass(frozen=True)
class Target:
    """A server a fault acts on: its name in the scenario and its container in this run."""

    name: str
    container_id: str
    data_volume: str | None = None


@dataclass
class Node:
    """One server container; its published port is re-read because a restart changes it."""

    name: str
    container: DockerContainer
    container_id: str
    data_volume: str | None = None
    mounts: dict[str, str] = field(default_factory=dict)

    def endpoint(self, lab: Lab, engine: Engine) -> Endpoint:
        return Endpoint("127.0.0.1", lab.host_port(self.container_id, engine.port))

    def target(self) -> Target:
        return Target(self.name, self.container_id, self.data_volume)


def provision(
    lab: Lab,
    engine: Engine,
    *,
    image: str,
    name: str,
    mounts: dict[str, str] | None = None,
    command: list[str] | None = None,
    data_volume: str | None = None,
    wait: bool = True,
    env: dict[str, str] | None = None,
) -> Node:
    """Start a server for ``engine`` on the run's network, reachable as ``name``.

    ``mounts`` maps volume names to paths; ``data_volume`` (a volume of this run) holds the
    data directory, so a prepared directory (a restored backup, a replica clone) is used as is.
    ``env`` is added to the server's environment (a backup tool's credentials: never argv).
    """
    container = engine.container(image, wait=wait)
    for key, value in (env or {}).items():
        container.with_env(key, value)
    volumes = dict(mounts or {})
    if data_volume is not None:
        volumes[data_volume] = engine.datadir
    for volume, path in volumes.items():
        container.with_volume_mapping(volume, path, mode="rw")
    if command is not None:
        container.with_command(command)
    started = lab.start(container, role="database", alias=name)
    return Node(
        name=name,
        container=started,
        container_id=started.get_wrapped_container().id,
        data_volume=data_volume,
        mounts=volumes,
    )


def wait_running_or_exited(lab: Lab, node: Node) -> None:
    """Raise with the server's last log lines if its container has exited."""
    state = lab.state(node.container_id)
    if not state.get("Running"):
        raise ServerExited(
            f"{node.name} exited with code {state.get('ExitCode')}: "
            + lab.logs(node.container_id, lines=8).strip().replace("\n", " | ")
        )
