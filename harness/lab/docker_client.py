"""One place that connects to the Docker engine and says what to do when it cannot."""

from __future__ import annotations

import docker
import docker.errors

from harness.errors import EngineUnavailable

ENGINE_HINT = (
    "start a Docker engine: on Debian as root `bash compose/setup-engine.sh` installs and starts "
    "one (`make drill` and `make test` run it for you); elsewhere install Docker Engine, start "
    "it, and make sure `docker info` works for this user (or set DOCKER_HOST)"
)


def docker_client() -> docker.DockerClient:
    """A client for the local Docker engine, or EngineUnavailable with instructions."""
    try:
        client = docker.from_env(timeout=60)
        client.ping()
    except docker.errors.DockerException as exc:
        raise EngineUnavailable(f"no Docker engine reachable ({exc}); {ENGINE_HINT}") from exc
    return client
