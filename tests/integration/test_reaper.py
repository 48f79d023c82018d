"""The reaper with real drills: a SIGKILLed run is reaped and its journal marked ``killed``; a
cleanup during another process's live drill leaves that drill alone; ``--run ""`` is a usage
error. Every drill here is a subprocess of the real command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import docker

from harness.lab.labels import JOURNAL_LABEL, PID_LABEL, RUN_LABEL
from harness.report.history import History

from .conftest import REPO, SCENARIOS

CLI = [sys.executable, "-m", "harness.cli"]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def start_drill(out: Path) -> subprocess.Popen[str]:
    scenario = str(SCENARIOS / "quickstart.yaml")
    return subprocess.Popen(
        [*CLI, "run", "-q", scenario, "-e", "postgres", "--out", str(out)],
        cwd=REPO,
        env={**ENV, "RECOVERY_DRILL_HISTORY": str(out / "history.sqlite")},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def cli(*args: str, history: Path | None = None) -> subprocess.CompletedProcess[str]:
    extra = ["--history", str(history)] if history else []
    return subprocess.run(
        [*CLI, *args, *extra], cwd=REPO, env=ENV, capture_output=True, text=True, timeout=120
    )


def wait_for_lab(client: docker.DockerClient, out: Path, proc: subprocess.Popen[str]) -> str:
    """The run id of the drill writing into ``out``, once its backup agent and primary run."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        for c in client.containers.list(filters={"label": JOURNAL_LABEL}):
            if c.labels[JOURNAL_LABEL].startswith(str(out.resolve())):
                run_id = c.labels[RUN_LABEL]
                names = {x.name for x in client.containers.list(filters=run_filter(run_id))}
                if {f"rd-{run_id}-backup-agent", f"rd-{run_id}-primary"} <= names:
                    return run_id
        time.sleep(0.2)
    raise AssertionError(f"the drill never started its lab (exit {proc.poll()})")


def run_filter(run_id: str) -> dict[str, str]:
    return {"label": f"{RUN_LABEL}={run_id}"}


def labelled(client: docker.DockerClient, run_id: str) -> list[str]:
    flt = run_filter(run_id)
    return (
        [c.name for c in client.containers.list(all=True, filters=flt)]
        + [n.name for n in client.networks.list(filters=flt)]
        + [v.name for v in client.volumes.list(filters=flt)]
    )


def test_a_killed_run_is_reaped_and_its_journal_marked_killed(
    client: docker.DockerClient, tmp_path: Path
) -> None:
    dangling_before = {v.name for v in client.volumes.list(filters={"dangling": True})}
    proc = start_drill(tmp_path)
    try:
        run_id = wait_for_lab(client, tmp_path, proc)
        containers = client.containers.list(filters=run_filter(run_id))
        assert {c.labels[PID_LABEL] for c in containers} == {str(proc.pid)}
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    mounted = {m["Name"] for c in containers for m in c.attrs["Mounts"] if m["Type"] == "volume"}
    run_volumes = {v.name for v in client.volumes.list(filters=run_filter(run_id))}
    assert mounted and mounted <= run_volumes, "a container mounted an unlabelled volume"
    journal = tmp_path / run_id / "journal.json"
    left = json.loads(journal.read_text(encoding="utf-8"))
    assert left["status"] == "started"
    assert left["action"] not in ("", "starting")
    assert labelled(client, run_id), "SIGKILL removed the lab: nothing left to reap"

    history = tmp_path / "history.sqlite"
    result = cli("cleanup", history=history)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"reaped run {run_id} (owner process {proc.pid}" in result.stdout
    assert "marked killed" in result.stdout
    assert not labelled(client, run_id)
    assert not [v for v in mounted if v in {x.name for x in client.volumes.list()}]
    dangling = {v.name for v in client.volumes.list(filters={"dangling": True})}
    assert not dangling - dangling_before, "the killed run left an anonymous volume"
    killed = json.loads(journal.read_text(encoding="utf-8"))
    assert killed["status"] == "killed"
    assert killed["error"] == f"killed while {left['action']} (its process is gone)"
    with History.open(history) as store:
        (run,) = store.runs(run_ids=[run_id])
        assert (run.status, run.verdict) == ("killed", "error")


def test_cleanup_during_another_process_drill_leaves_it_alone(
    client: docker.DockerClient, tmp_path: Path
) -> None:
    proc = start_drill(tmp_path)
    try:
        run_id = wait_for_lab(client, tmp_path, proc)
        result = cli("cleanup", history=tmp_path / "cleanup-history.sqlite")
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"left alone run {run_id}" in result.stdout
        assert f"process {proc.pid} on this host" in result.stdout
        assert f"reaped run {run_id}" not in result.stdout
        # The network lives as long as the drill: cleanup did not remove it.
        assert client.networks.list(names=[f"rd-{run_id}"], filters=run_filter(run_id))
        output, _ = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, output
    journal = json.loads((tmp_path / run_id / "journal.json").read_text(encoding="utf-8"))
    assert (journal["status"], journal["verdict"]) == ("done", "pass")
    assert not labelled(client, run_id)


def test_cleanup_with_an_empty_run_id_is_a_usage_error() -> None:
    result = cli("cleanup", "--run", "")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "--run '': expected a run id" in result.stderr
    assert "Traceback" not in result.stderr
    assert "removed" not in result.stdout
