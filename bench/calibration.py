"""The calibration drills, once, for the targets table: RTO error and lost-write exactness.

The same scenarios as tests/integration/test_calibration.py (which asserts much more); here
only the figures: the measured RTO against the freeze the Docker engine itself logged, and
the measured lost writes and holes against the count the scenario deleted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.common import REPO
from harness.lab.docker_client import docker_client
from harness.lab.lab import RUN_LABEL
from harness.runner import Drill, DrillResult
from harness.scenario.model import DeleteWrites
from harness.validation import load_scenario

CALIBRATION = REPO / "scenarios" / "calibration"


@dataclass(frozen=True)
class CalibrationResult:
    """Measured against known truth."""

    outage_s: float | None
    rto_s: float | None
    probe_interval_s: float | None
    deleted: dict[str, int]
    lost: dict[str, int | None]
    holes: dict[str, int | None]
    errors: list[str]

    @property
    def rto_error_ms(self) -> float | None:
        if self.outage_s is None or self.rto_s is None:
            return None
        return (self.rto_s - self.outage_s) * 1000

    @property
    def lost_exact(self) -> bool:
        expected_holes = {"delete-newest": 0, "delete-middle": self.deleted.get("delete-middle")}
        return bool(self.deleted) and all(
            self.lost.get(name) == k and self.holes.get(name) == expected_holes[name]
            for name, k in self.deleted.items()
        )

    def as_dict(self) -> dict[str, Any]:
        err = self.rto_error_ms
        return {
            **asdict(self),
            "rto_error_ms": None if err is None else round(err, 1),
            "lost_exact": self.lost_exact,
        }


def _drill(name: str, out_dir: Path) -> DrillResult:
    path = CALIBRATION / f"{name}.yaml"
    return Drill(load_scenario(path), source=path, engine="postgres", out_dir=out_dir).run()


def _freeze_s(journal: dict[str, Any]) -> float | None:
    """Seconds between the pause and unpause events the Docker engine logged for this run."""
    events = docker_client().events(
        since=dt.datetime.fromisoformat(journal["started_at"]),
        until=dt.datetime.fromisoformat(journal["ended_at"]) + dt.timedelta(seconds=1),
        decode=True,
        filters={
            "type": "container",
            "event": ["pause", "unpause"],
            "label": [f"{RUN_LABEL}={journal['run_id']}"],
        },
    )
    moments = {e["Action"]: e["timeNano"] / 1e9 for e in events}
    if set(moments) != {"pause", "unpause"}:
        return None
    return float(moments["unpause"] - moments["pause"])


def bench_calibration(*, out_dir: Path) -> CalibrationResult:
    errors: list[str] = []
    pause = _drill("pause-outage", out_dir)
    j = pause.journal
    outage = _freeze_s(j) if j["status"] == "done" else None
    if pause.verdict.value != "pass":
        errors.append(f"pause-outage: {pause.verdict.value} {j['reasons']}")
    deleted: dict[str, int] = {}
    lost: dict[str, int | None] = {}
    holes: dict[str, int | None] = {}
    for name in ("delete-newest", "delete-middle"):
        result = _drill(name, out_dir)
        fault = load_scenario(CALIBRATION / f"{name}.yaml").server_faults[0]
        assert isinstance(fault, DeleteWrites)
        deleted[name] = fault.count
        lost[name] = result.journal["measured"]["lost_writes"]
        holes[name] = result.journal["measured"]["holes"]
        if result.verdict.value != "pass":
            errors.append(f"{name}: {result.verdict.value} {result.journal['reasons']}")
    return CalibrationResult(
        outage_s=outage,
        rto_s=j["measured"]["rto_s"],
        probe_interval_s=j["clock"]["probe_interval_s"],
        deleted=deleted,
        lost=lost,
        holes=holes,
        errors=errors,
    )
