"""One run's lab: its network, volumes and containers, every one labelled with the run id.

Every destructive action goes through ``Lab.guard``, which re-reads the container's labels from
the engine and refuses anything this run did not create. ``close()`` removes everything that
carries this run's label, whether or not the harness still holds a handle to it, so a failure
half-way through a start (or Ctrl-C) leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import logging
import math
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import docker
import docker.errors
from docker.models.containers import Container
from testcontainers.core.container import DockerContainer

from harness.errors import CommandTimeout, ContainerGone, InfrastructureError, SafetyError
from harness.lab.docker_client import docker_client

log = logging.getLogger(__name__)

OWNER_LABEL = "io.recovery-drill.owner"
RUN_LABEL = "io.recovery-drill.run"
ROLE_LABEL = "io.recovery-drill.role"
OWNER = "recovery-drill"

# How long past a command's own deadline the host waits for `docker exec` to answer: the
# in-container `timeout` should have ended it by then, unless the container is frozen.
EXEC_GRACE_S = 5.0
# How long a sweep retries removals that fail because a resource is still in use.
SWEEP_TIMEOUT_S = 30.0
SWEEP_INTERVAL_S = 0.5
# After Ctrl-C, when to sweep again for a create request the engine finished late.
LATE_CREATE_S = 1.5


@dataclass(frozen=True)
class ExecResult:
    """What one command run inside a container did."""

    argv: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str
    duration_s: float

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def lines(self, width: int = 240) -> list[str]:
        """Every non-empty line of stdout then stderr, each cut to its last ``width`` chars."""
        text = f"{self.stdout}\n{self.stderr}"
        return [line.strip()[-width:] for line in text.splitlines() if line.strip()]

    def tail(self, limit: int = 400) -> str:
        """The last part of stderr (or stdout), for messages."""
        text = (self.stderr or self.stdout).strip()
        return text[-limit:]


@contextlib.contextmanager
def _sigint_deferred() -> Iterator[None]:
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


class Lab:
    """Containers, one network and volumes owned by one run; a context manager."""

    # Run ids this process has opened a lab for (lets a test session check its own leftovers
    # without touching concurrent runs of other processes).
    opened_run_ids: set[str] = set()  # noqa: RUF012

    def __init__(self, run_id: str, *, client: docker.DockerClient | None = None) -> None:
        self.run_id = run_id
        Lab.opened_run_ids.add(run_id)
        self.client = client or docker_client()
        self.network_name = f"rd-{run_id}"
        self._network: Any = None
        self._closed = False

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
            with _sigint_deferred():
                remove_resources(self.client, run_id=self.run_id)

    def labels(self, role: str) -> dict[str, str]:
        """The labels that mark a resource as this run's."""
        return {OWNER_LABEL: OWNER, RUN_LABEL: self.run_id, ROLE_LABEL: role}

    def close(self) -> None:
        """Remove every container, network and volume labelled with this run id."""
        if self._closed:
            return
        self._closed = True
        with _sigint_deferred():
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
        return container

    # -- guarded access ------------------------------------------------------------------------
    def guard(self, container_id: str, *, action: str) -> Container:
        """Return the container if this run created it; otherwise refuse ``action``."""
        try:
            found = self.client.containers.get(container_id)
        except docker.errors.NotFound as exc:
            raise SafetyError(
                f"refusing to {action}: container {container_id} does not exist"
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
        """Run ``argv`` in a container of this run; CommandTimeout after ``timeout_s``.

        The command is killed inside the container at the deadline (coreutils ``timeout``), and
        the host stops waiting shortly after it whatever the container does (a frozen one never
        answers): the exec then goes on in a daemon thread until the engine ends it.
        """
        container = self.guard(container_id, action=action)
        wrapped = ["timeout", "--signal=KILL", str(math.ceil(timeout_s)), *argv]
        what = f"`{' '.join(argv)[:200]}` in {container.name}"
        answer: dict[str, Any] = {}

        def run() -> None:
            try:
                answer["result"] = container.exec_run(
                    wrapped, environment=env, demux=True, user=user
                )
            except docker.errors.DockerException as exc:
                answer["error"] = exc

        worker = threading.Thread(target=run, name="drill-exec", daemon=True)
        started = time.monotonic()
        worker.start()
        worker.join(timeout_s + EXEC_GRACE_S)
        duration = time.monotonic() - started
        if worker.is_alive():
            raise CommandTimeout(
                what, timeout_s=timeout_s, hint="the container did not answer (frozen?)"
            )
        if "error" in answer:
            raise InfrastructureError(
                f"could not exec {argv[0]} in {container.name}: {answer['error']}"
            ) from answer["error"]
        exit_code, output = answer["result"]
        stdout_b, stderr_b = output if output else (b"", b"")
        result = ExecResult(
            argv=tuple(argv),
            exit_code=int(exit_code if exit_code is not None else -1),
            stdout=(stdout_b or b"").decode(errors="replace"),
            stderr=(stderr_b or b"").decode(errors="replace"),
            duration_s=duration,
        )
        if result.exit_code in (124, 137) and duration >= timeout_s - 0.5:
            raise CommandTimeout(what, timeout_s=timeout_s, last_output=result.tail())
        return result

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

    def host_port(self, container_id: str, port: int) -> int:
        """The 127.0.0.1 port a container port is published on now (it changes on restart)."""
        container = self._get(container_id)
        bindings = container.attrs["NetworkSettings"]["Ports"].get(f"{port}/tcp") or []
        for binding in bindings:
            if binding.get("HostIp") in ("127.0.0.1", "") and binding.get("HostPort"):
                return int(binding["HostPort"])
        raise InfrastructureError(f"container {container.name} has no published port for {port}")


def remove_resources(client: docker.DockerClient, *, run_id: str | None) -> int:
    """Remove containers, networks and volumes of one run (or of every run when None).

    Only resources carrying recovery-drill's owner label are ever touched. Removal is retried
    for a few seconds: a volume stays "in use" until the engine has finished removing the
    container that mounted it. Returns how many resources were removed.
    """
    selector = f"{RUN_LABEL}={run_id}" if run_id else f"{OWNER_LABEL}={OWNER}"
    filters = {"label": [f"{OWNER_LABEL}={OWNER}", selector]}
    removed = 0
    deadline = time.monotonic() + SWEEP_TIMEOUT_S
    while True:
        remaining = 0
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
                remaining, last = remaining + 1, exc
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
                    remaining += 1
                    last = exc
        if not remaining:
            break
        if time.monotonic() > deadline:
            raise InfrastructureError(f"could not remove every lab resource ({selector}): {last}")
        time.sleep(SWEEP_INTERVAL_S)
    if removed:
        log.info("removed %d lab resources (%s)", removed, selector)
    return removed
