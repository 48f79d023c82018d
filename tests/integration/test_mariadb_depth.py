"""MariaDB recovery paths beyond dumps, against real servers: mariadb-backup physical backups,
the binlog archive and point-in-time recovery through mariadb-binlog, GTID replicas (plain and
delayed) and their promotion, and the faults that break them. The same scenario files as on
PostgreSQL (test_postgres_depth.py); each drill is checked on the figures it measured, and
every loss and PITR landing in its journal is compared exactly with the one recomputed by
truth.py from acks.jsonl and the rows the test itself read from the recovered database."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from harness.measurement.verdict import Verdict
from harness.runner import Drill, DrillResult
from harness.validation import load_scenario

from .conftest import SCENARIOS, SharedDrills
from .parallel import Job, run_tapped_two_at_a_time
from .test_engines_parity import fields
from .truth import (
    CLOCK_TOLERANCE_S,
    check_stale_promotion,
    first_write_to,
    read_acks,
    recomputed,
    run_tapped,
    wall,
)

DEPTH = SCENARIOS / "depth"


def run(
    path: Path, out: Path, *, strategy: str | None = None, engine: str = "mariadb"
) -> DrillResult:
    drill = Drill(load_scenario(path), source=path, engine=engine, out_dir=out, strategy=strategy)
    return run_tapped(drill)


@pytest.fixture(scope="module")
def postgres_pitr(shared_drills: SharedDrills) -> DrillResult:
    """The same PITR drill on PostgreSQL: the reference for the journal's fields (the
    session's shared run, which test_postgres_depth.py checks in depth)."""
    return shared_drills.run(DEPTH / "pitr.yaml", "postgres").result


# Drills whose checks are exact (landings, losses, log lines) or loose (the tightest: the
# binlog-position landing within 0.5 s, where it lands within milliseconds), run once for the
# module two at a time (parallel.py); by name, the output folder set by the fixture. The PITR,
# failover and purged-binlog drills (RPO under 2 s, RTO under 5 s, a 0.5 s replication-lag
# allowance) run alone in their tests.
PAIRED = {
    "wal-gap": Job(DEPTH / "wal-gap.yaml", "mariadb", Path()),
    "delayed-replica": Job(DEPTH / "delayed-replica.yaml", "mariadb", Path()),
    "delayed-replica-primary-gone": Job(
        Path(__file__).parent / "scenarios" / "delayed-replica-primary-gone.yaml", "mariadb", Path()
    ),
    "pitr-position": Job(DEPTH / "pitr-position.yaml", "mariadb", Path()),
    "replica-is-not-a-backup": Job(
        SCENARIOS / "incidents" / "replica-is-not-a-backup.yaml", "mariadb", Path(), "failover"
    ),
}


@pytest.fixture(scope="module")
def paired(tmp_path_factory: pytest.TempPathFactory) -> dict[str, DrillResult]:
    out = tmp_path_factory.mktemp("paired")
    jobs = [dataclasses.replace(job, out=out) for job in PAIRED.values()]
    return dict(zip(PAIRED, run_tapped_two_at_a_time(jobs), strict=True))


def step(journal: dict[str, Any], name: str, outcome: str | None = None) -> dict[str, Any]:
    return next(
        r
        for r in journal["recovery"]
        if r["step"] == name and (outcome is None or r["outcome"] == outcome)
    )


def test_pitr_replays_archived_binlogs_to_the_whole_second_before_the_fault(
    postgres_pitr: DrillResult, tmp_path: Path
) -> None:
    result = run(DEPTH / "pitr.yaml", tmp_path)
    j = result.journal
    assert result.verdict is Verdict.PASS, j["reasons"]
    assert postgres_pitr.verdict is Verdict.PASS, postgres_pitr.journal["reasons"]
    # The two engines' journals of the same drill have the same fields.
    assert fields(j) == fields(postgres_pitr.journal), fields(j) ^ fields(postgres_pitr.journal)
    base = j["backups"][0]
    assert base["method"] == "physical" and base["verification"] == "restore_tested"
    assert "checksum_matches" in base["checks"]
    pitr = j["measured"]["pitr"]
    assert pitr["overshoot_writes"] == 0 and pitr["undershoot_writes"] == 0, pitr
    # Binlog events carry whole seconds: the target is the second the fault happened in.
    fault_at = dt.datetime.fromisoformat(j["faults"][0]["at"])
    target = dt.datetime.fromisoformat(pitr["target_at"])
    assert target == fault_at.replace(microsecond=0), (target, fault_at)
    lines = step(j, "pitr", "ok")["server_log"]
    assert any(line.startswith("replayed archived binlogs mysql-bin.") for line in lines), lines
    assert any("recovery stopping before the first event at or after" in ln for ln in lines)
    # Lost: the writes from the start of that second on (at most about 1 s more than
    # PostgreSQL loses), none from before it.
    assert 0 < j["measured"]["rpo_s"] < 2.0
    assert j["measured"]["data_verified"] is True
    assert j["lag"]["max_archive_lag_bytes"] is not None
    # Recomputed on both engines: exactly the writes issued after the (rounded) target are lost.
    t = recomputed(result, exact_pitr=True)
    assert t.lost and not t.holes and not t.unexpected and t.rpo_s < 2.0
    recomputed(postgres_pitr, exact_pitr=True)


def test_a_missing_binlog_fails_pitr_and_the_dump_is_restored(
    paired: dict[str, DrillResult],
) -> None:
    result = paired["wal-gap"]
    j = result.journal
    assert result.verdict is Verdict.PASS, j["reasons"]
    gap = next(f for f in j["faults"] if f["type"] == "wal_gap")
    assert gap["took_effect"] is True and "mysql-bin." in gap["evidence"], gap
    missing = gap["evidence"].split()[1]
    failed = step(j, "pitr", "failed")
    assert "recovery ended before the target" in failed["detail"]
    assert f"binlog {missing} is missing from the archive" in failed["detail"], failed
    assert j["measured"]["restored_from"] == "dump"
    t = recomputed(result)
    assert t.lost and not t.holes


def test_failover_promotes_the_gtid_replica_losing_at_most_the_writes_in_flight(
    tmp_path: Path,
) -> None:
    result = run(DEPTH / "failover.yaml", tmp_path)
    j = result.journal
    assert result.verdict is Verdict.PASS, j["reasons"]
    assert step(j, "promote", "ok")["detail"] == "standby promoted to primary"
    m = j["measured"]
    assert m["data_verified"] is True
    assert 0 < m["rto_s"] < 5
    # Recovery ends before the clients move: the first write to the promoted standby bounds it.
    fault_at = wall(next(f for f in j["faults"] if f["type"] == "kill")["at"])
    assert (
        m["rto_s"]
        <= first_write_to(read_acks(result.journal_path.parent), "standby")
        - fault_at
        + CLOCK_TOLERANCE_S
    )
    # Asynchronous GTID replication: a write the primary acknowledged that had not reached the
    # replica when SIGKILL came is lost (usually none; once 1 of 253, RPO 0.9 ms). Whatever is
    # lost is counted exactly (recomputed from acks.jsonl and the rows read back), is the
    # newest writes only, and stays within the scenario's 1 s RPO objective (50 writes/s).
    t = recomputed(result)
    assert not t.holes and not t.unexpected
    assert len(t.lost) == m["lost_writes"] <= 50
    assert m["rpo_s"] <= 1.0


def test_delayed_replica_stops_at_the_last_transaction_before_the_fault(
    paired: dict[str, DrillResult],
) -> None:
    result = paired["delayed-replica"]
    j = result.journal
    assert result.verdict is Verdict.PASS, j["reasons"]
    replay = step(j, "replay_delayed", "ok")
    lines = replay["server_log"]
    assert any(line.startswith("applied relay logs ") for line in lines), lines
    assert any("recovery stopping before the first event at or after" in ln for ln in lines)
    landing = j["measured"]["pitr"]
    assert landing["overshoot_writes"] == 0 and landing["undershoot_writes"] == 0, landing
    # The dropped table is back: the replica never applied the DROP.
    assert j["measured"]["data_verified"] is True and j["measured"]["seed_rows_lost"] == 0
    recomputed(result, exact_pitr=True)


def test_a_purged_binlog_breaks_the_replica_and_its_promotion_loses_the_gap(
    tmp_path: Path,
) -> None:
    result = run(DEPTH / "replication-break.yaml", tmp_path)
    j = result.journal
    broke = next(f for f in j["faults"] if f["type"] == "replication_break")
    assert broke["took_effect"] is True
    assert "Could not find GTID state requested by slave" in broke["evidence"], broke
    # The standby stopped at the break: the writes after it are lost when it is promoted.
    assert j["measured"]["lost_writes"] > 0
    assert result.verdict is Verdict.PASS, j["reasons"]
    check_stale_promotion(
        read_acks(result.journal_path.parent), recomputed(result), broke_at=wall(broke["at"])
    )


def test_replica_is_not_a_backup_on_mariadb(paired: dict[str, DrillResult]) -> None:
    """The failover strategy: the GTID replica applies the DROP at once. (Its pitr strategy is
    the drill of test_pitr_replays_archived_binlogs_to_the_whole_second_before_the_fault:
    the same DROP of seed_02, the same PITR step with the same default target and tolerance,
    checked there in depth, data_verified included.)"""
    result = paired["replica-is-not-a-backup"]
    assert result.strategy == "failover"
    assert result.verdict is Verdict.PASS, result.journal["reasons"]
    recomputed(result)
    m = result.journal["measured"]
    # The streaming replica applied the DROP at once: its 3000 rows are gone after failover.
    assert m["recovered_by"] == "promote" and m["seed_rows_lost"] == 3000
    assert m["data_verified"] is False and m["tables_damaged"] == ["seed_02"]


def test_delayed_replica_replays_its_relay_log_with_the_primary_gone(
    paired: dict[str, DrillResult],
) -> None:
    result = paired["delayed-replica-primary-gone"]
    j = result.journal
    assert result.verdict is Verdict.PASS, j["reasons"]
    gone = next(f for f in j["faults"] if f["type"] == "decommission")
    assert gone["took_effect"] is True
    landing = j["measured"]["pitr"]
    assert landing["overshoot_writes"] == 0 and landing["undershoot_writes"] == 0, landing
    assert j["measured"]["seed_rows_lost"] == 0 and j["measured"]["data_verified"] is True
    # Everything acknowledged from the (rounded) target on is lost, nothing before it.
    assert j["measured"]["lost_writes"] > 0
    t = recomputed(result, exact_pitr=True)
    assert t.lost and not t.holes


def test_pitr_to_the_binlog_position_before_the_fault_is_exact(
    paired: dict[str, DrillResult],
) -> None:
    result = paired["pitr-position"]
    j = result.journal
    assert result.verdict is Verdict.PASS, j["reasons"]
    pitr = j["measured"]["pitr"]
    assert pitr["overshoot_writes"] == 0 and pitr["undershoot_writes"] == 0, pitr
    # No whole-second rounding with --stop-position: the landing is within the 0.5 s tolerance.
    assert pitr["within_tolerance"] is True and abs(pitr["error_s"]) < 0.5, pitr
    detail = step(j, "pitr", "ok")["detail"]
    assert "to position mysql-bin." in detail, detail
    assert any("recovery stopping at binlog position" in line for line in pitr["server_log"])
    assert j["measured"]["data_verified"] is True and j["measured"]["seed_rows_lost"] == 0
    t = recomputed(result, exact_pitr=True)
    assert t.lost and not t.holes
