"""PostgreSQL recovery paths beyond dumps, against real servers: PITR, failover, delayed
replicas, and the faults that break them. Each drill is checked on the figures it measured,
and every loss and PITR landing in its journal is compared exactly with the one recomputed by
truth.py from acks.jsonl and the rows the test itself read from the recovered database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.measurement.verdict import Verdict
from harness.runner import Drill, DrillResult
from harness.validation import load_scenario

from .conftest import SCENARIOS, SharedDrills
from .parallel import Job, run_tapped_two_at_a_time
from .truth import (
    CLOCK_TOLERANCE_S,
    check_stale_promotion,
    first_write_to,
    read_acks,
    recomputed,
    run_tapped,
    wall,
)

HERE = Path(__file__).parent / "scenarios"


def run(path: Path, out: Path, *, strategy: str | None = None) -> DrillResult:
    drill = Drill(
        load_scenario(path), source=path, engine="postgres", out_dir=out, strategy=strategy
    )
    return run_tapped(drill)


def fault(journal: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(f for f in journal["faults"] if f["type"] == kind)


def test_pitr_lands_within_one_second_of_its_target(shared_drills: SharedDrills) -> None:
    # The session's shared run: test_mariadb_depth.py compares MariaDB's journal with it.
    result = shared_drills.run(SCENARIOS / "depth" / "pitr.yaml", "postgres").result
    j = result.journal
    assert result.verdict is Verdict.PASS, j["reasons"]
    pitr = j["measured"]["pitr"]
    assert pitr["within_tolerance"] is True
    assert abs(pitr["error_s"]) < 1.0
    assert pitr["overshoot_writes"] == 0 and pitr["undershoot_writes"] == 0
    assert any("recovery stopping before commit" in line for line in pitr["server_log"])
    base = j["backups"][0]
    assert base["method"] == "physical" and base["verification"] == "restore_tested"
    assert "checksum_matches" in base["checks"]
    assert j["lag"]["max_archive_lag_bytes"] is not None
    # Writes acknowledged after the migration, while the bad primary kept serving, are lost.
    assert j["measured"]["lost_writes"] > 0 and j["measured"]["data_verified"] is True
    # Recomputed: exactly the writes issued after the target are lost, none before it.
    t = recomputed(result, exact_pitr=True)
    assert t.lost and not t.holes and not t.unexpected


def test_pitr_target_before_the_backup_is_flagged_not_passed(tmp_path: Path) -> None:
    result = run(HERE / "pitr-before-backup.yaml", tmp_path)
    j = result.journal
    assert result.verdict is Verdict.FAIL
    step = next(r for r in j["recovery"] if r["step"] == "pitr")
    assert step["outcome"] == "failed"
    assert any(
        "before consistent recovery point" in line or "FATAL" in line
        for line in step.get("server_log", [])
    ), step


def test_failover_rto_is_measured(tmp_path: Path) -> None:
    result = run(SCENARIOS / "depth" / "failover.yaml", tmp_path)
    j = result.journal
    assert result.verdict is Verdict.PASS, j["reasons"]
    assert [r["step"] for r in j["recovery"]] == ["promote"]
    m, p = j["measured"], j["phases"]
    assert 0 < m["rto_s"] < 15
    assert abs(p["detect_s"] + p["restore_s"] + p["verify_s"] - m["rto_s"]) < 0.01
    assert m["recovered_by"] == "promote"
    # Recovery ends before the clients move: the first write to the promoted standby bounds it.
    fault_at = wall(fault(j, "kill")["at"])
    assert (
        m["rto_s"]
        <= first_write_to(read_acks(result.journal_path.parent), "standby")
        - fault_at
        + CLOCK_TOLERANCE_S
    )
    recomputed(result)


def test_wal_gap_stops_pitr_and_recovery_falls_back(tmp_path: Path) -> None:
    result = run(SCENARIOS / "depth" / "wal-gap.yaml", tmp_path)
    j = result.journal
    assert result.verdict is Verdict.PASS, j["reasons"]
    assert fault(j, "wal_gap")["took_effect"] is True
    pitr = next(r for r in j["recovery"] if r["step"] == "pitr")
    assert pitr["outcome"] == "failed"
    assert any(
        "recovery ended before configured recovery target was reached" in line
        for line in pitr["server_log"]
    )
    assert j["measured"]["restored_from"] == "dump"
    t = recomputed(result)
    assert t.lost and not t.holes


def test_a_fault_that_cannot_take_effect_makes_the_drill_inconclusive(tmp_path: Path) -> None:
    result = run(HERE / "wal-gap-too-early.yaml", tmp_path)
    assert result.verdict is Verdict.INCONCLUSIVE
    assert fault(result.journal, "wal_gap")["took_effect"] is False


FAULT_CASES = [
    ("corrupt-backup", "corrupt_backup", "bytes overwritten"),
    ("store-full", "backup_store_full", "KiB free"),
    ("decommission", "decommission", "removed"),
    ("replication-break", "replication_break", "has already been removed"),
    ("delayed-replica", "bad_migration", "seed_02"),
]


@pytest.fixture(scope="module")
def fault_drills(tmp_path_factory: pytest.TempPathFactory) -> dict[str, DrillResult]:
    """The five drills of the faults below, run once, two at a time (parallel.py: what is
    checked is verdicts, evidence texts, exact losses and landings; the tightest timing is
    the stale standby's 0.5 s replication-lag allowance, at 50 writes/s); by scenario file."""
    out = tmp_path_factory.mktemp("faults")
    names = [name for name, _, _ in FAULT_CASES]
    jobs = [Job(SCENARIOS / "depth" / f"{name}.yaml", "postgres", out) for name in names]
    return dict(zip(names, run_tapped_two_at_a_time(jobs), strict=True))


@pytest.mark.parametrize(("scenario", "kind", "evidence"), FAULT_CASES)
def test_each_fault_takes_effect_and_the_drill_meets_its_expectation(
    fault_drills: dict[str, DrillResult], scenario: str, kind: str, evidence: str
) -> None:
    result = fault_drills[scenario]
    assert result.scenario == scenario, result.scenario
    j = result.journal
    assert result.verdict is Verdict.PASS, j["reasons"]
    f = fault(j, kind)
    assert f["took_effect"] is True and evidence in f["evidence"], f
    t = recomputed(result, exact_pitr=scenario == "delayed-replica")
    if scenario == "replication-break":
        # Promoting the stale standby loses what was written after replication broke.
        assert j["measured"]["lost_writes"] > 50 and j["objectives"]["met"] is False
        check_stale_promotion(read_acks(result.journal_path.parent), t, broke_at=wall(f["at"]))
    if scenario == "delayed-replica":
        assert j["measured"]["data_verified"] is True
        assert j["measured"]["pitr"]["within_tolerance"] is True


def test_bad_migration_strategies_are_compared_on_the_same_failure(tmp_path: Path) -> None:
    """Six strategies, six drills, run two at a time (parallel.py: the harness's own
    ``--jobs 2`` arrangement; every assertion here is a verdict, a count or a comparison with
    seconds of margin). Its promote-replica, delayed-replica and pitr strategies also stand for
    replica-is-not-a-backup on PostgreSQL (see test_incidents.py)."""
    path = SCENARIOS / "incidents" / "bad-migration.yaml"
    scenario = load_scenario(path)
    jobs = [Job(path, "postgres", tmp_path, s.name) for s in scenario.strategies]
    results = {r.strategy: r for r in run_tapped_two_at_a_time(jobs)}
    assert len(results) == 6, sorted(results)
    for name, result in results.items():
        assert result.verdict is Verdict.PASS, (name, result.journal["reasons"])
        recomputed(result)
    m = {name: r.journal["measured"] for name, r in results.items()}
    # The replica applied the migration at once: the dropped table's rows are gone there.
    assert m["promote-replica"]["seed_rows_lost"] == 3000
    assert m["promote-replica"]["tables_damaged"] == ["seed_01", "seed_02"]
    # Roll-forward puts the table back but leaves the mangled rows; compensating repairs them.
    assert m["roll-forward"]["tables_damaged"] == ["seed_01"]
    assert m["compensating-script"]["data_verified"] is True
    assert m["compensating-script"]["lost_writes"] == 0
    # Restores lose writes; the full dump loses more than PITR or the delayed replica.
    for name in ("pitr", "delayed-replica", "restore-full-backup"):
        assert m[name]["data_verified"] is True
    assert m["restore-full-backup"]["rpo_s"] > m["pitr"]["rpo_s"]
    assert m["restore-full-backup"]["rpo_s"] > m["delayed-replica"]["rpo_s"]
    # The old system keeps reading the dropped table on the old primary: with PITR the old
    # primary never gets it back, so its reads fail from the migration to the end.
    old_reader = results["pitr"].journal["old_reader"]
    assert old_reader["table"] == "seed_02" and old_reader["reads_failed"] >= 5
    assert old_reader["reads_ok"] > 0 and "seed_02" in old_reader["first_error"]
