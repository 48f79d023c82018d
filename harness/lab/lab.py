"""One run's lab: its network, volumes and containers, every one labelled with the run id.

Every destructive action goes through ``Lab.guard``, which re-reads the container's labels from
the engine and refuses anything this run did not create. ``close()`` removes everything that
carries this run's label, whether or not the harness still holds a handle to it, so a failure
half-way through a start (or Ctrl-C) leaves nothing behind.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import docker
import docker.errors
from docker.models.containers import Container
from testcontainers.core.container import DockerContainer

from harness.errors import CommandTimeout, ContainerGone, InfrastructureError, SafetyError
from harness.lab.docker_client import docker_client
from harness.lab.execution import ExecResult, exec_in
from harness.lab.labels import JOURNAL_LABEL, OWNER, OWNER_LABEL, ROLE_LABEL, RUN_LABEL
from harness.lab.mounts import uncovered_image_volumes
from harness.lab.owner import this_process
from harness.lab.sweep import remove_resources, sigint_deferred

# After Ctrl-C, when to sweep again for a create request the engine finished late.
LATE_CREATE_S = 1.5


class Lab:
    """Containers, one network and volumes owned by one run; a context manager."""

    # Run ids this process has opened a lab for (lets a test session check its own leftovers
    # without touching concurrent runs of other processes).
    opened_run_ids: set[str] = set()  # noqa: RUF012

    def __init__(
        self,
        run_id: str,
        *,
        client: docker.DockerClient | None = None,
        journal: Path | None = None,
    ) -> None:
        """``journal`` (labelled on every resource) lets a later reaper mark a killed run."""
        self.run_id = run_id
        self.journal = journal
        Lab.opened_run_ids.add(run_id)
        self.client = client or docker_client()
        self.network_name = f"rd-{run_id}"
        self._network: Any = None
        self._closed = False
        # Volumes made for a container's image VOLUME paths, removed with the container.
        self._image_volumes: dict[str, list[str]] = {}

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> Lab:
        try:
            self._network = self.client.networks.create(
                self.network_name, driver="bridge", labels=self.labels("network")
            )
        except docker.errors.APIError as exc:
            raise InfrastructureError(
                f"could not create network {self.network_name}: {exc}"
            ) from exc
        return self

    def __exit__(self, exc_type: object, *exc_info: object) -> None:
        self.close()
        if exc_type is KeyboardInterrupt:
            # Ctrl-C can land while a create request is in flight: the engine may finish it
            # after the sweep. A second sweep a moment later catches such a container.
            time.sleep(LATE_CREATE_S)  # a fixed wait: nothing to poll for
            with sigint_deferred():
                remove_resources(self.client, run_id=self.run_id)

    def labels(self, role: str) -> dict[str, str]:
        """The labels that mark a resource as this run's, and as this process's."""
        labels = {OWNER_LABEL: OWNER, RUN_LABEL: self.run_id, ROLE_LABEL: role}
        labels.update(this_process().labels())
        if self.journal is not None:
            labels[JOURNAL_LABEL] = str(self.journal.resolve())
        return labels

    def close(self) -> None:
        """Remove every container, network and volume labelled with this run id."""
        if self._closed:
            return
        self._closed = True
        with sigint_deferred():
            remove_resources(self.client, run_id=self.run_id)

    # -- creating things ---------------------------------------------------------------------
    def volume(self, name: str, *, role: str) -> str:
        """Create a labelled named volume and return its name."""
        full = f"rd-{self.run_id}-{name}"
        try:
            self.client.volumes.create(name=full, labels=self.labels(role))
        except docker.errors.APIError as exc:
            raise InfrastructureError(f"could not create volume {full}: {exc}") from exc
        return full

    def start(self, container: DockerContainer, *, role: str, alias: str) -> DockerContainer:
        """Start a testcontainers container on this run's network, labelled, ports on 127.0.0.1."""
        from testcontainers.core.network import Network

        network = Network()
        network.name = self.network_name
        container.with_network(network).with_network_aliases(alias)
        container.with_name(f"rd-{self.run_id}-{alias}")
        paths = uncovered_image_volumes(self.client, container)
        made = [self.volume(f"{alias}-vol{i}", role="image-volume") for i in range(len(paths))]
        for volume, path in zip(made, paths, strict=True):
            container.with_volume_mapping(volume, path, mode="rw")
        for port in list(container.ports):
            # Publish on loopback only: the lab is never reachable from another host.
            container.ports[port] = ("127.0.0.1", None)  # type: ignore[assignment]
        kwargs = dict(getattr(container, "_kwargs", {}) or {})
        kwargs["labels"] = {**kwargs.get("labels", {}), **self.labels(role)}
        container.with_kwargs(**kwargs)
        started = time.monotonic()
        try:
            container.start()
        except docker.errors.DockerException as exc:
            raise InfrastructureError(
                f"could not start {alias} ({container.image}): {exc}"
            ) from exc
        except TimeoutError as exc:
            logs = self.logs(f"rd-{self.run_id}-{alias}", lines=30)
            raise CommandTimeout(
                f"{alias} ({container.image}) to become ready",
                timeout_s=time.monotonic() - started,
                last_output=logs,
                hint="see the container log above; is the image built for this engine?",
            ) from exc
        self._image_volumes[container.get_wrapped_container().id] = made
        return container

    # -- guarded access ------------------------------------------------------------------------
    def guard(self, container_id: str, *, action: str) -> Container:
        """Return the container if this run created it; otherwise refuse ``action``."""
        try:
            found = self.client.containers.get(container_id)
        except docker.errors.NotFound as exc:
            # Gone is not foreign: nothing was refused, the server was destroyed.
            raise ContainerGone(
                f"cannot {action} container {container_id[:12]}: it no longer exists"
            ) from exc
        except docker.errors.APIError as exc:
            raise InfrastructureError(
                f"could not inspect container {container_id[:12]} to {action} it: {exc}"
            ) from exc
        labels = found.labels or {}
        owner_run = labels.get(RUN_LABEL)
        if labels.get(OWNER_LABEL) != OWNER or owner_run != self.run_id:
            seen = f"run label {owner_run!r}" if owner_run else "no recovery-drill run label"
            raise SafetyError(
                f"refusing to {action} container {found.name} ({found.short_id}): it carries "
                f"{seen}, and this run is {self.run_id!r}. recovery-drill only touches what it "
                "created in the current run."
            )
        return found

    def exec(
        self,
        container_id: str,
        argv: list[str],
        *,
        timeout_s: float,
        env: dict[str, str] | None = None,
        user: str = "",
        action: str = "run a command in",
    ) -> ExecResult:
        """Run ``argv`` in a container of this run; CommandTimeout after ``timeout_s`` (see
        ``exec_in``: the host stops waiting at the deadline even if the container is frozen)."""
        container = self.guard(container_id, action=action)
        return exec_in(container, argv, timeout_s=timeout_s, env=env, user=user)

    def kill(self, container_id: str, *, signal_name: str = "SIGKILL") -> None:
        """Send a signal to a container's main process (the database server)."""
        container = self.guard(container_id, action=f"send {signal_name} to")
        try:
            container.kill(signal=signal_name)
        except docker.errors.APIError as exc:
            raise InfrastructureError(f"could not kill {container.name}: {exc}") from exc

    def pause(self, container_id: str) -> None:
        """Freeze every process of a container of this run (cgroup freezer)."""
        container = self.guard(container_id, action="pause")
        try:
            container.pause()
        except docker.errors.APIError as exc:
            raise InfrastructureError(f"could not pause {container.name}: {exc}") from exc

    def unpause(self, container_id: str) -> None:
        """Thaw a paused container of this run; a no-op if it is not paused."""
        container = self.guard(container_id, action="unpause")
        if container.attrs.get("State", {}).get("Paused"):
            try:
                container.unpause()
            except docker.errors.APIError as exc:
                raise InfrastructureError(f"could not unpause {container.name}: {exc}") from exc

    def restart(self, container_id: str, *, timeout_s: int = 10) -> None:
        """Restart a running container of this run (SIGTERM, SIGKILL after ``timeout_s``)."""
        container = self.guard(container_id, action="restart")
        try:
            container.restart(timeout=timeout_s)
        except docker.errors.APIError as exc:
            raise InfrastructureError(f"could not restart {container.name}: {exc}") from exc

    def restart_stopped(self, container_id: str) -> None:
        """Start a stopped container of this run again (same volumes, same data directory)."""
        container = self.guard(container_id, action="start")
        try:
            container.start()
        except docker.errors.APIError as exc:
            raise InfrastructureError(f"could not start {container.name}: {exc}") from exc

    def remove(self, container_id: str) -> None:
        """Remove a container of this run and its anonymous volumes."""
        container = self.guard(container_id, action="remove")
        try:
            container.remove(force=True, v=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            if exc.status_code != 409:  # 409: its removal is already under way
                raise InfrastructureError(f"could not remove {container.name}: {exc}") from exc
        for volume in self._image_volumes.pop(container.id, []):
            self.remove_volume(volume)

    def logs(self, container_id: str, *, lines: int = 200) -> str:
        """The last lines a container of this run logged (read-only; "" once it is removed)."""
        try:
            raw = self.client.containers.get(container_id).logs(tail=lines)
        except docker.errors.NotFound:
            return ""  # a removed container has nothing more to say
        except docker.errors.APIError as exc:
            raise InfrastructureError(
                f"could not read the log of container {container_id[:12]}: {exc}"
            ) from exc
        return bytes(raw).decode(errors="replace")

    def stop(self, container_id: str, *, timeout_s: int = 10) -> None:
        """Stop a container of this run cleanly (SIGTERM, then SIGKILL after timeout_s)."""
        container = self.guard(container_id, action="stop")
        try:
            container.stop(timeout=timeout_s)
        except docker.errors.APIError as exc:
            raise InfrastructureError(f"could not stop {container.name}: {exc}") from exc

    def remove_volume(self, name: str) -> None:
        """Remove a volume of this run (refusing any other)."""
        try:
            volume = self.client.volumes.get(name)
        except docker.errors.NotFound:
            return
        except docker.errors.APIError as exc:
            raise InfrastructureError(f"could not inspect volume {name}: {exc}") from exc
        labels = volume.attrs.get("Labels") or {}
        if labels.get(RUN_LABEL) != self.run_id or labels.get(OWNER_LABEL) != OWNER:
            raise SafetyError(f"refusing to remove volume {name}: this run did not create it")
        try:
            volume.remove(force=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            raise InfrastructureError(f"could not remove volume {name}: {exc}") from exc

    def _get(self, container_id: str) -> Container:
        try:
            return self.client.containers.get(container_id)
        except docker.errors.NotFound as exc:
            raise ContainerGone(f"container {container_id[:12]} no longer exists") from exc
        except docker.errors.APIError as exc:
            raise InfrastructureError(
                f"could not inspect container {container_id[:12]}: {exc}"
            ) from exc

    def state(self, container_id: str) -> dict[str, Any]:
        """The container's State block from the engine (read-only)."""
        return dict(self._get(container_id).attrs.get("State", {}))

    def path_exists(self, container_id: str, path: str) -> bool:
        """Whether ``path`` exists in a container of this run, running or stopped (read-only:
        the engine's archive API works where an exec cannot)."""
        container = self.guard(container_id, action="inspect a file of")
        try:
            stream, _ = container.get_archive(path)
            for _chunk in stream:  # drain the (small) archive so the connection is reusable
                pass
        except docker.errors.NotFound:
            return False
        except docker.errors.APIError as exc:
            raise InfrastructureError(f"could not read {path} in {container.name}: {exc}") from exc
        return True

    def host_port(self, container_id: str, port: int) -> int:
        """The 127.0.0.1 port a container port is published on now (it changes on restart)."""
        container = self._get(container_id)
        bindings = container.attrs["NetworkSettings"]["Ports"].get(f"{port}/tcp") or []
        for binding in bindings:
            if binding.get("HostIp") in ("127.0.0.1", "") and binding.get("HostPort"):
                return int(binding["HostPort"])
        raise InfrastructureError(f"container {container.name} has no published port for {port}")
