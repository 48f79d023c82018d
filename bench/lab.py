"""A benchmark's own lab: an engine (PostgreSQL by default), its image, fresh servers, noise."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import docker

from harness.engines import get_engine
from harness.engines.base import Endpoint, Engine
from harness.errors import HarnessError
from harness.lab.docker_client import docker_client
from harness.lab.images import resolve_image
from harness.lab.lab import OWNER, OWNER_LABEL, RUN_LABEL, Lab
from harness.runner import new_run_id
from harness.server.node import Node, provision


@dataclass
class BenchLab:
    """One lab with the engine and image resolved, as a drill would have them."""

    lab: Lab
    engine: Engine
    image: str

    def server(self, name: str) -> Node:
        """A fresh server on the lab's network, started and ready, the way drills start one."""
        return provision(self.lab, self.engine, image=self.image, name=name)

    def endpoint(self, node: Node) -> Endpoint:
        return node.endpoint(self.lab, self.engine)

    def connect(self, node: Node) -> Any:
        return self.engine.connect(self.endpoint(node), timeout_s=10)


@contextmanager
def bench_lab(engine_name: str = "postgres") -> Iterator[BenchLab]:
    """A lab for the engine (PostgreSQL unless told) that removes everything it created when
    the block ends."""
    client = docker_client()
    engine = get_engine(engine_name)
    image = resolve_image(
        client,
        engine=engine.name,
        requested=os.environ.get(f"RECOVERY_DRILL_{engine_name.upper()}_IMAGE"),
        default=engine.default_image,
        local_build=engine.local_image,
    ).name
    with Lab(new_run_id(), client=client) as lab:
        yield BenchLab(lab, engine, image)


def foreign_containers(own_runs: set[str]) -> int:
    """recovery-drill containers running now that belong to someone else's runs.

    Other drills on the same engine share the machine's two cores: their count is recorded
    beside the figures as a noise warning.
    """
    try:
        running = docker_client().containers.list(filters={"label": f"{OWNER_LABEL}={OWNER}"})
    except (HarnessError, docker.errors.DockerException):
        return -1
    return sum(1 for c in running if (c.labels or {}).get(RUN_LABEL) not in own_runs)
