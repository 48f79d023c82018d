"""Which image a drill runs: the official one when present locally, else the local build.

The harness never pulls. Connected sites run `docker pull postgres:16` (or `make pull`);
air-gapped sites run `make images`, which builds images from Debian packages with the same
interface as the official ones (recipes in compose/images/).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import docker
import docker.errors

from harness.errors import EngineUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResolvedImage:
    """The image a node will run, and why."""

    name: str
    requested: str
    local_build: bool


def image_present(client: docker.DockerClient, name: str) -> bool:
    """True when ``name`` is in the local image store (no registry is contacted)."""
    try:
        client.images.get(name)
    except docker.errors.ImageNotFound:
        return False
    except docker.errors.APIError as exc:
        raise EngineUnavailable(f"could not inspect image {name}: {exc}") from exc
    return True


def resolve_image(
    client: docker.DockerClient,
    *,
    engine: str,
    requested: str | None,
    default: str,
    local_build: str | None,
) -> ResolvedImage:
    """Pick the image for ``engine``; raise EngineUnavailable with a fix if there is none."""
    if requested:
        if image_present(client, requested):
            return ResolvedImage(requested, requested, requested == local_build)
        raise EngineUnavailable(
            f"image {requested} for engine {engine} is not available locally; "
            f"run `docker pull {requested}` where a registry is reachable"
        )
    if image_present(client, default):
        return ResolvedImage(default, default, local_build=False)
    if local_build and image_present(client, local_build):
        log.info("%s not present locally; using the local build %s", default, local_build)
        return ResolvedImage(local_build, default, local_build=True)
    fix = (
        "run `make images` to build it from compose/images/"
        if local_build
        else (
            "no local recipe exists for this engine; this engine can only run where its official "
            "image can be pulled"
        )
    )
    raise EngineUnavailable(
        f"no image for engine {engine}: {default} is not available locally"
        + (f" and neither is the local build {local_build}" if local_build else "")
        + f"; {fix}, or `docker pull {default}` where a registry is reachable"
    )
