"""A database server of the run: its scenario name, its container, and how to reach it."""

from __future__ import annotations

from dataclasses import dataclass

from testcontainers.core.container import DockerContainer

from harness.engines.base import Endpoint, Engine
from harness.faults.base import Target
from harness.lab.lab import Lab


@dataclass
class Node:
    """One server container; its published port is re-read because a restart changes it."""

    name: str
    container: DockerContainer
    container_id: str

    def endpoint(self, lab: Lab, engine: Engine) -> Endpoint:
        return Endpoint("127.0.0.1", lab.host_port(self.container_id, engine.port))

    def target(self) -> Target:
        return Target(self.name, self.container_id)


def provision(lab: Lab, engine: Engine, *, image: str, name: str) -> Node:
    """Start a fresh server for ``engine`` on the run's network, reachable as ``name``."""
    container = lab.start(engine.container(image), role="database", alias=name)
    return Node(name=name, container=container, container_id=container.get_wrapped_container().id)
