"""The incident library against real PostgreSQL: each replay meets its expected verdict, with
the figures that make its lesson (what was lost, what was rejected, what the gate blocked).

Every loss figure in the journal is compared exactly with the one recomputed by truth.py from
acks.jsonl and the rows the test itself read from the recovered database.

replica-is-not-a-backup (a DROP TABLE; failover, delayed replica, PITR) is not replayed here on
PostgreSQL: its three strategies are the promote-replica, delayed-replica and pitr strategies of
bad-migration (the same steps after the same bad_migration fault, on the same engine, with the
same assertions and more), run in test_postgres_depth.py; its MariaDB failover, the one path no
other test takes there, runs in test_mariadb_depth.py."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from harness.measurement.verdict import Verdict
from harness.runner import Drill, DrillResult
from harness.validation import load_scenario

from .conftest import SCENARIOS
from .truth import acked, check_loss, read_acks, recomputed, run_tapped, tap_of

INCIDENTS = SCENARIOS / "incidents"


def run(
    name: str, out: Path, *, strategy: str | None = None, engine: str = "postgres"
) -> DrillResult:
    path = INCIDENTS / f"{name}.yaml"
    drill = Drill(load_scenario(path), source=path, engine=engine, out_dir=out, strategy=strategy)
    return run_tapped(drill)


def acks(result: DrillResult) -> list[dict[str, Any]]:
    lines = (result.journal_path.parent / "acks.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def when(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso)


def test_gitlab_2017_loses_exactly_the_writes_after_the_snapshot(tmp_path: Path) -> None:
    result = run("gitlab-2017", tmp_path)
    j = result.journal
    assert result.verdict is Verdict.PASS, j["reasons"]
    assert j["objectives"]["met"] is False  # the replay is expected to miss them
    assert j["measured"]["restored_from"] == "manual-snapshot"
    steps = [(r["step"], r["outcome"], r["backup"]) for r in j["recovery"]]
    assert steps[0] == ("promote", "failed", None)  # db2 was wiped: no failover target
    assert ("verify_backup", "rejected", "nightly-2") in steps
    assert ("verify_backup", "rejected", "nightly-1") in steps
    snapshot = next(b for b in j["backups"] if b["name"] == "manual-snapshot")
    lost = {s for a, b in j["measured"]["lost_seq_ranges"] for s in range(a, b + 1)}
    ok = [a for a in acks(result) if a["status"] == "ok"]
    after = {
        a["seq"]
        for a in ok
        if a["target"] == "primary" and when(a["issued_at"]) > when(snapshot["ended_at"])
    }
    before = {a["seq"] for a in ok if when(a["issued_at"]) < when(snapshot["started_at"])}
    assert after and after <= lost
    assert before, "no write acknowledged before the snapshot: the check below would be empty"
    assert not (before & lost)
    assert j["measured"]["lost_writes"] == len(lost) and j["measured"]["holes"] == 0
    t = recomputed(result)
    assert t.lost == lost and after <= t.lost and not (before & t.lost)


def test_gitlab_2017_twin_recovers_with_an_rpo_of_seconds(tmp_path: Path) -> None:
    result = run("gitlab-2017-twin", tmp_path)
    j = result.journal
    assert result.verdict is Verdict.PASS, j["reasons"]
    assert j["measured"]["restored_from"] == "base"
    assert j["measured"]["rpo_s"] < 3 and j["measured"]["data_verified"] is True
    assert [a["backup"] for a in j["alerts"]] == ["nightly-1"]
    t = recomputed(result)
    assert t.lost and t.rpo_s < 3


@pytest.mark.parametrize(
    ("name", "restored", "rejected", "alerted"),
    [
        ("toy-story-2-1998", "home-copy", {"nightly-1", "nightly-2", "nightly-3"}, False),
        ("toy-story-2-1998-twin", "nightly-3", set(), True),
        ("ransomware", "offsite-weekly", {"nas-nightly"}, False),
    ],
)
def test_restore_from_the_copy_that_survived(
    tmp_path: Path, name: str, restored: str, rejected: set[str], alerted: bool
) -> None:
    result = run(name, tmp_path)
    _check_survivor(result, name, restored, rejected, alerted)


def test_the_mariadb_replay_matches_postgres(tmp_path: Path) -> None:
    """Where the mechanism exists on MariaDB, its replay reaches the same verdict."""
    result = run("toy-story-2-1998", tmp_path, engine="mariadb")
    _check_survivor(
        result, "toy-story-2-1998", "home-copy", {"nightly-1", "nightly-2", "nightly-3"}, False
    )


def _check_survivor(
    result: DrillResult, name: str, restored: str, rejected: set[str], alerted: bool
) -> None:
    j = result.journal
    assert result.verdict is Verdict.PASS, j["reasons"]
    assert j["measured"]["restored_from"] == restored
    refused = {r["backup"] for r in j["recovery"] if r["outcome"] == "rejected"}
    assert refused == rejected
    assert bool(j["alerts"]) is alerted
    assert j["faults"] and all(f["took_effect"] for f in j["faults"])
    t = recomputed(result)
    if name == "toy-story-2-1998":
        assert j["objectives"]["met"] is False and j["measured"]["rpo_s"] > 4
        assert t.rpo_s > 4


@pytest.mark.parametrize("engine", ["postgres", "mariadb"])
def test_ransomware_without_an_offsite_copy_is_reported_unrecoverable(
    tmp_path: Path, engine: str
) -> None:
    result = run("ransomware-no-offsite", tmp_path, engine=engine)
    j = result.journal
    assert result.verdict is Verdict.UNRECOVERABLE, j["reasons"]
    assert j["outcome"] == "unrecoverable"
    m = j["measured"]
    assert m["lost_writes"] == m["acked_writes"] > 0
    assert m["seed_rows_lost"] == 2 * 3000
    # Nothing came back, so nothing survived: every acknowledged write in the log is lost.
    assert tap_of(result).reads == [], "an unrecoverable drill has no database to read"
    log = read_acks(result.journal_path.parent)
    t = check_loss(j, log, frozenset())
    assert t.lost == acked(log) and not t.holes and t.last_surviving_seq is None
    evidence = next(f for f in j["faults"] if f["type"] == "ransomware")["evidence"]
    assert "0 left readable" in evidence


def test_myspace_2019_counts_the_permanent_loss_exactly(tmp_path: Path) -> None:
    result = run("myspace-2019", tmp_path)
    j = result.journal
    assert result.verdict is Verdict.PASS, j["reasons"]
    m = j["measured"]
    # id % 10 == 0 never arrived: 300 rows of each of the two 3000-row tables.
    assert m["seed_rows_lost"] == 600
    assert m["data_verified"] is False and m["recovered_by"] == "switch"
    assert next(f for f in j["faults"] if f["type"] == "decommission")["took_effect"] is True
    recomputed(result)


def test_myspace_2019_twin_gate_blocks_the_decommission_and_nothing_is_lost(tmp_path: Path) -> None:
    result = run("myspace-2019-twin", tmp_path)
    j = result.journal
    assert result.verdict is Verdict.PASS, j["reasons"]
    blocked = [f for f in j["faults"] if f["blocked_by_gate"]]
    assert {f["type"] for f in blocked} == {"migration_cutover", "decommission"}
    assert "copy differs from the original" in blocked[0]["evidence"]
    m = j["measured"]
    assert m["lost_writes"] == 0 and m["seed_rows_lost"] == 0 and m["data_verified"] is True
    assert j["outcome"] == "blocked by gate"
    log = read_acks(result.journal_path.parent)
    t = recomputed(result)
    assert not t.lost and acked(log) <= tap_of(result).survivors
