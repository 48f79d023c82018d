"""Named, labelled volumes for the paths an image declares as VOLUME.

A container whose image declares ``VOLUME /var/lib/postgresql/data`` and that mounts nothing
there gets an anonymous volume from the engine: unlabelled, so after a killed run nothing ties
it to the run (it only goes when its container is removed with ``v=True``). The lab mounts a
named volume of the run at each such path instead, so every volume of a run carries its labels.
"""

from __future__ import annotations

import docker
import docker.errors
from testcontainers.core.container import DockerContainer

from harness.errors import InfrastructureError


def uncovered_image_volumes(client: docker.DockerClient, container: DockerContainer) -> list[str]:
    """The VOLUME paths of the container's image that none of its mounts covers."""
    try:
        image = client.images.get(container.image)
    except docker.errors.ImageNotFound:
        return []  # the start itself says the image is missing
    except docker.errors.APIError as exc:
        raise InfrastructureError(f"could not inspect image {container.image}: {exc}") from exc
    declared = (image.attrs.get("Config") or {}).get("Volumes") or {}
    covered = {mount["bind"].rstrip("/") for mount in container.volumes.values()}
    covered |= {path.rstrip("/") for path in container.tmpfs}
    return sorted(path for path in declared if path.rstrip("/") not in covered)
