"""Removing what runs left behind, by label: one run's resources, or every run's."""

from __future__ import annotations

import contextlib
import logging
import signal
from collections.abc import Iterator

import docker
import docker.errors

from harness.errors import CommandTimeout, InfrastructureError
from harness.lab.labels import OWNER, OWNER_LABEL, RUN_LABEL
from harness.polling import poll_until

log = logging.getLogger(__name__)

# How long a sweep retries removals that fail because a resource is still in use.
SWEEP_TIMEOUT_S = 30.0
SWEEP_INTERVAL_S = 0.5


@contextlib.contextmanager
def sigint_deferred() -> Iterator[None]:
    """Let cleanup finish even if Ctrl-C is pressed again while it runs."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: nothing to defer
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def remove_resources(client: docker.DockerClient, *, run_id: str | None) -> int:
    """Remove containers, networks and volumes of one run (or of every run when None).

    Only resources carrying recovery-drill's owner label are ever touched. Removal is retried
    for a few seconds: a volume stays "in use" until the engine has finished removing the
    container that mounted it. Returns how many resources were removed.
    """
    selector = f"{RUN_LABEL}={run_id}" if run_id else f"{OWNER_LABEL}={OWNER}"
    filters = {"label": [f"{OWNER_LABEL}={OWNER}", selector]}
    removed = 0
    last: list[docker.errors.APIError] = []

    def swept() -> int | None:
        nonlocal removed
        done, failures = _sweep(client, filters)
        removed += done
        last[:] = failures[-1:]
        return None if failures else removed

    try:
        poll_until(
            swept,
            what=f"every lab resource ({selector}) to be removed",
            timeout_s=SWEEP_TIMEOUT_S,
            interval_s=SWEEP_INTERVAL_S,
            retry_on=(),
        )
    except CommandTimeout as exc:
        raise InfrastructureError(
            f"could not remove every lab resource ({selector}): {last[0] if last else exc}"
        ) from exc
    if removed:
        log.info("removed %d lab resources (%s)", removed, selector)
    return removed


def _sweep(
    client: docker.DockerClient, filters: dict[str, list[str]]
) -> tuple[int, list[docker.errors.APIError]]:
    """One pass over the labelled resources: how many were removed, and what refused."""
    removed, failures = 0, []
    for kind in ("containers", "networks", "volumes"):
        collection = getattr(client, kind)
        try:
            # sparse: no inspect per container, which fails when one vanishes between
            # the listing and its inspect (a create cut short by Ctrl-C is undone so).
            listing = (
                collection.list(all=True, filters=filters, sparse=True)
                if kind == "containers"
                else collection.list(filters=filters)
            )
        except docker.errors.NotFound as exc:
            failures.append(exc)
            continue
        for resource in listing:
            try:
                if kind == "containers":
                    resource.remove(force=True, v=True)
                elif kind == "volumes":
                    resource.remove(force=True)
                else:
                    resource.remove()
                removed += 1
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as exc:  # in use, or removal already under way
                failures.append(exc)
    return removed, failures
