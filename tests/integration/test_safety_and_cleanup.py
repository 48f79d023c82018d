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
from harness.faults.rm_rf_datadir import RmRfDatadir
from harness.lab.lab import OWNER, OWNER_LABEL, RUN_LABEL, Lab
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


def test_ctrl_c_mid_drill_leaves_nothing_behind(
    client: docker.DockerClient, tmp_path: Path
) -> None:
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
    seen: list[str] = []
    while time.monotonic() < deadline and proc.poll() is None:
        seen = [c.name for c in client.containers.list(filters=owned) if c.name not in before]
        if any(name.endswith("-backup-agent") for name in seen):
            break
        time.sleep(0.2)
    assert seen, "the drill never started its containers"
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, output
    run_ids = {n.split("-backup-agent")[0].removeprefix("rd-") for n in seen if "backup-agent" in n}
    for run_id in run_ids:
        flt = {"label": f"{RUN_LABEL}={run_id}"}
        assert not client.containers.list(all=True, filters=flt)
        assert not client.networks.list(filters=flt)
        assert not client.volumes.list(filters=flt)
    journals = list(tmp_path.glob("*/journal.json"))
    assert journals and '"status": "interrupted"' in journals[0].read_text()
    assert "Traceback" not in output
