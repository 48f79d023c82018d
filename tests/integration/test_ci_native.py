"""CI-native runs, for real: scenario files as pytest items through the plugin, and
`run --jobs 2` giving the verdicts the same drills gave when run one after the other."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import docker
import pytest

from harness.lab.labels import RUN_LABEL

from .conftest import REPO, SCENARIOS

pytest_plugins = ["pytester"]

# Two short drills with different verdicts: a crash restart that passes, and a wipe of the
# wrong path that is inconclusive (the fault does not take effect).
DRILLS = {"kill-restart": "pass", "wrong-path-wipe": "inconclusive"}


def test_plugin_sequential_and_run_jobs_2_agree(
    pytester: pytest.Pytester, tmp_path: Path, client: docker.DockerClient
) -> None:
    for name in DRILLS:
        shutil.copy(SCENARIOS / f"{name}.yaml", pytester.path / f"{name}.yaml")
    sequential_out = tmp_path / "sequential"
    result = pytester.runpytest(
        *(f"{name}.yaml" for name in DRILLS),
        "--drill-engine=postgres",
        f"--drill-out={sequential_out}",
        "--junitxml=junit.xml",
        "-p",
        "no:cacheprovider",
    )
    # pass -> passed; inconclusive -> an error, not a failure
    result.assert_outcomes(passed=1, errors=1)
    cases = {
        c.get("name"): c for c in ET.parse(pytester.path / "junit.xml").getroot().iter("testcase")
    }
    assert set(cases) == {f"{name}[postgres]" for name in DRILLS}
    props = {
        p.get("name"): p.get("value") for p in cases["kill-restart[postgres]"].iter("property")
    }
    assert float(props["rto_s"]) > 0 and props["lost_writes"] == "0"
    assert Path(props["journal"]).is_file()
    assert cases["wrong-path-wipe[postgres]"].find("error") is not None
    sequential = _verdicts(sequential_out)
    assert sequential == DRILLS

    parallel_out = tmp_path / "parallel"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "run",
            *(str(SCENARIOS / f"{name}.yaml") for name in DRILLS),
            "--engine",
            "postgres",
            "--out",
            str(parallel_out),
            "--jobs",
            "2",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 4, proc.stdout + proc.stderr  # the inconclusive drill's code
    assert "Traceback" not in proc.stderr
    assert _verdicts(parallel_out) == sequential
    journals = [json.loads(p.read_text()) for p in parallel_out.glob("*/journal.json")]
    assert all(j["host"]["jobs"] == 2 and j["host"]["cpus"] >= 1 for j in journals)
    assert all(j["host"]["samples"] >= 2 for j in journals)
    for j in journals:  # each drill removed its own lab
        mine = {"label": f"{RUN_LABEL}={j['run_id']}"}
        assert not client.containers.list(all=True, filters=mine)
        assert not client.networks.list(filters=mine)


def _verdicts(out: Path) -> dict[str, str]:
    journals = [json.loads(p.read_text()) for p in sorted(out.glob("*/journal.json"))]
    assert len(journals) == len(DRILLS), [j["scenario"] for j in journals]
    return {j["scenario"]: j["verdict"] for j in journals}


def test_explore_finds_a_real_failure_that_run_reproduces(tmp_path: Path) -> None:
    """The shipped search narrowed to one failing schedule (a wipe 3.5 s after the dump,
    against a 3 s RPO): one real drill finds it, the minimal YAML reproduces it with `run`."""
    import yaml

    data = yaml.safe_load((SCENARIOS / "explore" / "backup-wipe-window.yaml").read_text())
    data["explore"]["vary"] = {"timeline.0.at_s": [4.5], "workload.rate_per_s": [20]}
    search = tmp_path / "search.yaml"
    search.write_text(yaml.safe_dump(data, sort_keys=False))
    out = tmp_path / "explore"
    cli = [sys.executable, "-m", "harness.cli"]
    found = subprocess.run(
        [*cli, "explore", str(search), "-e", "postgres", "--budget", "2", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert found.returncode == 1, found.stdout + found.stderr
    assert "broke objectives_met: missed RPO" in found.stdout
    summary = json.loads((out / "explore.json").read_text())
    assert summary["drills"] == 1 and summary["found"] == {
        "timeline.0.at_s": 4.5,
        "workload.rate_per_s": 20,
    }
    minimal = Path(summary["minimal_scenario"])
    assert (out / "hypothesis").is_dir()
    rerun = subprocess.run(
        [*cli, "run", str(minimal), "-e", "postgres", "--out", str(tmp_path / "run"), "-q"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rerun.returncode == 1, rerun.stdout + rerun.stderr  # missed, as found
    assert "RPO" in rerun.stdout and "Traceback" not in rerun.stderr
