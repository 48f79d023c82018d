"""README claims end to end, through the installed command line and real containers: exit
codes 0, 1 and 3, engines without an image skipped with the reason, no image ever pulled, a
corrupted physical backup rejected by the engine's own verifier on both engines, and
per-engine scenario SQL on MariaDB. (Exit 2: tests/unit/test_cli.py; 4: test_cli.py here;
130 on Ctrl-C and SIGTERM: test_safety_and_cleanup.py.)"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import docker

from harness.measurement.verdict import Verdict
from harness.runner import Drill
from harness.validation import load_scenario

from .conftest import REPO, SCENARIOS
from .truth import recomputed, run_tapped

HERE = Path(__file__).parent / "scenarios"


def cli(*args: str | Path, timeout_s: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )


def journals(out: Path) -> dict[str, dict[str, Any]]:
    """The run folder's journals by engine (exactly one per engine)."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(out.glob("*/journal.json")):
        journal = json.loads(path.read_text(encoding="utf-8"))
        assert journal["engine"] not in found, journal["engine"]
        found[journal["engine"]] = journal
    return found


def pulls_since(client: docker.DockerClient, since: float) -> list[str]:
    """Image pull events the engine recorded since ``since`` (a pull of any image)."""
    events = client.events(
        since=int(since), until=int(time.time()) + 1, filters={"type": "image"}, decode=True
    )
    return [e.get("id", "?") for e in events if e.get("Action") == "pull"]


def test_corrupted_physical_backups_are_rejected_by_the_engines_verifier_exit_0(
    tmp_path: Path,
) -> None:
    """Bytes overwritten in a physical backup's data file (its manifest unchanged): the
    checksum of the manifest still matches, pg_verifybackup / `sha256sum -c` rejects it, the
    older dump is restored; every expectation met, exit 0, on both engines (their two drills
    at once, ``--jobs 2``: nothing checked here is a timing)."""
    done = cli(
        "run",
        HERE / "corrupt-physical.yaml",
        "--engine",
        "postgres",
        "--engine",
        "mariadb",
        "--out",
        tmp_path,
        "--history",
        tmp_path / "history.sqlite",
        "--jobs",
        "2",
        "--quiet",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    by_engine = journals(tmp_path)
    assert set(by_engine) == {"postgres", "mariadb"}
    for engine, journal in by_engine.items():
        assert journal["verdict"] == "pass", (engine, journal["reasons"])
        corrupted = next(f for f in journal["faults"] if f["type"] == "corrupt_backup")
        assert corrupted["took_effect"] is True, corrupted
        base = next(b for b in journal["backups"] if b["name"] == "base")
        assert base["method"] == "physical"
        assert "checksum_matches" not in base["checks"], base
        reason = base["verification_failure"]
        assert reason.startswith("checksum matches: "), reason
        if engine == "postgres":
            assert "pg_verifybackup" in reason and "checksum mismatch" in reason, reason
        else:
            assert "FAILED" in reason, reason  # sha256sum -c names the file on stdout
            assert "did NOT match" in reason, reason
        assert journal["measured"]["restored_from"] == "dump", journal["measured"]
        refused = [r for r in journal["recovery"] if r.get("backup") == "base"]
        assert [r["outcome"] for r in refused] == ["rejected"], journal["recovery"]
    assert "Traceback" not in done.stderr


def test_engines_without_an_image_are_skipped_and_a_missed_objective_is_exit_1(
    tmp_path: Path, client: docker.DockerClient
) -> None:
    """Without --engine, mysql and sqlserver (no image here) are skipped with the reason and
    postgres runs; a 1 ms RTO objective is missed: exit 1. Nothing is pulled."""
    started = time.time()
    done = cli("run", HERE / "missed-objective.yaml", "--out", tmp_path, "--quiet")
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "skipping engine mysql: no image for engine mysql: mysql:8 is not available" in output
    assert "skipping engine sqlserver: no image for engine sqlserver" in output
    assert set(journals(tmp_path)) == {"postgres"}
    journal = journals(tmp_path)["postgres"]
    assert journal["verdict"] == "fail" and journal["objectives"]["met"] is False
    assert any("RTO" in r for r in journal["reasons"]), journal["reasons"]
    assert pulls_since(client, started) == []
    assert "Traceback" not in output


def test_no_image_anywhere_is_exit_3_without_a_pull(
    tmp_path: Path, client: docker.DockerClient
) -> None:
    """An engine named with --engine whose image is missing, and a scenario whose engines all
    lack images: exit 3 at once, saying which image, and no pull is ever attempted."""
    started = time.time()
    named = cli(
        "run", SCENARIOS / "quickstart.yaml", "--engine", "mysql", "--out", tmp_path, "--quiet"
    )
    assert named.returncode == 3, named.stdout + named.stderr
    assert "mysql:8 is not available locally" in named.stderr
    assert "docker pull mysql:8" in named.stderr  # the fix is told, not done
    unnamed = cli("run", HERE / "no-image-here.yaml", "--out", tmp_path, "--quiet")
    assert unnamed.returncode == 3, unnamed.stdout + unnamed.stderr
    assert "skipping engine mysql" in unnamed.stderr
    assert "skipping engine sqlserver" in unnamed.stderr
    assert "no engine of these drills has an image available here" in unnamed.stderr
    assert time.time() - started < 60  # refused up front, not after a pull's timeout
    # The named engine's drill is recorded as failed, saying why; the others never started.
    recorded = journals(tmp_path)
    assert list(recorded) == ["mysql"] and recorded["mysql"]["verdict"] == "error"
    assert "mysql:8 is not available locally" in recorded["mysql"]["error"]
    assert pulls_since(client, started) == []


def test_per_engine_scenario_sql_runs_in_mariadbs_dialect(tmp_path: Path) -> None:
    """bad-migration's mariadb lists (MODIFY, not ALTER COLUMN ... TYPE) as the fault and as
    the compensating script: the migration damages both tables, the script repairs them."""
    path = SCENARIOS / "incidents" / "bad-migration.yaml"
    drill = Drill(
        load_scenario(path),
        source=path,
        engine="mariadb",
        out_dir=tmp_path,
        strategy="compensating-script",
    )
    result = run_tapped(drill)
    journal = result.journal
    assert result.verdict is Verdict.PASS, journal["reasons"]
    migration = next(f for f in journal["faults"] if f["type"] == "bad_migration")
    assert migration["took_effect"] is True, migration
    assert "seed_01" in migration["evidence"] and "seed_02" in migration["evidence"]
    # The sql step journals its kind (compensating); all three mariadb statements committed.
    assert [(r["step"], r["outcome"], r["detail"]) for r in journal["recovery"]] == [
        ("compensating", "ok", "3 statement(s) committed")
    ]
    assert journal["measured"]["data_verified"] is True
    assert journal["measured"]["tables_damaged"] == []
    assert journal["measured"]["lost_writes"] == len(recomputed(result).lost)
