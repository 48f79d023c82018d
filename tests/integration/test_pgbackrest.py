"""pgBackRest as the team's backup tool, against real servers and the real pgbackrest binary:
archive-push into its repository, full + incremental sets, `pgbackrest verify` as a level of
its own, and `restore --type=time` as the PITR path. The loss and the landing in the journal
are recomputed by truth.py from acks.jsonl and the rows the test itself read back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.measurement.verdict import Verdict
from harness.runner import Drill, DrillResult
from harness.validation import load_scenario

from .conftest import SCENARIOS
from .truth import recomputed, run_tapped

HERE = Path(__file__).parent / "scenarios"


def run(path: Path, out: Path) -> DrillResult:
    drill = Drill(load_scenario(path), source=path, engine="postgres", out_dir=out)
    return run_tapped(drill)


def backup(journal: dict[str, Any], name: str) -> dict[str, Any]:
    return next(b for b in journal["backups"] if b["name"] == name)


def test_pgbackrest_full_incr_wal_pitr_before_a_bad_migration(tmp_path: Path) -> None:
    result = run(SCENARIOS / "depth" / "pgbackrest-pitr.yaml", tmp_path)
    j = result.journal
    assert result.verdict is Verdict.PASS, j["reasons"]
    full, incr = backup(j, "full"), backup(j, "incr")
    assert full["method"] == incr["method"] == "pgbackrest"
    # Sets of pgBackRest's own types, the incremental one chained on the full one.
    label = Path(incr["path"]).name
    assert Path(full["path"]).name.endswith("F") and label.endswith("I")
    assert label.startswith(Path(full["path"]).name + "_")
    assert "(incr)" in incr["log_tail"] and "(full)" in full["log_tail"]
    # pgbackrest verify is a level of its own; the restored set went one further.
    assert full["verification"] == "tool_verified"
    assert incr["verification"] == "restore_tested" and "tool_verified" in incr["checks"]
    pitr = next(r for r in j["recovery"] if r["step"] == "pitr")
    assert pitr["backup"] == "incr" and pitr["outcome"] == "ok"
    log = pitr["server_log"]
    assert any("restore command end: completed successfully" in x for x in log), log
    assert any("recovery stopping before commit" in x for x in log), log
    # pgBackRest's claim judged against the acknowledgment log: nothing before the target lost.
    claim = next(e for e in j["expectations"] if e["what"].startswith("pgbackrest restore"))
    assert claim["met"] is True and claim["actual"] == 0
    assert j["measured"]["pitr"]["within_tolerance"] is True
    assert j["measured"]["lost_writes"] > 0 and j["measured"]["data_verified"] is True
    # Recomputed: exactly the writes issued after the target are lost, none before it.
    t = recomputed(result, exact_pitr=True)
    assert t.lost and not t.holes and not t.unexpected


def test_pgbackrest_verify_rejects_a_corrupted_repository_file(tmp_path: Path) -> None:
    result = run(HERE / "pgbackrest-corrupt.yaml", tmp_path)
    j = result.journal
    assert result.verdict is Verdict.PASS, j["reasons"]
    fault = next(f for f in j["faults"] if f["type"] == "corrupt_backup")
    assert fault["took_effect"] and "/pg_data/base/" in fault["evidence"]
    incr = backup(j, "incr")
    # Exists, size and manifest checksum all pass: only pgBackRest's own verify sees it.
    assert incr["checks"] == ["exists", "size_plausible", "checksum_matches"]
    assert "checksum invalid: 1" in incr["verification_failure"]
    rejected = [r for r in j["recovery"] if r["outcome"] == "rejected"]
    assert [r["backup"] for r in rejected] == ["incr"]
    assert j["measured"]["restored_from"] == "full" and j["measured"]["data_verified"] is True
    t = recomputed(result, exact_pitr=True)
    assert t.lost and not t.holes


def test_expired_set_and_missing_wal_pgbackrest_calls_success_the_server_refuses(
    tmp_path: Path,
) -> None:
    result = run(HERE / "pgbackrest-gap-expired.yaml", tmp_path)
    j = result.journal
    # Expected: the data cannot come back to the target (the drill proves it).
    assert result.verdict is Verdict.UNRECOVERABLE, j["reasons"]
    faults = {f["type"]: f for f in j["faults"]}
    assert (
        faults["backup_set_expired"]["took_effect"]
        and "expired" in (faults["backup_set_expired"]["evidence"])
    )
    assert (
        faults["wal_gap"]["took_effect"] and "/pgbackrest/archive/" in faults["wal_gap"]["evidence"]
    )
    # The expired set is caught at "exists"; pgbackrest verify does not see the WAL gap.
    assert backup(j, "incr")["verification"] == "none"
    assert "not in pgBackRest's repository" in backup(j, "incr")["verification_failure"]
    assert backup(j, "full")["verification"] == "tool_verified"
    pitr = next(r for r in j["recovery"] if r["step"] == "pitr")
    assert pitr["outcome"] == "failed" and pitr["backup"] == "full"
    log = pitr["server_log"]
    # pgBackRest called its restore successful; the server could not reach the target.
    assert any("restore command end: completed successfully" in x for x in log), log
    assert any("recovery ended before configured recovery target was reached" in x for x in log)
