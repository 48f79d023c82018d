"""Short-lived helper containers of a run: they mount volumes, run a script, and go.

Used to prepare data directories (copy a base backup, clone a replica) before a server starts
on them, and to read a stopped server's volume. Engine-agnostic: the caller gives the image.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from testcontainers.core.container import DockerContainer

from harness.lab.execution import ExecResult
from harness.lab.lab import Lab

# A helper's script (copying a base backup, cloning a replica) is done well within this.
HELPER_TIMEOUT_S = 300.0


def run_helper(
    lab: Lab,
    *,
    image: str,
    name: str,
    mounts: dict[str, str],
    script: str,
    env: dict[str, str] | None = None,
    timeout_s: float = HELPER_TIMEOUT_S,
) -> ExecResult:
    """Run ``script`` (bash) in a short-lived helper container with ``mounts``, then remove it.

    Used to prepare data directories (copy a base backup, clone a replica) before a server
    starts on them.
    """
    with helper(lab, image=image, name=name, mounts=mounts) as container_id:
        return lab.exec(container_id, ["bash", "-c", script], timeout_s=timeout_s, env=env)


@contextlib.contextmanager
def helper(lab: Lab, *, image: str, name: str, mounts: dict[str, str]) -> Iterator[str]:
    """A short-lived helper container with ``mounts`` (its id), removed on leaving."""
    container = DockerContainer(image).with_command(["sleep", "infinity"])
    for volume, path in mounts.items():
        container.with_volume_mapping(volume, path, mode="rw")
    started = lab.start(container, role="helper", alias=name)
    container_id = started.get_wrapped_container().id
    try:
        yield container_id
    finally:
        lab.remove(container_id)
