"""Safety: the harness refuses to touch what it did not create, and cleans up on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import docker
import pytest

from harness.engines.base import Engine
from harness.errors import SafetyError
from harness.faults.base import FaultContext, Target
from harness.faults.kill import KillServer
from harness.faults.pause import PauseServer
from harness.faults.rm_rf_datadir import RmRfDatadir
from harness.lab.lab import OWNER, OWNER_LABEL, RUN_LABEL, Lab
from harness.lab.labels import HOST_LABEL, JOURNAL_LABEL, PID_LABEL, PID_START_LABEL
from harness.runner import new_run_id
from harness.scenario import model

from .conftest import REPO, SCENARIOS


@pytest.fixture()
def foreign(client: docker.DockerClient, postgres_image: str):  # type: ignore[no-untyped-def]
    """Containers this run did not create: one unlabelled, one from another run."""
    made = []
    for labels in ({}, {OWNER_LABEL: OWNER, RUN_LABEL: "some-other-run"}):
        made.append(
            client.containers.run(
                postgres_image,
                ["sh", "-c", "mkdir -p /precious && touch /precious/a && sleep 300"],
                detach=True,
                labels=labels,
                network_mode="none",
            )
        )
    yield made
    for c in made:
        c.remove(force=True, v=True)


def test_faults_refuse_containers_the_run_did_not_create(
    client: docker.DockerClient, postgres_engine: Engine, foreign: list
) -> None:
    with Lab(new_run_id(), client=client) as lab:
        wipe = RmRfDatadir(model.RmRfDatadir(fault="rm_rf_datadir", at_s=0, path="/precious"))
        kill = KillServer(model.Kill(fault="kill", at_s=0))
        for container in foreign:
            ctx = FaultContext(lab, postgres_engine, Target("primary", container.id))
            with pytest.raises(SafetyError, match="refusing to"):
                wipe.inject(ctx)
            with pytest.raises(SafetyError, match=r"only touches what it\s+created"):
                kill.inject(ctx)
    for container in foreign:
        container.reload()
        assert container.status == "running"
        assert container.exec_run(["ls", "/precious"]).output.strip() == b"a"


def test_every_destructive_action_refuses_real_foreign_resources(
    client: docker.DockerClient, postgres_engine: Engine, foreign: list
) -> None:
    """pause (the fault and the lab), stop, remove, restart, SIGKILL, exec and volume removal,
    against real containers and a volume this run did not create: each refused, none touched."""
    volumes = [
        client.volumes.create(labels=labels)
        for labels in ({}, {OWNER_LABEL: OWNER, RUN_LABEL: "some-other-run"})
    ]
    try:
        with Lab(new_run_id(), client=client) as lab:
            pause = PauseServer(model.Pause(fault="pause", at_s=0, duration_s=1))
            for container in foreign:
                ctx = FaultContext(lab, postgres_engine, Target("primary", container.id))
                with pytest.raises(SafetyError, match="refusing to pause"):
                    pause.inject(ctx)
                for action, call in (
                    ("pause", lab.pause),
                    ("stop", lab.stop),
                    ("remove", lab.remove),
                    ("restart", lab.restart),
                    ("send SIGKILL to", lab.kill),
                ):
                    with pytest.raises(SafetyError, match=f"refusing to {action} container"):
                        call(container.id)
                with pytest.raises(SafetyError, match="refusing to run a command in"):
                    lab.exec(container.id, ["rm", "-rf", "/precious"], timeout_s=5)
            for volume in volumes:
                with pytest.raises(SafetyError, match="refusing to remove volume"):
                    lab.remove_volume(volume.name)
        for container in foreign:
            container.reload()
            assert container.status == "running"
            assert container.exec_run(["ls", "/precious"]).output.strip() == b"a"
        for volume in volumes:
            volume.reload()  # still there
    finally:
        for volume in volumes:
            volume.remove(force=True)


def test_cleanup_removes_only_this_runs_resources(
    client: docker.DockerClient, foreign: list
) -> None:
    run_id = new_run_id()
    with Lab(run_id, client=client) as lab:
        volume = lab.volume("scratch", role="test")
        assert client.volumes.get(volume)
    assert not client.volumes.list(filters={"label": f"{RUN_LABEL}={run_id}"})
    assert not client.networks.list(filters={"label": f"{RUN_LABEL}={run_id}"})
    for container in foreign:
        container.reload()
        assert container.status == "running"


REQUIRED_LABELS = (OWNER_LABEL, RUN_LABEL, HOST_LABEL, PID_LABEL, PID_START_LABEL, JOURNAL_LABEL)


def check_live_run_resources(client: docker.DockerClient, run_id: str, pid: int) -> int:
    """Every container, network and volume of a live run carries the run's labels (found by
    name too, so an unlabelled one is caught), mounts no anonymous volume, and publishes its
    ports on 127.0.0.1 only. Returns how many resources were checked."""
    prefix = f"rd-{run_id}"
    containers = [c for c in client.containers.list(all=True) if c.name.startswith(prefix)]
    networks = [n for n in client.networks.list() if n.name.startswith(prefix)]
    assert containers and networks, f"run {run_id} has no container or network to check"
    volumes = []
    for c in containers:
        for mount in c.attrs["Mounts"]:
            if mount["Type"] == "volume":
                volumes.append(client.volumes.get(mount["Name"]))
        published = c.attrs["HostConfig"].get("PortBindings") or {}
        for port, bindings in published.items():
            assert bindings, (c.name, port)
            for binding in bindings:
                assert binding["HostIp"] == "127.0.0.1", (c.name, port, binding)
    volumes += client.volumes.list(filters={"label": f"{RUN_LABEL}={run_id}"})
    assert volumes, "the drill mounted no volume (its stores are volumes)"
    for kind, name, labels in (
        *(("container", c.name, c.labels) for c in containers),
        *(("network", n.name, n.attrs.get("Labels") or {}) for n in networks),
        *(("volume", v.name, v.attrs.get("Labels") or {}) for v in volumes),
    ):
        missing = [label for label in REQUIRED_LABELS if label not in labels]
        assert not missing, f"{kind} {name} lacks {missing}"
        assert labels[OWNER_LABEL] == OWNER and labels[RUN_LABEL] == run_id, (kind, name)
        assert labels[PID_LABEL] == str(pid), (kind, name, labels[PID_LABEL])
    return len(containers) + len(networks) + len(volumes)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupted_drill_leaves_nothing_behind(
    client: docker.DockerClient, tmp_path: Path, signum: signal.Signals
) -> None:
    """Ctrl-C and SIGTERM mid-drill: exit 130, journal `interrupted`, nothing of the run left.
    Before the signal, every resource of the live run is checked for its labels, for
    anonymous volumes and for ports outside 127.0.0.1."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    owned = {"label": f"{OWNER_LABEL}={OWNER}"}
    # Only the drill started here counts (not a concurrent run's containers, nor leftovers).
    before = {c.name for c in client.containers.list(all=True, filters=owned)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "run",
            str(SCENARIOS / "quickstart.yaml"),
            "--engine",
            "postgres",
            "--out",
            str(tmp_path),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    run_ids: set[str] = set()
    while time.monotonic() < deadline and proc.poll() is None and not run_ids:
        for c in client.containers.list(filters=owned):
            mine = c.labels.get(PID_LABEL) == str(proc.pid)
            if mine and c.name not in before and c.name.endswith("-backup-agent"):
                run_ids.add(c.labels[RUN_LABEL])
        time.sleep(0.2)
    if not run_ids:
        proc.kill()
        output, _ = proc.communicate(timeout=60)
        pytest.fail(f"the drill never started its backup agent: {output[-2000:]}")
    assert len(run_ids) == 1
    checked = check_live_run_resources(client, next(iter(run_ids)), proc.pid)
    assert checked >= 4  # primary, backup agent, the network, a store volume at least
    proc.send_signal(signum)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, output
    for run_id in run_ids:
        flt = {"label": f"{RUN_LABEL}={run_id}"}
        assert not client.containers.list(all=True, filters=flt)
        assert not client.networks.list(filters=flt)
        assert not client.volumes.list(filters=flt)
        assert not [c for c in client.containers.list(all=True) if run_id in c.name]
    journals = list(tmp_path.glob("*/journal.json"))
    assert len(journals) == 1 and '"status": "interrupted"' in journals[0].read_text()
    assert "Traceback" not in output


def test_a_server_removed_while_starting_fails_at_once(
    client: docker.DockerClient, postgres_engine: Engine, postgres_image: str
) -> None:
    """The container of a starting server is removed (a decommission, a clean-up racing the
    start): provisioning gives up at once with ContainerGone, not after the 120 s readiness
    timeout."""
    import threading

    from harness.errors import ServerExited
    from harness.server.node import provision

    with Lab(new_run_id(), client=client) as lab:
        name = f"rd-{lab.run_id}-doomed"
        removed: list[float] = []

        def remove_when_created() -> None:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    client.containers.get(name).remove(force=True, v=True)
                except docker.errors.NotFound:
                    time.sleep(0.05)
                    continue
                removed.append(time.monotonic())
                return

        remover = threading.Thread(target=remove_when_created, daemon=True)
        remover.start()
        with pytest.raises(ServerExited):  # ContainerGone is a ServerExited
            provision(lab, postgres_engine, image=postgres_image, name="doomed")
        failed = time.monotonic()
        remover.join(timeout=5)
        assert removed, "the container was never seen, so never removed"
        assert failed - removed[0] < 5.0
