"""``python -m bench.soak`` (``make soak``): many drills in a row, some interrupted, then a count
of what was left behind.

Runs SOAK_DRILLS complete drills of SOAK_SCENARIO (default the quickstart) on SOAK_ENGINE
(default postgres) through the real command line, then SOAK_INTERRUPTS more that are sent
SIGINT or SIGKILL (alternating) at a random moment of their run. Then ``recovery-drill
cleanup`` reaps what killed runs left, and the soak counts the containers, networks and volumes
of recovery-drill still present (target 0), the anonymous volumes that appeared during the soak
and are still there (target 0), and the journals still at status ``started`` (target 0: a
killed run is marked ``killed`` by the reaper).

Environment: SOAK_DRILLS (100), SOAK_INTERRUPTS (25), SOAK_SEED (random), SOAK_OUT
(reports/soak.json). Exit 0 when every count is 0, 1 when one is not, 3 when Docker is missing.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import docker

from bench.common import REPO

OWNER_LABEL = "io.recovery-drill.owner"
CLI = Path(sys.executable).parent / "recovery-drill"
DRILL_TIMEOUT_S = 600.0


@dataclass
class SoakFigures:
    drills: int = 0
    interrupted: int = 0
    exit_codes: dict[str, int] = field(default_factory=dict)
    signals: dict[str, int] = field(default_factory=dict)
    leftover_containers: int = 0
    leftover_networks: int = 0
    leftover_volumes: int = 0
    leftover_anonymous_volumes: int = 0
    journals_started: int = 0
    journals_total: int = 0
    wall_s: float = 0.0

    @property
    def clean(self) -> bool:
        return not (
            self.leftover_containers
            or self.leftover_networks
            or self.leftover_volumes
            or self.leftover_anonymous_volumes
            or self.journals_started
        )


def _run(args: list[str], out_dir: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(CLI), "run", *args, "--out", str(out_dir)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a signal to the drill, not to the soak
    )


def soak(*, drills: int, interrupts: int, seed: int, out_dir: Path) -> SoakFigures:
    client = docker.from_env()
    before = {v.name for v in client.volumes.list()}
    scenario = os.environ.get("SOAK_SCENARIO", "scenarios/quickstart.yaml")
    engine = os.environ.get("SOAK_ENGINE", "postgres")
    env = {**os.environ, "RECOVERY_DRILL_HISTORY": str(out_dir / "history.sqlite")}
    rng = random.Random(seed)
    figures = SoakFigures()
    started = time.monotonic()
    for i in range(drills + interrupts):
        proc = _run([scenario, "--engine", engine], out_dir, env)
        if i >= drills:
            sig = signal.SIGINT if (i - drills) % 2 == 0 else signal.SIGKILL
            time.sleep(rng.uniform(0.5, 12.0))
            if proc.poll() is None:
                proc.send_signal(sig)
                figures.interrupted += 1
                figures.signals[sig.name] = figures.signals.get(sig.name, 0) + 1
        try:
            code = proc.wait(timeout=DRILL_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
        figures.drills += 1
        figures.exit_codes[str(code)] = figures.exit_codes.get(str(code), 0) + 1
    subprocess.run([str(CLI), "cleanup"], cwd=REPO, env=env, check=False, capture_output=True)
    labelled = {"label": [OWNER_LABEL]}
    figures.leftover_containers = len(client.containers.list(all=True, filters=labelled))
    figures.leftover_networks = len(client.networks.list(filters=labelled))
    figures.leftover_volumes = len(client.volumes.list(filters=labelled))
    anonymous = [
        v for v in client.volumes.list() if v.name not in before and not (v.attrs.get("Labels"))
    ]
    figures.leftover_anonymous_volumes = len(anonymous)
    for journal in out_dir.glob("*/journal.json"):
        figures.journals_total += 1
        if json.loads(journal.read_text(encoding="utf-8")).get("status") == "started":
            figures.journals_started += 1
    figures.wall_s = round(time.monotonic() - started, 1)
    return figures


def main() -> int:
    try:
        docker.from_env().ping()
    except docker.errors.DockerException as exc:
        print(f"soak: no Docker engine: {exc}", file=sys.stderr)
        return 3
    seed = int(os.environ.get("SOAK_SEED", str(random.randrange(2**32))))
    out_dir = REPO / "reports" / "soak-runs"
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = soak(
        drills=int(os.environ.get("SOAK_DRILLS", "100")),
        interrupts=int(os.environ.get("SOAK_INTERRUPTS", "25")),
        seed=seed,
        out_dir=out_dir,
    )
    report = {"seed": seed, **asdict(figures), "clean": figures.clean}
    out = Path(os.environ.get("SOAK_OUT", str(REPO / "reports" / "soak.json")))
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))
    return 0 if figures.clean else 1


if __name__ == "__main__":
    sys.exit(main())
