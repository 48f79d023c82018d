"""The command line end to end: a real drill's exit code and journal location."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .conftest import REPO, SCENARIOS


def test_inconclusive_drill_exits_4_and_writes_its_journal(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "run",
            str(SCENARIOS / "wrong-path-wipe.yaml"),
            "--engine",
            "postgres",
            "--out",
            str(tmp_path),
            "--quiet",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "inconclusive" in proc.stdout
    assert len(list(tmp_path.glob("*/journal.json"))) == 1
    assert "Traceback" not in proc.stderr
