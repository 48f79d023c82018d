"""The reaper: find every run's labelled resources, and remove those whose owner is gone.

A run's resources name their owner process (see ``harness.lab.owner``). Without a run id the
reaper removes only runs whose owner is dead on this host; a live run, a run of another host and
a run whose resources name no owner are left alone, each with the reason. A run id asked for by
name is removed when its owner is dead or unknown, and, when alive or on another host, only with
``force``. Marking a reaped run's journal is the caller's (the report layer is above the lab).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors

from harness.errors import InfrastructureError
from harness.lab.labels import JOURNAL_LABEL, OWNER, OWNER_LABEL, RUN_LABEL
from harness.lab.owner import Liveness, Owner, ProcessSeen, host_name, liveness, probe_process
from harness.lab.sweep import remove_resources


@dataclass(frozen=True)
class FoundRun:
    """One run's labelled resources, and what their labels say about its owner."""

    run_id: str
    owner: Owner | None
    journal: Path | None
    resources: int
    liveness: Liveness


@dataclass(frozen=True)
class Reaping:
    """What a reap removed (runs and resource count) and what it left alone, and why."""

    reaped: tuple[FoundRun, ...]
    left: tuple[tuple[FoundRun, str], ...]
    removed: int


def keep_reason(found: FoundRun, *, asked: str | None, force: bool, host: str) -> str | None:
    """Why ``found`` must be left alone (None: reap it); ``asked`` is the run named, if any."""
    named = asked is not None and found.run_id == asked
    owner = found.owner
    if found.liveness is Liveness.DEAD:
        return None
    if found.liveness is Liveness.UNKNOWN:
        return (
            None
            if named
            else (
                "its resources name no owner process (made by an older recovery-drill); "
                f"`recovery-drill cleanup --run {found.run_id}` removes them"
            )
        )
    if named and force:
        return None
    assert owner is not None
    if found.liveness is Liveness.ALIVE:
        return (
            f"its owner, process {owner.pid} on this host ({host}), is alive: a drill in "
            f"progress; `recovery-drill cleanup --force --run {found.run_id}` removes it anyway"
        )
    return (
        f"its owner ran on another host ({owner.host}, process {owner.pid}), whose processes "
        f"this host cannot see; `recovery-drill cleanup --force --run {found.run_id}` removes it"
    )


def survey(
    client: docker.DockerClient,
    *,
    run_id: str | None = None,
    host: str | None = None,
    probe: Callable[[int], ProcessSeen | None] = probe_process,
) -> list[FoundRun]:
    """Every run (or the one named) with labelled resources, oldest run id first."""
    selector = [f"{OWNER_LABEL}={OWNER}"] + ([f"{RUN_LABEL}={run_id}"] if run_id else [])
    filters = {"label": selector}
    labels: dict[str, list[dict[str, str]]] = {}
    try:
        listings = [
            client.containers.list(all=True, filters=filters, sparse=True),
            client.networks.list(filters=filters),
            client.volumes.list(filters=filters),
        ]
    except docker.errors.APIError as exc:
        raise InfrastructureError(f"could not list the lab resources: {exc}") from exc
    for listing in listings:
        for resource in listing:
            found = dict(resource.attrs.get("Labels") or {})
            labels.setdefault(found.get(RUN_LABEL, ""), []).append(found)
    here = host or host_name()
    runs = []
    for rid, every in sorted(labels.items()):
        owner = next((o for o in map(Owner.from_labels, every) if o is not None), None)
        journal = next((Path(x[JOURNAL_LABEL]) for x in every if x.get(JOURNAL_LABEL)), None)
        state = liveness(owner, host=here, probe=probe)
        runs.append(FoundRun(rid, owner, journal, len(every), state))
    return runs


def reap(
    client: docker.DockerClient,
    *,
    run_id: str | None = None,
    force: bool = False,
    host: str | None = None,
    probe: Callable[[int], ProcessSeen | None] = probe_process,
) -> Reaping:
    """Remove the resources of every run whose owner is gone (or of the run named)."""
    here = host or host_name()
    reaped, left, removed = [], [], 0
    for found in survey(client, run_id=run_id, host=here, probe=probe):
        why = keep_reason(found, asked=run_id, force=force, host=here)
        if why is not None or not found.run_id:
            left.append((found, why or "its resources carry no run id"))
            continue
        removed += remove_resources(client, run_id=found.run_id)
        reaped.append(found)
    return Reaping(tuple(reaped), tuple(left), removed)
